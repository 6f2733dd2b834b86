"""LLM mode's verification against the scripted OpenAI-compatible server
(tests/fake_openai.py) and the real engine: a stream cut off before its end, the
promotion of related replies, no markup through the CLI, one model call per answer."""

from __future__ import annotations

import json
import os
from typing import Any

import pytest

from assistant.answer.pipeline import Assistant
from assistant.answer.support import SupportChecker
from assistant.llm.prompt import Prompts
from assistant.llm.verify import Verifier
from assistant.schema import Citation, Outcome
from tests.conftest import CORPUS
from tests.fake_openai import FakeOpenAI
from tests.scripted_llm import number_of

PROMPTS = Prompts.from_package()
HURT = "Does it hurt?"
# Sentences of the passages the engine provides for HURT, whatever their numbers.
NUMBING = "It can generally be performed without any numbing solution or anesthesia."
REDNESS = "Expect some redness after the procedure, which should die down in a few hours."
# A reply the engine calls related (low confidence) and the term its gate keys on.
UNSURE = "How much does a derma pen cost?"
PENS = "Professional treatments use advanced devices like derma pens or derma rollers."
# The scripted server ``fake`` and ``llm_bot`` on it are tests/conftest.py's.
pytestmark = pytest.mark.usefixtures("fresh_script")


# -- the engine with the scripted server --------------------------------------------------
def numbered(*lines: tuple[str, str]):
    """(sentence, snippet): each sentence cited with the provided source holding the snippet."""

    def content(request: dict[str, Any]) -> str:
        return "\n".join(f"{text} [{number_of(request, snippet)}]" for text, snippet in lines)

    return content


@pytest.mark.parametrize(
    "ending",
    [{"done": False, "finish": None}, {"done": False}, {"finish": "length"}],
    ids=["connection-closed", "no-terminator", "token-limit"],
)
def test_a_cut_off_stream_shows_only_complete_verified_sentences(
    llm_bot: Assistant, fake: FakeOpenAI, ending: dict[str, Any]
) -> None:
    def content(request: dict[str, Any]) -> str:
        n, m = number_of(request, "without any numbing"), number_of(request, "expect some redness")
        return f"{NUMBING} [{n}]\n{REDNESS} [{m}]\nIt can be done in about 4"

    fake.push(content, words_per_chunk=2, **ending)
    reply = llm_bot.ask(HURT)
    assert reply.generator == "llm"
    assert "without any numbing solution or anesthesia. [1]" in reply.body
    assert "die down in a few hours. [2]" in reply.body
    assert "about 4" not in reply.answer
    assert reply.notes[-1].text == PROMPTS.notes["incomplete"]
    assert {"sentence": "It can be done in about 4", "reason": "cut off: the stream ended"} in (
        reply.dropped
    )


def test_a_complete_stream_has_no_note(llm_bot: Assistant, fake: FakeOpenAI) -> None:
    fake.push(numbered((NUMBING, "without any numbing")))
    reply = llm_bot.ask(HURT)
    assert reply.generator == "llm"
    assert not any(n.kind == "llm" for n in reply.notes)


def test_a_stream_cut_before_any_complete_sentence_falls_back(
    llm_bot: Assistant, extractive: Assistant, fake: FakeOpenAI
) -> None:
    fake.push("It can generally be performed without", done=False, finish=None)
    reply = llm_bot.ask(HURT)
    assert reply.generator == "extractive-fallback"
    assert reply.answer == f"{extractive.ask(HURT).answer}\n\n> {PROMPTS.notes['cut_off']}"


@pytest.fixture(scope="module")
def extractive(bot: Assistant) -> Assistant:
    return Assistant(bot.settings, bot.index, bot.embedder)


def test_a_related_reply_with_a_verified_answer_is_promoted(
    llm_bot: Assistant, extractive: Assistant, fake: FakeOpenAI
) -> None:
    before = extractive.ask(UNSURE)
    assert before.outcome is Outcome.RELATED, "precondition: the engine is unsure here"
    fake.push(numbered((PENS, "like derma pens")))
    reply = llm_bot.ask(UNSURE)
    assert len(fake.requests) == 1
    assert (reply.outcome, reply.generator, reply.abstained) == (
        Outcome.ANSWER,
        "llm-promoted",
        False,
    )
    assert reply.reason == before.reason  # staff still see why the engine was unsure
    assert PENS in reply.body and reply.lead == 1
    assert not any(n.kind == "related" for n in reply.notes)
    assert reply.citations[0].role.value == "lead"


def test_a_related_reply_streams_nothing_before_it_is_promoted(
    llm_bot: Assistant, fake: FakeOpenAI
) -> None:
    fake.push(numbered((PENS, "like derma pens")), words_per_chunk=2)
    events = list(llm_bot.ask_stream(UNSURE))
    assert len(events) == 1 and events[0].generator == "llm-promoted"


@pytest.mark.parametrize(
    ("script", "note"),
    [
        ("Derma pens cost $20 at any pharmacy [1].", "unverified"),
        (None, "off_subject"),
    ],
    ids=["fabricated", "true-but-about-something-else"],
)
def test_a_related_reply_without_a_fitting_verified_answer_stays_related(
    llm_bot: Assistant, extractive: Assistant, fake: FakeOpenAI, script: str | None, note: str
) -> None:
    off_subject = numbered(
        ("Kerry recommends using a roller with .25 millimeter-sized needles.", "Kerry recommends")
    )
    fake.push(script or off_subject)
    reply = llm_bot.ask(UNSURE)
    assert reply.outcome is Outcome.RELATED and reply.generator == "extractive-fallback"
    assert reply.answer == f"{extractive.ask(UNSURE).answer}\n\n> {PROMPTS.notes[note]}"


def test_a_reply_related_for_a_missing_value_is_not_sent(
    llm_bot: Assistant, fake: FakeOpenAI
) -> None:
    reply = llm_bot.ask("Will microneedling remove my tattoo?")
    assert reply.outcome is Outcome.RELATED and reply.reason.value == "missing_value"
    assert fake.requests == [] and reply.generator == "extractive"


# -- markup never reaches the CLI ----------------------------------------------------------
def test_markup_never_reaches_the_cli(
    fake: FakeOpenAI, built_settings, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    from assistant.cli import main

    for name in [k for k in os.environ if k.startswith("SKINQA_")]:
        monkeypatch.delenv(name)
    env = {
        "SKINQA_DATA_DIR": str(built_settings.data_dir),
        "SKINQA_CORPUS_DIR": str(CORPUS),
        "SKINQA_GENERATOR": "llm",
        "SKINQA_LLM_BASE_URL": fake.base_url,
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    fake.push(
        numbered(
            (
                "It can generally be performed <b>without</b> any numbing solution.",
                "numbing solution",
            )
        )
    )
    assert main(["ask", HURT, "--json"]) == 0
    reply = json.loads(capsys.readouterr().out)
    assert reply["generator"] == "llm" and "without any numbing solution" in reply["answer"]
    assert "<" not in reply["answer"]


# -- cheaper verification ---------------------------------------------------------------
class CountingEmbedder:
    def __init__(self, inner: Any) -> None:
        self.inner, self.calls = inner, []

    def embed(self, texts: list[str], *args: Any, **kwargs: Any) -> Any:
        self.calls.append(len(texts))
        return self.inner.embed(texts, *args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_a_whole_answer_is_verified_in_one_model_call(bot: Assistant) -> None:
    counting = CountingEmbedder(bot.embedder)
    checker = SupportChecker(counting, bot.analyzer, min_similarity=0.65, min_recall=0.6)
    chunk = next(c for c in bot.index.chunks if "without any numbing solution" in c.text)
    source = Citation(1, chunk.doc_id, chunk.title, chunk.section, chunk.text, 0, 0, 1.0)
    answer = "It can be done without any numbing solution [1]. It is tolerable [1]. Yes [1]."
    for _ in range(2):
        verifier = Verifier(checker, [source], [], PROMPTS.cannot_answer)
        verifier.feed(answer, final=True)
    assert len(counting.calls) == 2  # one call per answer, never one per sentence
    # The second answer finds the cited sentences' vectors kept: only its statements.
    assert counting.calls[1] < counting.calls[0]


def test_reply_to_dict_round_trips_the_promoted_generator(llm_bot: Assistant, fake) -> None:
    fake.push(numbered((PENS, "like derma pens")))
    data = llm_bot.ask(UNSURE).to_dict()
    assert data["generator"] == "llm-promoted" and data["outcome"] == "answer"
