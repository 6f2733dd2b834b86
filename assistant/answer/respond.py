"""Respond stage: judge a retrieved question, pick the quotes, and build the reply.

``Responder`` holds what answering needs (tuning, model, analyzer, safety rules, answer
checks, vetted wording); ``Assistant`` (pipeline.py) reads the message, retrieves, and
hands it the hits. The outcome is ``decide``'s; this module gathers what it reads and
renders what it decided: an answer leads with the unit that answers, a related reply
says plainly that the articles do not answer directly, a decline quotes nothing.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ..data import domain_pattern
from ..embeddings import Embedder
from ..index.analyzer import Analyzer
from ..index.vocabulary import Vocabulary
from ..schema import Hit, Note, Query, Reason, Reply
from ..text import NUMBER, quantities
from ..tuning import Tuning
from . import compose, gate
from .adapter import LeadAdapter
from .checks import AnswerChecks, AnswerTypes
from .decide import decide
from .live import Snapshot
from .readings import SUBJECT_WORDS, Readings, anchored_vector, embed_readings
from .reply import Quotes, build_reply, small_talk_reply
from .retrieve import rerank
from .safety import SafetyRules, SafetyTopic, add_cautions

# The patterns of data/domain.yaml, compiled once.
_QUANTITY_QUESTION = domain_pattern("quantity_question")
_COUNT_QUESTION = domain_pattern("count_question")
_FREQUENCY_QUESTION = domain_pattern("frequency_question")
_DURATION_QUESTION = domain_pattern("duration_question")
_INTERVAL = domain_pattern("interval_marker")


def _holds_quantity(question: str, text: str) -> bool:
    """Whether ``text`` states the kind of number the question asks for: an interval for
    how often, a count for how many, a span that is no interval for how long."""
    if _FREQUENCY_QUESTION.search(question):
        return bool(NUMBER.search(text) and _INTERVAL.search(text))
    if _COUNT_QUESTION.search(question):
        return bool(NUMBER.search(text))
    if _DURATION_QUESTION.search(question):
        return bool(quantities(text)) and not _INTERVAL.search(text)
    return bool(quantities(text))


class Responder:
    """Turns a retrieved question into a ``Reply``: every sentence quoted or vetted."""

    def __init__(
        self,
        tuning: Tuning,
        embedder: Embedder,
        analyzer: Analyzer,
        safety_rules: SafetyRules,
        wording: dict[str, str],
        adapter: LeadAdapter | None = None,
    ) -> None:
        self.tuning = tuning
        self.adapter = adapter if tuning.on("lead_adapter") else None
        self.embedder = embedder
        self.analyzer = analyzer
        self.safety_rules = safety_rules
        self.wording = wording
        self.answer_types = AnswerTypes.from_package()
        self.checks = AnswerChecks(
            self.answer_types,
            analyzer,
            min_similarity=tuning.sentence_min_similarity,
            min_share=tuning.gate_min_coverage,
            whole_similarity=tuning.evidence_whole_similarity,
        )
        # Embeddings of fixed texts from the data files (the safety topics' queries),
        # computed on first use: they depend only on the model, never on a question.
        self._fixed_vectors: dict[str, np.ndarray] = {}

    # -- readings ------------------------------------------------------------------
    def readings(self, query: Query, vocabulary: Vocabulary) -> Readings:
        """The query's embedded readings (see ``readings.embed_readings``)."""
        return embed_readings(query, vocabulary, self.analyzer, self.embedder, self.tuning)

    # -- judging -------------------------------------------------------------------
    def judge(
        self, live: Snapshot, query: Query, hits: list[Hit], readings: Readings
    ) -> tuple[list[compose.Candidate], gate.Signals]:
        """Quotable candidates scored against ``readings``, and the gate's signals."""
        vocabulary = live.vocabulary
        own = vocabulary.weights(query.question)
        rows = [live.retriever.row_of(h) for h in hits]
        pool = compose.candidates(
            live.index,
            hits,
            rows,
            readings.matrix(),
            self.analyzer,
            own or vocabulary.weights(query.text),
            self.tuning,
            rank_by=Readings.FOCUS_ROW,
            answer_vector=None if self.adapter is None else self.adapter.vector(readings.query),
        )
        signals = gate.assess(
            query.question,
            hits,
            max((c.similarity for c in pool), default=0.0),
            vocabulary,
            self.embedder,
            # Switched off, no unknown word is ever chit-chat.
            noise_similarity=self.tuning.gate_noise_similarity
            if self.tuning.on("chit_chat")
            else 2.0,
            follow_up=query.context,
            # The query's vector is the question's too unless a follow-up was rewritten.
            question_vector=readings.query if query.context is None else None,
            heading_hits=self.tuning.heading_hits,
        )
        return pool, signals

    def reply(
        self,
        live: Snapshot,
        query: Query,
        hits: list[Hit],
        readings: Readings,
        topics: list[SafetyTopic],
    ) -> Reply:
        """The reply to a retrieved question: judged, quoted, checked, with cautions."""
        t = self.tuning
        question = query.question
        pool, signals = self.judge(live, query, hits, readings)
        close = signals.similarity >= t.gate_min_similarity
        if (
            not close
            and (signals.coverage >= 1.0 or signals.key_known)
            and not SUBJECT_WORDS.search(query.text)
            and t.on("anchored")
        ):
            # The question names no subject and its key word is an article word ("what do
            # clinics use versus the ones sold for home?"): read it as the question about
            # microneedling it is, even when not every topic word is in one passage (it once
            # had to be; measured 2026-12-02 on every set). A question whose key word is in
            # no article ("what would settle it down?") is not anchored: every generic
            # sentence about microneedling would look close. A stricter bar: the anchored
            # reading makes every passage look a bit closer.
            pool2, signals2 = self.judge(
                live, query, hits, readings.plus(anchored_vector(query, self.embedder))
            )
            if signals2.similarity >= t.gate_anchored_similarity:
                pool, signals = pool2, signals2
        exclude = [p for topic in topics for p in topic.exclude]
        pool = [c for c in pool if not any(p.search(c.sentence.text) for p in exclude)]
        known = live.vocabulary.df.keys()

        kind = self.answer_types.evidence_for(question)
        typed = None
        if (
            kind is not None
            and signals.similarity >= t.gate_typed_similarity
            and t.on("typed_evidence")
        ):
            typed = self.checks.evidence(question, pool, signals, known, kind)
        if (
            typed is not None
            and _QUANTITY_QUESTION.search(question)
            and not _holds_quantity(question, typed.sentence.text)
        ):
            typed = self._quantity_lead(question, pool) or typed
        lead = typed or self._quantity_lead(question, pool)
        headed = self._headed(signals, pool)
        if headed and lead not in headed:
            # The section headed by what was asked gives the asked-for value ("how long
            # will I be red?" -> "Redness and Swelling: ... for 24-48 hours", not "No
            # Makeup: ... at least 24 hours, or until the redness ..."), and the lead too
            # when nothing else came close.
            fallback = lead if typed or signals.close(t) else headed[0]
            lead = self._quantity_lead(question, headed) or fallback
        selection = compose.select(pool, t, lead=lead)
        picked, missing = self.checks.complete(
            question, selection.picked, pool, signals, known, 1 + t.support_units
        )
        if not t.on("answer_checks"):
            picked, missing = selection.picked, None
        if picked and picked[0] is not selection.lead:
            selection = dataclasses.replace(selection, lead=picked[0], support=picked[1:])
        referral = any(topic.decline for topic in topics)
        cautions = [] if referral else self._cautions(live, topics)
        # A safety topic raised by the question itself (not only by the background of a
        # long message or an earlier turn) is answered by its caution.
        asked = self.safety_rules.detect(question)
        closest = [c for c in pool if c.similarity >= t.sentence_min_similarity]
        cautioned = bool(cautions) and t.on("caution_answer")
        verdict = decide(
            signals,
            t,
            typed=kind.name if typed is not None else None,
            missing=missing,
            referral=referral,
            caution=cautioned and any(not topic.decline for topic in asked),
            related=bool(closest or cautions),
            headed=bool(headed),
            background_caution=cautioned and any(not topic.decline for topic in topics),
        )
        # The chunk whose own unit answers the question goes first (staff read the list
        # as "where the answer is"); the gate above judged the retrieval order.
        hits = rerank(hits, pool)
        if verdict.reason is Reason.CAUTION:
            # A question that raises a safety topic leads with a caution of a topic it
            # raises itself (not one from its background), the one closest to what was
            # asked ("infected" -> reschedule); what else answers it follows.
            own = [c for c in cautions if any(topic.is_caution(c.sentence.text) for topic in asked)]
            close = signals.similarity >= t.gate_min_similarity
            lead = max(own or cautions, key=lambda c: float(c.vector @ readings.query))
            rest = [c for c in selection.picked if c.sentence != lead.sentence] if close else []
            selection = compose.Selection(lead=lead, support=rest[: t.support_units])
            cautions = [c for c in cautions if c is not lead]
        return build_reply(
            query,
            verdict,
            Quotes(selection, closest, cautions),
            topics,
            hits,
            self.notes_for(topics),
            self.wording,
            t,
        )

    def _quantity_lead(
        self, question: str, pool: list[compose.Candidate]
    ) -> compose.Candidate | None:
        """For a how-many / how-long / how-often question, the best unit holding a number,
        if it is about as relevant as the best unit."""
        if (
            not _QUANTITY_QUESTION.search(question)
            or not pool
            or not self.tuning.on("quantity_lead")
        ):
            return None

        best = pool[0].score
        return next(
            (
                c
                for c in pool
                if c.score >= best - self.tuning.quantity_lead_window
                and _holds_quantity(question, c.sentence.text)
            ),
            None,
        )

    def _headed(
        self, signals: gate.Signals, pool: list[compose.Candidate]
    ) -> list[compose.Candidate]:
        """The units close enough to quote under a heading that holds the question's key
        term (``gate.heading_term``), points first, each best first; none when no heading
        does."""
        term = signals.heading_term
        if term is None or not self.tuning.on("heading"):
            return []
        headed = [
            c
            for c in pool
            if c.similarity >= self.tuning.heading_min_similarity
            and term in gate.heading_terms(self.analyzer, c.chunk)
        ]
        # The section's own point before the advice under it (its sub-items), which the
        # point brings along (``compose.select``).
        return sorted(headed, key=lambda c: compose.nested(c.chunk, c.sentence))

    def _cautions(self, live: Snapshot, topics: list[SafetyTopic]) -> list[compose.Candidate]:
        return add_cautions(live, [], topics, self.analyzer, self._fixed_vectors, self.tuning)

    # -- replies -------------------------------------------------------------------
    def small_talk(self, query: Query) -> Reply:
        """A short fixed reply to small talk: nothing looked up, nothing quoted."""
        return small_talk_reply(query, self.wording)

    def notes_for(self, topics: list[SafetyTopic]) -> list[Note]:
        """The vetted notes the topics carry, the urgent one first."""
        return [
            Note("urgent" if key == "urgent" else "safety", self.wording[key])
            for key in self.safety_rules.notes_for(topics)
        ]
