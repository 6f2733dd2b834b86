"""The outermost layer of our app: request ids, JSON 500s and no file uploads.

``RequestGuard`` is a plain ASGI middleware handed to Gradio's FastAPI app:

* every HTTP request gets an id, sent back as ``X-Request-ID`` and written in every log
  line about it, so a client's report can be matched with the log;
* an unhandled exception, or any 500 that is not JSON, becomes
  ``{"error": ..., "request_id": ...}`` with status 500, and is logged with its id;
* Gradio's upload routes are refused (403): the app has no file input, and Gradio's
  ``/upload`` would otherwise store anyone's files and serve them back.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

log = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]

REQUEST_ID_HEADER = b"x-request-id"
# Gradio serves its routes under /gradio_api (and a few at the root for old clients).
UPLOAD_SUFFIXES = ("/upload", "/upload/", "/upload_progress", "/upload_progress/")


def new_request_id() -> str:
    return uuid.uuid4().hex[:12]


def is_upload(path: str) -> bool:
    return path.endswith(UPLOAD_SUFFIXES)


async def send_json(send: Send, status: int, body: dict[str, Any], request_id: str) -> None:
    data = json.dumps(body, ensure_ascii=False).encode("utf-8")
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(data)).encode()),
                (REQUEST_ID_HEADER, request_id.encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": data})


class RequestGuard:
    """See the module docstring. ``messages``: ``uploads_refused`` and ``server_error``."""

    def __init__(self, app: App, messages: dict[str, str]) -> None:
        self.app = app
        self.messages = messages

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = new_request_id()
        scope.setdefault("state", {})["request_id"] = request_id
        method, path = scope.get("method", ""), scope.get("path", "")
        if is_upload(path):
            await send_json(send, 403, {"error": self.messages["uploads_refused"]}, request_id)
            return

        started = False
        replacing = False  # a 500 that is not JSON: its body is dropped and replaced
        replaced = False

        async def guarded_send(message: Message) -> None:
            nonlocal started, replacing, replaced
            if message["type"] == "http.response.start":
                started = True
                headers = list(message.get("headers", []))
                content_type = dict(headers).get(b"content-type", b"")
                if message["status"] >= 500:
                    log.error(
                        "%s %s -> %d [request %s]", method, path, message["status"], request_id
                    )
                    if not content_type.startswith(b"application/json"):
                        replacing = True
                        return
                message["headers"] = [*headers, (REQUEST_ID_HEADER, request_id.encode())]
            elif replacing:
                if not message.get("more_body", False) and not replaced:
                    replaced = True
                    await send_json(send, 500, self._error(request_id), request_id)
                return
            await send(message)

        try:
            await self.app(scope, receive, guarded_send)
        except Exception:
            log.exception("%s %s failed [request %s]", method, path, request_id)
            if replaced or (started and not replacing):
                raise  # the response is under way: nothing clean can be sent now
            await send_json(send, 500, self._error(request_id), request_id)

    def _error(self, request_id: str) -> dict[str, str]:
        return {"error": self.messages["server_error"], "request_id": request_id}
