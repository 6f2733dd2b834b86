"""The web app: a client chat, a staff view behind its own login, and the ``/ask`` API.

``build_app(bot, settings)`` returns the ``gr.Blocks``; ``app.py`` only parses arguments
and launches it with ``launch_options()``.
"""

from __future__ import annotations

import hmac
import html
import json
import logging
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import gradio as gr

from .engine import Assistant
from .feedback import FeedbackLog
from .ratelimit import RateLimiter
from .settings import Settings
from .ui_render import (
    article_list_markdown,
    article_markdown,
    article_rows,
    details_markdown,
    load_ui_text,
    render_reply,
    retrieved_rows,
    stream_markdown,
)

log = logging.getLogger(__name__)

# Questions longer than this many times the engine's limit are refused outright: the
# engine would truncate them anyway, and such input is abuse rather than a question.
REJECT_FACTOR = 20
MAX_COMMENT_CHARS = 2000
LOGIN_ATTEMPTS_PER_MINUTE = 10
# Session-state keys are strings: gr.State values are deep-copied and JSON-friendly.
Turns = dict[str, dict[str, Any]]

CSS = """
.sq-header h1 { margin-bottom: 0.1em; }
.sq-header p { margin-top: 0; color: var(--body-text-color-subdued); }
.sq-disclaimer { border-left: 4px solid #3b82f6; background: rgba(59, 130, 246, 0.08);
  border-radius: 8px; padding: 8px 14px !important; }
.sq-disclaimer p { margin: 0; }
/* elem_classes also land on the Markdown's inner div: style the outer block only. */
.prose.sq-disclaimer, .prose.sq-notice { background: none !important; border: none !important;
  padding: 0 !important; }
.sq-examples { gap: 6px !important; flex-wrap: wrap; }
.sq-examples button { flex: 0 1 auto !important; min-width: 0 !important;
  border-radius: 999px !important; font-weight: 400 !important; }
.sq-sources { margin-top: 12px; padding-top: 8px; border-top: 1px solid var(--border-color-primary);
  font-size: 0.92em; }
.sq-sources-title { font-weight: 700; margin-bottom: 4px; }
.sq-source { margin: 6px 0 10px 0; }
.sq-source-ref { font-weight: 700; margin-right: 4px; }
.sq-source-section { color: var(--body-text-color-subdued); }
.sq-source blockquote, .sq-quote { margin: 4px 0 0 0 !important; padding: 4px 10px !important;
  border-left: 3px solid var(--color-accent-soft, #99d5cf); font-style: italic;
  color: var(--body-text-color); }
.sq-decline { border-left: 4px solid #64748b; background: rgba(100, 116, 139, 0.10);
  border-radius: 8px; padding: 10px 14px; }
.sq-safety { border-left: 4px solid #d97706; background: rgba(245, 158, 11, 0.14);
  border-radius: 8px; padding: 10px 14px; margin: 10px 0; }
.sq-urgent { border-left: 4px solid #dc2626; background: rgba(220, 38, 38, 0.10);
  border-radius: 8px; padding: 10px 14px; margin: 0 0 10px 0; font-weight: 600; }
.sq-info { border-left: 4px solid #3b82f6; background: rgba(59, 130, 246, 0.08);
  border-radius: 8px; padding: 8px 14px; margin: 0 0 10px 0; }
.sq-notice { border-left: 4px solid #d97706; background: rgba(245, 158, 11, 0.10);
  border-radius: 8px; padding: 8px 14px; }
.sq-login { max-width: 420px; }
.sq-login-error { color: #b91c1c; font-weight: 600; }
.sq-muted { color: var(--body-text-color-subdued); font-size: 0.92em; }
"""


# -- login -----------------------------------------------------------------------------
def staff_login_required(settings: Settings) -> bool:
    return bool(settings.staff_user and settings.staff_password)


def check_login(settings: Settings, user: str, password: str) -> bool:
    """Constant-time check of the staff credentials; False when none are configured."""
    if not staff_login_required(settings):
        return False
    assert settings.staff_user is not None and settings.staff_password is not None
    # Compare both fields every time (no short-circuit), so timing shows neither.
    user_ok = hmac.compare_digest((user or "").encode("utf-8"), settings.staff_user.encode("utf-8"))
    password_ok = hmac.compare_digest(
        (password or "").encode("utf-8"),
        settings.staff_password.get_secret_value().encode("utf-8"),
    )
    return user_ok and password_ok


def client_key(request: gr.Request | None) -> str:
    """The rate-limit key: the client's address as the server sees it.

    Forwarded-for headers are ignored on purpose: a client can set them freely.
    """
    client = getattr(request, "client", None)
    return str(getattr(client, "host", None) or "unknown")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def parse_history(history_json: str, message: str) -> list[dict[str, Any]]:
    """The API's ``history_json``: a JSON list of ``{"role", "content"}`` turns."""
    try:
        history = json.loads(history_json or "[]")
    except (TypeError, ValueError):
        raise gr.Error(message) from None
    if not isinstance(history, list):
        raise gr.Error(message)
    return history


# -- the app ---------------------------------------------------------------------------
class ChatApp:
    """Event handlers of the app; one instance per ``build_app`` call."""

    def __init__(self, bot: Assistant, settings: Settings) -> None:
        self.bot = bot
        self.settings = settings
        self.text = load_ui_text()
        self.limiter = RateLimiter(settings.rate_limit_per_minute)
        self.feedback_limiter = RateLimiter(4 * settings.rate_limit_per_minute)
        self.login_limiter = RateLimiter(LOGIN_ATTEMPTS_PER_MINUTE)
        self.feedback = FeedbackLog(settings.feedback_file)
        self.login_required = staff_login_required(settings)

    # -- answering -----------------------------------------------------------------
    def too_long(self, question: str) -> str | None:
        limit = REJECT_FACTOR * self.settings.max_question_chars
        if len(question) > limit:
            return self.text["too_long"].format(length=len(question), limit=limit)
        return None

    def api_ask(
        self, question: str, history_json: str = "[]", request: gr.Request | None = None
    ) -> dict:
        """Answer one question from the articles; returns the reply as a JSON object.

        history_json: earlier turns as a JSON list of {"role", "content"} objects.
        """
        if not isinstance(question, str) or not question.strip():
            raise gr.Error(self.text["empty_question"])
        problem = self.too_long(question)
        if problem:
            raise gr.Error(problem)
        history = parse_history(history_json, self.text["bad_history"])
        if not self.limiter.allow(client_key(request)):
            raise gr.Error(self.text["rate_limited"])
        try:
            return self.bot.ask(question, history).to_dict()
        except ValueError as err:
            raise gr.Error(str(err)) from None
        except Exception:  # a clear message for the caller; the traceback stays in the log
            log.exception("answering %r failed", question[:200])
            raise gr.Error(self.text["failed"]) from None

    def _history(self, turns: Turns, upto: int) -> list[dict[str, str]]:
        """Earlier turns for follow-ups, as plain text (not the rendered HTML)."""
        history: list[dict[str, str]] = []
        for key in sorted(turns, key=int):
            if int(key) >= upto:  # left over from a conversation the user cleared
                continue
            history += [
                {"role": "user", "content": turns[key]["question"]},
                {"role": "assistant", "content": turns[key]["answer"]},
            ]
        return history

    def answer_stream(
        self, question: str, messages: list[Any], turns: Turns, request: gr.Request | None
    ) -> Iterator[tuple[list[Any], Turns, dict[str, Any] | None]]:
        """Yield (messages, turns, reply dict once done) while the answer appears."""
        question = (question or "").strip()
        if not question:
            return
        messages = [*messages, {"role": "user", "content": question}]
        notice = self.too_long(question)
        if notice is None and not self.limiter.allow(client_key(request)):
            notice = self.text["rate_limited"]
        if notice is not None:
            content = f'<div class="sq-notice">{html.escape(notice)}</div>'
            yield [*messages, {"role": "assistant", "content": content}], turns, None
            return
        yield [*messages, {"role": "assistant", "content": "…"}], turns, None
        try:
            reply = self.bot.ask(question, self._history(turns, len(messages)))
        except ValueError as err:
            content = f'<div class="sq-notice">{html.escape(str(err))}</div>'
            yield [*messages, {"role": "assistant", "content": content}], turns, None
            return
        except Exception:  # never show a traceback to a client; the log keeps it
            log.exception("answering %r failed", question[:200])
            content = f'<div class="sq-notice">{html.escape(self.text["failed"])}</div>'
            yield [*messages, {"role": "assistant", "content": content}], turns, None
            return
        rendered = render_reply(reply, self.bot.wording, self.text)
        index = len(messages)  # where the assistant message goes
        data = reply.to_dict()
        turns = {**turns, str(index): {"id": uuid.uuid4().hex, **data}}
        for markdown in stream_markdown(rendered):
            yield [*messages, {"role": "assistant", "content": markdown}], turns, None
        yield [*messages, {"role": "assistant", "content": rendered.markdown()}], turns, data

    def client_respond(
        self, question: str, messages: list[Any], turns: Turns, request: gr.Request
    ) -> Iterator[tuple[Any, ...]]:
        for msgs, new_turns, _ in self.answer_stream(question, messages, turns, request):
            yield "", msgs, new_turns

    def staff_respond(
        self,
        question: str,
        messages: list[Any],
        turns: Turns,
        logged_in: bool,
        request: gr.Request,
    ) -> Iterator[tuple[Any, ...]]:
        # The session flag lives on the server (gr.State), so a client cannot forge it.
        if not logged_in:
            raise gr.Error(self.text["login_required"])
        for msgs, new_turns, data in self.answer_stream(question, messages, turns, request):
            if data is None:
                yield "", msgs, new_turns, gr.skip(), gr.skip()
            else:
                yield "", msgs, new_turns, details_markdown(data), retrieved_rows(data)

    def staff_select(self, turns: Turns, logged_in: bool, event: gr.SelectData) -> tuple[Any, Any]:
        """Show the details of the answer the staff member clicked on."""
        if not logged_in:
            raise gr.Error(self.text["login_required"])
        index = event.index if isinstance(event.index, int) else event.index[0]
        turn = turns.get(str(index)) or turns.get(str(index + 1))  # a question: its answer
        if turn is None:
            return gr.skip(), gr.skip()
        return details_markdown(turn), retrieved_rows(turn)

    # -- feedback ------------------------------------------------------------------
    def _record(self, turn: dict[str, Any], vote: str, comment: str | None) -> dict[str, Any]:
        return {
            "timestamp": _now(),
            "answer_id": turn["id"],
            "event": "comment" if comment is not None else "vote",
            "vote": vote,
            "comment": comment,
            "question": turn["question"],
            "answer": turn["answer"],
            "citations": turn["citations"],
            "abstained": turn["abstained"],
            "safety": turn["safety"],
        }

    def on_like(
        self, turns: Turns, event: gr.LikeData, request: gr.Request
    ) -> tuple[Any, Any, str]:
        """Log the vote at once, so it is kept even if no comment follows."""
        index = event.index if isinstance(event.index, int) else event.index[0]
        turn = turns.get(str(index))
        if turn is None:  # a notice, not an answer: nothing to rate
            return gr.update(visible=False), None, ""
        if not self.feedback_limiter.allow(client_key(request)):
            return gr.update(visible=False), None, self.text["rate_limited"]
        vote = {True: "up", False: "down"}.get(event.liked, "none")  # type: ignore[call-overload]
        self.feedback.append(self._record(turn, vote, None))
        # A thumbs-down opens the optional comment box for that answer.
        pending = str(index) if vote == "down" else None
        return gr.update(visible=vote == "down"), pending, self.text["feedback_thanks"]

    def on_comment(
        self, comment: str, pending: str | None, turns: Turns, request: gr.Request
    ) -> tuple[Any, Any, None, str]:
        turn = turns.get(pending or "")
        comment = (comment or "").strip()[:MAX_COMMENT_CHARS]
        if turn is None or not comment:
            return gr.update(visible=False), "", None, ""
        if not self.feedback_limiter.allow(client_key(request)):
            return gr.update(visible=False), "", None, self.text["rate_limited"]
        self.feedback.append(self._record(turn, "down", comment))
        return gr.update(visible=False), "", None, self.text["feedback_comment_thanks"]

    # -- staff login and sources ---------------------------------------------------
    def login(self, user: str, password: str, request: gr.Request) -> tuple[Any, ...]:
        """Outputs: logged_in, login box, staff box, message, password, articles, picker."""
        if not self.login_limiter.allow(client_key(request)):
            return self._login_refused(self.text["login_throttled"])
        if not check_login(self.settings, user, password):
            log.warning("staff login refused for %s", client_key(request))
            return self._login_refused(self.text["login_failed"])
        return (
            True, gr.update(visible=False), gr.update(visible=True), "", "",
            *self.staff_data(True),
        )  # fmt: skip

    def _login_refused(self, message: str) -> tuple[Any, ...]:
        text = f'<span class="sq-login-error">{html.escape(message)}</span>'
        return False, gr.skip(), gr.update(visible=False), text, "", gr.skip(), gr.skip()

    def logout(self) -> tuple[Any, ...]:
        return (
            False, gr.update(visible=True), gr.update(visible=False), "", "",
            [], gr.update(choices=[], value=None),
        )  # fmt: skip

    def staff_data(self, logged_in: bool) -> tuple[Any, Any]:
        """The articles table and picker, filled in only after login.

        They are not set at build time: initial values are part of the public page config.
        """
        if not logged_in:
            return gr.skip(), gr.skip()
        docs = self.bot.index.documents()
        choices = [(d.get("title") or doc_id, doc_id) for doc_id, d in sorted(docs.items())]
        return article_rows(docs), gr.update(choices=choices, value=None)

    def read_article(self, doc_id: str | None, logged_in: bool) -> str:
        if not logged_in:
            raise gr.Error(self.text["login_required"])
        doc = self.bot.index.documents().get(doc_id or "")
        try:
            return article_markdown(self.settings, doc) if doc else ""
        except ValueError as err:
            raise gr.Error(str(err)) from err


# -- layout ----------------------------------------------------------------------------
PRIVATE: dict[str, Any] = {"api_visibility": "private"}
# Every event that computes an answer shares one queue slot pool, so at most
# settings.concurrency answers run at once (by default each event has its own limit).
ANSWERING: dict[str, Any] = {"concurrency_id": "answer"}


def _chat_panel(
    text: dict[str, Any], elem_id: str, feedback: bool, max_height: int = 760
) -> tuple[Any, Any, Any]:
    chatbot = gr.Chatbot(
        label=text["chat_label"],
        show_label=False,
        elem_id=elem_id,
        # Grow with the conversation (a whole answer and its sources in view), then scroll.
        height=None,
        min_height=360,
        max_height=max_height,
        placeholder=text["chat_placeholder"],
        latex_delimiters=[],  # "$700 … $200" in the articles is money, not maths
        feedback_options=("Like", "Dislike") if feedback else None,
        buttons=["copy"],
        layout="bubble",
    )
    with gr.Row(equal_height=True):
        box = gr.Textbox(
            placeholder=text["input_placeholder"],
            show_label=False,
            container=False,
            scale=8,
            max_lines=6,
            elem_id=f"{elem_id}-input",
            autofocus=elem_id == "client-chat",
        )
        send = gr.Button(text["send"], variant="primary", scale=1, elem_id=f"{elem_id}-send")
    return chatbot, box, send


def _build_client(app: ChatApp) -> None:
    text = app.text
    turns = gr.State({})
    chatbot, box, send = _chat_panel(text, "client-chat", feedback=True)
    gr.Markdown(text["examples_label"], elem_classes=["sq-muted"])
    with gr.Row(elem_classes=["sq-examples"], elem_id="client-examples"):
        examples = [gr.Button(q, size="sm", variant="secondary") for q in text["examples"]]
    status = gr.Markdown("", elem_id="feedback-status", elem_classes=["sq-muted"])
    pending = gr.State(None)
    with gr.Group(visible=False, elem_id="feedback-comment") as comment_box:
        comment = gr.Textbox(
            label=text["feedback_comment_label"],
            placeholder=text["feedback_comment_placeholder"],
            lines=2,
            max_lines=6,
            elem_id="feedback-comment-text",
        )
        with gr.Row():
            comment_send = gr.Button(text["feedback_comment_send"], size="sm", variant="primary")
            comment_skip = gr.Button(text["feedback_comment_skip"], size="sm")

    respond = {"fn": app.client_respond, "outputs": [box, chatbot, turns], **PRIVATE, **ANSWERING}
    box.submit(inputs=[box, chatbot, turns], **respond)
    send.click(inputs=[box, chatbot, turns], **respond)
    for button in examples:
        button.click(inputs=[button, chatbot, turns], **respond)
    # The chat's own clear button empties the messages; forget the turns with them.
    chatbot.clear(lambda: ({}, gr.update(visible=False), None), None, [turns, comment_box, pending],
                  queue=False, **PRIVATE)  # fmt: skip
    chatbot.like(app.on_like, [turns], [comment_box, pending, status], **PRIVATE)
    comment_send.click(
        app.on_comment, [comment, pending, turns], [comment_box, comment, pending, status],
        **PRIVATE,
    )  # fmt: skip
    comment_skip.click(
        lambda: (gr.update(visible=False), "", None), None, [comment_box, comment, pending],
        queue=False, **PRIVATE,
    )  # fmt: skip


def _build_staff(app: ChatApp, demo: gr.Blocks) -> None:
    text = app.text
    # Per-session flag on the server; without configured credentials the view is open.
    logged_in = gr.State(not app.login_required)
    with gr.Column(visible=app.login_required, elem_classes=["sq-login"]) as login_box:
        gr.Markdown(f"### {text['login_heading']}")
        user = gr.Textbox(label=text["login_user"], elem_id="staff-user", max_lines=1)
        password = gr.Textbox(
            label=text["login_password"], type="password", elem_id="staff-password", max_lines=1
        )
        login_button = gr.Button(text["login_button"], variant="primary", elem_id="staff-login")
        login_message = gr.Markdown("", elem_id="staff-login-message")
    with gr.Column(visible=not app.login_required, elem_id="staff-content") as staff_box:
        if not app.login_required:
            gr.Markdown(text["login_off"], elem_classes=["sq-notice"])
        with gr.Row():
            gr.Markdown(text["staff_intro"], elem_classes=["sq-muted"])
            logout = gr.Button(
                text["logout_button"], size="sm", scale=0, visible=app.login_required
            )
        with gr.Tabs():
            with gr.Tab(text["tab_staff_chat"], elem_id="staff-chat-tab"):
                turns = gr.State({})
                chatbot, box, send = _chat_panel(text, "staff-chat", feedback=False, max_height=560)
                with gr.Accordion(text["details_heading"], open=True):
                    details = gr.Markdown(text["details_empty"], elem_id="staff-details")
                    table = gr.Dataframe(
                        headers=text["retrieved_columns"],
                        label=text["retrieved_heading"],
                        interactive=False,
                        wrap=True,
                        column_widths=["4%", "19%", "30%", "9%", "9%", "11%", "9%", "9%"],
                        max_height=1000,
                        elem_id="staff-retrieved",
                    )
            with gr.Tab(text["tab_sources"], elem_id="staff-sources-tab"):
                articles = gr.Dataframe(
                    headers=text["articles_columns"],
                    interactive=False,
                    wrap=True,
                    column_widths=["46%", "32%", "8%", "14%"],
                    max_height=700,
                    elem_id="staff-articles",
                )
                picker = gr.Dropdown(
                    label=text["article_pick"], choices=[], elem_id="staff-article-pick"
                )
                article = gr.Markdown("", elem_id="staff-article", latex_delimiters=[])

    login_outputs = [logged_in, login_box, staff_box, login_message, password, articles, picker]
    login_button.click(app.login, [user, password], login_outputs, **PRIVATE)
    password.submit(app.login, [user, password], login_outputs, **PRIVATE)
    logout.click(app.logout, None, login_outputs, queue=False, **PRIVATE)
    outputs = [box, chatbot, turns, details, table]
    inputs = [box, chatbot, turns, logged_in]
    box.submit(app.staff_respond, inputs, outputs, **PRIVATE, **ANSWERING)
    send.click(app.staff_respond, inputs, outputs, **PRIVATE, **ANSWERING)
    chatbot.clear(lambda: {}, None, turns, queue=False, **PRIVATE)
    chatbot.select(app.staff_select, [turns, logged_in], [details, table], **PRIVATE)
    picker.change(app.read_article, [picker, logged_in], [article], **PRIVATE)
    demo.load(app.staff_data, [logged_in], [articles, picker], **PRIVATE)


def build_app(bot: Assistant, settings: Settings) -> gr.Blocks:
    """The whole app, queued; launch it with ``demo.launch(..., **launch_options())``."""
    app = ChatApp(bot, settings)
    text = app.text
    with gr.Blocks(title=text["page_title"], analytics_enabled=False) as demo:
        gr.Markdown(f"# {text['title']}\n\n{text['description']}", elem_classes=["sq-header"])
        gr.Markdown(text["disclaimer"], elem_classes=["sq-disclaimer"], elem_id="disclaimer")
        with gr.Accordion(text["articles_label"], open=False, elem_id="article-list"):
            gr.Markdown(article_list_markdown(bot.index.documents()))
        with gr.Tabs():
            with gr.Tab(text["tab_client"], id="client", elem_id="client-tab"):
                _build_client(app)
            with gr.Tab(text["tab_staff"], id="staff", elem_id="staff-tab"):
                _build_staff(app, demo)
        # The one public endpoint: everything else is wired with api_visibility="private".
        gr.api(app.api_ask, api_name="ask", **ANSWERING)
    demo.queue(default_concurrency_limit=settings.concurrency)
    return demo


def launch_options() -> dict[str, Any]:
    """Options for ``demo.launch``: look, and no extras that would leak or phone home.

    Gradio 6 takes theme and CSS at launch rather than in ``gr.Blocks``.
    """
    theme = gr.themes.Soft(
        primary_hue="teal",
        neutral_hue="slate",
        # System fonts: the default theme would fetch web fonts from a third party.
        font=["ui-sans-serif", "system-ui", "Segoe UI", "Helvetica", "Arial", "sans-serif"],
        font_mono=["ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "monospace"],
    )
    return {
        "theme": theme,
        "css": CSS,
        "share": False,
        "footer_links": ["api"],
        # Health questions stay out of the browser's saved run history.
        "run_history": False,
        "ssr_mode": False,
        "mcp_server": False,
        "show_error": False,
    }
