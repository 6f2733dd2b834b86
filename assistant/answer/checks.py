"""Answer checks: what a quote must hold for a question to count as answered.

A question asking for a kind of value (a price, a span of time, a length in mm, a
percentage) is answered by a sentence that holds such a value *and* names the
question's key term: "$30" answers what Kerry's roller costs, not what a serum costs.
The words that ask for the value ("how much", "how often") are no topic terms here,
since every price sentence says "cost", whatever it is the price of. "Can it get rid of
X?" needs a quote naming X with an effect (``EffectCheck``). The kinds and their
patterns live in ``data/answer_types.yaml``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass

from ..data import load_yaml
from ..data import pattern as _pattern
from ..index.analyzer import Analyzer
from .compose import Candidate, overlap
from .gate import Signals


@dataclass(frozen=True)
class AnswerType:
    name: str
    question: re.Pattern[str]
    answer: re.Pattern[str]


@dataclass(frozen=True)
class EffectCheck:
    questions: tuple[re.Pattern[str], ...]  # each captures the thing asked about as ``object``
    answer: re.Pattern[str]  # an effect: "reduce", "fade", "less noticeable", ...

    def missing(
        self, question: str, quotes: Iterable[str], terms: Callable[[str], set[str]]
    ) -> bool:
        """True when the question asks whether the treatment changes a thing and no quote
        names that thing (``terms`` of both compared) together with an effect."""
        asked = next((m for p in self.questions if (m := p.search(question))), None)
        wanted = terms(asked.group("object")) if asked else set()
        if not wanted:
            return False
        return not any(self.answer.search(q) and wanted & terms(q) for q in quotes)


class AnswerTypes:
    def __init__(
        self,
        types: list[AnswerType],
        effect: EffectCheck | None = None,
        evidence: list[AnswerType] | None = None,
    ) -> None:
        self.types = types
        self.effect = effect
        self.evidence = evidence or []

    @classmethod
    def from_package(cls) -> AnswerTypes:
        data = load_yaml("answer_types.yaml")

        def kinds(section: str) -> list[AnswerType]:
            return [
                AnswerType(name, _pattern(spec["question"]), _pattern(spec["answer"]))
                for name, spec in (data.get(section) or {}).items()
            ]

        effect = data.get("effect")
        check = None
        if effect:
            asks = effect["question"]
            patterns = tuple(_pattern(q) for q in ([asks] if isinstance(asks, str) else asks))
            check = EffectCheck(patterns, _pattern(effect["answer"]))
        return cls(kinds("types"), check, kinds("evidence"))

    def asked(self, question: str) -> AnswerType | None:
        """The kind of value the question asks for, if it asks for one."""
        return next((t for t in self.types if t.question.search(question)), None)

    def evidence_for(self, question: str) -> AnswerType | None:
        """The kind of value whose presence in a sentence counts as evidence of an answer:
        one the question asks for (price, ...) or an evidence-only kind (a span of time)."""
        return self.asked(question) or next(
            (t for t in self.evidence if t.question.search(question)), None
        )

    def missing(self, question: str, quotes: Iterable[str]) -> str | None:
        """The kind asked for when no quote holds one; None when answered or not asked."""
        kind = self.asked(question)
        if kind is None or any(kind.answer.search(q) for q in quotes):
            return None
        return kind.name


def topic_weights(
    question: str, kind: AnswerType, weights: dict[str, float], analyzer: Analyzer
) -> dict[str, float]:
    """The gate's term weights without the terms of the words asking for the value."""
    asking = {t for m in kind.question.finditer(question) for t in analyzer.tokens(m[0])}
    return {t: w for t, w in weights.items() if t not in asking}


def key_term(weights: dict[str, float], known: AbstractSet[str]) -> str | None:
    """The article term that carries most of the question, if it has one: a word no
    article uses ("a million options on amazon") cannot be asked of a quote."""
    named = [t for t in weights if t in known]
    return max(named, key=lambda t: weights[t]) if named else None


def holds(kind: AnswerType, cand: Candidate, key: str | None, analyzer: Analyzer) -> bool:
    """Whether the quote holds a value of ``kind`` and names the key term."""
    if not kind.answer.search(cand.sentence.text):
        return False
    return key is None or key in analyzer.passage_terms(
        f"{cand.chunk.section} {cand.sentence.text}"
    )


class AnswerChecks:
    """What a question asks for, checked against the sentences that would answer it."""

    def __init__(
        self,
        types: AnswerTypes,
        analyzer: Analyzer,
        *,
        min_similarity: float,
        min_share: float,
        whole_similarity: float | None = None,
    ) -> None:
        self.types = types
        self.analyzer = analyzer
        self.min_similarity = min_similarity  # a sentence this close may be quoted
        self.min_share = min_share  # of the question's topic terms, as the gate's coverage
        # ... and one holding the value and every topic term from this close on
        self.whole_similarity = min_similarity if whole_similarity is None else whole_similarity

    def reads_weights(self, question: str) -> bool:
        """Whether checking this question reads the gate's term weights."""
        return self.types.evidence_for(question) is not None

    def evidence(
        self,
        question: str,
        pool: Iterable[Candidate],
        signals: Signals,
        known: AbstractSet[str],
        kind: AnswerType | None = None,
    ) -> Candidate | None:
        """The best retrieved sentence holding a value of the kind the question asks for,
        about its key term and sharing ``min_share`` of its topic terms, if any.

        A sentence that holds the value and every topic term may be less close: what it
        adds ("According to Realself.com, the largest online cosmetic surgery community,
        a package ... $700") pulls its vector away from the question, not its answer."""
        kind = kind or self.types.evidence_for(question)
        if kind is None or signals.coverage < self.min_share:
            return None
        topic = topic_weights(question, kind, signals.weights, self.analyzer)
        if not topic:
            # Nothing but the asking words ("What does microneedling cost?"): the value of
            # the treatment itself, held by the best-ranked sentence that has one.
            return next(
                (
                    c
                    for c in pool
                    if c.similarity >= self.whole_similarity and holds(kind, c, None, self.analyzer)
                ),
                None,
            )
        key = key_term(topic, known)
        if key is None:
            return None
        shares = [
            (
                cand,
                overlap(
                    self.analyzer.passage_terms(f"{cand.chunk.section} {cand.sentence.text}"), topic
                ),
            )
            for cand in pool
            if cand.similarity >= self.whole_similarity and holds(kind, cand, key, self.analyzer)
        ]
        close = (
            c
            for c, share in shares
            if c.similarity >= self.min_similarity and share >= self.min_share
        )
        whole = (c for c, share in shares if share >= 1.0 - 1e-9)
        return next(close, None) or next(whole, None)

    def complete(
        self,
        question: str,
        picked: list[Candidate],
        pool: list[Candidate],
        signals: Signals,
        known: AbstractSet[str],
        max_quotes: int,
    ) -> tuple[list[Candidate], str | None]:
        """The quotes, with the asked-for value when the selection left it out ("can't
        permanently close pores"), and what they still miss ("price", "effect"), if any."""
        missing = self.missing(question, picked, signals.weights, known)
        kind = self.types.asked(question)
        if missing is not None and kind is not None and kind.name == missing:
            found = self.evidence(question, pool, signals, known, kind)
            if found is not None and found not in picked:
                picked = [*picked[: max_quotes - 1], found]
                missing = self.missing(question, picked, signals.weights, known)
        return picked, missing

    def missing(
        self,
        question: str,
        picked: list[Candidate],
        weights: dict[str, float],
        known: AbstractSet[str],
    ) -> str | None:
        """What the question asks for that no quote holds ("price", "effect"), if anything.

        Asked for a price and no quote has the price of the thing asked about, or whether
        it gets rid of something and no quote says it does: near the topic is not an
        answer. The question's own words decide, not a follow-up's borrowed context.
        """
        kind = self.types.asked(question)
        if kind is not None:
            key = key_term(topic_weights(question, kind, weights, self.analyzer), known)
            if not any(holds(kind, p, key, self.analyzer) for p in picked):
                return kind.name
        effect = self.types.effect
        quotes = [f"{p.chunk.section} {p.sentence.text}" for p in picked]
        if effect is not None and effect.missing(
            question, quotes, lambda t: set(self.analyzer.tokens(t)) & known
        ):
            return "effect"
        return None
