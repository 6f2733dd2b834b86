"""The web app's layout: a client chat, a staff view behind its own login, and the APIs.

``launch(bot, settings, host, port)`` serves it: the Gradio page with its ``/ask`` API and,
on the same server, the JSON route ``POST /api/ask`` (``api.py``). The event handlers
are in ``handlers.py``; the top-level ``app.py`` only parses arguments and calls ``launch``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import gradio as gr
from starlette.middleware import Middleware

from ..answer.pipeline import Assistant
from ..data import read_text
from ..settings import Settings
from .api import api_routes
from .articles import article_list_markdown
from .guard import RequestGuard
from .handlers import ChatApp

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


def build_blocks(app: ChatApp) -> gr.Blocks:
    """The Gradio page and its ``/ask`` API, queued."""
    bot, settings, text = app.bot, app.settings, app.text
    # delete_cache: any temporary file this app ever writes is gone within the hour.
    with gr.Blocks(
        title=text["page_title"], analytics_enabled=False, delete_cache=(3600, 3600)
    ) as demo:
        gr.Markdown(f"# {text['title']}\n\n{text['description']}", elem_classes=["sq-header"])
        gr.Markdown(text["disclaimer"], elem_classes=["sq-disclaimer"], elem_id="disclaimer")
        with gr.Accordion(text["articles_label"], open=False, elem_id="article-list"):
            gr.Markdown(article_list_markdown(bot.index.documents()))
        with gr.Tabs():
            with gr.Tab(text["tab_client"], id="client", elem_id="client-tab"):
                _build_client(app)
            with gr.Tab(text["tab_staff"], id="staff", elem_id="staff-tab"):
                _build_staff(app, demo)
        # The one public Gradio endpoint: everything else is api_visibility="private".
        gr.api(app.api_ask, api_name="ask", **ANSWERING)
    demo.queue(default_concurrency_limit=settings.concurrency)
    app.blocks = demo
    return demo


def build_app(bot: Assistant, settings: Settings) -> gr.Blocks:
    """The Gradio app alone (no JSON route); ``launch`` serves both."""
    return build_blocks(ChatApp(bot, settings))


def launch_options(settings: Settings) -> dict[str, Any]:
    """Options for ``demo.launch``: look, limits, and no extras that would leak or phone home.

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
        # Kept in a data file: it is long, and it is not logic.
        "css": read_text("ui.css"),
        "share": False,
        "footer_links": ["api"],
        # Health questions stay out of the browser's saved run history.
        "run_history": False,
        "ssr_mode": False,
        "mcp_server": False,
        "show_error": False,
        # The page has no file input: nothing may be uploaded (the guard also refuses
        # the upload routes outright).
        "max_file_size": 0,
        # At most this many sessions' state in memory (see sessions.py).
        "state_session_capacity": settings.max_sessions,
    }


@contextmanager
def _socket_addresses_only() -> Iterator[None]:
    """Have uvicorn leave the client's address as the socket's while the server is built.

    Gradio builds uvicorn's config itself, and uvicorn by default takes the client's
    address from ``X-Forwarded-For`` on connections from 127.0.0.1, so any local client
    (or anything relaying through this machine) could pick its own address for the rate
    limit. ``FORWARDED_ALLOW_IPS=""`` trusts no proxy; ``ClientAddress`` then applies
    ``SKINQA_TRUSTED_PROXIES`` itself.
    """
    saved = os.environ.get("FORWARDED_ALLOW_IPS")
    os.environ["FORWARDED_ALLOW_IPS"] = ""
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop("FORWARDED_ALLOW_IPS", None)
        else:
            os.environ["FORWARDED_ALLOW_IPS"] = saved


def launch(bot: Assistant, settings: Settings, host: str, port: int) -> tuple[gr.Blocks, str]:
    """Serve the app on ``host:port`` in a background thread; (the Blocks, its URL).

    The JSON route is handed to Gradio's own FastAPI app (``app_kwargs``: FastAPI's
    ``routes``), so it is on the same server and port, listed before Gradio's routes, and
    shares the chat's rate limit and answer slots; ``guard.RequestGuard`` wraps every
    route. ``demo.close()`` stops the server.
    """
    app = ChatApp(bot, settings)
    demo = build_blocks(app)
    guard = Middleware(RequestGuard, messages=app.text)
    with _socket_addresses_only():
        _, url, _ = demo.launch(
            server_name=host,
            server_port=port,
            prevent_thread_lock=True,
            quiet=True,
            app_kwargs={"routes": api_routes(app.answerer), "middleware": [guard]},
            **launch_options(settings),
        )
    return demo, url.rstrip("/")
