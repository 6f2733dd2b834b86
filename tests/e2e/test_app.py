"""The web app, started for real on a free localhost port: the ``/ask`` API and its errors
and limits, file access, staff protection, feedback writing and ``app.py`` start-up."""

from __future__ import annotations

import http.client
import json
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from tests.conftest import ROOT
from tests.servers import app_env, app_process, app_settings, free_port, queue_call, running_app

# Gradio's queue statistics use pandas options that pandas 3 deprecates; not ours to fix.
pytestmark = [
    pytest.mark.filterwarnings("ignore:'future.no_silent_downcasting'"),
    pytest.mark.filterwarnings("ignore:The copy keyword is deprecated"),
]
COST_QUESTION = "How much does microneedling cost?"
RATE_MESSAGE = "Too many questions in a short time; please wait a minute."


@pytest.fixture(scope="module")
def url(bot, built_settings, tmp_path_factory) -> Iterator[str]:
    settings = app_settings(
        built_settings,
        tmp_path_factory.mktemp("app"),
        staff_user="staff",
        staff_password=SecretStr("correct horse"),
    )
    with running_app(bot, settings) as base:
        yield base


@pytest.fixture(scope="module")
def client(url):
    from gradio_client import Client

    return Client(url, verbose=False)


# -- the /ask API ----------------------------------------------------------------------
def test_ask_returns_the_public_reply_dict_with_citations(client, bot) -> None:
    result = client.predict(COST_QUESTION, "[]", api_name="/ask")
    assert isinstance(result, dict)
    assert set(result) == set(bot.ask(COST_QUESTION).public_dict())
    assert result["citations"], result
    assert any("$700" in c["text"] for c in result["citations"])
    assert "[1]" in result["answer"]


def test_ask_history_defaults_to_empty_and_feeds_follow_ups(client) -> None:
    plain = client.predict("Does it hurt?", api_name="/ask")
    assert plain["question"] == "Does it hurt?" and plain["context"] is None
    history = json.dumps([{"role": "user", "content": COST_QUESTION}])
    follow_up = client.predict("And how often?", history, api_name="/ask")
    assert follow_up["context"] == COST_QUESTION, follow_up


@pytest.mark.parametrize(
    ("question", "history", "message"),
    [
        ("", "[]", "empty"),
        ("   \n\t ", "[]", "empty"),
        ("Does it hurt?", "{not json", "history_json"),
        ("Does it hurt?", '{"role": "user"}', "history_json"),
    ],
)
def test_bad_input_is_a_clear_error(client, question: str, history: str, message: str) -> None:
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match=message) as info:
        client.predict(question, history, api_name="/ask")
    assert "Traceback" not in str(info.value)


def test_an_absurdly_long_question_is_refused(client, bot) -> None:
    from gradio_client.exceptions import AppError

    limit = bot.settings.max_question_chars
    with pytest.raises(AppError, match="too long"):
        client.predict("Does it hurt? " * (2 * limit), "[]", api_name="/ask")


def test_only_ask_is_a_public_endpoint(client) -> None:
    info = client.view_api(print_info=False, return_format="dict")
    assert set(info["named_endpoints"]) == {"/ask"}
    assert not info["unnamed_endpoints"]


# -- files and staff data over HTTP --------------------------------------------------
@pytest.mark.parametrize(
    "path",
    [
        "/file=/etc/passwd",
        "/gradio_api/file=/etc/passwd",
        "/gradio_api/file=../../../../etc/passwd",
        "/gradio_api/file=..%2F..%2F..%2F..%2Fetc%2Fpasswd",
        "/gradio_api/file=%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        f"/gradio_api/file={ROOT / 'pyproject.toml'}",
    ],
)
def test_no_file_outside_the_app_is_served(url, path: str) -> None:
    # http.client sends the path as given: no client-side normalisation of "../".
    host, port = url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    conn.request("GET", path)
    response = conn.getresponse()
    body = response.read()
    conn.close()
    assert response.status in (403, 404), (path, response.status)
    assert b"root:" not in body


def test_staff_events_refuse_a_session_that_has_not_logged_in(url) -> None:
    # The logged-in flag is server-side session state: sending True in the payload is
    # ignored, so the staff answer (with retrieval details) is refused.
    staff = f"{url}/staff"
    output = queue_call(staff, "staff_respond", [COST_QUESTION, [], {}, True])
    assert output.get("error") == "Please log in to the staff view first."
    output = queue_call(staff, "staff_search", ["cost", True])
    assert output.get("error") == "Please log in to the staff view first."
    output = queue_call(staff, "read_article", ["microneedling-benefits-guide", True])
    assert "data" not in output or not any(output.get("data") or [])


def test_staff_login_checks_both_fields(built_settings) -> None:
    from assistant.web.handlers import check_login

    settings = built_settings.model_copy(
        update={"staff_user": "staff", "staff_password": SecretStr("correct horse")}
    )
    assert check_login(settings, "staff", "correct horse")
    assert not check_login(settings, "staff", "wrong")
    assert not check_login(settings, "Staff", "correct horse")
    assert not check_login(settings, "", "")
    # No credentials configured: nobody logs in (the staff view is then simply open).
    assert not check_login(built_settings, "", "")


def test_login_handler_refuses_a_wrong_password(bot, built_settings, tmp_path) -> None:
    from assistant.web.handlers import ChatApp

    settings = app_settings(
        built_settings, tmp_path, staff_user="staff", staff_password=SecretStr("pw")
    )
    app = ChatApp(bot, settings)
    logged_in, _, staff_box, message, *_ = app.login("staff", "nope", None)
    assert logged_in is False
    assert staff_box["visible"] is False
    assert "Wrong username or password" in message
    logged_in, _, staff_box, message, _, articles, picker = app.login("staff", "pw", None)
    assert logged_in is True and staff_box["visible"] is True
    assert len(articles) == len(bot.index.documents())
    assert {value for _, value in picker["choices"]} == set(bot.index.documents())


def test_staff_handlers_check_the_session_flag(bot, built_settings, tmp_path) -> None:
    import gradio as gr

    from assistant.web.handlers import ChatApp

    app = ChatApp(bot, app_settings(built_settings, tmp_path))
    with pytest.raises(gr.Error):
        app.staff_respond(COST_QUESTION, [], {}, False, None)
    with pytest.raises(gr.Error):
        app.staff_search("cost", False)
    with pytest.raises(gr.Error):
        app.read_article("microneedling-benefits-guide", False)
    article = app.read_article("microneedling-benefits-guide", True)
    assert article.startswith('<div class="sq-article"><h1>How to Understand the Benefits')
    assert "<h2>Mastering the Benefits" in article
    assert "source_file:" not in article  # front matter is shown as a header, not raw


# -- rate limit ------------------------------------------------------------------------
def test_rate_limit_answers_the_fourth_call_with_a_clear_error(
    bot, built_settings, tmp_path
) -> None:
    from gradio_client import Client
    from gradio_client.exceptions import AppError

    settings = app_settings(built_settings, tmp_path, rate_limit_per_minute=3)
    with running_app(bot, settings) as base:
        client = Client(base, verbose=False)
        for _ in range(3):
            assert client.predict("Does it hurt?", "[]", api_name="/ask")["answer"]
        with pytest.raises(AppError, match=RATE_MESSAGE):
            client.predict("Does it hurt?", "[]", api_name="/ask")


# -- answers in the chat -------------------------------------------------------------
class CountingBot:
    """The real assistant, counting ``ask`` calls."""

    def __init__(self, bot: Any) -> None:
        self._bot = bot
        self.calls = 0

    def ask(self, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        return self._bot.ask(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._bot, name)


def test_rendering_styles_declines_and_safety_notes(bot) -> None:
    from assistant.web.render import load_ui_text, render_reply

    text = load_ui_text()
    decline = render_reply(bot.ask("What's the weather in Paris?"), text)
    assert decline.markdown().startswith('<div class="sq-decline">')
    assert decline.markdown().endswith('<span class="sq-end"></span></div>')
    assert "sq-sources" not in decline.markdown()
    pregnant = render_reply(bot.ask("I'm pregnant, can I get microneedling?"), text)
    assert 'class="sq-safety"' in pregnant.tail
    assert "not medical advice" not in pregnant.body  # moved out of the body into the box
    assert "sq-sources" in pregnant.tail


# -- feedback --------------------------------------------------------------------------
# -- start-up --------------------------------------------------------------------------
def test_default_bind_host_is_loopback() -> None:
    from assistant.settings import Settings

    assert Settings.model_fields["host"].default == "127.0.0.1"
    result = subprocess.run(
        [sys.executable, "app.py", "--help"],
        cwd=ROOT, env=app_env(), capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0
    assert "default 127.0.0.1" in result.stdout
    assert "default 7860" in result.stdout


def test_app_exits_2_with_the_build_command_when_the_index_is_missing(tmp_path) -> None:
    result = subprocess.run(
        [sys.executable, "app.py", "--port", str(free_port())],
        cwd=ROOT, env=app_env(SKINQA_DATA_DIR=str(tmp_path)), capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert "python ingest.py" in result.stderr
    assert "Traceback" not in result.stderr
    assert "Running on" not in result.stdout


def test_app_starts_and_prints_its_url_once(built_settings) -> None:
    port = free_port()
    env = app_env(SKINQA_DATA_DIR=str(built_settings.data_dir))
    with app_process(["--port", str(port)], env, stderr=subprocess.DEVNULL) as proc:
        assert proc.stdout is not None
        line = proc.stdout.readline()  # blocks until the server is up (or app.py died)
        assert line.strip() == f"Running on http://127.0.0.1:{port}"
        page = httpx.get(f"http://127.0.0.1:{port}/", timeout=10)
        assert page.status_code == 200


def test_every_example_question_gets_a_cited_answer(bot) -> None:
    from assistant.web.render import load_ui_text

    examples = load_ui_text()["examples"]
    assert 4 <= len(examples) <= 6
    declined = [q for q in examples if bot.ask(q).abstained]
    assert not declined, f"example questions the assistant declines: {declined}"


def test_answering_events_share_one_concurrency_limit(bot, built_settings, tmp_path) -> None:
    from assistant.web.app import build

    settings = app_settings(built_settings, tmp_path, concurrency=3)
    _, _, client, staff = build(bot, settings)
    fns = [*client.fns.values(), *staff.fns.values()]
    assert {page._queue.default_concurrency_limit for page in (client, staff)} == {3}
    answering = [f for f in fns if f.name in ("staff_respond", "staff_search", "api_ask")]
    assert len(answering) == 5  # submit and click of the chat and of the search; /ask
    assert {f.concurrency_id for f in answering} == {"answer"}
    # The public page has no events of its own: only the /ask API, and nothing private.
    assert [f.name for f in client.fns.values()] == ["api_ask"]
    public = {f.name for f in fns if f.api_visibility != "private"}
    assert public == {"api_ask"}


# -- who the client is, who is staff, and when the app may start (issue 19) --------------------
class FakeRequest:
    def __init__(self, peer: str, forwarded: list[str] | None = None) -> None:
        from starlette.datastructures import Headers

        self.client = type("Client", (), {"host": peer})()
        raw = [(b"x-forwarded-for", v.encode()) for v in forwarded or []]
        self.headers = Headers(raw=raw)


@pytest.mark.parametrize(
    ("proxies", "peer", "forwarded", "client"),
    [
        ((), "127.0.0.1", ["6.6.6.6"], "127.0.0.1"),  # no proxy trusted: the socket
        (("10.0.0.0/8",), "192.0.2.1", ["6.6.6.6"], "192.0.2.1"),  # not from the proxy
        (("10.0.0.0/8",), "10.1.2.3", ["6.6.6.6, 198.51.100.7"], "198.51.100.7"),
        (("10.0.0.0/8",), "10.1.2.3", ["198.51.100.7, 10.9.9.9"], "198.51.100.7"),  # two proxies
        (("10.0.0.0/8",), "10.1.2.3", ["6.6.6.6", "198.51.100.7:4711"], "198.51.100.7"),
        (("10.0.0.0/8",), "10.1.2.3", ["[2001:db8::1]:443"], "2001:db8::1"),
        (("10.0.0.0/8",), "10.1.2.3", [], "10.1.2.3"),  # the proxy itself asked
        (("::1",), "::1", ["203.0.113.9"], "203.0.113.9"),
    ],
)
def test_client_address_trusts_forwarded_for_only_from_listed_proxies(
    proxies, peer, forwarded, client
) -> None:
    from assistant.web.ratelimit import ClientAddress

    assert ClientAddress(proxies)(FakeRequest(peer, forwarded)) == client


def test_a_typo_in_the_trusted_proxies_is_refused_at_start(monkeypatch) -> None:
    from pydantic import ValidationError

    from assistant.settings import Settings

    monkeypatch.setenv("SKINQA_TRUSTED_PROXIES", "10.0.0.0/8, 192.0.2.1")
    assert Settings().trusted_proxies == ("10.0.0.0/8", "192.0.2.1")
    monkeypatch.setenv("SKINQA_TRUSTED_PROXIES", "10.0.0.0/8, proxy.local")
    with pytest.raises(ValidationError, match=r"proxy\.local"):
        Settings()


def test_staff_credentials_in_an_authorization_header(built_settings) -> None:
    import base64

    from assistant.web.staff import check_authorization

    settings = built_settings.model_copy(
        update={
            "staff_user": "staff",
            "staff_password": SecretStr("pw: with colon"),
            "staff_token": SecretStr("t0ken"),
        }
    )

    def basic(text: str) -> str:
        return "Basic " + base64.b64encode(text.encode()).decode()

    assert check_authorization(settings, "Bearer t0ken")
    assert check_authorization(settings, "bearer  t0ken ")
    assert check_authorization(settings, basic("staff:pw: with colon"))
    assert not check_authorization(settings, "Bearer t0ke")
    assert not check_authorization(settings, basic("staff:pw"))
    assert not check_authorization(settings, "Basic !!!")
    assert not check_authorization(settings, "t0ken")
    # Nothing configured: nothing matches, not even empty credentials.
    assert not check_authorization(built_settings, "Bearer ")
    assert not check_authorization(built_settings, basic(":"))


@pytest.mark.parametrize(
    ("host", "extra", "allow", "refused"),
    [
        ("127.0.0.1", {}, False, None),
        ("localhost", {}, False, None),
        ("::1", {}, False, None),
        ("0.0.0.0", {}, False, "non-loopback address '0.0.0.0'"),
        ("192.0.2.10", {}, False, "non-loopback address"),
        ("0.0.0.0", {}, True, None),
        ("127.0.0.1", {"trusted_proxies": ("10.0.0.1",)}, False, "a reverse proxy"),
        ("0.0.0.0", {"staff_user": "s", "staff_password": SecretStr("p")}, False, None),
        ("127.0.0.1", {"staff_user": "s"}, True, "SKINQA_STAFF_PASSWORD is empty or unset"),
        ("127.0.0.1", {"staff_password": SecretStr("p")}, False, "SKINQA_STAFF_USER is empty"),
    ],
)
def test_when_the_app_refuses_to_start(built_settings, host, extra, allow, refused) -> None:
    from assistant.web.staff import exposure_problem

    problem = exposure_problem(built_settings.model_copy(update=extra), host, allow)
    if refused is None:
        assert problem is None
    else:
        assert problem is not None and refused in problem
