"""The app's API: the checks shared by Gradio's ``/ask`` and the JSON route ``POST /api/ask``.

Both take a question and earlier turns and return ``Reply.public_dict()`` (the fields a
client sees), or ``Reply.to_dict()`` with the retrieval details when the call carries
staff credentials (``Authorization: Bearer <SKINQA_STAFF_TOKEN>`` or ``Basic`` with the
staff login). Both refuse the same bad input with the same plain messages, count against
the same per-client rate limit as the chat, and share one pool of
``settings.concurrency`` answer slots with the chat.

Why a second route: a Gradio API call is two HTTP requests (``POST /gradio_api/call/ask``,
then an event stream), goes through Gradio's queue, and builds a fresh session for each call
(Gradio computes the config of every component of the page for it). Under 32 concurrent
clients on 2 cores that overhead cost about as much CPU as the answer itself. The JSON
route is one request and one JSON response on the same server.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from typing import Any

import anyio
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.routing import BaseRoute

from ..answer.pipeline import Assistant
from ..errors import ChromaUnavailableError
from ..schema import Reply
from ..settings import Settings
from .ratelimit import ClientAddress, RateLimiter
from .staff import check_authorization

log = logging.getLogger(__name__)

API_PATH = "/api/ask"
# Questions longer than this many times the engine's limit are refused outright: the
# engine would truncate them anyway, and such input is abuse rather than a question.
REJECT_FACTOR = 20
# History turns are cut to 4,000 characters by the engine; a body this big is not a chat.
MAX_BODY_BYTES = 1024 * 1024
RETRY_AFTER_S = 60  # the rate limit's window
LOGIN_ATTEMPTS_PER_MINUTE = 10  # wrong staff logins or tokens per client, UI and API together
_JSON_NAMES = {bool: "true or false", int: "a number", float: "a number", list: "a list",
               dict: "an object"}  # fmt: skip


class ApiError(Exception):
    """A refused API call: the HTTP status and a plain message for the caller."""

    def __init__(self, status: int, message: str, request_id: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.request_id = request_id  # set on a 500: the id the log line carries


class AnswerService:
    """Checks, rate-limits and answers API questions; one per app, shared with the chat."""

    def __init__(self, bot: Assistant, settings: Settings, text: dict[str, Any]) -> None:
        self.bot = bot
        self.settings = settings
        self.text = text
        self.limiter = RateLimiter(settings.rate_limit_per_minute)
        self.login_limiter = RateLimiter(LOGIN_ATTEMPTS_PER_MINUTE)
        self.clients = ClientAddress(settings.trusted_proxies)
        # Every answer, from the chat or either API, takes a slot: at most
        # settings.concurrency are computed at once, whichever way they came in.
        self.slots = threading.BoundedSemaphore(settings.concurrency)
        # JSON calls wait for a slot here, on the event loop, rather than each holding a
        # worker thread blocked on the semaphore.
        self.async_slots = anyio.CapacityLimiter(settings.concurrency)

    def too_long(self, question: str) -> str | None:
        limit = REJECT_FACTOR * self.settings.max_question_chars
        if len(question) > limit:
            return self.text["too_long"].format(length=len(question), limit=limit)
        return None

    def admit(
        self, question: Any, history: Any, key: str, bad_history: str = "bad_history"
    ) -> list[Any]:
        """Check one call and count it against the client's limit; return its history.

        Bad input is refused before the rate limit, so it does not use up the client's quota.
        Turns that are not ``{"role", "content"}`` objects are ignored by the engine, as in
        the chat; only a history that is not a list is refused (``bad_history`` names the
        message, which names the field).
        """
        if question is not None and not isinstance(question, str):
            kind = _JSON_NAMES.get(type(question), type(question).__name__)
            raise ApiError(400, self.text["question_not_text"].format(kind=kind))
        if not question or not question.strip():
            raise ApiError(400, self.text["empty_question"])
        problem = self.too_long(question)
        if problem:
            raise ApiError(413, problem)
        if not isinstance(history, list):
            raise ApiError(400, self.text[bad_history])
        if not self.limiter.allow(key):
            raise ApiError(429, self.text["rate_limited"])
        return history

    def ask(self, question: str, history: list[Any]) -> Reply:
        """``bot.ask`` within an answer slot (the chat calls this too)."""
        with self.slots:
            return self.bot.ask(question, history)

    def is_staff(self, authorization: str | None, key: str) -> bool:
        """Whether a call carries valid staff credentials; wrong ones are refused.

        No ``Authorization`` header: a public call. A wrong token or login is a 401, and
        counts against the same per-client throttle as the staff login form; over it,
        credentials are not even checked (429).
        """
        if not authorization:
            return False
        if self.login_limiter.blocked(key):
            raise ApiError(429, self.text["login_throttled"])
        if check_authorization(self.settings, authorization):
            return True
        log.warning("staff API credentials refused for %s", key)
        if not self.login_limiter.allow(key):
            raise ApiError(429, self.text["login_throttled"])
        raise ApiError(401, self.text["bad_credentials"])

    def answer(
        self, question: str, history: list[Any], staff: bool = False, request_id: str = ""
    ) -> dict[str, Any]:
        """The reply as a JSON object (the public fields, or everything for ``staff``);
        errors become ``ApiError``, never a traceback."""
        try:
            reply = self.ask(question, history)
        except ValueError as err:  # the engine's own input check (e.g. only control chars)
            raise ApiError(400, str(err)) from None
        except ChromaUnavailableError as err:  # the shared store is down: say so, retry later
            log.error("answering failed: %s", err)
            raise ApiError(503, self.text["store_unavailable"]) from None
        except Exception:  # a clear message for the caller; the traceback stays in the log
            request_id = request_id or uuid.uuid4().hex[:12]
            log.exception("answering %r failed [request %s]", question[:200], request_id)
            raise ApiError(500, self.text["failed"], request_id) from None
        return reply.to_dict() if staff else reply.public_dict()

    def answer_json_history(
        self, question: Any, history_json: Any, key: str, authorization: str | None = None
    ) -> dict[str, Any]:
        """Gradio's ``/ask``: the history comes as a JSON string (Gradio has no list input)."""
        try:
            history = json.loads(history_json or "[]")
        except (TypeError, ValueError):
            history = None  # refused by admit(), after the question checks
        staff = self.is_staff(authorization, key)
        admitted = self.admit(question, history, key)
        return self.answer(question, admitted, staff)


def error_response(err: ApiError) -> JSONResponse:
    headers = {"Retry-After": str(RETRY_AFTER_S)} if err.status == 429 else {}
    if err.status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="staff"'
    body = {"error": err.message}
    if err.request_id:
        body["request_id"] = err.request_id
    return JSONResponse(body, status_code=err.status, headers=headers or None)


def request_id(request: Request) -> str:
    """The id ``guard.RequestGuard`` gave this request (it is in the log and the reply)."""
    return str(getattr(request.state, "request_id", "") or uuid.uuid4().hex[:12])


async def read_body(request: Request, text: dict[str, Any]) -> dict[str, Any]:
    """The request body as a JSON object, read up to ``MAX_BODY_BYTES``.

    Only ``Content-Type: application/json`` is read: a cross-site HTML form can send
    ``text/plain`` or form bodies without a CORS preflight, but not JSON, so a page
    elsewhere cannot spend a visitor's quota.
    """
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "application/json":
        raise ApiError(415, text["json_only"])
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise ApiError(413, text["body_too_large"])
    raw = bytearray()
    async for part in request.stream():  # a missing or lying Content-Length is no way round
        raw += part
        if len(raw) > MAX_BODY_BYTES:
            raise ApiError(413, text["body_too_large"])
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError):  # not JSON, not UTF-8, or absurdly nested
        raise ApiError(400, text["bad_body"]) from None
    if not isinstance(body, dict):
        raise ApiError(400, text["bad_body"])
    return body


def api_routes(answerer: AnswerService) -> list[BaseRoute]:
    """``POST /api/ask``, to serve next to the Gradio app (``ui.launch`` does)."""
    router = APIRouter()

    @router.post(API_PATH, include_in_schema=False)
    async def ask(request: Request) -> JSONResponse:
        key = answerer.clients(request)
        try:
            staff = answerer.is_staff(request.headers.get("authorization"), key)
            body = await read_body(request, answerer.text)
            question = body.get("question")
            history = body.get("history")
            if history is None:  # absent or null: no earlier turns
                history = []
            history = answerer.admit(question, history, key, "bad_history_list")
            # The answer runs in a worker thread, at most settings.concurrency at once;
            # the event loop stays free to take and refuse other calls meanwhile.
            reply = await anyio.to_thread.run_sync(
                answerer.answer,
                question,
                history,
                staff,
                request_id(request),
                limiter=answerer.async_slots,
            )
        except ApiError as err:
            return error_response(err)
        return JSONResponse(reply)

    return list(router.routes)
