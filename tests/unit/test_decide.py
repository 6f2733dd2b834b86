"""The one decision on a question, on hand-made signals: each outcome and its reason."""

from __future__ import annotations

import dataclasses

from assistant.answer.decide import decide
from assistant.answer.gate import Signals
from assistant.schema import Outcome, Reason
from assistant.tuning import DEFAULT

T = DEFAULT
CLOSE = Signals(similarity=T.gate_min_similarity + 0.1, coverage=1.0, key_term="pain", domain=True)


def test_a_close_passage_holding_the_question_terms_is_an_answer() -> None:
    verdict = decide(CLOSE, T)
    assert (verdict.outcome, verdict.reason) == (Outcome.ANSWER, Reason.ANSWERED)
    assert verdict.answerable and verdict.similarity == CLOSE.similarity


def test_a_unit_holding_the_asked_value_answers_below_the_similarity_bar() -> None:
    low = dataclasses.replace(CLOSE, similarity=T.gate_min_similarity - 0.05)
    assert decide(low, T).outcome is Outcome.RELATED
    verdict = decide(low, T, typed="time")
    assert verdict.outcome is Outcome.ANSWER and verdict.typed_evidence == "time"


def test_an_asked_value_no_quote_holds_makes_it_related() -> None:
    verdict = decide(CLOSE, T, missing="price")
    assert (verdict.outcome, verdict.reason) == (Outcome.RELATED, Reason.MISSING_VALUE)
    assert verdict.missing_answer_type == "price"


def test_a_safety_referral_is_declined_whatever_the_signals() -> None:
    verdict = decide(CLOSE, T, referral=True)
    assert (verdict.outcome, verdict.reason) == (Outcome.DECLINED, Reason.SAFETY_REFERRAL)


def test_a_safety_question_is_answered_by_its_caution() -> None:
    far = dataclasses.replace(CLOSE, similarity=0.3, coverage=0.2)
    verdict = decide(far, T, caution=True)
    assert (verdict.outcome, verdict.reason) == (Outcome.ANSWER, Reason.CAUTION)


def test_an_unknown_key_subject_is_declined_as_uncovered() -> None:
    uncovered = Signals(0.45, 0.2, "insur", key_known=False, unknown_share=0.8, domain=False)
    verdict = decide(uncovered, T)
    assert (verdict.outcome, verdict.reason) == (Outcome.DECLINED, Reason.UNCOVERED_SUBJECT)


def test_an_unknown_key_word_in_a_skin_care_question_gets_related_passages() -> None:
    toner = Signals(0.45, 0.2, "toner", key_known=False, unknown_share=0.8, domain=True)
    verdict = decide(toner, T)
    assert (verdict.outcome, verdict.reason) == (Outcome.RELATED, Reason.UNCOVERED_SUBJECT)
    assert decide(toner, T, related=False).outcome is Outcome.DECLINED


def test_a_question_outside_the_domain_with_nothing_close_is_off_topic() -> None:
    weather = Signals(0.1, 0.0, "weather", domain=False)
    assert decide(weather, T).reason is Reason.OFF_TOPIC


def test_the_uncertain_middle_is_related_not_declined() -> None:
    middle = Signals(T.related_similarity + 0.05, 0.3, "recoveri", domain=True)
    verdict = decide(middle, T)
    assert (verdict.outcome, verdict.reason) == (Outcome.RELATED, Reason.LOW_CONFIDENCE)


def test_nothing_to_show_is_a_decline() -> None:
    middle = Signals(T.related_similarity + 0.05, 0.3, "recoveri", domain=True)
    assert decide(middle, T, related=False).outcome is Outcome.DECLINED


def test_another_treatment_is_declined_even_when_passages_look_close() -> None:
    laser = dataclasses.replace(CLOSE, other_subject="laser")
    verdict = decide(laser, T)
    assert (verdict.outcome, verdict.reason) == (Outcome.DECLINED, Reason.UNCOVERED_SUBJECT)


def test_outside_the_domain_the_middle_is_declined_not_related() -> None:
    trivia = Signals(T.related_similarity + 0.1, 0.3, "frenchi", domain=False)
    assert decide(trivia, T).outcome is Outcome.DECLINED


def test_a_passage_headed_by_the_key_term_answers_below_the_similarity_bar() -> None:
    headed = dataclasses.replace(
        CLOSE, similarity=T.heading_min_similarity + 0.05, coverage=0.3, heading_term="pain"
    )
    verdict = decide(headed, T, headed=True)
    assert (verdict.outcome, verdict.reason) == (Outcome.ANSWER, Reason.ANSWERED)
    assert verdict.heading_term == "pain"
    # Nothing under that heading close enough to quote, or the rule switched off: not so.
    assert decide(headed, T, headed=False).outcome is not Outcome.ANSWER
    off = dataclasses.replace(T, off=frozenset({"heading"}))
    assert decide(headed, off, headed=True).outcome is not Outcome.ANSWER
    # What was asked for (a price) in no quote still makes it related.
    assert decide(headed, T, headed=True, missing="price").outcome is Outcome.RELATED


def test_another_treatment_is_declined_even_under_a_matching_heading() -> None:
    other = dataclasses.replace(CLOSE, coverage=0.3, heading_term="peel", other_subject="peel")
    assert decide(other, T, headed=True).reason is Reason.UNCOVERED_SUBJECT


def test_a_safety_topic_in_the_background_is_answered_by_its_caution() -> None:
    far = dataclasses.replace(CLOSE, similarity=0.2, coverage=0.1, domain=False)
    assert decide(far, T).outcome is Outcome.DECLINED
    verdict = decide(far, T, background_caution=True)
    assert (verdict.outcome, verdict.reason) == (Outcome.ANSWER, Reason.CAUTION)
    # ... but a situation the articles do not cover is still referred, and another
    # treatment still declined.
    assert decide(far, T, background_caution=True, referral=True).reason is (Reason.SAFETY_REFERRAL)
    other = dataclasses.replace(far, other_subject="laser")
    assert decide(other, T, background_caution=True).reason is Reason.UNCOVERED_SUBJECT
