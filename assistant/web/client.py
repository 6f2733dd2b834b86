"""The public page: one custom Gradio component, ``chat_view``, that is the whole chat.

``chat_view`` is a ``gr.HTML`` component with its own markup (the shell below), script
(``static/chat.js``, run by Gradio's ``js_on_load``) and stylesheet (``static/chat.css``).
Its script talks to the routes of ``chat.py``; nothing on this page is staff tooling, and
the page has no Gradio events of its own (only the ``/ask`` API), so Gradio never shows
its own error toasts or reloads the page when the server comes back.
"""

from __future__ import annotations

import html
from functools import lru_cache
from importlib import resources
from typing import Any

import gradio as gr

from .card import contact_html
from .chat import ASK_PATH, ASKED_LIMIT, FEEDBACK_PATH, HEALTH_PATH
from .clinic import Clinic

STORAGE_KEY = "skinqa.chat.v1"
MAX_QUEUE = 3  # questions waiting behind the one being answered
HISTORY_TURNS = 6  # earlier turns sent with a question, for follow-ups
KEPT_TURNS = 60  # turns kept in the browser's storage
# Keys of ui.yaml the script itself shows.
SCRIPT_TEXT = (
    "typing", "queued", "queue_full", "chat_offline", "chat_error", "chat_retry",
    "chat_reconnected", "chat_waiting", "chat_interrupted", "retry_first", "chat_not_sent",
    "you_label", "feedback_failed",
)  # fmt: skip


@lru_cache(maxsize=4)
def static_text(name: str) -> str:
    return resources.files(__package__).joinpath("static", name).read_text("utf-8")


def _icon(path: str) -> str:
    return f'<svg aria-hidden="true" viewBox="0 0 24 24"><path d="{path}"/></svg>'


SEND_ICON = _icon("M3 20.5 21 12 3 3.5v6.6l12 1.9-12 1.9z")
NEW_ICON = _icon("M11 5h2v6h6v2h-6v6h-2v-6H5v-2h6z")
PHONE_ICON = _icon(
    "M6.6 10.8a15 15 0 0 0 6.6 6.6l2.2-2.2c.3-.3.7-.4 1-.2 1.1.4 2.3.6 3.6.6.6 0 1 .4 1 1V20"
    "c0 .6-.4 1-1 1A17 17 0 0 1 3 4c0-.6.4-1 1-1h3.5c.6 0 1 .4 1 1 0 1.3.2 2.5.6 3.6.1.3 0 "
    ".7-.2 1z"
)
DOWN_ICON = _icon("M11 4h2v12l5-5 1.4 1.4L12 19.8 4.6 12.4 6 11l5 5z")


def shell_html(text: dict[str, Any], clinic: Clinic, articles: list[str]) -> str:
    """The page's fixed markup, all text escaped."""
    esc = html.escape
    examples = "".join(
        f'<li><button type="button" class="sq-ask">{esc(q)}</button></li>' for q in text["examples"]
    )
    titles = "".join(f"<li>{esc(t)}</li>" for t in articles)
    return f"""<div class="sq-app">
<header class="sq-top"><div class="sq-brand"><h1 class="sq-title">{esc(text["title"])}</h1>
<p class="sq-tagline">{esc(text["tagline"])}</p></div><div class="sq-top-actions">
<button type="button" class="sq-action sq-icon-button" data-action="new-chat"
 aria-label="{esc(text["new_chat"])}" title="{esc(text["new_chat"])}">{NEW_ICON}
<span class="sq-wide-only">{esc(text["new_chat"])}</span></button>
<button type="button" class="sq-action sq-action-primary" data-action="contact"
 aria-haspopup="dialog">{PHONE_ICON}<span class="sq-wide-only">{esc(text["contact_button"])}</span>
<span class="sq-narrow-only">{esc(text["contact_button_short"])}</span></button></div></header>
<details class="sq-disclaimer"><summary><span>{esc(text["disclaimer_short"])}</span>
<span class="sq-more-link">{esc(text["disclaimer_more"])}</span></summary>
<p>{esc(text["disclaimer"])}</p><p>{esc(text["articles_label"])}:</p><ul>{titles}</ul></details>
<section class="sq-log" aria-label="{esc(text["chat_label"])}">
<div class="sq-welcome"><p>{esc(text["welcome"])}</p>
<p class="sq-examples-label" id="sq-examples-label">{esc(text["examples_label"])}</p>
<ul class="sq-examples" aria-labelledby="sq-examples-label">{examples}</ul></div>
<div class="sq-turns"></div><div class="sq-spacer" aria-hidden="true"></div></section>
<div class="sq-live" aria-live="polite" aria-atomic="true"></div>
<p class="sq-hint" role="status" hidden></p>
<button type="button" class="sq-jump" hidden>{DOWN_ICON}{esc(text["jump_latest"])}</button>
<form class="sq-composer" novalidate><label class="sq-sr-only" for="sq-input">
{esc(text["input_label"])}</label><textarea id="sq-input" rows="1" maxlength="4000"
 enterkeyhint="send" autocomplete="off" placeholder="{esc(text["input_placeholder"])}"></textarea>
<button type="submit" class="sq-send">{SEND_ICON}<span>{esc(text["send"])}</span></button></form>
<dialog class="sq-dialog" id="sq-contact-dialog" aria-labelledby="sq-contact-title">
<h2 id="sq-contact-title">{esc(text["contact_button"])}</h2>
{contact_html("panel", clinic, text)}
<div class="sq-dialog-actions"><button type="button" class="sq-action" data-action="close">
{esc(text["close"])}</button></div></dialog>
<dialog class="sq-dialog" id="sq-new-dialog" aria-labelledby="sq-new-title">
<h2 id="sq-new-title">{esc(text["new_chat_title"])}</h2><p>{esc(text["new_chat_text"])}</p>
<div class="sq-dialog-actions"><button type="button" class="sq-action sq-action-primary"
 data-action="confirm-new">{esc(text["new_chat_yes"])}</button><button type="button"
 class="sq-action" data-action="close">{esc(text["cancel"])}</button></div></dialog>
</div>"""


def chat_view(text: dict[str, Any], clinic: Clinic, articles: list[str]) -> gr.HTML:
    """The client chat as one Gradio HTML component (markup, script and settings).

    A factory rather than a ``gr.HTML`` subclass: Gradio writes a ``.pyi`` stub next to
    the module of every component subclass when it is imported.
    """
    config = {
        "text": {k: text[k] for k in SCRIPT_TEXT},
        "storage_key": STORAGE_KEY,
        "ask_url": ASK_PATH.lstrip("/"),
        "feedback_url": FEEDBACK_PATH.lstrip("/"),
        "health_url": HEALTH_PATH.lstrip("/"),
        "max_queue": MAX_QUEUE,
        "history_turns": HISTORY_TURNS,
        "asked_turns": ASKED_LIMIT,
        "kept_turns": KEPT_TURNS,
    }
    return gr.HTML(
        value=shell_html(text, clinic, articles),
        js_on_load=static_text("chat.js"),
        apply_default_css=False,
        elem_id="client-chat",
        config=config,
    )


def build_client(text: dict[str, Any], clinic: Clinic, articles: list[str], api: Any) -> gr.Blocks:
    """The public page; ``api`` answers Gradio's ``/ask`` for API users."""
    with gr.Blocks(title=text["page_title"], analytics_enabled=False, fill_width=True) as page:
        chat_view(text, clinic, articles)
        # The one public Gradio endpoint (for gradio_client users); no UI uses it.
        gr.api(api, api_name="ask", concurrency_id="answer")
    return page
