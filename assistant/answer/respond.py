"""Answer stage: judge a retrieved question, quote the passages, check and build the reply.

``Answerer`` holds what answering needs (settings, model, analyzer, safety rules, answer
types, vetted wording); ``Assistant`` (engine.py) retrieves and hands it the hits.
"""

from __future__ import annotations

import re

import numpy as np

from . import compose, evidence, gate
from .answer_types import AnswerTypes
from .cautions import add_cautions
from .embedding import Embedder
from .followup import as_conversation, context_of
from .keyword import Analyzer
from .live_index import Snapshot
from .models import Hit, Reply
from .retrieval import rerank
from .safety import SafetyRules, SafetyTopic
from .settings import Settings

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


class Answerer:
    """Turns a retrieved question into a ``Reply``: every sentence quoted or vetted."""

    def __init__(
        self,
        settings: Settings,
        embedder: Embedder,
        analyzer: Analyzer,
        safety_rules: SafetyRules,
        wording: dict[str, str],
    ) -> None:
        self.settings = settings
        self.embedder = embedder
        self.analyzer = analyzer
        self.safety_rules = safety_rules
        self.wording = wording
        self.answer_types = AnswerTypes.from_package()
        self.checks = evidence.AnswerChecks(
            self.answer_types,
            analyzer,
            min_similarity=settings.sentence_min_similarity,
            min_share=settings.gate_min_coverage,
        )
        # Embeddings of fixed texts from the data files (the safety topics' queries),
        # computed on first use: they depend only on the model, never on a question.
        self._fixed_vectors: dict[str, np.ndarray] = {}

    def readings(self, query: str, weights: dict[str, float]) -> list[np.ndarray]:
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
        focus = _DOMAIN_WORDS.sub(" ", query)
        if not weights or focus.split() == query.split():
            focus = query
        folded = " ".join(self.analyzer.fold(focus).replace("_", " ").split())
        changed = re.findall(r"\w+", folded) != re.findall(r"\w+", focus.lower())
        readings = [query, focus] + ([folded] if changed else [])
        conversation = as_conversation(query)
        if conversation is not None:
            readings.append(conversation)
        texts = list(dict.fromkeys(readings))
        vectors = dict(zip(texts, self.embedder.embed(texts), strict=True))
        return [vectors[t] for t in readings]

    def anchored_vector(self, query: str) -> np.ndarray:
        """The question embedded as explicitly about the assistant's one subject."""
        return self.embedder.embed([f"{query} ({_SUBJECT})"])[0]

    def judge(
        self,
        live: Snapshot,
        question: str,
        query: str,
        hits: list[Hit],
        rows: list[int],
        vectors: list[np.ndarray],
        weights: dict[str, float],
    ) -> tuple[list[compose.Candidate], gate.GateResult]:
        """Quotable candidates scored against ``vectors``, and the gate's verdict on them."""
        s = self.settings
        # vectors[1] is the focus: the question without the words every passage shares.
        pool = compose.candidates(
            live.index, hits, rows, np.vstack(vectors), self.analyzer, weights, rank_by=1
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
            follow_up=context_of(query),
            # vectors[0] is the query's; it is the question's too unless a follow-up was
            # rewritten.
            question_vector=vectors[0] if query == question else None,
            # The typed checks read the weights to find the question's key term.
            weigh=similarity >= typed_bar and self.checks.reads_weights(question),
        )
        return pool, verdict

    def reply(
        self,
        live: Snapshot,
        question: str,
        query: str,
        hits: list[Hit],
        vectors: list[np.ndarray],
        weights: dict[str, float],
        topics: list[SafetyTopic],
    ) -> Reply:
        """The reply to a retrieved question: judged, quoted, checked, with cautions."""
        s = self.settings
        rows = [live.retriever.row_of(h) for h in hits]
        pool, verdict = self.judge(live, question, query, hits, rows, vectors, weights)
        if not verdict.answerable and verdict.coverage >= 1.0 and not _DOMAIN_WORDS.search(query):
            # Every topic term is in one passage and the question names no subject
            # ("How much does it cost?"): read it as the question about microneedling it is.
            # A stricter bar: the anchored reading makes every passage look a bit closer.
            anchored = [*vectors, self.anchored_vector(query)]
            pool2, verdict2 = self.judge(live, question, query, hits, rows, anchored, weights)
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
                verdict.answerable = True
                verdict.typed_evidence = kind.name
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
            quantity_q = any(w in query.lower() for w in _QUANTITY_QUESTION)
            selection = compose.select(
                pool,
                max_sentences=s.max_sentences,
                min_similarity=s.sentence_min_similarity,
                quantity_question=quantity_q,
            )
            picked, conflict = selection.picked, selection.conflict
            picked, missing = self.checks.complete(
                question, picked, pool, verdict, known, s.max_sentences
            )
            if missing is not None:
                picked, verdict.answerable, verdict.missing_answer_type = [], False, missing
        if not uncovered:
            picked = add_cautions(live, picked, topics, self.analyzer, self._fixed_vectors)

        if not picked:
            # Safety notes (the urgent one above all) stand even when nothing is quoted.
            return Reply(
                answer=self.add_notes(self.wording["decline"], topics, self.notes_for(topics)),
                citations=[],
                abstained=True,
                safety=[t.name for t in topics],
                query=query,
                question=question,
                hits=hits,
                notes=self.notes_for(topics),
                gate=verdict.to_dict(),
            )
        body, citations = compose.render(picked, self.wording["answer_lead"])
        notes = self.notes_for(topics)
        if conflict:
            body = f"{body}\n\n{self.wording['conflict']}"
        for hit in hits:
            hit.cited = any(p.chunk.id == hit.chunk.id for p in picked)
        return Reply(
            answer=self.add_notes(body, topics, notes),
            citations=citations,
            abstained=False,
            safety=[t.name for t in topics],
            query=query,
            question=question,
            hits=hits,
            notes=notes,
            gate=verdict.to_dict(),
        )

    def notes_for(self, topics: list[SafetyTopic]) -> list[str]:
        return [self.wording[k] for k in self.safety_rules.notes_for(topics)]

    def add_notes(self, body: str, topics: list[SafetyTopic], notes: list[str]) -> str:
        urgent = [self.wording["urgent"]] if any(t.urgent for t in topics) else []
        rest = [n for n in notes if n not in urgent]
        parts = [f"**{n}**" for n in urgent] + [body] + [f"> {n}" for n in rest]
        return "\n\n".join(parts)
