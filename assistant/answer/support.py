"""Offline citation-support check, shared by the eval harness and LLM verification.

A statement counts as supported by its cited passages when (1) it is close in meaning
to the best-matching cited sentence, (2) most of its content words occur in the
passages, (3) every number it states occurs there, and (4) it negates nothing the
passages do not. Thresholds (``Tuning.support_*``) are calibrated on ``evals/support_labels.jsonl``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

from ..embeddings import Embedder
from ..index.analyzer import Analyzer
from ..text import NEGATION, NUMBER, split_sentences

_MARKER = re.compile(r"\s*\[(\d+)\]")


@dataclass(frozen=True)
class Support:
    supported: bool
    similarity: float
    recall: float
    numbers_ok: bool
    negation_ok: bool
    best: str

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def strip_markers(text: str) -> str:
    return _MARKER.sub("", text).strip()


def markers(text: str) -> list[int]:
    return [int(n) for n in _MARKER.findall(text)]


class SupportChecker:
    def __init__(
        self,
        embedder: Embedder,
        analyzer: Analyzer,
        *,
        min_similarity: float,
        min_recall: float,
    ) -> None:
        self.embedder = embedder
        self.analyzer = analyzer
        self.min_similarity = min_similarity
        self.min_recall = min_recall

    def check(self, statement: str, passages: Sequence[str]) -> Support:
        claim = strip_markers(statement)
        sentences = [s.text for p in passages for s in split_sentences(p)]
        if not claim or not sentences:
            return Support(False, 0.0, 0.0, False, False, "")
        joined = " ".join(passages)
        if any(claim in p for p in passages):
            return Support(True, 1.0, 1.0, True, True, claim)
        vectors = self.embedder.embed([claim, *sentences])
        sims = vectors[1:] @ vectors[0]
        best = int(np.argmax(sims))
        words = set(self.analyzer.tokens(claim))
        found = set(self.analyzer.tokens(joined))
        recall = len(words & found) / len(words) if words else 1.0
        numbers_ok = all(
            re.search(rf"(?<![\w.]){re.escape(n.strip('$%'))}(?!\w)", joined, re.IGNORECASE)
            for n in NUMBER.findall(claim)
        )
        negation_ok = not NEGATION.search(claim) or bool(NEGATION.search(joined))
        supported = (
            float(sims[best]) >= self.min_similarity
            and recall >= self.min_recall
            and numbers_ok
            and negation_ok
        )
        return Support(
            supported, float(sims[best]), recall, numbers_ok, negation_ok, sentences[best]
        )
