"""The app in a real browser (Debian's Chromium through Playwright): what a client and a
staff member see and click. Screenshots go to test-output/; with
SKINQA_UPDATE_SCREENSHOTS=1 the two README screenshots in docs/screenshots/ are refreshed."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip(
        "Chromium is not installed at /usr/bin/chromium (run `make browser` or "
        "`apt-get install chromium`)",
        allow_module_level=True,
    )

from playwright.sync_api import Browser, Locator, Page, Route, expect, sync_playwright  # noqa: E402

from .test_app import running_app  # noqa: E402

pytestmark = [
    pytest.mark.browser,
    pytest.mark.filterwarnings("ignore:'future.no_silent_downcasting'"),
    pytest.mark.filterwarnings("ignore:The copy keyword is deprecated"),
]

ROOT = Path(__file__).resolve().parents[2]
DOCS_SHOTS = ROOT / "docs" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
STAFF_USER, STAFF_PASSWORD = "staff", "correct horse battery"
TIMEOUT_MS = 30_000
# True once the last element matching a selector has kept the same text for `ms` ms.
SETTLED_JS = """([selector, ms]) => {
  const all = document.querySelectorAll(selector);
  const el = all[all.length - 1];
  if (!el) return false;
  const seen = window.__settled || (window.__settled = {text: null, since: 0});
  const now = Date.now();
  if (el.innerText !== seen.text) { seen.text = el.innerText; seen.since = now; return false; }
  return now - seen.since >= ms;
}"""


@pytest.fixture(scope="module")
def app_settings(built_settings, tmp_path_factory) -> Any:
    return built_settings.model_copy(
        update={
            "feedback_path": tmp_path_factory.mktemp("browser") / "feedback.jsonl",
            "staff_user": STAFF_USER,
            "staff_password": SecretStr(STAFF_PASSWORD),
        }
    )


@pytest.fixture(scope="module")
def url(bot, app_settings) -> Iterator[str]:
    with running_app(bot, app_settings) as base:
        yield base


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


def _local_only(route: Route) -> None:
    # The page must work offline; anything off this machine is refused at once
    # rather than left to time out.
    if route.request.url.startswith(("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:")):
        route.continue_()
    else:
        route.abort()


@pytest.fixture
def page(browser: Browser, url: str) -> Iterator[Page]:
    """A fresh page, so a fresh session, for each test."""
    context = browser.new_context(viewport={"width": 1200, "height": 1100})
    context.route("**/*", _local_only)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(url)
    expect(page.locator("#client-chat-input textarea")).to_be_visible()
    yield page
    context.close()


def ask(page: Page, question: str, chat: str = "client-chat") -> Locator:
    """Type a question, send it, and return the (last) answer bubble once it is final."""
    before = page.locator(f"#{chat} [data-testid='bot']").count()
    page.locator(f"#{chat}-input textarea").fill(question)
    page.locator(f"#{chat}-send").click()
    return wait_for_answer(page, before, chat)


def wait_for_answer(page: Page, before: int, chat: str = "client-chat") -> Locator:
    answers = page.locator(f"#{chat} [data-testid='bot']")
    expect(answers).to_have_count(before + 1)
    answer = answers.last
    # The app ends a finished answer with an empty .sq-end marker (not while streaming);
    # the chat then still reveals the text progressively, so wait for it to settle too.
    expect(answer.locator(".sq-end")).to_have_count(1)
    page.wait_for_function(SETTLED_JS, arg=[f"#{chat} [data-testid='bot']", 400], polling=100)
    return answer


def shoot(page: Page, output_dir: Path, name: str, docs_name: str | None = None) -> None:
    path = output_dir / name
    page.screenshot(path=str(path), full_page=True)
    if docs_name and os.environ.get("SKINQA_UPDATE_SCREENSHOTS") == "1":
        DOCS_SHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, DOCS_SHOTS / docs_name)


# -- client chat -----------------------------------------------------------------------
def test_page_shows_title_disclaimer_and_examples(page: Page) -> None:
    expect(page.get_by_role("heading", name="Microneedling Q&A")).to_be_visible()
    expect(page.locator("#disclaimer")).to_contain_text("not medical advice")
    expect(page.locator("#disclaimer")).to_contain_text("dermatologist")
    expect(page.locator("#client-examples button")).to_have_count(6)


def test_question_gets_a_cited_answer_with_sources(page: Page, output_dir: Path) -> None:
    answer = ask(page, "How much does microneedling cost?")
    expect(answer).to_contain_text("[1]")
    sources = answer.locator(".sq-sources")
    expect(sources).to_contain_text("Sources")
    expect(sources).to_contain_text("Microneedling: What to Know Before You Try It")
    expect(sources.locator("blockquote").first).to_contain_text("$700")
    shoot(page, output_dir, "client-answer.png")


def test_example_question_is_answered(page: Page, output_dir: Path) -> None:
    page.locator("#client-examples button", has_text="Does microneedling hurt?").click()
    answer = wait_for_answer(page, 0)
    expect(page.locator("#client-chat [data-testid='user']")).to_have_text(
        "Does microneedling hurt?"
    )
    expect(answer).to_contain_text("[1]")
    expect(answer.locator(".sq-sources blockquote").first).to_be_visible()
    shoot(page, output_dir, "client-example.png", docs_name="client-chat.png")


def test_off_topic_question_is_declined(page: Page, output_dir: Path) -> None:
    answer = ask(page, "What's the weather in Paris?")
    expect(answer.locator(".sq-decline")).to_contain_text("don't cover that")
    expect(answer.locator(".sq-sources")).to_have_count(0)
    shoot(page, output_dir, "client-decline.png")


def test_pregnancy_question_shows_the_safety_note(page: Page, output_dir: Path) -> None:
    answer = ask(page, "I'm pregnant. Is microneedling safe for me?")
    expect(answer.locator(".sq-safety")).to_contain_text("not medical advice")
    expect(answer.locator(".sq-sources")).to_contain_text("Pregnant women should avoid")
    shoot(page, output_dir, "client-safety.png")


def test_thumbs_down_with_comment_is_logged(
    page: Page, app_settings: Any, output_dir: Path
) -> None:
    feedback = Path(app_settings.feedback_file)
    before = feedback.read_text("utf-8").splitlines() if feedback.exists() else []
    ask(page, "How much does microneedling cost?")
    page.locator("#client-chat button[aria-label='Dislike']").last.click()
    comment = page.locator("#feedback-comment-text textarea")
    expect(comment).to_be_visible()
    comment.fill("The price may be out of date.")
    page.get_by_role("button", name="Send comment").click()
    expect(page.locator("#feedback-status")).to_contain_text("your comment was saved")
    expect(comment).to_be_hidden()
    shoot(page, output_dir, "client-feedback.png")

    records = [json.loads(x) for x in feedback.read_text("utf-8").splitlines()[len(before) :]]
    assert [(r["event"], r["vote"]) for r in records] == [("vote", "down"), ("comment", "down")]
    assert records[1]["comment"] == "The price may be out of date."
    assert records[1]["question"] == "How much does microneedling cost?"
    assert "$700" in records[1]["citations"][0]["text"]
    assert "[1]" in records[1]["answer"]


# -- staff view ------------------------------------------------------------------------
def log_in(page: Page, password: str) -> None:
    page.get_by_role("tab", name="Staff").click()
    page.locator("#staff-user input").fill(STAFF_USER)
    page.locator("#staff-password input").fill(password)
    page.locator("#staff-login").click()


def test_staff_view_needs_the_right_password(page: Page, output_dir: Path) -> None:
    log_in(page, "not the password")
    expect(page.locator("#staff-login-message")).to_contain_text("Wrong username or password")
    expect(page.locator("#staff-content")).to_be_hidden()
    shoot(page, output_dir, "staff-refused.png")

    log_in(page, STAFF_PASSWORD)
    expect(page.locator("#staff-content")).to_be_visible()
    answer = ask(page, "Can I get microneedling while on Accutane?", chat="staff-chat")
    expect(answer.locator(".sq-safety").first).to_be_visible()
    table = page.locator("#staff-retrieved")
    expect(table).to_contain_text("keyword rank")
    expect(table).to_contain_text("✔")  # which retrieved chunks the answer cites
    details = page.locator("#staff-details")
    expect(details).to_contain_text("Retrieval query")
    expect(details).to_contain_text("isotretinoin")  # the safety flag
    expect(details).to_contain_text("Timings")
    shoot(page, output_dir, "staff-view.png", docs_name="staff-view.png")

    # Details follow the latest answer; clicking an earlier answer shows its own again.
    ask(page, "How much does microneedling cost?", chat="staff-chat")
    expect(details).to_contain_text("Question: How much does microneedling cost?")
    page.locator("#staff-chat [data-testid='bot']").first.click()
    expect(details).to_contain_text("Question: Can I get microneedling while on Accutane?")

    page.get_by_role("tab", name="Sources").click()
    expect(page.locator("#staff-articles")).to_contain_text("Women's Health")
    page.locator("#staff-article-pick input").click()
    page.get_by_role("option", name="How to Understand the Benefits of Microneedling").click()
    article = page.locator("#staff-article")
    expect(
        article.get_by_role("heading", name="Mastering the Benefits", exact=False)
    ).to_be_visible()
    shoot(page, output_dir, "staff-sources.png")
