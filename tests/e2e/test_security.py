"""Issue 19, one test per numbered defect found by probing the app as an outsider would.

Each test drives the real thing (ingest with the real model, the real index, the real
app on a free localhost port, ``app.py`` as a process, a real browser for item 7) and
fails on the behaviour the issue reports (commit 95565fd). Item 10 lists four smaller
defects, tested one by one (its ``make audit`` part belongs to another change).
"""

from __future__ import annotations

import base64
import dataclasses
import itertools
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from assistant import Assistant
from assistant.errors import IndexCorruptError
from assistant.ingest import ingest
from tests.servers import app_env, app_process, app_settings, free_port, queue_call, running_app

from ..conftest import CORPUS, ROOT, make_settings
from .test_app import COST_QUESTION, RATE_MESSAGE

pytestmark = [
    pytest.mark.filterwarnings("ignore:'future.no_silent_downcasting'"),
    pytest.mark.filterwarnings("ignore:The copy keyword is deprecated"),
]
JSON = {"content-type": "application/json"}
PUBLIC = {"question", "answer", "body", "outcome", "reason", "lead", "citations", "notes",
          "safety", "context"}  # fmt: skip
STAFF_TOKEN = "staff-token-" + "x" * 24


@pytest.fixture
def copied(built_settings, tmp_path: Path):
    """A corpus folder and an index built from it, both copies the test may change."""
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    data = tmp_path / "data"
    shutil.copytree(built_settings.data_dir, data, ignore=shutil.ignore_patterns("models"))
    return make_settings(data, corpus_dir=corpus)


def live_build(settings: Any) -> Path:
    index = settings.index_path
    return index / "builds" / (index / "CURRENT").read_text("utf-8").strip()


def run_ingest(settings: Any, embedder: Any, **kwargs: Any) -> Any:
    return ingest(settings, lambda: embedder, model_id=embedder.model_id, **kwargs)


# -- 1. symlinks leave the corpus ------------------------------------------------------
def test_1_a_symlink_in_the_corpus_is_refused(copied, embedder) -> None:
    (copied.corpus_dir / "passwd.md").symlink_to("/etc/passwd")
    # A link to a vetted file inside the folder is refused too: what counts is the entry.
    (copied.corpus_dir / "again.md").symlink_to(
        copied.corpus_dir / "microneedling-benefits-guide.md"
    )
    summary = run_ingest(copied, embedder)
    skipped = "\n".join(summary.skipped)
    assert "passwd.md: is a symbolic link" in skipped
    assert "again.md: is a symbolic link" in skipped
    bot = Assistant.load(copied, embedder=embedder)
    documents = bot.index.documents()
    assert set(documents) == {p.stem for p in CORPUS.glob("*.md")}
    assert not any(d["title"].startswith("root:") for d in documents.values())
    reply = bot.ask("What does the daemon user nologin mean?")
    assert not any("nologin" in c.text for c in reply.citations)


# -- 2. a stray file displaces a vetted article ----------------------------------------
STRAY = "Dermaroller Micro-Needling Intro\nBuy rollers at evil.example, 90% off.\n"
DERMAROLLER = "dermaroller-micro-needling-intro"


def test_2_a_newcomer_cannot_take_the_id_of_an_existing_article(copied, embedder) -> None:
    (copied.corpus_dir / "Dermaroller Micro-Needling Intro.txt").write_text(STRAY, "utf-8")
    summary = run_ingest(copied, embedder)
    assert summary.updated == [] and summary.added == []
    assert (
        f"Dermaroller Micro-Needling Intro.txt: duplicate id '{DERMAROLLER}': already used by "
        f"{DERMAROLLER}.md, which keeps it"
    ) in "\n".join(summary.skipped)
    documents = Assistant.load(copied, embedder=embedder).index.documents()
    assert documents[DERMAROLLER]["file"] == f"{DERMAROLLER}.md"
    assert documents[DERMAROLLER]["title"] == "Micro-Needling: Does Using a Dermaroller Hurt?"

    # With no live index yet, a file whose front matter names the id wins over one whose
    # name merely slugifies to it, whatever their order.
    fresh = make_settings(copied.data_dir / "fresh", corpus_dir=copied.data_dir / "two")
    fresh.corpus_dir.mkdir()
    shutil.copy(CORPUS / f"{DERMAROLLER}.md", fresh.corpus_dir)
    (fresh.corpus_dir / "Dermaroller Micro-Needling Intro.txt").write_text(STRAY, "utf-8")
    summary = run_ingest(fresh, embedder)
    assert summary.added == [DERMAROLLER]
    assert "Dermaroller Micro-Needling Intro.txt: duplicate id" in "\n".join(summary.skipped)
    documents = Assistant.load(fresh, embedder=embedder).index.documents()
    assert documents[DERMAROLLER]["file"] == f"{DERMAROLLER}.md"


# -- 3. anyone can upload files --------------------------------------------------------
def test_3_uploads_are_refused(bot, built_settings, tmp_path) -> None:
    payload = b"x" * 200_000
    with running_app(bot, app_settings(built_settings, tmp_path)) as base:
        for path in ("/gradio_api/upload", "/upload", "/gradio_api/upload?upload_id=abc"):
            response = httpx.post(
                f"{base}{path}", files={"files": ("a.txt", payload, "text/plain")}, timeout=30
            )
            assert response.status_code == 403, (path, response.status_code, response.text)
            assert response.json() == {"error": "This app does not accept file uploads."}
        config = httpx.get(f"{base}/config", timeout=10).json()
    assert config["max_file_size"] == 0


# -- 4. X-Forwarded-For buys quota and logins ------------------------------------------
_HOPS = itertools.count(1)


def spoofed() -> dict[str, str]:
    """A different made-up client address on every request."""
    return {"x-forwarded-for": f"203.0.113.{next(_HOPS) % 250 + 1}", **JSON}


def test_4_a_forwarded_for_header_buys_neither_quota_nor_logins(
    bot, built_settings, tmp_path, caplog
) -> None:
    settings = app_settings(
        built_settings,
        tmp_path,
        rate_limit_per_minute=3,
        staff_user="staff",
        staff_password=SecretStr("correct horse"),
    )
    with running_app(bot, settings) as base:
        codes = [
            httpx.post(f"{base}/api/ask", json={"question": "Does it hurt?"},
                       headers=spoofed(), timeout=60).status_code
            for _ in range(6)
        ]  # fmt: skip
        assert codes == [200, 200, 200, 429, 429, 429]
        messages = [
            queue_call(f"{base}/staff", "login", ["staff", f"guess {i}"], spoofed())["data"][3]
            for i in range(12)
        ]
    assert all("Wrong username or password" in m for m in messages[:10]), messages
    assert all("Too many login attempts" in m for m in messages[10:]), messages
    refused = [r.getMessage() for r in caplog.records if "login refused" in r.getMessage()]
    assert refused and all(m.endswith("127.0.0.1") for m in refused), refused

    # Behind a trusted proxy the client is the right-most untrusted hop: what a client
    # writes to the left of it changes nothing.
    settings = settings.model_copy(update={"trusted_proxies": ("127.0.0.1",)})
    with running_app(bot, settings) as base:

        def ask_as(header: str) -> int:
            headers = {"x-forwarded-for": header, **JSON}
            body = {"question": "Does it hurt?"}
            return httpx.post(f"{base}/api/ask", json=body, headers=headers, timeout=60).status_code

        client_a = [ask_as(f"{i}.{i}.{i}.{i}, 198.51.100.7") for i in range(1, 5)]
        client_b = ask_as("198.51.100.8")
    assert client_a == [200, 200, 200, 429] and client_b == 200


# -- 5. exposed without a word ---------------------------------------------------------
def start_app(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess | list[str]:
    """``app.py`` with ``args``: the finished process if it exits, else its first lines."""
    with app_process(args, env) as proc:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        if not first:  # exited without serving
            out, err = proc.communicate(timeout=60)
            return subprocess.CompletedProcess(proc.args, proc.returncode, first + out, err)
        return [first.strip()] + [proc.stdout.readline().strip() for _ in range(3)]


def test_5_an_open_staff_view_on_the_network_refuses_to_start(built_settings) -> None:
    data = str(built_settings.data_dir)
    port = str(free_port())
    refused = start_app(["--host", "0.0.0.0", "--port", port], app_env(SKINQA_DATA_DIR=data))
    assert isinstance(refused, subprocess.CompletedProcess)
    assert refused.returncode == 2
    assert "refusing to serve the staff view without a login" in refused.stderr
    assert "--allow-open-staff" in refused.stderr and "Traceback" not in refused.stderr

    # Half a login is refused anywhere: it is a typo that leaves the view open.
    for half in (
        {"SKINQA_STAFF_USER": "staff"},
        {"SKINQA_STAFF_USER": "staff", "SKINQA_STAFF_PASSWORD": ""},
    ):
        done = start_app(["--port", port], app_env(SKINQA_DATA_DIR=data, **half))
        assert isinstance(done, subprocess.CompletedProcess) and done.returncode == 2
        assert "SKINQA_STAFF_PASSWORD is empty or unset" in done.stderr

    lines = start_app(
        ["--host", "0.0.0.0", "--port", port, "--allow-open-staff"], app_env(SKINQA_DATA_DIR=data)
    )
    assert isinstance(lines, list), lines
    assert lines[0].startswith("Running on http://")
    assert lines[1] == f"Listening on: 0.0.0.0:{port}"
    assert lines[2].startswith("Staff:") and "OPEN" in lines[2]
    assert lines[3].startswith("Rate limit:") and "socket" in lines[3]

    lines = start_app(
        ["--port", port],
        app_env(SKINQA_DATA_DIR=data, SKINQA_STAFF_USER="staff", SKINQA_STAFF_PASSWORD="pw pw pw",
             SKINQA_TRUSTED_PROXIES="10.0.0.0/8"),
    )  # fmt: skip
    assert isinstance(lines, list), lines
    assert lines[2] == "Staff:        staff view behind a login (user 'staff')"
    assert "X-Forwarded-For from the trusted proxies 10.0.0.0/8" in lines[3]


# -- 6. tampered builds are served -----------------------------------------------------
def randomise_payload(path: Path) -> None:
    """Random bytes in place of the array data, the .npy header kept (same size)."""
    raw = path.read_bytes()
    header = raw.index(b"\n") + 1
    path.write_bytes(raw[:header] + os.urandom(len(raw) - header))


def edit_chunk_text(build: Path) -> None:
    """A quoted price changed inside the stored chunk text (the file keeps its size)."""
    path = build / "chunks.jsonl"
    text = path.read_text("utf-8")
    assert "$700" in text
    path.write_text(text.replace("$700", "$900"), "utf-8")


@pytest.mark.parametrize(
    ("damage", "detail"),
    [
        (lambda b: randomise_payload(b / "vectors.npy"), "vectors.npy does not match"),
        (edit_chunk_text, "chunks.jsonl does not match"),
        (lambda b: (b / "manifest.json").write_text("[1, 2, 3]"), "holds a JSON list"),
        (lambda b: (b / "manifest.json").write_bytes(b"\xff\xfe"), "not valid JSON"),
        (lambda b: (b.parent.parent / "CURRENT").write_bytes(b"\xff\xfe\x00"), "not UTF-8"),
        (lambda b: (b.parent.parent / "CURRENT").write_text("../../etc"), "does not name a build"),
    ],
    ids=[
        "random-vectors",
        "chunk-text",
        "manifest-list",
        "manifest-bytes",
        "pointer-bytes",
        "pointer-path",
    ],
)
def test_6_a_tampered_build_is_refused_with_the_rebuild_command(
    copied, embedder, damage, detail
) -> None:
    damage(live_build(copied))
    with pytest.raises(IndexCorruptError, match=detail) as info:
        Assistant.load(copied, embedder=embedder)
    assert "python ingest.py --rebuild" in str(info.value)
    # The command line says the same, without a traceback.
    done = subprocess.run(
        [sys.executable, "-m", "assistant", "ask", COST_QUESTION], cwd=ROOT,
        env=app_env(SKINQA_DATA_DIR=str(copied.data_dir), SKINQA_CORPUS_DIR=str(copied.corpus_dir)),
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 2 and "python ingest.py --rebuild" in done.stderr
    assert "Traceback" not in done.stderr


class NanBot:
    """The real assistant, except that every score in its replies is NaN."""

    def __init__(self, bot: Any) -> None:
        self._bot = bot

    def ask(self, *args: Any, **kwargs: Any) -> Any:
        reply = self._bot.ask(*args, **kwargs)
        for hit in reply.hits:
            hit.score = hit.dense_similarity = math.nan
        reply.citations = [type(c)(**{**c.__dict__, "score": math.inf}) for c in reply.citations]
        return reply

    def __getattr__(self, name: str) -> Any:
        return getattr(self._bot, name)


def test_6_non_finite_scores_never_reach_json(bot, built_settings, tmp_path) -> None:
    settings = app_settings(built_settings, tmp_path, staff_token=SecretStr(STAFF_TOKEN))
    with running_app(NanBot(bot), settings) as base:
        for headers in (JSON, {**JSON, "authorization": f"Bearer {STAFF_TOKEN}"}):
            response = httpx.post(
                f"{base}/api/ask", json={"question": COST_QUESTION}, headers=headers, timeout=60
            )
            assert response.status_code == 200
            assert response.headers["content-type"] == "application/json"
            reply = json.loads(response.text, parse_constant=lambda c: pytest.fail(c))
            assert reply["citations"][0]["score"] is None


# -- 7. markup in the chat -------------------------------------------------------------
MARKUP = '<b>bold</b> <form action="https://evil.example/"><input name="q"></form> <script>document.title="pwned"</script> *stars* [x](https://evil.example/)'  # noqa: E501
IMG = '<img src="x" onerror="document.title=\'pwned\'">'
HEADING_IMG = '<img src="z" onerror="document.title=\'pwned\'">'


def test_7_user_and_corpus_text_render_as_text(bot) -> None:
    from assistant.web.articles import article_body_html, article_list_markdown
    from assistant.web.render import details_markdown, load_ui_text, render_reply, user_message

    bubble = user_message(MARKUP)
    assert "<b>" not in bubble and "<form" not in bubble and "<script" not in bubble
    assert "&lt;b&gt;bold&lt;/b&gt;" in bubble and "\n" not in bubble

    reply = bot.ask(COST_QUESTION)
    lead = reply.citations[0]
    assert "$700" in lead.text and reply.body.count("$700") == 1
    # A passage holding markup, as a poisoned article would give it.
    reply.body = reply.body.replace("$700", f"$700 {IMG}") + "\n- # heading *em* [1]"
    reply.citations[0] = dataclasses.replace(
        lead, text=lead.text.replace("$700", f"$700 {IMG}"), title="<i>T</i>"
    )
    html = render_reply(reply, load_ui_text()).markdown()
    assert "<img" not in html and "<i>T" not in html
    assert html.count("&lt;img src=&quot;x&quot;") == 2  # the body and the Sources quote
    assert "<li># heading *em* [1]</li>" in html  # Markdown in a quote is text too

    details = details_markdown({**reply.to_dict(), "question": MARKUP})
    assert "<form" not in details and "&lt;form" in details
    article = article_body_html(f"## Care <b>x</b>\nText {IMG}\n\n- item <script>x</script>")
    assert "<img" not in article and "<script" not in article and "<b>" not in article
    assert "<h2>Care &lt;b&gt;x&lt;/b&gt;</h2>" in article
    listing = article_list_markdown({"a": {"title": "<b>T</b>", "publisher": "*P*"}})
    assert "<b>T" not in listing and "&lt;b&gt;T&lt;/b&gt;" in listing


@pytest.mark.browser
def test_7_markup_shows_as_text_in_a_real_browser(copied, embedder, tmp_path) -> None:
    if not Path("/usr/bin/chromium").exists():
        pytest.skip("Chromium is not installed at /usr/bin/chromium (run `make browser`)")
    from playwright.sync_api import expect

    from evals.browser import chromium

    from .test_browser import _local_only, ask, log_in

    article = copied.corpus_dir / "womens-health-microneedling-basics.md"
    text = article.read_text("utf-8").replace("$700", f"$700 {IMG}")
    text = text.replace("## What’s the Pain Like?", f"## What’s the Pain Like? {HEADING_IMG}")
    article.write_text(text, "utf-8")
    run_ingest(copied, embedder)
    poisoned_bot = Assistant.load(copied, embedder=embedder)
    settings = app_settings(
        copied, tmp_path, staff_user="staff", staff_password=SecretStr("correct horse battery")
    )
    with running_app(poisoned_bot, settings) as url, chromium() as browser:

        def new_page() -> Any:
            context = browser.new_context(viewport={"width": 1200, "height": 1100})
            context.route("**/*", _local_only)
            page = context.new_page()
            page.set_default_timeout(30_000)
            return page

        page = new_page()
        page.goto(url)
        ask(page, MARKUP)
        user = page.locator(".sq-user").last
        expect(user).to_contain_text('<b>bold</b> <form action="https://evil.example/">')
        expect(user).to_contain_text('<script>document.title="pwned"</script> *stars*')
        assert user.locator("b, form, input, script, em, a").count() == 0

        # A fresh conversation (a new browser context: the page keeps the conversation
        # in local storage): the engine would read the cost question as a follow-up.
        page = new_page()
        page.goto(url)
        answer = ask(page, COST_QUESTION)
        expect(answer.locator(".sq-body")).to_contain_text(f"$700 {IMG}")
        answer.locator(".sq-chip").first.click()
        expect(answer.locator(".sq-passage:visible")).to_contain_text(f"$700 {IMG}")
        assert answer.locator("img").count() == 0

        page.goto(f"{url}/staff")
        log_in(page, "correct horse battery")
        # The staff chat's details and retrieved table: the section name holds markup.
        page.locator("#staff-chat-input textarea").fill("Does microneedling hurt?")
        page.locator("#staff-chat-send").click()
        expect(page.locator("#staff-retrieved")).to_contain_text(HEADING_IMG)
        assert page.locator("#staff-retrieved img, #staff-details img").count() == 0
        page.get_by_role("tab", name="Sources").click()
        page.locator("#staff-article-pick input").click()
        page.get_by_role("option", name="Microneedling: What to Know Before You Try It").click()
        expect(page.locator("#staff-article")).to_contain_text(f"$700 {IMG}")
        assert page.locator("#staff-article img").count() == 0
        assert page.title() != "pwned"
        browser.close()


# -- 8. the public API returns staff data ----------------------------------------------
def test_8_the_public_api_returns_client_fields_only(bot, built_settings, tmp_path) -> None:
    from gradio_client import Client

    settings = app_settings(
        built_settings, tmp_path, staff_user="staff", staff_password=SecretStr("correct horse"),
        staff_token=SecretStr(STAFF_TOKEN),
    )  # fmt: skip

    def post(headers: dict[str, str]) -> httpx.Response:
        body = {"question": COST_QUESTION}
        return httpx.post(f"{base}/api/ask", json=body, headers={**JSON, **headers}, timeout=60)

    login = base64.b64encode(b"staff:correct horse").decode()
    with running_app(bot, settings) as base:
        public = post({})
        token = post({"authorization": f"Bearer {STAFF_TOKEN}"})
        basic = post({"authorization": f"Basic {login}"})
        wrong = post({"authorization": "Bearer not-the-token"})
        gradio_public = Client(base, verbose=False).predict(COST_QUESTION, "[]", api_name="/ask")
    assert set(public.json()) == PUBLIC
    assert set(gradio_public) == PUBLIC
    for staff in (token, basic):
        assert staff.status_code == 200
        assert {"retrieved", "gate", "timings_ms", "query"} <= set(staff.json())
        assert len(staff.json()["retrieved"]) == 8
    assert wrong.status_code == 401
    assert wrong.json() == {"error": "The staff credentials are not valid."}


# -- 9. Gradio sessions grow without bound ---------------------------------------------
def rss_mib() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def gradio_call(client: httpx.Client, base: str, question: str) -> None:
    """One call of Gradio's ``/ask`` as a plain HTTP client makes it: a new session."""
    started = client.post(f"{base}/gradio_api/call/ask", json={"data": [question, "[]"]})
    event_id = started.json()["event_id"]
    with client.stream("GET", f"{base}/gradio_api/call/ask/{event_id}") as stream:
        for line in stream.iter_lines():
            if line.startswith("event: complete"):
                return
            assert not line.startswith("event: error"), line


def test_9_gradio_session_memory_stays_bounded_over_3000_calls(
    bot, built_settings, tmp_path
) -> None:
    from assistant.web.app import launch

    settings = app_settings(built_settings, tmp_path, rate_limit_per_minute=1_000_000)
    served, base = launch(bot, settings, "127.0.0.1", free_port())
    demo = served.client  # the public page, which serves Gradio's /ask
    try:
        with httpx.Client(timeout=60) as client:
            for _ in range(200):  # warm-up: caches, arenas and thread pools settle
                gradio_call(client, base, "Does it hurt?")
        before, sessions_before = rss_mib(), len(demo.state_holder.session_data)

        def worker(n: int) -> None:
            with httpx.Client(timeout=60) as client:
                for _ in range(n):
                    gradio_call(client, base, "Does it hurt?")

        started = time.monotonic()
        with ThreadPoolExecutor(6) as pool:
            list(pool.map(worker, [500] * 6))
        seconds = time.monotonic() - started
        after, sessions_after = rss_mib(), len(demo.state_holder.session_data)
        queue_entries = len(demo._queue.pending_event_ids_session)
    finally:
        served.close()
    print(
        f"\n3000 Gradio /ask calls in {seconds:.0f} s: sessions kept {sessions_before} -> "
        f"{sessions_after}, test process RSS {before:.0f} -> {after:.0f} MiB "
        f"({after - before:+.0f} MiB)"
    )
    assert sessions_after <= sessions_before + 6  # at most the calls still finishing
    # Gradio's per-session queue bookkeeping is swept every 100 calls.
    assert queue_entries <= 100 + 6
    assert demo.state_session_capacity == settings.max_sessions
    # 3,000 kept sessions of ~110 KB each would be ~330 MiB.
    assert after - before < 60


# -- 10. smaller ones ------------------------------------------------------------------
def test_10_a_build_left_by_a_killed_ingest_is_pruned_by_the_next_run(copied, embedder) -> None:
    builds = copied.index_path / "builds"
    live = live_build(copied)
    env = app_env(SKINQA_CORPUS_DIR=str(copied.corpus_dir), SKINQA_DATA_DIR=str(copied.data_dir))
    proc = subprocess.Popen(
        [sys.executable, "ingest.py", "--rebuild", "--quiet"], cwd=ROOT, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None and len(list(builds.iterdir())) < 2:
        time.sleep(0.05)
    time.sleep(0.3)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert live_build(copied) == live
    abandoned = [b for b in builds.iterdir() if b != live]
    assert abandoned and not any((b / "manifest.json").exists() for b in abandoned)

    summary = run_ingest(copied, embedder)  # the corpus did not change: nothing published
    assert summary.changed is False and summary.build == live.name
    assert [b.name for b in builds.iterdir()] == [live.name]


def test_10_every_thumbs_down_on_an_answer_is_recorded(bot, built_settings, tmp_path) -> None:
    settings = app_settings(built_settings, tmp_path, rate_limit_per_minute=1000)
    # Every answer the chat shows carries its id from the moment it appears (it appears
    # whole, never streamed in pieces), so a thumbs-down on it is always recorded.
    with running_app(bot, settings) as base:
        ids = []
        for question in (COST_QUESTION, "Does it hurt?", "What's the weather in Paris?"):
            lines = httpx.post(f"{base}/chat/ask", json={"question": question}, timeout=60)
            ids.append(json.loads(lines.text.splitlines()[-1])["id"])
        votes = [
            httpx.post(f"{base}/chat/feedback", json={"id": i, "vote": "down"}, timeout=10)
            for i in ids
        ]
        assert [v.json()["message"] for v in votes] == ["Thanks for your feedback."] * 3
        # A rating that cannot be kept says so (notices and errors have no thumbs at all).
        expired = httpx.post(f"{base}/chat/feedback", json={"id": "gone", "vote": "down"})
        assert expired.status_code == 410
        assert "can no longer be rated" in expired.json()["error"]
    records = settings.feedback_file.read_text("utf-8").splitlines()
    assert len(records) == 3
    assert [json.loads(r)["answer_id"] for r in records] == ids


def test_10_a_question_that_is_not_text_gets_a_specific_message(
    bot, built_settings, tmp_path
) -> None:
    from gradio_client import Client
    from gradio_client.exceptions import AppError

    with running_app(bot, app_settings(built_settings, tmp_path)) as base:
        answers = {
            repr(value): httpx.post(
                f"{base}/api/ask", json={"question": value}, headers=JSON, timeout=30
            ).json()
            for value in (42, ["Does it hurt?"], {"q": 1}, True)
        }
        with pytest.raises(AppError, match="must be text") as info:
            Client(base, verbose=False).predict(42, "[]", api_name="/ask")
    assert answers == {
        "42": {"error": "The question must be text (a JSON string), not a number."},
        "['Does it hurt?']": {"error": "The question must be text (a JSON string), not a list."},
        "{'q': 1}": {"error": "The question must be text (a JSON string), not an object."},
        "True": {"error": "The question must be text (a JSON string), not true or false."},
    }
    assert "Traceback" not in str(info.value)


def test_10_a_text_plain_body_is_refused_and_spends_no_quota(bot, built_settings, tmp_path) -> None:
    settings = app_settings(built_settings, tmp_path, rate_limit_per_minute=2)
    body = json.dumps({"question": "Does it hurt?"})
    with running_app(bot, settings) as base:
        for content_type in ("text/plain", "application/x-www-form-urlencoded", None):
            headers = {"content-type": content_type} if content_type else {}
            for _ in range(3):
                response = httpx.post(f"{base}/api/ask", content=body, headers=headers, timeout=30)
                assert response.status_code == 415, (content_type, response.status_code)
                assert "Content-Type: application/json" in response.json()["error"]
        with_charset = {"content-type": "application/json; charset=utf-8"}
        ok = [
            httpx.post(f"{base}/api/ask", content=body, headers=h, timeout=60)
            for h in (JSON, with_charset, JSON)
        ]
    assert [r.status_code for r in ok] == [200, 200, 429]
    assert ok[2].json() == {"error": RATE_MESSAGE}
