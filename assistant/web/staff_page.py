"""The staff page, served at ``/staff`` on its own: login, the staff chat with the
verdict, reason, signals and retrieved passages behind every answer, a passage search
that composes nothing, and the articles themselves.

Nothing of it is on the public page: it is a separate ``gr.Blocks`` with its own config,
and its data (articles, details) is filled in only after the login.
"""

from __future__ import annotations

from typing import Any

import gradio as gr

from .handlers import ChatApp

PRIVATE: dict[str, Any] = {"api_visibility": "private"}
# Answering events share the answer slots' queue id with Gradio's /ask API.
ANSWERING: dict[str, Any] = {"concurrency_id": "answer"}


def _login(app: ChatApp) -> tuple[Any, ...]:
    text = app.text
    with gr.Column(visible=app.login_required, elem_classes=["sq-login"]) as login_box:
        gr.Markdown(f"## {text['login_heading']}")
        user = gr.Textbox(label=text["login_user"], elem_id="staff-user", max_lines=1)
        password = gr.Textbox(
            label=text["login_password"], type="password", elem_id="staff-password", max_lines=1
        )
        login_button = gr.Button(text["login_button"], variant="primary", elem_id="staff-login")
        message = gr.Markdown("", elem_id="staff-login-message")
    return login_box, user, password, login_button, message


def _query_row(
    label: str, button: str, input_id: str, button_id: str, **field: Any
) -> tuple[gr.Textbox, gr.Button]:
    """A text field and its primary button on one row, as both tabs ask."""
    with gr.Row(equal_height=True):
        box = gr.Textbox(label=label, scale=8, elem_id=input_id, **field)
        go = gr.Button(button, variant="primary", scale=1, elem_id=button_id)
    return box, go


def _on_enter_or_click(box: gr.Textbox, go: gr.Button, fn: Any, inputs: Any, outputs: Any) -> None:
    """Enter in ``box`` and a click on ``go`` both answer, in the answer slots' queue."""
    for event in (box.submit, go.click):
        event(fn, inputs, outputs, **PRIVATE, **ANSWERING)


def _table(headers: list[str], elem_id: str, max_height: int, **extra: Any) -> gr.Dataframe:
    """A read-only table whose long cells wrap."""
    return gr.Dataframe(
        headers=headers,
        interactive=False,
        wrap=True,
        max_height=max_height,
        elem_id=elem_id,
        **extra,
    )


def _chat_tab(app: ChatApp, logged_in: Any) -> None:
    text = app.text
    turns = gr.State({})
    chatbot = gr.Chatbot(
        label=text["chat_label"],
        show_label=False,
        elem_id="staff-chat",
        height=None,
        min_height=300,
        max_height=560,
        placeholder=text["details_empty"],
        latex_delimiters=[],  # "$700 … $200" in the articles is money, not maths
        buttons=["copy"],
        layout="bubble",
    )
    box, send = _query_row(
        text["input_label"],
        text["send"],
        "staff-chat-input",
        "staff-chat-send",
        placeholder=text["input_placeholder"],
        show_label=False,
        container=False,
        max_lines=6,
    )
    with gr.Accordion(text["details_heading"], open=True):
        details = gr.Markdown(text["details_empty"], elem_id="staff-details")
        table = _table(
            text["retrieved_columns"], "staff-retrieved", 1000, label=text["retrieved_heading"]
        )
    outputs = [box, chatbot, turns, details, table]
    _on_enter_or_click(box, send, app.staff_respond, [box, chatbot, turns, logged_in], outputs)
    chatbot.clear(lambda: {}, None, turns, queue=False, **PRIVATE)
    chatbot.select(app.staff_select, [turns, logged_in], [details, table], **PRIVATE)


def _search_tab(app: ChatApp, logged_in: Any) -> None:
    text = app.text
    gr.Markdown(text["search_intro"])
    words, go = _query_row(
        text["search_label"], text["search_button"], "staff-search-input", "staff-search",
        max_lines=2,
    )  # fmt: skip
    summary = gr.Markdown("", elem_id="staff-search-summary")
    results = _table(text["search_columns"], "staff-search-results", 900)
    _on_enter_or_click(words, go, app.staff_search, [words, logged_in], [results, summary])


def build_staff(app: ChatApp) -> gr.Blocks:
    text = app.text
    with gr.Blocks(title=text["staff_title"], analytics_enabled=False) as page:
        gr.Markdown(f"# {text['staff_title']}")
        # Per-session flag on the server; without configured credentials the view is open.
        logged_in = gr.State(not app.login_required)
        login_box, user, password, login_button, message = _login(app)
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
                    _chat_tab(app, logged_in)
                with gr.Tab(text["tab_search"], elem_id="staff-search-tab"):
                    _search_tab(app, logged_in)
                with gr.Tab(text["tab_sources"], elem_id="staff-sources-tab"):
                    articles = _table(text["articles_columns"], "staff-articles", 700)
                    picker = gr.Dropdown(
                        label=text["article_pick"], choices=[], elem_id="staff-article-pick"
                    )
                    article = gr.Markdown("", elem_id="staff-article", latex_delimiters=[])

        login_outputs = [logged_in, login_box, staff_box, message, password, articles, picker]
        login_button.click(app.login, [user, password], login_outputs, **PRIVATE)
        password.submit(app.login, [user, password], login_outputs, **PRIVATE)
        logout.click(app.logout, None, login_outputs, queue=False, **PRIVATE)
        picker.change(app.read_article, [picker, logged_in], [article], **PRIVATE)
        page.load(app.staff_data, [logged_in], [articles, picker], **PRIVATE)
    page.queue(default_concurrency_limit=app.settings.concurrency)
    return page
