"""A scripted OpenAI-compatible chat-completions server: the only fake in the LLM tests.

It is a real HTTP server on 127.0.0.1 (a free port, a background thread) speaking the
protocol OpenAI clients use: ``POST /v1/chat/completions`` answered as one JSON object,
or, with ``"stream": true``, as server-sent events (``data: {chunk}`` lines, each with
``choices[0].delta.content``, ending ``data: [DONE]``; a script may leave out the last
chunk's ``finish_reason`` or the terminator, as a cut-off stream does). Each request takes the next
``Script`` from a queue, so a test decides exactly what "the model" says, how slowly,
or how it fails. Every request body is kept in ``requests`` for assertions.
"""

from __future__ import annotations

import json
import queue
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Content = str | Callable[[dict[str, Any]], str]


@dataclass
class Script:
    """One scripted answer."""

    content: Content = ""  # the completion text, or a function of the request body
    status: int = 200  # anything else is sent as an OpenAI-style error body
    delay: float = 0.0  # seconds before any byte is sent (beyond the timeout = a timeout)
    words_per_chunk: int = 3  # streaming granularity
    chunk_delay: float = 0.0  # seconds between streamed chunks
    raw: bytes | None = None  # sent as the whole body, as is (malformed output)
    finish: str | None = "stop"  # the last chunk's finish_reason (None: no such chunk)
    done: bool = True  # end the stream with "data: [DONE]" (False: just close it)


class FakeOpenAI:
    """Start with ``with FakeOpenAI() as fake:``; point clients at ``fake.base_url``."""

    def __init__(self) -> None:
        self.scripts: queue.Queue[Script] = queue.Queue()
        self.requests: list[dict[str, Any]] = []
        self.unscripted = 0  # requests that found the queue empty
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True  # a handler still sleeping must not block exit
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def push(self, content: Content = "", **options: Any) -> None:
        self.scripts.put(Script(content, **options))

    def reset(self) -> None:
        while not self.scripts.empty():
            self.scripts.get_nowait()
        self.requests.clear()
        self.unscripted = 0

    def __enter__(self) -> FakeOpenAI:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _next(self, body: dict[str, Any]) -> Script:
        self.requests.append(body)
        try:
            return self.scripts.get_nowait()
        except queue.Empty:
            self.unscripted += 1
            return Script(status=500, content="no scripted completion left")

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
                pass

            def do_GET(self) -> None:
                if self.path.rstrip("/") == "/v1/models":
                    self._json(200, {"object": "list", "data": [{"id": "fake", "object": "model"}]})
                else:
                    self._json(404, _error("not found"))

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                if self.path.rstrip("/") != "/v1/chat/completions":
                    self._json(404, _error("not found"))
                    return
                script = fake._next(body)
                time.sleep(script.delay)
                content = script.content(body) if callable(script.content) else script.content
                try:
                    if script.raw is not None:
                        self._send(script.status, script.raw, _content_type(body))
                    elif script.status != 200:
                        self._json(script.status, _error(content or "scripted failure"))
                    elif body.get("stream"):
                        self._stream(body, content, script)
                    else:
                        self._json(200, _completion(body, content))
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (its timeout); nothing left to do

            def _json(self, status: int, payload: dict[str, Any]) -> None:
                self._send(status, json.dumps(payload).encode(), "application/json")

            def _send(self, status: int, data: bytes, content_type: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _stream(self, body: dict[str, Any], content: str, script: Script) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Cache-Control", "no-cache")
                self.end_headers()  # HTTP/1.0: closing the connection ends the stream
                for i, piece in enumerate(_pieces(content, script.words_per_chunk)):
                    delta = (
                        {"role": "assistant", "content": piece} if i == 0 else {"content": piece}
                    )
                    self._event(_chunk(body, delta, None))
                    time.sleep(script.chunk_delay)
                if script.finish is not None:
                    self._event(_chunk(body, {}, script.finish))
                if script.done:
                    self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()

            def _event(self, payload: dict[str, Any]) -> None:
                self.wfile.write(f"data: {json.dumps(payload)}\n\n".encode())
                self.wfile.flush()

        return Handler


def _content_type(body: dict[str, Any]) -> str:
    return "text/event-stream" if body.get("stream") else "application/json"


def _pieces(content: str, words: int) -> list[str]:
    """The text cut into chunks of a few words, whitespace kept, as tokens would arrive."""
    tokens = re.findall(r"\s*\S+\s*", content) or [content]
    return ["".join(tokens[i : i + words]) for i in range(0, len(tokens), words)]


def _error(message: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": "server_error", "code": None}}


def _completion(body: dict[str, Any], content: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model", "fake"),
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }


def _chunk(body: dict[str, Any], delta: dict[str, str], finish: str | None) -> dict[str, Any]:
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": body.get("model", "fake"),
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
