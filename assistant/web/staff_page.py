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
    with gr.Row(equal_height=True):
        box = gr.Textbox(
            label=text["input_label"],
            placeholder=text["input_placeholder"],
            show_label=False,
            container=False,
            scale=8,
            max_lines=6,
            elem_id="staff-chat-input",
        )
        send = gr.Button(text["send"], variant="primary", scale=1, elem_id="staff-chat-send")
    with gr.Accordion(text["details_heading"], open=True):
        details = gr.Markdown(text["details_empty"], elem_id="staff-details")
        table = gr.Dataframe(
            headers=text["retrieved_columns"],
            label=text["retrieved_heading"],
            interactive=False,
            wrap=True,
            max_height=1000,
            elem_id="staff-retrieved",
        )
    outputs = [box, chatbot, turns, details, table]
    inputs = [box, chatbot, turns, logged_in]
    box.submit(app.staff_respond, inputs, outputs, **PRIVATE, **ANSWERING)
    send.click(app.staff_respond, inputs, outputs, **PRIVATE, **ANSWERING)
    chatbot.clear(lambda: {}, None, turns, queue=False, **PRIVATE)
    chatbot.select(app.staff_select, [turns, logged_in], [details, table], **PRIVATE)


def _search_tab(app: ChatApp, logged_in: Any) -> None:
    text = app.text
    gr.Markdown(text["search_intro"])
    with gr.Row(equal_height=True):
        words = gr.Textbox(
            label=text["search_label"], scale=8, max_lines=2, elem_id="staff-search-input"
        )
        go = gr.Button(text["search_button"], variant="primary", scale=1, elem_id="staff-search")
    summary = gr.Markdown("", elem_id="staff-search-summary")
    results = gr.Dataframe(
        headers=text["search_columns"],
        interactive=False,
        wrap=True,
        max_height=900,
        elem_id="staff-search-results",
    )
    for event in (words.submit, go.click):
        event(app.staff_search, [words, logged_in], [results, summary], **PRIVATE, **ANSWERING)


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
                    articles = gr.Dataframe(
                        headers=text["articles_columns"],
                        interactive=False,
                        wrap=True,
                        max_height=700,
                        elem_id="staff-articles",
                    )
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
