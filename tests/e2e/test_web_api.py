"""The JSON API, ``POST /api/ask``, on the real app started on a free localhost port: the
reply, its clear 4xx errors, the rate limit it shares with Gradio's ``/ask`` and the chat,
its bounded concurrency and its 500 without a traceback."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from tests.servers import app_settings, running_app

from .test_app import COST_QUESTION, RATE_MESSAGE

pytestmark = [
    pytest.mark.filterwarnings("ignore:'future.no_silent_downcasting'"),
    pytest.mark.filterwarnings("ignore:The copy keyword is deprecated"),
]
EMPTY_MESSAGE = "The question is empty. Please type a question about microneedling."
HISTORY_MESSAGE = 'history must be a JSON list of {"role", "content"} turns.'
BODY_MESSAGE = 'The request body must be a JSON object: {"question": "...", "history": [...]}.'
FAILED_MESSAGE = "Sorry, something went wrong while answering. Please try again in a moment."


@pytest.fixture(scope="module")
def url(bot, built_settings, tmp_path_factory) -> Iterator[str]:
    with running_app(bot, app_settings(built_settings, tmp_path_factory.mktemp("api"))) as base:
        yield base


QUESTION_NUMBER = "The question must be text (a JSON string), not a number."
JSON = {"content-type": "application/json"}


def ask(url: str, body: Any, **kwargs: Any) -> httpx.Response:
    return httpx.post(f"{url}/api/ask", json=body, timeout=60, **kwargs)


# -- answers ---------------------------------------------------------------------------
def test_a_question_gets_the_public_reply_dict_with_citations(url, bot) -> None:
    response = ask(url, {"question": COST_QUESTION, "history": []})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    reply = response.json()
    expected = bot.ask(COST_QUESTION).public_dict()
    assert set(reply) == set(expected)
    assert reply["answer"] == expected["answer"]
    assert reply["outcome"] == "answer" and reply["lead"] == 1
    assert "[1]" in reply["body"] and reply["body"] in reply["answer"]
    assert reply["citations"][0]["n"] == 1
    assert reply["citations"][0]["doc_id"] == "womens-health-microneedling-basics"
    assert "a package of sessions can run you up to $700" in reply["citations"][0]["text"]
    assert reply["outcome"] == "answer"
    assert reply["question"] == COST_QUESTION and reply["context"] is None


def test_history_is_optional_and_feeds_follow_ups(url) -> None:
    assert ask(url, {"question": "Does it hurt?"}).json()["context"] is None
    assert ask(url, {"question": "Does it hurt?", "history": None}).status_code == 200
    history = [{"role": "user", "content": COST_QUESTION}, {"role": "assistant", "content": "…"}]
    follow_up = ask(url, {"question": "And how often?", "history": history}).json()
    assert follow_up["context"] == COST_QUESTION
    # Malformed turns inside the list are ignored, as in the chat and Gradio's /ask.
    odd = ask(url, {"question": "Does it hurt?", "history": [1, {"role": "x"}]})
    assert odd.status_code == 200 and odd.json()["context"] is None


def test_a_question_the_articles_do_not_cover_is_declined_not_an_error(url) -> None:
    response = ask(url, {"question": "What's the weather in Paris?"})
    assert response.status_code == 200
    assert response.json()["outcome"] == "declined"
    assert response.json()["citations"] == []


# -- refused input -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"question": ""}, 400, EMPTY_MESSAGE),
        ({"question": " \n\t "}, 400, EMPTY_MESSAGE),
        ({"history": []}, 400, EMPTY_MESSAGE),
        ({"question": 42}, 400, QUESTION_NUMBER),
        ({"question": None}, 400, EMPTY_MESSAGE),
        ({"question": "Does it hurt?", "history": {"role": "user"}}, 400, HISTORY_MESSAGE),
        ({"question": "Does it hurt?", "history": "[]"}, 400, HISTORY_MESSAGE),
        (["Does it hurt?"], 400, BODY_MESSAGE),
        ("Does it hurt?", 400, BODY_MESSAGE),
    ],
)
def test_bad_input_is_a_clear_json_error(url, body: Any, status: int, message: str) -> None:
    response = ask(url, body)
    assert response.status_code == status
    assert response.json() == {"error": message}


@pytest.mark.parametrize("content", [b"question=hi", b"", b"\xff\xfe{", b"[" * 100_000])
def test_a_body_that_is_not_json_is_a_clear_json_error(url, content: bytes) -> None:
    response = httpx.post(f"{url}/api/ask", content=content, headers=JSON, timeout=30)
    assert response.status_code == 400
    assert response.json() == {"error": BODY_MESSAGE}


def test_an_absurdly_long_question_is_refused(url, bot) -> None:
    limit = 20 * bot.settings.max_question_chars
    response = ask(url, {"question": "x" * (limit + 1)})
    assert response.status_code == 413
    assert response.json() == {
        "error": f"The question is too long ({limit + 1} characters). "
        f"Please keep it under {limit} characters."
    }
    # At the limit it is answered (from its start, like any question over the engine's limit).
    assert ask(url, {"question": "Does it hurt? " + "x" * (limit - 14)}).status_code == 200


def test_an_oversized_body_is_refused_before_it_is_parsed(url) -> None:
    history = [{"role": "user", "content": "y" * 4000}] * 300  # about 1.2 MB
    response = ask(url, {"question": "Does it hurt?", "history": history})
    assert response.status_code == 413
    assert response.json() == {"error": "The request body is too large."}

    def chunks() -> Iterator[bytes]:  # no Content-Length: the server counts as it reads
        yield b'{"question": "Does it hurt?", "history": ['
        for _ in range(300):
            yield b'{"role": "user", "content": "' + b"y" * 4000 + b'"},'
        yield b"{}]}"

    response = httpx.post(f"{url}/api/ask", content=chunks(), headers=JSON, timeout=30)
    assert response.request.headers["transfer-encoding"] == "chunked"
    assert response.status_code == 413
    assert response.json() == {"error": "The request body is too large."}


def test_only_post_is_allowed(url) -> None:
    assert httpx.get(f"{url}/api/ask", timeout=10).status_code == 405


# -- limits and failures -----------------------------------------------------------------
def test_rate_limit_is_429_and_shared_with_gradio_ask(bot, built_settings, tmp_path) -> None:
    from gradio_client import Client
    from gradio_client.exceptions import AppError

    settings = app_settings(built_settings, tmp_path, rate_limit_per_minute=3)
    with running_app(bot, settings) as base:
        assert ask(base, {"question": ""}).status_code == 400  # bad input uses no quota
        for _ in range(2):
            assert ask(base, {"question": "Does it hurt?"}).status_code == 200
        assert Client(base, verbose=False).predict("Does it hurt?", "[]", api_name="/ask")
        refused = ask(base, {"question": "Does it hurt?"})
        assert refused.status_code == 429
        assert refused.json() == {"error": RATE_MESSAGE}
        assert refused.headers["retry-after"] == "60"
        with pytest.raises(AppError, match=RATE_MESSAGE):
            Client(base, verbose=False).predict("Does it hurt?", "[]", api_name="/ask")


class SlowBot:
    """The real assistant, counting how many ``ask`` calls run at once."""

    def __init__(self, bot: Any, delay: float = 0.3) -> None:
        self._bot = bot
        self.delay = delay
        self.running = 0
        self.most = 0
        self._lock = threading.Lock()

    def ask(self, *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            self.running += 1
            self.most = max(self.most, self.running)
        try:
            time.sleep(self.delay)
            return self._bot.ask(*args, **kwargs)
        finally:
            with self._lock:
                self.running -= 1

    def __getattr__(self, name: str) -> Any:
        return getattr(self._bot, name)


def test_at_most_concurrency_answers_run_at_once(bot, built_settings, tmp_path) -> None:
    slow = SlowBot(bot)
    settings = app_settings(built_settings, tmp_path, concurrency=2)
    with running_app(slow, settings) as base, ThreadPoolExecutor(6) as pool:
        statuses = list(
            pool.map(lambda _: ask(base, {"question": COST_QUESTION}).status_code, range(6))
        )
    assert statuses == [200] * 6
    assert slow.most == 2


class FailingBot:
    """The real assistant, except that answering fails unexpectedly."""

    def __init__(self, bot: Any) -> None:
        self._bot = bot

    def ask(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("index went away")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._bot, name)


def test_a_failure_is_a_500_with_a_plain_message_and_a_request_id(
    bot, built_settings, tmp_path, caplog
) -> None:
    with running_app(FailingBot(bot), app_settings(built_settings, tmp_path)) as base:
        response = ask(base, {"question": COST_QUESTION})
    assert response.status_code == 500
    request_id = response.headers["x-request-id"]
    assert response.json() == {"error": FAILED_MESSAGE, "request_id": request_id}
    assert "Traceback" not in response.text and "index went away" not in response.text
    # The log has the traceback under the same id.
    logged = [r for r in caplog.records if request_id in r.getMessage()]
    assert logged and logged[0].exc_info is not None


# -- the guard around every route (issue 19) ---------------------------------------------
def guarded_app():
    from starlette.applications import Starlette
    from starlette.middleware import Middleware
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    from assistant.web.guard import RequestGuard
    from assistant.web.render import load_ui_text

    async def boom(request):
        raise RuntimeError("secret detail")

    async def plain500(request):
        return PlainTextResponse("Internal Server Error: secret detail", status_code=500)

    async def fine(request):
        return PlainTextResponse("ok")

    routes = [Route("/boom", boom), Route("/plain500", plain500), Route("/fine", fine)]
    return Starlette(routes=routes, middleware=[Middleware(RequestGuard, messages=load_ui_text())])


def test_every_500_is_json_with_a_request_id_in_the_reply_and_the_log(caplog) -> None:
    from starlette.testclient import TestClient

    client = TestClient(guarded_app(), raise_server_exceptions=False)
    for path in ("/boom", "/plain500"):
        response = client.get(path)
        assert response.status_code == 500
        request_id = response.headers["x-request-id"]
        assert response.json() == {
            "error": "Sorry, something went wrong on the server. Please try again in a moment.",
            "request_id": request_id,
        }
        assert "secret" not in response.text
        assert any(request_id in r.getMessage() for r in caplog.records if r.levelname == "ERROR")
    fine = client.get("/fine")
    assert fine.text == "ok" and len(fine.headers["x-request-id"]) == 12


def test_the_staff_token_unlocks_the_details_and_wrong_ones_are_throttled(
    bot, built_settings, tmp_path
) -> None:
    from pydantic import SecretStr

    settings = app_settings(built_settings, tmp_path, staff_token=SecretStr("t" * 32))
    question = {"question": COST_QUESTION}
    with running_app(bot, settings) as base:
        staff = ask(base, question, headers={"authorization": "Bearer " + "t" * 32})
        wrong = [ask(base, question, headers={"authorization": "Bearer nope"}) for _ in range(11)]
        # Over the throttle even the right token waits: guesses and it share one count.
        throttled = ask(base, question, headers={"authorization": "Bearer " + "t" * 32})
        public = ask(base, question)
    assert staff.status_code == 200 and "retrieved" in staff.json()
    assert [r.status_code for r in wrong] == [401] * 10 + [429]
    assert wrong[0].headers["www-authenticate"] == 'Bearer realm="staff"'
    assert throttled.status_code == 429
    assert public.status_code == 200 and "retrieved" not in public.json()
