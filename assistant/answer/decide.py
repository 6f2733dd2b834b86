"""The one decision on a message: answer, related, or declined, and why.

Everything that decides an outcome is here, read from the gate's ``Signals`` and the
answer checks; the thresholds are ``Tuning``'s. In order:

1. a situation the articles do not cover at all (a child, a pet): declined, with notes;
2. the articles answer it: a close unit and most of the question's terms in one chunk,
   or a unit holding the asked-for value (a time, a price), or a top passage's own heading
   holding the question's key term — unless what the question asks for (a price, whether
   it removes X) is in no quote; or the question raises a safety topic ("can I do it
   while pregnant?") whose caution the articles state — or, when nothing else answers
   it, its background or the turn it leans on does;
3. it is about another treatment ("how many laser hair removal sessions?"): declined,
   microneedling passages do not answer it; and when its key subject is in no article
   ("insurance") and nothing comes close, declined too;
4. not about the domain and nothing close: declined as off-topic;
5. the uncertain middle of a question about the domain: related passages, plainly
   marked as not a direct answer; anything else is declined.

>>> from assistant.answer.gate import Signals
>>> decide(Signals(0.8, 1.0, "pain"), DEFAULT).outcome.value
'answer'
>>> decide(Signals(0.2, 0.0, "weather", key_known=False, unknown_share=0.9), DEFAULT).reason.value
'uncovered_subject'
"""

from __future__ import annotations

from ..schema import Outcome, Reason, Verdict
from ..tuning import DEFAULT, Tuning
from .gate import Signals

__all__ = ["DEFAULT", "decide"]


def decide(
    signals: Signals,
    tuning: Tuning,
    *,
    typed: str | None = None,
    missing: str | None = None,
    referral: bool = False,
    caution: bool = False,
    related: bool = True,
    headed: bool = False,
    background_caution: bool = False,
) -> Verdict:
    """The verdict on a question, from its signals.

    ``typed``: the kind of value ("time", "price") a close-enough unit holds for the
    question; ``missing``: what the question asks for that no quote holds; ``referral``:
    a safety topic the articles do not cover was raised; ``caution``: the question
    itself raises a safety topic whose caution the articles state; ``related``: there
    are passages to show as related (close enough to quote, or cautions); ``headed``:
    a unit under the heading that holds the key term is close enough to quote;
    ``background_caution``: the message's background or the turn it leans on raises a
    safety topic whose caution the articles state.
    """
    s, t = signals, tuning

    def verdict(outcome: Outcome, reason: Reason) -> Verdict:
        return Verdict(
            outcome,
            reason,
            similarity=s.similarity,
            coverage=s.coverage,
            key_term=s.key_term,
            key_known=s.key_known,
            other_subject=s.other_subject,
            heading_term=s.heading_term if outcome is Outcome.ANSWER else None,
            unknown_terms=s.unknown_terms,
            unknown_share=s.unknown_share,
            typed_evidence=typed if outcome is Outcome.ANSWER else None,
            missing_answer_type=missing,
            weights=s.weights,
        )

    if referral:
        return verdict(Outcome.DECLINED, Reason.SAFETY_REFERRAL)
    close = s.close(t)
    if caution:
        return verdict(Outcome.ANSWER, Reason.CAUTION)
    if s.other_subject is not None:
        return verdict(Outcome.DECLINED, Reason.UNCOVERED_SUBJECT)
    if (close or typed) and missing is None:
        return verdict(Outcome.ANSWER, Reason.ANSWERED)
    # A section headed by what the question is about ("when can I go back to the gym?" ->
    # "Avoid Strenuous Exercise ..."), its sentences scored low by the small model.
    on_heading = s.heading_term is not None and headed and t.on("heading")
    if on_heading and missing is None:
        return verdict(Outcome.ANSWER, Reason.ANSWERED)
    if background_caution:
        # Nothing answers the question itself, but what the client said around it raises
        # a safety topic ("... two courses of roaccutane ... when could she start?"): a
        # health question always gets its caution, never a bare decline.
        return verdict(Outcome.ANSWER, Reason.CAUTION)
    if not s.domain and s.similarity < t.off_topic_similarity:
        return verdict(Outcome.DECLINED, Reason.OFF_TOPIC)
    if not s.key_known and s.unknown_share >= t.uncovered_share:
        # Something close may still help ("toner" is near the articles' "acids"), and a
        # question about skin care gets the closest passages; otherwise it is outside.
        near = s.similarity >= (t.related_similarity if s.domain else t.gate_min_similarity)
        if related and near:
            return verdict(Outcome.RELATED, Reason.UNCOVERED_SUBJECT)
        return verdict(Outcome.DECLINED, Reason.UNCOVERED_SUBJECT)
    if not related:
        return verdict(Outcome.DECLINED, Reason.LOW_CONFIDENCE)
    if close or typed or on_heading:
        return verdict(Outcome.RELATED, Reason.MISSING_VALUE)
    # Related passages are for questions about the domain; trivia that happens to share
    # a word with one aside ("who played Frenchie in Grease?") is declined.
    if s.similarity >= t.related_similarity and s.domain:
        return verdict(Outcome.RELATED, Reason.LOW_CONFIDENCE)
    return verdict(Outcome.DECLINED, Reason.LOW_CONFIDENCE)
