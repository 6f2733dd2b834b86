"""Event handlers of the staff page: its chat, the passage search, the login, the sources.

The client page answers through ``chat.py``; ``api_ask`` serves Gradio's ``/ask`` API.
The layout that wires them is in ``staff_page.py``; HTML rendering in ``render.py`` and
``articles.py``; the API's checks in ``api.py``; the staff login in ``staff.py``.
"""

from __future__ import annotations

import html
import itertools
import logging
import uuid
from typing import Any

import gradio as gr

from ..answer.pipeline import Assistant
from ..errors import AssistantError, ChromaUnavailableError
from ..settings import Settings
from .api import AnswerService, ApiError
from .articles import article_markdown, article_rows, corpus_text
from .feedback import FeedbackLog
from .ratelimit import RateLimiter
from .render import (
    details_markdown,
    load_ui_text,
    render_reply,
    retrieved_rows,
    search_rows,
    user_message,
)
from .sessions import forget_api_session, sweep_from_worker
from .staff import check_login, staff_login_required

log = logging.getLogger(__name__)

SEARCH_RESULTS = 10  # passages the staff search lists
# Answers a staff session keeps for follow-ups and the details: a long
# conversation must not grow the server's memory without bound.
MAX_TURNS = 50
# Gradio's queue is swept of finished sessions' bookkeeping every this many API calls.
SWEEP_EVERY = 100
# Session-state keys are strings: gr.State values are deep-copied and JSON-friendly.
Turns = dict[str, dict[str, Any]]

__all__ = ["ChatApp", "check_login", "staff_login_required"]


def _notice(message: str) -> str:
    return f'<div class="sq-notice">{html.escape(message)}</div>'


class ChatApp:
    """Event handlers of the app; one instance per app, shared by every session."""

    def __init__(self, bot: Assistant, settings: Settings) -> None:
        self.bot = bot
        self.settings = settings
        self.text = load_ui_text()
        # One answerer: the chat and both APIs share its rate limit and answer slots.
        self.answerer = AnswerService(bot, settings, self.text)
        self.limiter = self.answerer.limiter
        self.login_limiter = self.answerer.login_limiter
        self.clients = self.answerer.clients
        self.feedback_limiter = RateLimiter(4 * settings.rate_limit_per_minute)
        self.feedback = FeedbackLog(settings.feedback_file)
        self.login_required = staff_login_required(settings)
        self.blocks: gr.Blocks | None = None  # set by the layout once it is built
        self._api_calls = itertools.count(1)

    # -- answering -----------------------------------------------------------------
    def api_ask(
        self, question: str, history_json: str = "[]", request: gr.Request | None = None
    ) -> dict:
        """Answer one question from the articles; returns the reply as a JSON object.

        history_json: earlier turns as a JSON list of {"role", "content"} objects.
        """
        headers = getattr(request, "headers", None) or {}
        try:
            return self.answerer.answer_json_history(
                question, history_json, self.clients(request), headers.get("authorization")
            )
        except ApiError as err:
            raise gr.Error(err.message) from None
        finally:
            # Each API call comes with a session of its own: drop it, or 3,000 calls
            # would keep 3,000 copies of the page's state.
            forget_api_session(self.blocks, getattr(request, "session_hash", None))
            if next(self._api_calls) % SWEEP_EVERY == 0:
                sweep_from_worker(self.blocks)

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

    def answer(
        self, question: str, messages: list[Any], turns: Turns, request: gr.Request | None
    ) -> tuple[list[Any], Turns, dict[str, Any] | None]:
        """(messages, turns, the reply dict or None for a notice): shown as soon as ready."""
        question = (question or "").strip()
        if not question:
            return messages, turns, None
        messages = [*messages, {"role": "user", "content": user_message(question)}]
        notice = self.answerer.too_long(question)
        if notice is None and not self.limiter.allow(self.clients(request)):
            notice = self.text["rate_limited"]
        if notice is not None:
            return [*messages, {"role": "assistant", "content": _notice(notice)}], turns, None
        try:
            reply = self.answerer.ask(question, self._history(turns, len(messages)))
        except ValueError as err:
            return [*messages, {"role": "assistant", "content": _notice(str(err))}], turns, None
        except ChromaUnavailableError as err:
            log.error("answering failed: %s", err)
            content = _notice(self.text["store_unavailable"])
            return [*messages, {"role": "assistant", "content": content}], turns, None
        except Exception:  # never show a traceback to a client; the log keeps it
            log.exception("answering %r failed", question[:200])
            content = _notice(self.text["failed"])
            return [*messages, {"role": "assistant", "content": content}], turns, None
        index = len(messages)  # where the assistant message goes
        data = reply.to_dict()
        kept = sorted(turns, key=int)[-(MAX_TURNS - 1) :]
        turns = {**{k: turns[k] for k in kept}, str(index): {"id": uuid.uuid4().hex, **data}}
        content = render_reply(reply, self.text).markdown()
        return [*messages, {"role": "assistant", "content": content}], turns, data

    def staff_respond(
        self,
        question: str,
        messages: list[Any],
        turns: Turns,
        logged_in: bool,
        request: gr.Request,
    ) -> tuple[Any, ...]:
        # The session flag lives on the server (gr.State), so a client cannot forge it.
        if not logged_in:
            raise gr.Error(self.text["login_required"])
        msgs, new_turns, data = self.answer(question, messages, turns, request)
        if data is None:
            return "", msgs, new_turns, gr.skip(), gr.skip()
        return "", msgs, new_turns, details_markdown(data), retrieved_rows(data)

    def staff_select(self, turns: Turns, logged_in: bool, event: gr.SelectData) -> tuple[Any, Any]:
        """Show the details of the answer the staff member clicked on."""
        if not logged_in:
            raise gr.Error(self.text["login_required"])
        index = event.index if isinstance(event.index, int) else event.index[0]
        turn = turns.get(str(index)) or turns.get(str(index + 1))  # a question: its answer
        if turn is None:
            return gr.skip(), gr.skip()
        return details_markdown(turn), retrieved_rows(turn)

    def staff_search(self, words: str, logged_in: bool) -> tuple[Any, str]:
        """The ranked passages for any words, without composing an answer."""
        if not logged_in:
            raise gr.Error(self.text["login_required"])
        words = (words or "").strip()[: self.settings.max_question_chars]
        if not words:
            return [], self.text["search_empty"]
        hits = self.bot.retriever.retrieve(words, top_k=SEARCH_RESULTS).hits
        return search_rows(hits), self.text["search_done"].format(count=len(hits), words=words)

    # -- staff login and sources ---------------------------------------------------
    def login(self, user: str, password: str, request: gr.Request) -> tuple[Any, ...]:
        """Outputs: logged_in, login box, staff box, message, password, articles, picker."""
        if not self.login_limiter.allow(self.clients(request)):
            return self._login_refused(self.text["login_throttled"])
        if not check_login(self.settings, user, password):
            log.warning("staff login refused for %s", self.clients(request))
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
        index = self.bot.index
        doc = index.documents().get(doc_id or "")
        if not doc:
            return ""
        try:
            # Server mode: the text the build holds in the Chroma store; else the file.
            text = index.article_text(str(doc_id))
            return article_markdown(doc, text or corpus_text(self.settings, doc))
        except ValueError as err:
            raise gr.Error(str(err)) from err
        except AssistantError as err:
            log.error("reading article %r failed: %s", doc_id, err)
            raise gr.Error(self.text["store_unavailable"]) from err
