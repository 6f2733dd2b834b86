"""The web app's layout: one FastAPI app with two Gradio pages and the JSON routes.

* ``/``: the client chat (``client.py``), nothing else: no staff tooling, no API footer;
* ``/staff``: the staff page (``staff_page.py``) behind its own login;
* ``/chat/*``: the client chat's answers, feedback and health check (``chat.py``);
* ``/articles/{id}``: an article with a cited passage highlighted (``article_page.py``);
* ``POST /api/ask`` and Gradio's ``/ask`` (``api.py``) for API users.

Each page is a separate ``gr.Blocks`` mounted with ``gr.mount_gradio_app``, so the public
page's config holds nothing of the staff page. ``launch`` serves it all with uvicorn in a
background thread; the top-level ``app.py`` only parses arguments and calls ``launch``.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

import gradio as gr
import uvicorn
from fastapi import FastAPI
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.routing import APIRoute
from starlette.middleware import Middleware

from ..answer.pipeline import Assistant
from ..data import read_text
from ..settings import Settings
from .api import api_routes
from .article_page import article_routes
from .chat import ChatService, chat_routes
from .client import build_client, static_text
from .clinic import Clinic
from .guard import RequestGuard
from .handlers import ChatApp
from .staff_page import build_staff

STAFF_PATH = "/staff"
START_TIMEOUT_S = 60


def theme() -> gr.themes.Base:
    return gr.themes.Soft(
        primary_hue="teal",
        neutral_hue="slate",
        # System fonts: the default theme would fetch web fonts from a third party.
        font=["ui-sans-serif", "system-ui", "Segoe UI", "Helvetica", "Arial", "sans-serif"],
        font_mono=["ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "monospace"],
    )


def mount_options(css: str) -> dict[str, Any]:
    """Options of both pages: look, and no extras that would leak or phone home."""
    return {
        "theme": theme(),
        "css": css,
        "footer_links": [],  # no "Use via API", no settings page
        "run_history": False,  # health questions stay out of the browser's run history
        "ssr_mode": False,
        "mcp_server": False,
        "show_error": False,
        "max_file_size": 0,  # the pages have no file input: nothing may be uploaded
    }


def build(bot: Assistant, settings: Settings) -> tuple[FastAPI, ChatApp, gr.Blocks, gr.Blocks]:
    """The whole app: (FastAPI app, handlers, public page, staff page)."""
    handlers = ChatApp(bot, settings)
    clinic = Clinic.load(settings.clinic_file)
    chat = ChatService(handlers.answerer, clinic, handlers.feedback, handlers.feedback_limiter)
    titles = [d.get("title") or i for i, d in sorted(bot.index.documents().items())]
    client = build_client(handlers.text, clinic, titles, handlers.api_ask)
    client.queue(default_concurrency_limit=settings.concurrency)
    staff = build_staff(handlers)
    handlers.blocks = client  # the /ask API's sessions are dropped after each call
    for page in (client, staff):
        # At most this many sessions' state in memory (see sessions.py).
        page.state_session_capacity = settings.max_sessions

    # RequestGuard wraps every route: request ids, JSON 500s, no uploads.
    guard = Middleware(RequestGuard, messages=handlers.text)
    server = FastAPI(docs_url=None, redoc_url=None, openapi_url=None, middleware=[guard])
    routes = [
        *api_routes(handlers.answerer),
        *chat_routes(chat),
        *article_routes(bot, handlers.text),
    ]
    server.router.routes.extend(routes)
    server.router.routes.extend(_method_not_allowed(routes))
    # "/staff" itself is not inside the mount at "/staff": send it there ("staff/" is
    # relative, so it also works behind a proxy that serves the app under a prefix).
    server.add_api_route(
        STAFF_PATH, lambda: RedirectResponse("staff/", status_code=307), include_in_schema=False
    )
    # The staff page first: the public page at "/" takes every path not matched before it.
    gr.mount_gradio_app(server, staff, path=STAFF_PATH, **mount_options(read_text("ui.css")))
    gr.mount_gradio_app(server, client, path="/", **mount_options(static_text("chat.css")))
    return server, handlers, client, staff


def _method_not_allowed(routes: list[Any]) -> list[APIRoute]:
    """A 405 for the other methods of our routes: without it the public page, mounted at
    "/", would take e.g. ``GET /api/ask`` and answer 404."""
    allowed: dict[str, set[str]] = {}
    for route in routes:
        allowed.setdefault(route.path, set()).update(route.methods or ())
    out = []
    for path, methods in allowed.items():
        allow = ", ".join(sorted(methods))

        def refuse(allow: str = allow) -> JSONResponse:
            body = {"error": f"Method not allowed; use {allow}."}
            return JSONResponse(body, status_code=405, headers={"Allow": allow})

        others = sorted({"GET", "POST", "PUT", "PATCH", "DELETE"} - methods)
        out.append(APIRoute(path, refuse, methods=others, include_in_schema=False))
    return out


@dataclass
class Served:
    """The running app: its URL; ``close()`` stops it, ``block_thread()`` waits on it."""

    url: str
    server: uvicorn.Server
    thread: threading.Thread
    client: gr.Blocks
    staff: gr.Blocks

    def close(self) -> None:
        self.server.should_exit = True
        self.thread.join(30)

    def block_thread(self) -> None:
        try:
            while self.thread.is_alive():
                self.thread.join(0.5)
        except KeyboardInterrupt:
            self.close()


def launch(bot: Assistant, settings: Settings, host: str, port: int) -> tuple[Served, str]:
    """Serve the app on ``host:port`` in a background thread; (the running app, its URL)."""
    app, _, client, staff = build(bot, settings)
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="warning",
        # uvicorn would take the client's address from X-Forwarded-For on connections from
        # 127.0.0.1; the request keeps the socket's address, and ``ClientAddress`` applies
        # SKINQA_TRUSTED_PROXIES itself.
        proxy_headers=False,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="skinqa-web", daemon=True)
    thread.start()
    deadline = time.monotonic() + START_TIMEOUT_S
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise OSError(f"the web server did not start on {host}:{port}")
        time.sleep(0.02)
    url = f"http://{host}:{port}"
    return Served(url, server, thread, client, staff), url
