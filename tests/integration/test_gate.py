"""The answerability gate's signals on the real model and the real index."""

from __future__ import annotations

import dataclasses

import pytest

from assistant import Assistant
from assistant.answer import gate
from assistant.answer.checks import AnswerTypes
from assistant.answer.query import read_query
from assistant.data import load_wording
from assistant.tuning import DEFAULT

WORDING = load_wording()


def weigh(bot, question: str) -> tuple[dict[str, float], dict[str, float]]:
    """The question's IDF weights, and the same weighed by meaning, with the real model."""
    idf = bot.vocabulary.weights(question)
    texts = gate.leave_one_out(question, list(idf), bot.vocabulary)
    vector, *rest = bot.embedder.embed([question, *texts.values()])
    return idf, gate.weigh_by_meaning(idf, vector, dict(zip(texts, rest, strict=True)))


def test_filler_words_carry_less_weight_than_the_topic(bot) -> None:
    idf, weighted = weigh(bot, "realistically, will microneedling shrink my pores?")
    # By IDF alone the filler word is the heaviest term: the articles never use it.
    assert idf["realist"] > idf["pore"]
    # By the meaning it carries, it is the lightest.
    assert set(weighted) == set(idf)
    assert weighted["pore"] > weighted["shrink"] > weighted["realist"]
    assert weighted["realist"] < 0.2 * weighted["pore"]


def test_a_synonym_phrase_is_left_out_whole(bot) -> None:
    # "a new one" folds to the same term as "swap": leaving out "swap" alone would keep
    # the meaning, so the phrase's words go too.
    question = "should i swap my derma roller for a new one every month?"
    assert gate.leave_one_out(question, ["replac"], bot.vocabulary) == {
        "replac": "should i my derma roller for a every month?"
    }
    idf, weighted = weigh(bot, question)
    assert set(weighted) == {"replac", "everi", "month"}
    vector, without = bot.embedder.embed([question, "should i my derma roller for a every month?"])
    assert weighted["replac"] == pytest.approx(idf["replac"] * (1 - float(vector @ without)))


def test_one_topic_term_keeps_its_idf_weight(bot) -> None:
    idf, weighted = weigh(bot, "tell me about pores")
    assert len(idf) == 1 and weighted == idf


@pytest.fixture(scope="module")
def strict_bot(built_settings, embedder) -> Assistant:
    """An assistant whose plain similarity bar nothing passes: only typed evidence can."""
    tuning = dataclasses.replace(DEFAULT, gate_min_similarity=0.99)
    return Assistant.load(built_settings, embedder=embedder, tuning=tuning)


def test_a_how_long_question_is_answered_on_a_sentence_holding_a_time(strict_bot) -> None:
    reply = strict_bot.ask("how long till my skin glows?")
    assert not reply.abstained
    assert reply.gate["typed_evidence"] == "time"
    first = reply.citations[0]
    assert first.doc_id == "microneedling-benefits-and-cautions"
    assert first.section == "Avoid Some Treatments"
    assert "around three days after microneedling" in first.text
    assert first.text in reply.answer


def test_typed_evidence_needs_the_asked_kind_of_value(strict_bot) -> None:
    reply = strict_bot.ask("does my skin glow after microneedling?")
    assert reply.abstained
    assert reply.gate["typed_evidence"] is None


def test_typed_evidence_needs_the_questions_key_term(strict_bot) -> None:
    # Sentences with spans of time abound (sessions, redness), none about a tattoo's ink.
    reply = strict_bot.ask("how long does tattoo ink take to fade?")
    assert reply.abstained


def test_a_question_about_an_animal_is_declined_with_the_vet_note(bot) -> None:
    reply = bot.ask("can I use a derma roller on my cat's scar?")
    assert reply.abstained
    assert reply.citations == []
    assert reply.safety == ["animals"]
    assert WORDING["veterinary"] in reply.answer
    assert reply.answer.startswith(WORDING["decline"])


def test_permanence_is_answered_only_by_a_quote_about_it(bot) -> None:
    answered = bot.ask("are pores closed for good after microneedling?")
    assert not answered.abstained
    assert "While you can’t permanently “close” pores" in answered.answer
    declined = bot.ask("is the melasma fix from microneedling permanent?")
    assert declined.abstained
    assert declined.gate["missing_answer_type"] == "permanence"


def test_permanence_type_reads_the_question_words() -> None:
    types = AnswerTypes.from_package()
    assert types.asked("will it last forever?").name == "permanence"  # type: ignore[union-attr]
    assert types.asked("how long will it last?") is None
    assert types.evidence_for("how long will it last?").name == "time"  # type: ignore[union-attr]
    assert types.evidence_for("does it hurt?") is None


def test_a_follow_up_is_also_read_as_the_conversation_in_order(bot) -> None:
    turns = [{"role": "user", "content": "is peeling normal after a session?"}]
    query = read_query("when does it stop?", turns, bot.analyzer)
    assert query.text == "when does it stop? (context: is peeling normal after a session?)"
    assert query.conversation == "is peeling normal after a session? when does it stop?"
    assert read_query("when does it stop?", [], bot.analyzer).conversation is None


COST_TURNS = [
    {"role": "user", "content": "how much does a package of microneedling sessions cost?"},
    {"role": "assistant", "content": "A package can run up to $700."},
]


def test_a_follow_up_leans_on_its_context_unless_it_brings_a_new_topic(bot) -> None:
    leaning = bot.ask("and the at-home roller?", history=COST_TURNS)
    assert not leaning.abstained
    assert leaning.gate["coverage"] == 1.0  # the context's terms, all in one passage
    # "dental" and "plan" are in no article: the context's coverage does not carry them.
    new_topic = bot.ask("would my dental plan cover that?", history=COST_TURNS)
    assert new_topic.abstained
    assert new_topic.gate["coverage"] < 0.5


def test_a_price_is_quoted_with_the_thing_it_is_the_price_of(bot) -> None:
    reply = bot.ask("how much is kerry's micro-roller?")
    assert not reply.abstained
    assert "Collagen Boosting Micro-Roller ($30)" in reply.citations[0].text


def test_a_length_in_mm_must_be_the_length_asked_about(bot) -> None:
    # The articles give millimetres for home rollers only, not for clinic treatments.
    clinic = bot.ask("what needle length does a clinic use for deep scars, in mm?")
    assert clinic.abstained and clinic.gate["missing_answer_type"] == "measurement"
    home = bot.ask("what size needles are good for a home roller?")
    assert not home.abstained
    assert ".25 millimeter-sized needles" in home.answer


def test_the_effect_check_finds_the_thing_asked_about() -> None:
    effect = AnswerTypes.from_package().effect
    assert effect is not None

    def thing(question: str) -> str | None:
        found = next((m for p in effect.questions if (m := p.search(question))), None)
        return found.group("object").strip() if found else None

    assert thing("does microneedling on the scalp help with thinning hair?") == "thinning hair?"
    assert thing("can i use my roller on my scalp to help my hair grow?") == "my hair grow?"
    assert thing("if i microneedle over it will the ink fade?") == "ink"
    assert thing("does microneedling hurt?") is None
