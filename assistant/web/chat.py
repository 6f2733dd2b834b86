"""The client page's own routes: answers as they are ready, feedback, a health check.

``POST /chat/ask`` takes ``{"question", "history"}`` (and, for the suggested questions,
``"shown"``: the chips under the last answers, ``"asked"``: the client's earlier
questions beyond the history) and answers with JSON lines
(``application/x-ndjson``): in LLM mode ``{"type": "delta", "text"}`` for each verified
piece of text as the model writes it, and always one final ``{"type": "answer", ...}``
holding the answer card's HTML (``card.py``) and what the page keeps for follow-ups. In
the default extractive mode that final line is the only one: the answer shows as soon as
it exists, with no simulated typing. Refusals (empty, too long, rate limit) are plain
JSON errors with a 4xx status, before any line is sent.

Why not Gradio's queue: its page reloads when the server comes back and drops the
conversation, and its events cannot tell the page "unreachable" from "refused". These
routes let the page keep the conversation (browser storage), show one inline error with
a retry, and queue a second question itself. They share the rate limit and the answer
slots with the JSON API and the staff chat (``AnswerService``).
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

import anyio
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.routing import BaseRoute

from ..schema import Reply
from .api import AnswerService, ApiError, error_response, read_body
from .card import CardParts, announcement, card_html
from .clinic import Clinic, Handoff
from .feedback import FeedbackLog
from .passages import passage_for
from .ratelimit import RateLimiter
from .repeats import Repeats
from .suggest import Suggester

log = logging.getLogger(__name__)

ASK_PATH, FEEDBACK_PATH, HEALTH_PATH = "/chat/ask", "/chat/feedback", "/chat/health"
MAX_COMMENT_CHARS = 2000
# Answers kept for feedback (id -> what the log records); older ones can no longer be
# rated. ~5 KB each, so the server holds at most a few MB whatever the traffic.
REMEMBERED_ANSWERS = 2000
VOTES = {"up", "down", "none"}
# The client's earlier questions the page sends beyond the history (``asked``), only so
# that no suggestion repeats one: at most this many, each cut to this length.
ASKED_LIMIT, ASKED_CHARS = 30, 500


class AnswerMemory:
    """The most recent answers by id, bounded; thread-safe."""

    def __init__(self, size: int = REMEMBERED_ANSWERS) -> None:
        self.size = size
        self._items: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def add(self, answer_id: str, record: dict[str, Any]) -> None:
        with self._lock:
            self._items[answer_id] = record
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def get(self, answer_id: str) -> dict[str, Any] | None:
        with self._lock:
            return self._items.get(answer_id)


def _line(event: dict[str, Any]) -> bytes:
    return (json.dumps(event, ensure_ascii=False) + "\n").encode("utf-8")


class ChatService:
    """Answers for the client page: the card, the chips, the contact route."""

    def __init__(
        self,
        answerer: AnswerService,
        clinic: Clinic,
        feedback: FeedbackLog,
        feedback_limiter: RateLimiter,
    ) -> None:
        self.answerer = answerer
        self.bot = answerer.bot
        self.text = answerer.text
        self.clinic = clinic
        self.handoff = Handoff.from_package()
        self.suggester = Suggester.from_package(
            Repeats(self.bot.analyzer, self.bot.embedder, self.bot.tuning.suggestion_repeat_cosine)
        )
        self.feedback = feedback
        self.feedback_limiter = feedback_limiter
        self.memory = AnswerMemory()

    def contact_reason(self, question: str, reply: dict[str, Any]) -> str | None:
        """Why the clinic's contact route shows with this reply, or None."""
        if any(n["kind"] == "urgent" for n in reply["notes"]):
            return "urgent"
        kind = self.handoff.kind(question)
        if kind is not None:
            return kind
        return "decline" if reply["outcome"] == "declined" else None

    def asked(
        self, question: str, history: list[Any], reply: dict[str, Any], earlier: Sequence[str] = ()
    ) -> list[str]:
        """What the client asked, for the suggestions to leave out: their earlier questions
        (``earlier``, from the page, and the history's; also with typos fixed, as the
        engine reads them), this message, and its question as the engine read it (a long
        message's asking sentences; a follow-up with its topic)."""
        turns = list(earlier) + [
            t["content"]
            for t in history
            if isinstance(t, dict) and t.get("role") == "user" and isinstance(t.get("content"), str)
        ]
        turns = list(dict.fromkeys(turns))
        if self.bot.tuning.on("spelling"):
            speller = self.bot.live_index.current.speller
            turns += [speller.fix(t) for t in turns]
        return [*turns, question, reply["query"]]

    def card(
        self,
        question: str,
        history: list[Any],
        reply: Reply,
        shown: Sequence[str] = (),
        earlier: Sequence[str] = (),
    ) -> dict[str, Any]:
        """The final event: the card's HTML and what the page stores for the turn."""
        data = reply.to_dict()
        answer_id = "a" + uuid.uuid4().hex[:16]
        chunks = self.bot.index.chunks
        parts = CardParts(
            answer_id=answer_id,
            passages=[passage_for(chunks, c) for c in data["citations"]],
            suggestions=self.suggester.for_reply(
                data, self.asked(question, history, data, earlier), shown
            ),
            contact=self.contact_reason(question, data),
            clinic=self.clinic,
        )
        self.memory.add(answer_id, data)
        return {
            "type": "answer",
            "id": answer_id,
            "question": question,
            "outcome": data["outcome"],
            "answer": data["answer"],  # the text a follow-up's history carries
            "html": card_html(data, parts, self.text),
            "announce": announcement(data, self.text),
        }

    def events(
        self,
        question: str,
        history: list[Any],
        shown: Sequence[str] = (),
        earlier: Sequence[str] = (),
    ) -> Iterator[bytes]:
        """The JSON lines of one answer (run by Starlette in a worker thread)."""
        try:
            with self.answerer.slots:
                reply = None
                for event in self.bot.ask_stream(question, history):
                    if isinstance(event, Reply):
                        reply = event
                    else:
                        yield _line({"type": "delta", "text": event})
            assert reply is not None
            yield _line(self.card(question, history, reply, shown, earlier))
        except Exception:  # the page shows its own message; the log keeps the traceback
            log.exception("answering %r failed", question[:200])
            yield _line({"type": "error", "message": self.text["chat_error"]})

    # -- feedback ------------------------------------------------------------------
    def record_feedback(self, body: dict[str, Any], key: str) -> dict[str, Any]:
        answer_id, vote = body.get("id"), body.get("vote")
        comment = body.get("comment")
        if not isinstance(answer_id, str) or vote not in VOTES:
            raise ApiError(400, self.text["bad_body"])
        if comment is not None and not isinstance(comment, str):
            raise ApiError(400, self.text["bad_body"])
        turn = self.memory.get(answer_id)
        if turn is None:
            raise ApiError(410, self.text["feedback_expired"])
        if not self.feedback_limiter.allow(key):
            raise ApiError(429, self.text["rate_limited"])
        comment = (comment or "").strip()[:MAX_COMMENT_CHARS] or None
        self.feedback.append(
            {
                "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
                "answer_id": answer_id,
                "event": "comment" if comment else "vote",
                "vote": vote,
                "comment": comment,
                "question": turn["question"],
                "answer": turn["answer"],
                "outcome": turn["outcome"],
                "citations": turn["citations"],
                "abstained": turn["abstained"],
                "safety": turn["safety"],
            }
        )
        key_text = "feedback_comment_sent" if comment else "feedback_sent"
        return {"ok": True, "message": self.text[key_text]}


def chat_routes(chat: ChatService) -> list[BaseRoute]:
    """``/chat/ask``, ``/chat/feedback`` and ``/chat/health``."""
    router = APIRouter()

    @router.post(ASK_PATH, include_in_schema=False)
    async def ask(request: Request) -> Any:
        try:
            body = await read_body(request, chat.text)
            question = body.get("question")
            history = body.get("history") or []
            history = chat.answerer.admit(
                question, history, chat.answerer.clients(request), "bad_history_list"
            )
        except ApiError as err:
            return error_response(err)
        # The chips shown lately and the client's earlier questions only choose the
        # suggestions: anything but a short list of text is ignored.
        shown = body.get("shown")
        shown = [s for s in shown[:12] if isinstance(s, str)] if isinstance(shown, list) else []
        earlier = body.get("asked")
        earlier = (
            [a[:ASKED_CHARS] for a in earlier[-ASKED_LIMIT:] if isinstance(a, str)]
            if isinstance(earlier, list)
            else []
        )
        lines = chat.events(question.strip(), history[-12:], shown, earlier)
        return StreamingResponse(
            lines,
            media_type="application/x-ndjson",
            # No proxy may hold the lines back, nor any cache keep an answer.
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )

    @router.post(FEEDBACK_PATH, include_in_schema=False)
    async def feedback(request: Request) -> JSONResponse:
        try:
            body = await read_body(request, chat.text)
            # The log write is fsynced: off the event loop.
            result = await anyio.to_thread.run_sync(
                chat.record_feedback, body, chat.answerer.clients(request)
            )
            return JSONResponse(result)
        except ApiError as err:
            return error_response(err)

    @router.get(HEALTH_PATH, include_in_schema=False)
    async def health() -> JSONResponse:
        return JSONResponse({"ok": True}, headers={"Cache-Control": "no-store"})

    return list(router.routes)
