"""The app in a real browser (Debian's Chromium through Playwright), desktop 1280×900 and
phone 390×844: what a client sees, taps and types, and the staff page at /staff.

Screenshots go to test-output/; with SKINQA_UPDATE_SCREENSHOTS=1 the docs' screenshots
in docs/screenshots/ are refreshed from them."""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from evals.browser import CHROMIUM, VIEWPORTS, chromium
from tests.servers import app_settings as make_app_settings
from tests.servers import free_port, running_app

if not Path(CHROMIUM).exists():
    pytest.skip(
        "Chromium is not installed at /usr/bin/chromium (run `make browser` or "
        "`apt-get install chromium`)",
        allow_module_level=True,
    )

from playwright.sync_api import Browser, Locator, Page, Route, expect

pytestmark = [
    pytest.mark.browser,
    pytest.mark.filterwarnings("ignore:'future.no_silent_downcasting'"),
    pytest.mark.filterwarnings("ignore:The copy keyword is deprecated"),
]

ROOT = Path(__file__).resolve().parents[2]
DOCS_SHOTS = ROOT / "docs" / "screenshots"
STAFF_USER, STAFF_PASSWORD = "staff", "correct horse battery"
TIMEOUT_MS = 30_000
HURT = "Does microneedling hurt?"
URGENT = "my face is really swollen and hot 3 days after, is that normal?"


@pytest.fixture(scope="module")
def app_settings(built_settings, tmp_path_factory) -> Any:
    return make_app_settings(
        built_settings,
        tmp_path_factory.mktemp("browser"),
        staff_user=STAFF_USER,
        staff_password=SecretStr(STAFF_PASSWORD),
    )


@pytest.fixture(scope="module")
def url(bot, app_settings) -> Iterator[str]:
    with running_app(bot, app_settings) as base:
        yield base


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as browser:
        yield browser


def _local_only(route: Route) -> None:
    # The page must work offline; anything off this machine is refused at once.
    if route.request.url.startswith(("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:")):
        route.continue_()
    else:
        route.abort()


def open_page(browser: Browser, url: str, device: str) -> Page:
    context = browser.new_context(**VIEWPORTS[device])
    context.route("**/*", _local_only)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(url)
    expect(page.locator(".sq-app[data-ready='1']")).to_be_attached()
    return page


@pytest.fixture(params=list(VIEWPORTS))
def device(request) -> str:
    return str(request.param)


@pytest.fixture
def page(browser: Browser, url: str, device: str) -> Iterator[Page]:
    """A fresh page (fresh browser storage) for each test."""
    page = open_page(browser, url, device)
    yield page
    page.context.close()


def answers(page: Page) -> Locator:
    return page.locator(".sq-turn .sq-answer")


def send(page: Page, question: str) -> None:
    page.locator("#sq-input").fill(question)
    page.locator("#sq-input").press("Enter")


def ask(page: Page, question: str) -> Locator:
    """Send a question and return its answer card once it is shown."""
    before = answers(page).count()
    send(page, question)
    expect(answers(page)).to_have_count(before + 1)
    return answers(page).nth(before)  # this one, even after later answers


def in_view(page: Page, locator: Locator) -> bool:
    """The element's top is visible between the pinned header and the composer."""
    return bool(
        locator.evaluate(
            """el => { const r = el.getBoundingClientRect();
                 const top = document.querySelector('.sq-top').getBoundingClientRect().bottom;
                 const bottom = document.querySelector('.sq-composer').getBoundingClientRect().top;
                 return r.top >= top - 1 && r.top < bottom; }"""
        )
    )


def no_horizontal_scroll(page: Page) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


def shoot(page: Page, output_dir: Path, name: str, docs_name: str | None = None) -> None:
    path = output_dir / name
    page.screenshot(path=str(path))
    if docs_name and os.environ.get("SKINQA_UPDATE_SCREENSHOTS") == "1":
        DOCS_SHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, DOCS_SHOTS / docs_name)


# -- first screen ------------------------------------------------------------------------
def test_first_screen_has_examples_a_short_disclaimer_and_the_contact_button(
    page: Page, device: str, output_dir: Path
) -> None:
    expect(page.get_by_role("heading", name="Microneedling Q&A")).to_be_visible()
    disclaimer = page.locator(".sq-disclaimer")
    expect(disclaimer.locator("summary")).to_contain_text("not medical advice")
    expect(disclaimer.locator("summary")).to_contain_text("More")
    assert disclaimer.locator("summary").bounding_box()["height"] <= 64  # one short line
    disclaimer.locator("summary").click()
    expect(disclaimer).to_contain_text("dermatologist")
    disclaimer.locator("summary").click()
    examples = page.locator(".sq-examples .sq-ask")
    expect(examples).to_have_count(4)
    for i in range(4):
        assert in_view(page, examples.nth(i)), f"example {i} is below the fold"
    expect(page.get_by_role("button", name="Contact", exact=False)).to_be_visible()
    composer = page.locator(".sq-composer").bounding_box()
    height = page.viewport_size["height"]
    assert abs(composer["y"] + composer["height"] - height) < 2  # pinned at the bottom
    expect(page.get_by_label("Your question")).to_be_visible()
    for control in page.locator(".sq-app button:visible").all():
        box = control.bounding_box()
        assert box["height"] >= 44 and box["width"] >= 44, control.inner_text()
    assert no_horizontal_scroll(page)
    shoot(page, output_dir, f"client-first-{device}.png")


def test_no_horizontal_scroll_at_320_px(browser: Browser, url: str) -> None:
    context = browser.new_context(viewport={"width": 320, "height": 640}, is_mobile=True)
    page = context.new_page()
    page.goto(url)
    expect(page.locator(".sq-app[data-ready='1']")).to_be_attached()
    assert no_horizontal_scroll(page)
    ask(page, "How should I care for my skin after microneedling?").locator(
        ".sq-chip"
    ).first.click()
    assert no_horizontal_scroll(page)
    context.close()


# -- answers and passages ----------------------------------------------------------------
def test_answer_leads_with_its_passage_and_folds_the_rest(
    page: Page, device: str, output_dir: Path
) -> None:
    answer = ask(page, HURT)
    expect(answer.locator(".sq-lead")).to_contain_text("without any numbing solution")
    assert answer.locator(".sq-support li").count() <= 2
    more = answer.locator(".sq-more")
    expect(more.locator("ul")).to_be_hidden()  # folded
    more.locator("summary").click()
    expect(more.locator("li").first).to_be_visible()
    expect(answer.locator(".sq-suggest .sq-ask")).to_have_count(3)
    # One announcement for the finished answer: its lead.
    expect(page.locator(".sq-live")).to_contain_text("Answer: Generally, it can be performed")
    more.locator("summary").click()
    shoot(page, output_dir, f"client-answer-{device}.png", docs_name=f"client-{device}.png")


def touch_box(control: Locator) -> tuple[float, float, float, float]:
    """The area a tap hits (left, top, right, bottom): the control, with the ``::after``
    that enlarges a small one (placed from the control's padding box, inside its border)."""
    box = control.evaluate(
        """el => { const r = el.getBoundingClientRect(); const s = getComputedStyle(el);
             const a = getComputedStyle(el, '::after'); const px = (v) => parseFloat(v) || 0;
             if (a.content === 'none' || a.position !== 'absolute')
               return [r.left, r.top, r.right, r.bottom];
             const inner = [r.left + px(s.borderLeftWidth), r.top + px(s.borderTopWidth),
                            r.right - px(s.borderRightWidth), r.bottom - px(s.borderBottomWidth)];
             return [Math.min(r.left, inner[0] + px(a.left)), Math.min(r.top, inner[1] + px(a.top)),
                     Math.max(r.right, inner[2] - px(a.right)),
                     Math.max(r.bottom, inner[3] - px(a.bottom))]; }"""
    )
    left, top, right, bottom = (float(v) for v in box)
    return left, top, right, bottom


def touch_target(control: Locator) -> tuple[float, float]:
    """The width and height of the area a tap on the control hits."""
    left, top, right, bottom = touch_box(control)
    return right - left, bottom - top


def test_an_answers_controls_are_touch_targets_of_44_px_on_a_phone(
    browser: Browser, url: str
) -> None:
    page = open_page(browser, url, "phone")
    answer = ask(page, HURT)
    answer.locator(".sq-more summary").click()
    answer.locator(".sq-lead .sq-chip").first.click()  # an open passage: close and link
    urgent = ask(page, URGENT)  # with the clinic's contact route
    controls = [
        c
        for card in (answer, urgent)
        for c in card.locator("button:visible, a:visible, summary:visible").all()
    ]
    kinds = {c.evaluate("el => el.className || el.tagName") for c in controls}
    for kind in ("sq-chip", "sq-vote", "sq-ask", "sq-passage-close", "sq-passage-link"):
        assert kind in kinds, f"no {kind} on the cards"
    for control in controls:
        width, height = touch_target(control)
        assert width >= 44 and height >= 44, (control.evaluate("el => el.outerHTML"), width, height)
    assert no_horizontal_scroll(page)
    page.context.close()


class TwoSourcesBot:
    """The real assistant, the first quote of each answer citing two passages side by
    side ("... [1][2]"), as an LLM-mode answer may."""

    def __init__(self, bot: Any) -> None:
        self._bot = bot

    def ask_stream(self, *args: Any, **kwargs: Any) -> Any:
        from dataclasses import replace

        from assistant.schema import Reply

        for event in self._bot.ask_stream(*args, **kwargs):
            if isinstance(event, Reply):
                event = replace(event, body=event.body.replace("[1]", "[1][2]", 1))
            yield event

    def __getattr__(self, name: str) -> Any:
        return getattr(self._bot, name)


def test_side_by_side_chips_have_touch_targets_that_do_not_overlap(
    browser: Browser, bot: Any, app_settings: Any, output_dir: Path
) -> None:
    with running_app(TwoSourcesBot(bot), app_settings) as base:
        page = open_page(browser, base, "phone")
        answer = ask(page, HURT)
        pair = answer.locator(".sq-lead .sq-chips").first.locator(".sq-chip")
        expect(pair).to_have_text(["1", "2"])
        first, second = touch_box(pair.nth(0)), touch_box(pair.nth(1))
        for left, top, right, bottom in (first, second):
            assert right - left >= 44 and bottom - top >= 44, (first, second)
        assert first[2] <= second[0], (first, second)  # side by side, not overlapping
        # A tap just either side of where the two targets meet opens that side's chip.
        for n, side in ((0, -2), (1, 2)):
            first, second = touch_box(pair.nth(0)), touch_box(pair.nth(1))  # after a scroll
            page.touchscreen.tap((first[2] + second[0]) / 2 + side, (first[1] + first[3]) / 2)
            expect(pair.nth(n)).to_have_attribute("aria-expanded", "true")
        shoot(page, output_dir, "client-chip-pair-phone.png")
        page.context.close()


def test_a_marker_chip_opens_its_passage_in_place(
    page: Page, device: str, output_dir: Path
) -> None:
    answer = ask(page, HURT)
    chip = answer.locator(".sq-lead .sq-chip").first
    expect(chip).to_have_attribute("aria-expanded", "false")
    chip.click()
    passage = answer.locator(".sq-passage:visible")
    expect(passage).to_have_count(1)
    expect(chip).to_have_attribute("aria-expanded", "true")
    expect(passage).to_contain_text("Microneedling: What to Know Before You Try It")
    expect(passage.locator(".sq-passage-section")).to_have_text("What’s the Pain Like?")
    expect(passage.locator("mark")).to_contain_text("without any numbing solution")
    expect(passage.locator(".sq-ctx").first).to_contain_text("tolerable discomfort")
    # In place: right under the paragraph holding the chip.
    follows = passage.evaluate("el => el.previousElementSibling.classList.contains('sq-lead')")
    assert follows
    shoot(page, output_dir, f"client-passage-{device}.png")
    link = passage.get_by_role("link", name="Read the article with this passage highlighted")
    with page.context.expect_page() as opened:
        link.click()
    article = opened.value
    article.wait_for_load_state()
    expect(article.locator("mark#passage")).to_contain_text("without any numbing solution")
    expect(article.locator("h1")).to_have_text("Microneedling: What to Know Before You Try It")
    article.close()
    passage.get_by_role("button", name="Close source 1").click()
    expect(answer.locator(".sq-passage:visible")).to_have_count(0)
    expect(chip).to_have_attribute("aria-expanded", "false")


def test_keyboard_opens_and_closes_a_passage(page: Page) -> None:
    page.locator("#sq-input").focus()
    page.keyboard.type(HURT)
    page.keyboard.press("Enter")
    expect(answers(page)).to_have_count(1)
    chip = answers(page).last.locator(".sq-chip").first
    chip.focus()
    page.keyboard.press("Enter")
    passage = answers(page).last.locator(".sq-passage:visible")
    expect(passage).to_have_count(1)
    passage.locator(".sq-passage-close").focus()
    page.keyboard.press("Escape")
    expect(passage).to_have_count(0)
    assert page.evaluate("document.activeElement.classList.contains('sq-chip')")
    # The focus ring is visible (an outline, not only a colour change).
    assert chip.evaluate("el => getComputedStyle(el).outlineStyle") == "solid"


# -- conversation flow -------------------------------------------------------------------
def test_each_new_answer_is_scrolled_into_view_after_five_turns(page: Page) -> None:
    questions = [
        HURT,
        "How should I care for my skin after microneedling?",
        "How often should I have microneedling sessions?",
        "Who should avoid microneedling?",
        "Can I wear makeup after microneedling?",
        "What does a microneedling session cost?",
    ]
    for i, question in enumerate(questions):
        answer = ask(page, question)
        page.wait_for_timeout(700)  # the smooth scroll
        assert in_view(page, answer), f"answer {i + 1} is out of sight"
    assert page.evaluate("window.scrollY") > 0
    jump = page.locator(".sq-jump")
    expect(jump).to_be_hidden()
    page.evaluate("window.scrollTo(0, 0)")
    expect(jump).to_be_visible()
    jump.click()
    page.wait_for_timeout(700)
    assert in_view(page, answers(page).last)
    expect(jump).to_be_hidden()


# A question with a client's background, several lines long on a phone.
LONG_QUESTION = (
    "Hello, I'm 38 and have had dry, easily irritated skin since my twenties, with a few "
    "shallow marks on my forehead from chickenpox; a friend of mine had it done last month "
    "and loved it, so before booking anything I would like to understand one thing: "
    "how many microneedling sessions are usually needed?"
)


def header_clearance(page: Page) -> dict[str, Any]:
    """Where the newest turn sits against the pinned header and composer, and the text
    blocks of the conversation the header's lower edge cuts through."""
    return dict(
        page.evaluate(
            """() => {
              const header = document.querySelector('.sq-top').getBoundingClientRect().bottom;
              const composer = document.querySelector('.sq-composer').getBoundingClientRect().top;
              const turn = [...document.querySelectorAll('.sq-turn')].pop();
              const question = turn.querySelector('.sq-user-text').getBoundingClientRect();
              const answer = turn.querySelector('.sq-answer').getBoundingClientRect();
              const blocks = '.sq-log p, .sq-log li, .sq-log button, .sq-log summary';
              const cut = [...document.querySelectorAll(blocks)].filter((el) => {
                const r = el.getBoundingClientRect();
                return r.height > 0 && r.top < header - 1 && r.bottom > header + 1;
              }).map((el) => el.textContent.trim().slice(0, 40));
              return {header, composer, question: question.top, answer: answer.top, cut};
            }"""
        )
    )


def test_a_new_turn_starts_below_the_header(page: Page, device: str, output_dir: Path) -> None:
    for n, question in enumerate((HURT, LONG_QUESTION)):
        ask(page, question)
        page.wait_for_timeout(300)
        at = header_clearance(page)
        # The start of the question and the start of its answer are in view, under the
        # header; no line above them is half hidden by it.
        assert at["question"] >= at["header"], at
        assert at["header"] <= at["answer"] < at["composer"] - 24, at
        assert at["cut"] == [], at
        shoot(page, output_dir, f"client-turn-{n + 1}-{device}.png")
    assert page.locator(".sq-user-text").last.bounding_box()["height"] > 100  # several lines


def test_an_example_tap_answers_in_view(page: Page) -> None:
    page.locator(".sq-examples .sq-ask", has_text="Who should avoid microneedling?").click()
    expect(answers(page)).to_have_count(1)
    page.wait_for_timeout(700)
    assert in_view(page, answers(page).last)
    expect(page.locator(".sq-user-text")).to_have_text("Who should avoid microneedling?")


class SlowBot:
    """The real assistant, answering a second late (a busy server)."""

    def __init__(self, bot: Any, delay: float = 1.5) -> None:
        self._bot = bot
        self.delay = delay

    def ask_stream(self, *args: Any, **kwargs: Any) -> Any:
        time.sleep(self.delay)
        return self._bot.ask_stream(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._bot, name)


@pytest.fixture(scope="module")
def slow_url(bot, app_settings) -> Iterator[str]:
    with running_app(SlowBot(bot), app_settings) as base:
        yield base


def test_typing_during_an_answer_is_kept_and_a_second_send_is_queued(
    browser: Browser, slow_url: str, device: str
) -> None:
    page = open_page(browser, slow_url, device)
    send(page, HURT)
    expect(page.locator(".sq-typing")).to_be_visible()  # the typing indicator
    box = page.locator("#sq-input")
    box.press_sequentially("and how long does the red")
    expect(answers(page)).to_have_count(1)
    expect(box).to_have_value("and how long does the red")  # nothing typed was lost
    box.press_sequentially("ness last?")
    box.press("Enter")
    send(page, "Can I wear makeup after microneedling?")  # while the first is pending
    expect(page.locator(".sq-user-status").last).to_have_text("Waiting for the answer above…")
    send(page, "How often should I have microneedling sessions?")
    send(page, "Who should avoid microneedling?")
    # A fourth question waiting is clearly refused, and its text stays in the box.
    send(page, "Is numbing cream used for microneedling?")
    expect(page.locator(".sq-hint")).to_have_text(
        "Please wait for the answers above before sending more questions."
    )
    expect(box).to_have_value("Is numbing cream used for microneedling?")
    expect(answers(page)).to_have_count(5, timeout=30_000)
    questions = page.locator(".sq-user-text").all_inner_texts()
    assert questions == [
        HURT,
        "and how long does the redness last?",
        "Can I wear makeup after microneedling?",
        "How often should I have microneedling sessions?",
        "Who should avoid microneedling?",
    ]
    expect(page.locator(".sq-user-status:visible")).to_have_count(0)
    page.context.close()


def test_questions_a_reload_left_unanswered_are_kept_and_one_retry_sends_them(
    browser: Browser, slow_url: str, device: str
) -> None:
    page = open_page(browser, slow_url, device)
    makeup = "Can I wear makeup after microneedling?"
    send(page, HURT)
    send(page, makeup)
    expect(page.locator(".sq-user-status").last).to_have_text("Waiting for the answer above…")
    page.reload()  # before either is answered
    expect(page.locator(".sq-app[data-ready='1']")).to_be_attached()
    expect(page.locator(".sq-user-text")).to_have_text([HURT, makeup])
    expect(page.locator(".sq-user-status")).to_have_text(["Not sent yet", "Not sent yet"])
    error = page.locator(".sq-error")
    expect(error).to_have_count(1)
    expect(error).to_contain_text("not answered before the page was closed")
    # A new question is refused until then, visibly, and its text stays in the box.
    send(page, "Who should avoid microneedling?")
    expect(page.locator(".sq-hint")).to_have_text(
        "Please retry the unanswered question above first, or start a new chat."
    )
    expect(page.locator("#sq-input")).to_have_value("Who should avoid microneedling?")
    error.get_by_role("button", name="Retry").click()
    expect(answers(page)).to_have_count(2, timeout=30_000)
    turns = page.locator(".sq-turn")
    expect(turns.nth(0).locator(".sq-lead")).to_contain_text("without any numbing solution")
    expect(turns.nth(1).locator(".sq-answer")).to_contain_text("makeup")
    expect(page.locator(".sq-user-status:visible")).to_have_count(0)
    expect(page.locator(".sq-error")).to_have_count(0)
    page.reload()  # and both answers are kept
    expect(page.locator(".sq-app[data-ready='1']")).to_be_attached()
    expect(answers(page)).to_have_count(2)
    page.context.close()


def test_llm_mode_streams_with_a_typing_indicator(
    browser: Browser, bot: Any, app_settings: Any, device: str, output_dir: Path
) -> None:
    from assistant.answer.pipeline import Assistant
    from assistant.llm import LLMGenerator

    from ..fake_openai import FakeOpenAI

    with FakeOpenAI() as fake:
        settings = app_settings.model_copy(
            update={"generator": "llm", "llm_base_url": fake.base_url,
                    "llm_model": "fake-model", "llm_timeout": 10.0}
        )  # fmt: skip
        llm_bot = Assistant(settings, bot.index, bot.embedder, LLMGenerator.from_settings(settings))
        # Sources 1 and 2 of the prompt hold these two statements (see test_client_chat).
        fake.push(
            "It can generally be performed without any numbing solution or anesthesia [1].\n"
            "Expect some redness after the procedure, which should die down in a few hours [2].",
            words_per_chunk=1,
            chunk_delay=0.12,
        )
        with running_app(llm_bot, settings) as base:
            page = open_page(browser, base, device)
            send(page, HURT)
            stream = page.locator(".sq-typing .sq-stream")
            expect(stream).to_contain_text("numbing solution")  # shown while it is written
            expect(page.locator(".sq-typing .sq-dots")).to_be_visible()
            assert answers(page).count() == 0
            assert page.locator(".sq-live").inner_text() == ""  # no announcement mid-stream
            shoot(page, output_dir, f"client-streaming-{device}.png")
            expect(answers(page)).to_have_count(1)
            expect(page.locator(".sq-typing")).to_have_count(0)
            expect(answers(page).first).to_contain_text("redness")
            expect(page.locator(".sq-live")).to_contain_text("Answer:")
            page.context.close()


# -- suggested questions ---------------------------------------------------------------
def test_a_goodbye_gets_no_suggestions_a_greeting_does(browser: Browser, url: str) -> None:
    page = open_page(browser, url, "phone")
    hello = ask(page, "hiya")
    expect(hello.locator(".sq-suggest .sq-ask")).to_have_count(3)
    ask(page, HURT)
    with page.expect_request("**/chat/ask") as sent:
        bye = ask(page, "thanks so much, bye!")
    # Every earlier question goes with it, so no suggestion repeats one.
    assert sent.value.post_data_json["asked"] == ["hiya", HURT]
    expect(bye).to_have_attribute("data-outcome", "small_talk")
    expect(bye.locator(".sq-suggest")).to_have_count(0)
    page.context.close()


# -- hand-off to the clinic --------------------------------------------------------------
def test_contact_route_on_a_decline_and_on_an_urgent_note(
    page: Page, device: str, output_dir: Path
) -> None:
    declined = ask(page, "What's the weather in Paris?")
    expect(declined.locator(".sq-decline")).to_contain_text("don't cover that")
    contact = declined.locator(".sq-contact")
    expect(contact.get_by_role("link", name="Call +1 555 0100")).to_have_attribute(
        "href", "tel:+15550100"
    )
    expect(contact.get_by_role("link", name="Book online")).to_be_visible()
    expect(declined.locator(".sq-suggest")).to_have_count(0)  # no chips under a decline
    urgent = ask(page, URGENT)
    expect(urgent.locator(".sq-note-urgent")).to_contain_text("sign of a complication")
    expect(urgent.locator(".sq-contact")).to_contain_text("Contact Sample Skin Clinic now")
    shoot(page, output_dir, f"client-urgent-{device}.png")
    # The persistent button opens the clinic's details at any time.
    page.get_by_role("button", name="Contact", exact=False).click()
    dialog = page.get_by_role("dialog", name="Contact the clinic")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Monday to Friday")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()


# -- feedback ----------------------------------------------------------------------------
def test_feedback_is_inline_with_a_pressed_state(page: Page, app_settings: Any) -> None:
    feedback = Path(app_settings.feedback_file)
    before = feedback.read_text("utf-8").splitlines() if feedback.exists() else []
    first = ask(page, "What does a microneedling session cost?")
    second = ask(page, HURT)
    up = first.get_by_role("button", name="Helpful", exact=True)
    up.click()
    expect(up).to_have_attribute("aria-pressed", "true")
    expect(first.locator(".sq-feedback-status")).to_have_text("Thanks for your feedback.")
    down = first.get_by_role("button", name="Not helpful")
    down.click()
    expect(down).to_have_attribute("aria-pressed", "true")
    expect(up).to_have_attribute("aria-pressed", "false")
    comment = first.get_by_label("What was wrong with this answer? (optional)")
    expect(comment).to_be_visible()  # under that answer, not elsewhere
    expect(second.locator(".sq-comment:visible")).to_have_count(0)
    comment.fill("The price may be out of date.")
    first.get_by_role("button", name="Send comment").click()
    expect(first.locator(".sq-feedback-status")).to_have_text("Thank you, your comment was sent.")
    expect(comment).to_be_hidden()
    records = [json.loads(x) for x in feedback.read_text("utf-8").splitlines()[len(before) :]]
    assert [(r["event"], r["vote"]) for r in records] == [
        ("vote", "up"), ("vote", "down"), ("comment", "down"),
    ]  # fmt: skip
    assert records[2]["comment"] == "The price may be out of date."
    assert records[2]["question"] == "What does a microneedling session cost?"


# -- storage, errors and recovery --------------------------------------------------------
def test_conversation_survives_a_reload_and_can_be_started_again(page: Page) -> None:
    ask(page, HURT)
    ask(page, "How often should I have microneedling sessions?")
    answers(page).first.get_by_role("button", name="Helpful", exact=True).click()
    expect(answers(page).first.locator(".sq-feedback-status")).not_to_be_empty()
    page.locator("#sq-input").fill("a question I have not sent")
    page.wait_for_timeout(400)  # the draft is saved a moment after typing
    page.reload()
    expect(page.locator(".sq-app[data-ready='1']")).to_be_attached()
    expect(answers(page)).to_have_count(2)
    expect(page.locator(".sq-user-text")).to_have_text(
        [HURT, "How often should I have microneedling sessions?"]
    )
    up = answers(page).first.get_by_role("button", name="Helpful", exact=True)
    expect(up).to_have_attribute("aria-pressed", "true")
    expect(page.locator("#sq-input")).to_have_value("a question I have not sent")
    # The restored conversation still feeds follow-ups.
    follow = ask(page, "and what does it cost?")
    expect(follow).to_contain_text("$700")
    # A new conversation asks first, and cancelling keeps everything.
    page.get_by_role("button", name="New chat").click()
    page.get_by_role("dialog").get_by_role("button", name="Cancel").click()
    expect(answers(page)).to_have_count(3)
    page.get_by_role("button", name="New chat").click()
    page.get_by_role("button", name="Start new conversation").click()
    expect(answers(page)).to_have_count(0)
    page.reload()
    expect(page.locator(".sq-app[data-ready='1']")).to_be_attached()
    expect(answers(page)).to_have_count(0)


def test_server_stopped_shows_one_inline_error_then_retry_recovers(
    browser: Browser, bot: Any, app_settings: Any, device: str, output_dir: Path
) -> None:
    from assistant.web.app import launch

    port = free_port()
    served, base = launch(bot, app_settings, "127.0.0.1", port)
    page = open_page(browser, base, device)
    try:
        ask(page, HURT)
        served.close()
        send(page, "How often should I have microneedling sessions?")
        error = page.locator(".sq-error")
        expect(error).to_have_count(1)
        expect(error).to_have_attribute("role", "alert")
        expect(error).to_contain_text("Can't reach the clinic assistant")
        expect(page.locator(".sq-send")).to_be_disabled()
        expect(error.get_by_role("button", name="Retry")).to_be_disabled()
        expect(page.locator(".sq-user-status").last).to_have_text("Not sent yet")
        expect(page.locator(".sq-user-text").last).to_have_text(
            "How often should I have microneedling sessions?"
        )
        page.locator("#sq-input").fill("typed while offline")
        page.locator("#sq-input").press("Enter")  # refused visibly, the text kept
        expect(page.locator(".sq-hint")).to_contain_text("Waiting for the connection")
        expect(page.locator("#sq-input")).to_have_value("typed while offline")
        shoot(page, output_dir, f"client-offline-{device}.png")
        served, _ = launch(bot, app_settings, "127.0.0.1", port)
        expect(page.locator(".sq-send")).to_be_enabled(timeout=20_000)
        expect(error).to_contain_text("Connected again")
        error.get_by_role("button", name="Retry").click()
        expect(answers(page)).to_have_count(2)
        expect(answers(page).last).to_contain_text("every")
        expect(page.locator(".sq-error")).to_have_count(0)
        expect(page.locator("#sq-input")).to_have_value("typed while offline")
        assert page.locator(".sq-user-status:visible").count() == 0
    finally:
        page.context.close()
        served.close()


# -- accessibility -----------------------------------------------------------------------
def test_axe_finds_no_serious_or_critical_violations_with_an_answer(
    page: Page, device: str
) -> None:
    from axe_playwright_python.sync_playwright import Axe

    answer = ask(page, "I'm pregnant. Is microneedling safe for me?")
    answer.locator(".sq-chip").first.click()  # an open passage too
    if answer.locator(".sq-more").count():
        answer.locator(".sq-more summary").click()
    results = Axe().run(page)
    serious = [v for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
    assert serious == [], results.generate_report()


# -- the staff page ----------------------------------------------------------------------
def test_public_page_has_nothing_of_the_staff_page(page: Page) -> None:
    text = page.locator("body").inner_text()
    for staff_only in ("Staff", "Log in", "Password", "Use via API", "Retrieved"):
        assert staff_only not in text
    assert page.locator("a[href*='staff']").count() == 0
    assert page.locator("footer:visible").count() == 0


def log_in(page: Page, password: str) -> None:
    page.locator("#staff-user input").fill(STAFF_USER)
    page.locator("#staff-password input").fill(password)
    page.locator("#staff-login").click()


def test_staff_page_at_staff_with_login_details_and_search(
    browser: Browser, url: str, output_dir: Path
) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 1100})
    context.route("**/*", _local_only)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(f"{url}/staff")
    log_in(page, "not the password")
    expect(page.locator("#staff-login-message")).to_contain_text("Wrong username or password")
    expect(page.locator("#staff-content")).to_be_hidden()
    log_in(page, STAFF_PASSWORD)
    expect(page.locator("#staff-content")).to_be_visible()
    page.locator("#staff-chat-input textarea").fill("Can I get microneedling while on Accutane?")
    page.locator("#staff-chat-send").click()
    details = page.locator("#staff-details")
    expect(details).to_contain_text("Verdict: answer")
    expect(details).to_contain_text("Reason: caution")
    expect(details).to_contain_text("Signals:")
    expect(details).to_contain_text("similarity")
    expect(details).to_contain_text("isotretinoin")  # the safety flag
    expect(page.locator("#staff-retrieved")).to_contain_text("keyword rank")
    shoot(page, output_dir, "staff-view.png", docs_name="staff-view.png")
    page.get_by_role("tab", name="Search passages").click()
    page.locator("#staff-search-input textarea").fill("numbing cream")
    page.locator("#staff-search").click()
    expect(page.locator("#staff-search-summary")).to_contain_text("passages for “numbing cream”")
    expect(page.locator("#staff-search-results")).to_contain_text("Numbing Cream")
    shoot(page, output_dir, "staff-search.png")
    page.get_by_role("tab", name="Sources").click()
    expect(page.locator("#staff-articles")).to_contain_text("Women's Health")
    context.close()
