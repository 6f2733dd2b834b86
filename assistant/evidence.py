"""Typed evidence: a quoted value must be the value of what the question is about.

A question asking for a kind of value (a price, a span of time, a length in mm) is
answered by a sentence that holds such a value *and* names the question's key term:
"$30" answers what Kerry's roller costs, not what a serum costs. The words that ask for
the value ("how much", "how often") are no topic terms here, since every price sentence
says "cost", whatever it is the price of.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable

from .answer_types import AnswerType
from .compose import Candidate, overlap
from .keyword import Analyzer


def topic_weights(
    question: str, kind: AnswerType, weights: dict[str, float], analyzer: Analyzer
) -> dict[str, float]:
    """The gate's term weights without the terms of the words asking for the value."""
    asking = {t for m in kind.question.finditer(question) for t in analyzer.tokens(m[0])}
    return {t: w for t, w in weights.items() if t not in asking}


def key_term(weights: dict[str, float], known: Collection[str]) -> str | None:
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


def find(
    question: str,
    kind: AnswerType,
    pool: Iterable[Candidate],
    weights: dict[str, float],
    analyzer: Analyzer,
    known: Collection[str],
    *,
    min_similarity: float,
    min_share: float,
) -> Candidate | None:
    """The best retrieved sentence holding a value of ``kind`` about the question's key
    term and sharing ``min_share`` of its topic terms, if there is one."""
    topic = topic_weights(question, kind, weights, analyzer)
    key = key_term(topic, known)
    if key is None:
        return None
    for cand in pool:
        if cand.similarity < min_similarity or not holds(kind, cand, key, analyzer):
            continue
        terms = analyzer.passage_terms(f"{cand.chunk.section} {cand.sentence.text}")
        if overlap(terms, topic) >= min_share:
            return cand
    return None
