"""The client page's server side on the real app: answer cards from the reply's fields,
``/chat/ask`` (one line in extractive mode, verified text streamed in LLM mode),
``/chat/feedback``, the article page, the clinic hand-off, the suggested questions, and
the staff page kept off the public page."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from html import unescape
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from tests.servers import app_settings, running_app

from .test_app import COST_QUESTION, CountingBot

pytestmark = [
    pytest.mark.filterwarnings("ignore:'future.no_silent_downcasting'"),
    pytest.mark.filterwarnings("ignore:The copy keyword is deprecated"),
]
HURT = "Does microneedling hurt?"


@pytest.fixture(scope="module")
def settings(built_settings, tmp_path_factory) -> Any:
    return app_settings(
        built_settings,
        tmp_path_factory.mktemp("client"),
        staff_user="staff",
        staff_password=SecretStr("correct horse"),
    )


@pytest.fixture(scope="module")
def url(bot, settings) -> Iterator[str]:
    with running_app(bot, settings) as base:
        yield base


def ask_lines(url: str, question: str, history: list[Any] | None = None) -> list[dict]:
    response = httpx.post(
        f"{url}/chat/ask", json={"question": question, "history": history or []}, timeout=60
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/x-ndjson")
    return [json.loads(line) for line in response.text.splitlines() if line.strip()]


def answer_of(url: str, question: str, history: list[Any] | None = None) -> dict[str, Any]:
    lines = ask_lines(url, question, history)
    assert lines[-1]["type"] == "answer", lines
    return lines[-1]


# -- /chat/ask -------------------------------------------------------------------------
def test_extractive_answer_is_one_line_with_the_card(url, bot) -> None:
    lines = ask_lines(url, HURT)
    assert [line["type"] for line in lines] == ["answer"]  # no simulated typing
    card = lines[0]
    reply = bot.ask(HURT).to_dict()
    assert card["outcome"] == "answer" and card["answer"] == reply["answer"]
    html = card["html"]
    lead = next(c for c in reply["citations"] if c["role"] == "lead")
    # The lead is its own prominent paragraph, with its chip.
    assert re.search(r'<p class="sq-lead">[^<]*Generally, it can be performed without any', html)
    assert f'aria-controls="{card["id"]}-p{lead["n"]}"' in html
    # Each citation's passage once, hidden until its chip opens it; "more" ones folded.
    for c in reply["citations"]:
        assert html.count(f'id="{card["id"]}-p{c["n"]}"') == 1
    more = [c for c in reply["citations"] if c["role"] == "more"]
    assert more and '<details class="sq-more">' in html
    assert f"More from the articles ({len(more)})" in html
    # Supporting quotes: at most two bullets in the body.
    body = html.split('<div class="sq-body">')[1].split("</div>")[0]
    assert body.count("<li>") <= 2
    assert card["announce"].startswith("Answer: Generally, it can be performed")
    assert "[1]" not in card["announce"]


def test_a_quote_is_shown_once(url) -> None:
    card = answer_of(url, "How often should I have microneedling sessions?")
    html = card["html"]
    # The passage card repeats the quote inside <mark> (hidden until opened); besides
    # it, the text appears once: no Sources block repeating every quote.
    body_and_more = re.sub(r'<div class="sq-passages">.*', "", html)
    assert body_and_more.count("A series of six treatments every two to four weeks") == 1
    assert "Sources" not in html


class StreamCountingBot(CountingBot):
    def ask_stream(self, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        return self._bot.ask_stream(*args, **kwargs)


def test_the_chat_computes_each_answer_once(bot, built_settings, tmp_path) -> None:
    spy = StreamCountingBot(bot)
    with running_app(spy, app_settings(built_settings, tmp_path)) as base:
        ask_lines(base, HURT)
        assert spy.calls == 1
        ask_lines(base, COST_QUESTION)
        assert spy.calls == 2


def test_a_follow_up_uses_the_history(url, bot) -> None:
    first = answer_of(url, COST_QUESTION)
    history = [
        {"role": "user", "content": COST_QUESTION},
        {"role": "assistant", "content": first["answer"]},
    ]
    follow = answer_of(url, "and how often?", history)
    expected = bot.ask("and how often?", history)
    assert expected.context == COST_QUESTION  # the engine read it as a follow-up ...
    assert follow["answer"] == expected.answer  # ... and so did the chat


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"question": ""}, 400, "empty"),
        ({"question": "hi", "history": "nope"}, 400, "history must be a JSON list"),
        ({"question": "Does it hurt? " * 2000}, 413, "too long"),
    ],
)
def test_bad_questions_are_refused_before_any_line(url, body, status, message) -> None:
    response = httpx.post(f"{url}/chat/ask", json=body, timeout=30)
    assert response.status_code == status
    assert message in response.json()["error"]


def test_rate_limit_is_a_429_with_the_message(bot, built_settings, tmp_path) -> None:
    with running_app(bot, app_settings(built_settings, tmp_path, rate_limit_per_minute=1)) as base:
        ask_lines(base, HURT)
        response = httpx.post(f"{base}/chat/ask", json={"question": HURT}, timeout=30)
    assert response.status_code == 429
    assert response.json()["error"] == "Too many questions in a short time; please wait a minute."


# -- hand-off to the clinic ------------------------------------------------------------
def test_decline_shows_the_contact_route_and_no_chips(url) -> None:
    card = answer_of(url, "What's the weather in Paris?")
    assert card["outcome"] == "declined"
    assert 'class="sq-contact"' in card["html"] and 'href="tel:+15550100"' in card["html"]
    assert "sq-suggest" not in card["html"]  # never suggestions under a decline
    assert "sq-chip" not in card["html"]


def test_urgent_note_comes_first_with_the_contact_route(url) -> None:
    card = answer_of(url, "my face is really swollen and hot 3 days after, is that normal?")
    html = card["html"]
    assert html.index("sq-note-urgent") < html.index("sq-contact") < html.index("sq-body")
    assert "Contact Sample Skin Clinic now" in unescape(html)


@pytest.mark.parametrize(
    ("question", "intro"),
    [
        ("can you book me an appointment", "I can't book appointments myself"),
        (COST_QUESTION, "For Sample Skin Clinic's own prices"),
    ],
)
def test_booking_and_price_requests_show_the_contact_route(url, question, intro) -> None:
    html = answer_of(url, question)["html"]
    assert intro in unescape(html)
    assert 'href="https://clinic.example/book"' in html


def test_a_plain_answer_has_no_contact_route(url) -> None:
    assert "sq-contact" not in answer_of(url, HURT)["html"]


# -- suggested next questions ----------------------------------------------------------
def test_answers_get_two_or_three_suggestions_never_the_question_asked(url) -> None:
    card = answer_of(url, HURT)
    chips = re.findall(r'<button type="button" class="sq-ask">([^<]+)</button>', card["html"])
    assert 2 <= len(chips) <= 3
    assert HURT not in chips


@pytest.mark.parametrize(
    ("message", "kind", "chips"),
    [
        ("thanks so much, bye!", "thanks", False),
        ("that's all, have a good day", "goodbye", False),
        ("hiya", "greeting", True),  # a greeting still offers the starter questions
    ],
)
def test_no_suggestions_after_a_goodbye(url, bot, message, kind, chips) -> None:
    card = answer_of(url, message)
    assert card["outcome"] == "small_talk" and bot.ask(message).small_talk == kind
    assert ('class="sq-suggest"' in card["html"]) is chips


def chips_of(card: dict[str, Any]) -> list[str]:
    return [
        unescape(q)
        for q in re.findall(r'<button type="button" class="sq-ask">([^<]+)</button>', card["html"])
    ]


def test_a_question_asked_in_other_words_is_not_suggested_again(url) -> None:
    many = "How many microneedling sessions will I need?"
    asked = "how many treatments would I need?"
    first = answer_of(url, asked)
    assert first["outcome"] == "answer"
    assert many not in chips_of(first) and len(chips_of(first)) >= 2
    # Nor later in the conversation.
    history = [
        {"role": "user", "content": asked},
        {"role": "assistant", "content": first["answer"]},
    ]
    later = answer_of(url, "and what does it cost?", history)
    assert many not in chips_of(later) and len(chips_of(later)) >= 2


def test_a_question_asked_with_a_typo_is_not_suggested_again(url) -> None:
    makeup = "Can I wear makeup after microneedling?"
    history = [
        {"role": "user", "content": "how long will i be red for?"},
        {"role": "assistant", "content": "…"},
        {"role": "user", "content": "can i wear makup after?"},  # "makup": read as makeup
        {"role": "assistant", "content": "…"},
    ]
    card = answer_of(url, "which serums go well with it?", history)
    assert card["outcome"] == "answer"
    assert makeup not in chips_of(card) and len(chips_of(card)) >= 2


def test_a_question_asked_before_the_history_is_not_suggested_again(url) -> None:
    many = "How many microneedling sessions will I need?"

    def chips(asked: Any) -> list[str]:
        body = {"question": "what does it cost?", "history": [], "asked": asked}
        response = httpx.post(f"{url}/chat/ask", json=body, timeout=60)
        assert response.status_code == 200
        return chips_of(json.loads(response.text.splitlines()[-1]))

    assert many in chips([])  # what the price's answer offers first ...
    # ... unless the page says the client asked it earlier, beyond the history it sends.
    earlier = ["hi", "how many treatments would I need?", "is it sore?"]
    assert many not in chips(earlier) and len(chips(earlier)) >= 2
    assert many in chips("not a list") and many in chips([3, None])  # ignored


def test_every_suggested_question_is_answered_by_the_articles(bot) -> None:
    from assistant.web.suggest import Suggester

    questions = Suggester.from_package().questions()
    assert len(questions) >= 20
    outcomes = {q: bot.ask(q).outcome.value for q in questions}
    assert [q for q, o in outcomes.items() if o != "answer"] == []


# -- rendering -------------------------------------------------------------------------
def test_passage_shows_the_sentences_around_the_quote(url) -> None:
    html = answer_of(url, HURT)["html"]
    card = re.search(r'<div class="sq-passage" id="[^"]+-p1".*?</div></div>', html).group(0)
    assert "What’s the Pain Like?" in card and "Microneedling: What to Know" in card
    context, quote = re.search(
        r'<span class="sq-ctx">(.*?)</span> <mark>(.*?)</mark>', card
    ).groups()
    assert context.startswith("While every person’s pain tolerance is different")
    assert quote.startswith("Generally, it can be performed without any numbing")
    assert "/articles/womens-health-microneedling-basics?start=" in card


# -- the article page ------------------------------------------------------------------
def test_article_page_highlights_the_cited_passage(url, bot) -> None:
    citation = next(c for c in bot.ask(HURT).to_dict()["citations"] if c["role"] == "lead")
    path = f"/articles/{citation['doc_id']}?start={citation['start']}&end={citation['end']}"
    page = httpx.get(url + path, timeout=10)
    assert page.status_code == 200
    marked = re.search(r'<mark id="passage">(.*?)</mark>', page.text, re.DOTALL).group(1)
    assert marked.startswith("Generally, it can be performed without any numbing")
    assert "<h1>Microneedling: What to Know Before You Try It</h1>" in page.text
    assert "<h2>What’s the Pain Like?</h2>" in page.text
    assert "source_file" not in page.text  # front matter is not shown


@pytest.mark.parametrize("path", ["/articles/nope", "/articles/..%2F..%2Fetc%2Fpasswd"])
def test_unknown_article_is_a_404(url, path) -> None:
    response = httpx.get(url + path, timeout=10)
    assert response.status_code == 404
    assert "root:" not in response.text


# -- feedback --------------------------------------------------------------------------
def test_votes_and_comments_are_logged_with_the_answer(url, settings) -> None:
    card = answer_of(url, COST_QUESTION)
    feedback = settings.feedback_file
    before = feedback.read_text("utf-8").splitlines() if feedback.exists() else []
    vote = httpx.post(f"{url}/chat/feedback", json={"id": card["id"], "vote": "down"}, timeout=10)
    assert vote.json() == {"ok": True, "message": "Thanks for your feedback."}
    comment = {"id": card["id"], "vote": "down", "comment": "  The price may be old.  "}
    sent = httpx.post(f"{url}/chat/feedback", json=comment, timeout=10)
    assert sent.json()["message"] == "Thank you, your comment was sent."
    records = [json.loads(x) for x in feedback.read_text("utf-8").splitlines()[len(before) :]]
    assert [(r["event"], r["vote"], r["comment"]) for r in records] == [
        ("vote", "down", None),
        ("comment", "down", "The price may be old."),
    ]
    assert records[0]["question"] == COST_QUESTION and records[0]["answer"] == card["answer"]
    assert "$700" in records[0]["citations"][0]["text"]


@pytest.mark.parametrize(
    ("body", "status"),
    [({"id": "a-not-an-answer", "vote": "up"}, 410), ({"id": 3, "vote": "up"}, 400),
     ({"id": "x", "vote": "maybe"}, 400)],
)  # fmt: skip
def test_bad_feedback_is_refused_with_a_message(url, body, status) -> None:
    response = httpx.post(f"{url}/chat/feedback", json=body, timeout=10)
    assert response.status_code == status and response.json()["error"]


# -- pages -----------------------------------------------------------------------------
def test_public_page_config_holds_nothing_of_the_staff_page(url) -> None:
    config = httpx.get(f"{url}/config", timeout=10).json()
    text = json.dumps(config)
    for staff_only in ("staff-login", "Staff login", "SKINQA_STAFF", "retrieved", "Log in"):
        assert staff_only not in text
    assert config["footer_links"] == []
    assert [d["api_name"] for d in config["dependencies"]] == ["ask"]
    staff = httpx.get(f"{url}/staff", timeout=10, follow_redirects=True)
    assert staff.status_code == 200 and str(staff.url).endswith("/staff/")
    assert "Staff login" in json.dumps(httpx.get(f"{url}/staff/config", timeout=10).json())


def test_health(url) -> None:
    assert httpx.get(f"{url}/chat/health", timeout=10).json() == {"ok": True}


# -- LLM mode: real streaming ----------------------------------------------------------
def test_llm_mode_streams_verified_text_then_the_card(bot, built_settings, tmp_path) -> None:
    from assistant.answer.pipeline import Assistant
    from assistant.llm import LLMGenerator

    from ..fake_openai import FakeOpenAI

    with FakeOpenAI() as fake:
        settings = app_settings(
            built_settings, tmp_path, generator="llm", llm_base_url=fake.base_url,
            llm_model="fake-model", llm_timeout=5.0,
        )  # fmt: skip
        llm_bot = Assistant(settings, bot.index, bot.embedder, LLMGenerator.from_settings(settings))
        fake.push(
            # Source 1 is the "numbing" sentence, 2 the "redness" one (the prompt's order).
            "It can generally be performed without any numbing solution or anesthesia [1].\n"
            "Microneedling cures acne for everyone [3].\n"
            "Expect some redness after the procedure, which should die down in a few hours [2].",
            words_per_chunk=2,
            chunk_delay=0.02,
        )
        with running_app(llm_bot, settings) as base:
            lines = ask_lines(base, HURT)
    kinds = [line["type"] for line in lines]
    assert kinds[-1] == "answer" and kinds.count("delta") >= 1
    streamed = "".join(line["text"] for line in lines if line["type"] == "delta")
    assert "cures acne" not in streamed  # only verified sentences are ever sent
    assert "numbing solution" in streamed
    assert "numbing solution" in lines[-1]["html"] and "cures acne" not in lines[-1]["html"]
