"""Respond stage: judge a retrieved question, quote the passages, check, build the reply.

``Responder`` holds what answering needs (tuning, model, analyzer, safety rules, answer
checks, vetted wording); ``Assistant`` (pipeline.py) retrieves and hands it the hits.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

import numpy as np

from ..embeddings import Embedder
from ..index.analyzer import Analyzer
from ..schema import Hit, Note, Outcome, Query, Reason, Reply, Verdict
from ..tuning import Tuning
from . import cite, compose, gate
from .checks import AnswerChecks, AnswerTypes
from .live import Snapshot
from .retrieve import rerank
from .safety import SafetyRules, SafetyTopic, add_cautions

_SUBJECT = "microneedling"
_DOMAIN_WORDS = re.compile(
    r"\b(micro[- ]?needl\w*|derma[- ]?roll\w*|micro[- ]?roll\w*|treatments?|procedure)\b",
    re.IGNORECASE,
)
_QUANTITY_QUESTION = (
    "how often",
    "how long",
    "how many",
    "how soon",
    "how frequently",
    "when",
    "frequency",
    "interval",
    "weeks",
    "months",
    "apart",
    "days",
)


@dataclass(frozen=True)
class Readings:
    """The question's embedded readings (see ``Responder.readings``).

    ``focus`` ranks the quotable units; the best cosine over all readings is the
    similarity the gate reads.
    """

    query: np.ndarray  # the query as retrieval reads it
    focus: np.ndarray  # without the domain words every passage shares
    others: tuple[np.ndarray, ...] = ()  # folded spelling, conversation, anchored reading

    FOCUS_ROW = 1  # the focus's row in ``matrix()``

    def matrix(self) -> np.ndarray:
        return np.vstack([self.query, self.focus, *self.others])

    def plus(self, vector: np.ndarray) -> Readings:
        return dataclasses.replace(self, others=(*self.others, vector))


def add_notes(body: str, notes: list[Note]) -> str:
    """The answer text: the urgent note first (bold), the body, then the other notes."""
    urgent = [f"**{n.text}**" for n in notes if n.kind == "urgent"]
    rest = [f"> {n.text}" for n in notes if n.kind != "urgent"]
    return "\n\n".join([*urgent, body, *rest])


class Responder:
    """Turns a retrieved question into a ``Reply``: every sentence quoted or vetted."""

    def __init__(
        self,
        tuning: Tuning,
        embedder: Embedder,
        analyzer: Analyzer,
        safety_rules: SafetyRules,
        wording: dict[str, str],
    ) -> None:
        self.tuning = tuning
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
        )
        # Embeddings of fixed texts from the data files (the safety topics' queries),
        # computed on first use: they depend only on the model, never on a question.
        self._fixed_vectors: dict[str, np.ndarray] = {}

    def readings(self, query: Query, weights: dict[str, float]) -> Readings:
        """The query's vector, its focus's, (when it differs) its folded focus's, and for
        a follow-up the conversation read in order.

        The focus is the question without the domain words every passage shares (the
        query's own vector again when that changes nothing). The folded focus spells the
        client's words the articles' way, by the synonym list ("swap out my roller" ->
        "replace my dermaroller"): one more reading for the similarity the gate and the
        composer read, since the small model scores casual wording low.

        All are embedded in one call: one model run (shorter texts are padded, and
        padding is masked out, so the vectors are the same).
        """
        text = query.text
        focus = _DOMAIN_WORDS.sub(" ", text)
        if not weights or focus.split() == text.split():
            focus = text
        folded = " ".join(self.analyzer.fold(focus).replace("_", " ").split())
        changed = re.findall(r"\w+", folded) != re.findall(r"\w+", focus.lower())
        others = ([folded] if changed else []) + (
            [query.conversation] if query.conversation is not None else []
        )
        texts = list(dict.fromkeys([text, focus, *others]))
        vectors = dict(zip(texts, self.embedder.embed(texts), strict=True))
        return Readings(vectors[text], vectors[focus], tuple(vectors[t] for t in others))

    def anchored_vector(self, query: Query) -> np.ndarray:
        """The question embedded as explicitly about the assistant's one subject."""
        return self.embedder.embed([f"{query.text} ({_SUBJECT})"])[0]

    def judge(
        self,
        live: Snapshot,
        query: Query,
        hits: list[Hit],
        rows: list[int],
        readings: Readings,
        weights: dict[str, float],
    ) -> tuple[list[compose.Candidate], Verdict]:
        """Quotable candidates scored against ``readings``, and the gate's verdict on them."""
        s = self.tuning
        question = query.question
        pool = compose.candidates(
            live.index,
            hits,
            rows,
            readings.matrix(),
            self.analyzer,
            weights,
            s,
            rank_by=Readings.FOCUS_ROW,
        )
        similarity = max((c.similarity for c in pool), default=0.0)
        # Below both bars no typed check runs, so none reads the weights.
        typed_bar = min(s.gate_typed_similarity, s.gate_min_similarity)
        verdict = gate.assess(
            question,
            hits,
            similarity,
            live.vocabulary,
            self.embedder,
            min_similarity=s.gate_min_similarity,
            min_coverage=s.gate_min_coverage,
            noise_similarity=s.gate_noise_similarity,
            follow_up=query.context,
            # The query's vector is the question's too unless a follow-up was rewritten.
            question_vector=readings.query if query.text == question else None,
            # The typed checks read the weights to find the question's key term.
            weigh=similarity >= typed_bar and self.checks.reads_weights(question),
        )
        return pool, verdict

    def reply(
        self,
        live: Snapshot,
        query: Query,
        hits: list[Hit],
        readings: Readings,
        weights: dict[str, float],
        topics: list[SafetyTopic],
    ) -> Reply:
        """The reply to a retrieved question: judged, quoted, checked, with cautions."""
        s = self.tuning
        question = query.question
        rows = [live.retriever.row_of(h) for h in hits]
        pool, verdict = self.judge(live, query, hits, rows, readings, weights)
        if (
            not verdict.answerable
            and verdict.coverage >= 1.0
            and not _DOMAIN_WORDS.search(query.text)
        ):
            # Every topic term is in one passage and the question names no subject
            # ("How much does it cost?"): read it as the question about microneedling it is.
            # A stricter bar: the anchored reading makes every passage look a bit closer.
            anchored = readings.plus(self.anchored_vector(query))
            pool2, verdict2 = self.judge(live, query, hits, rows, anchored, weights)
            if verdict2.similarity >= s.gate_anchored_similarity:
                pool, verdict = pool2, verdict2
        known = live.vocabulary.df.keys()
        kind = self.answer_types.evidence_for(question)
        if (
            kind is not None
            and not verdict.answerable
            and verdict.similarity >= s.gate_typed_similarity
        ):
            typed = self.checks.evidence(question, pool, verdict, known, kind)
            if typed is not None:
                # The sentence holding the asked-for value leads the quotes.
                pool = [typed, *(c for c in pool if c is not typed)]
                verdict = dataclasses.replace(verdict, answerable=True, typed_evidence=kind.name)
        # The chunk whose own sentence answers the question goes first (staff read the
        # list as "where the answer is"); the gate above judged the retrieval order.
        hits = rerank(hits, pool)
        uncovered = any(t.decline for t in topics)
        answerable = verdict.answerable and not uncovered

        picked: list[compose.Candidate] = []
        conflict = False
        if answerable:
            exclude = [p for t in topics for p in t.exclude]
            pool = [c for c in pool if not any(p.search(c.sentence.text) for p in exclude)]
            quantity_q = any(w in query.text.lower() for w in _QUANTITY_QUESTION)
            selection = compose.select(pool, s, quantity_question=quantity_q)
            picked, conflict = selection.picked, selection.conflict
            picked, missing = self.checks.complete(
                question, picked, pool, verdict, known, s.max_sentences
            )
            if missing is not None:
                picked = []
                verdict = dataclasses.replace(
                    verdict, answerable=False, missing_answer_type=missing
                )
        if not uncovered:
            picked = add_cautions(live, picked, topics, self.analyzer, self._fixed_vectors, s)

        notes = self.notes_for(topics)
        if not picked:
            # Safety notes (the urgent one above all) stand even when nothing is quoted.
            return Reply(
                answer=add_notes(self.wording["decline"], notes),
                body=self.wording["decline"],
                citations=[],
                abstained=True,
                safety=[t.name for t in topics],
                query=query.text,
                question=question,
                context=query.context,
                hits=hits,
                notes=notes,
                gate=verdict.to_dict(),
                outcome=Outcome.DECLINED,
                reason=Reason.SAFETY_REFERRAL
                if uncovered
                else Reason.MISSING_VALUE
                if verdict.missing_answer_type
                else Reason.LOW_CONFIDENCE,
            )
        body, citations = cite.render(picked, self.wording["answer_lead"])
        if conflict:
            body = f"{body}\n\n{self.wording['conflict']}"
        for hit in hits:
            hit.cited = any(p.chunk.id == hit.chunk.id for p in picked)
        return Reply(
            answer=add_notes(body, notes),
            body=body,
            citations=citations,
            abstained=False,
            safety=[t.name for t in topics],
            query=query.text,
            question=question,
            context=query.context,
            hits=hits,
            notes=notes,
            gate=verdict.to_dict(),
            lead=1,
        )

    def notes_for(self, topics: list[SafetyTopic]) -> list[Note]:
        """The vetted notes the topics carry, the urgent one first."""
        return [
            Note("urgent" if key == "urgent" else "safety", self.wording[key])
            for key in self.safety_rules.notes_for(topics)
        ]
