"""Keyword side of retrieval: domain-aware tokenization and a persisted BM25 index."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from functools import cached_property, lru_cache
from importlib import resources
from pathlib import Path

import numpy as np
import yaml

STOPWORDS = frozenset(
    word
    for line in resources.files("assistant.data")
    .joinpath("stopwords.txt")
    .read_text("utf-8")
    .splitlines()
    if not line.startswith("#")
    for word in line.split()
)
_TOKEN = re.compile(r"[a-z0-9_]+(?:['’][a-z]+)?")


def analyzer_version() -> str:
    """A hash of the synonym and stop-word files: the keyword index depends on both."""
    data = resources.files("assistant.data")
    blob = "".join(data.joinpath(n).read_text("utf-8") for n in ("synonyms.yaml", "stopwords.txt"))
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


class Analyzer:
    """Lowercase, fold synonyms to one token per group, drop stopwords, stem."""

    def __init__(self, groups: Sequence[Sequence[str]]) -> None:
        variants: dict[str, str] = {}
        for group in groups:
            canonical = re.sub(r"[\s\-]+", "_", str(group[0]).lower())
            for variant in group:
                variants[str(variant).lower()] = canonical
        self.canonical = variants
        alternation = "|".join(re.escape(v) for v in sorted(variants, key=len, reverse=True))
        self._phrases = re.compile(rf"(?<![a-z0-9_])(?:{alternation})(?![a-z0-9_])")
        # Every question tokenizes its retrieved passages again (the gate's coverage, the
        # composer's term overlap): the same few hundred texts of a small corpus. Only
        # passages come here, never a question, so what is kept is bounded by the corpus.
        self.passage_terms = lru_cache(maxsize=8192)(self._term_set)

    @classmethod
    def from_package(cls) -> Analyzer:
        text = resources.files("assistant.data").joinpath("synonyms.yaml").read_text("utf-8")
        return cls(yaml.safe_load(text)["groups"])

    @cached_property
    def _stemmer(self):
        import Stemmer

        return Stemmer.Stemmer("english")

    def fold(self, text: str) -> str:
        lowered = text.lower().replace("’", "'")
        return self._phrases.sub(lambda m: f" {self.canonical[m.group(0)]} ", lowered)

    def phrase_spans(self, text: str) -> list[tuple[int, int]]:
        """Where the text holds a synonym spelled in more than one word ("derma roller")."""
        lowered = text.lower().replace("’", "'")
        return [m.span() for m in self._phrases.finditer(lowered) if " " in m.group().strip()]

    def _term_set(self, text: str) -> frozenset[str]:
        return frozenset(self.tokens(text))

    def tokens(self, text: str) -> list[str]:
        words = [w.replace("'", "").replace("’", "") for w in _TOKEN.findall(self.fold(text))]
        kept = [w for w in words if (w not in STOPWORDS and len(w) > 1) or w.isdigit()]
        return [w if "_" in w else self._stemmer.stemWord(w) for w in kept]


class KeywordIndex:
    """BM25 over chunk texts (bm25s), saved next to the vector store."""

    def __init__(self, analyzer: Analyzer, model: object | None = None) -> None:
        self.analyzer = analyzer
        self.model = model

    def build(self, texts: Sequence[str]) -> None:
        import bm25s

        corpus_tokens = [self.analyzer.tokens(t) or ["_empty_"] for t in texts]
        model = bm25s.BM25()
        model.index(corpus_tokens, show_progress=False)
        self.model = model

    def save(self, path: Path) -> None:
        assert self.model is not None
        self.model.save(str(path))  # type: ignore[attr-defined]

    @classmethod
    def load(cls, path: Path, analyzer: Analyzer) -> KeywordIndex:
        import bm25s

        return cls(analyzer, bm25s.BM25.load(str(path)))

    def search(self, query: str, k: int) -> list[tuple[int, float]]:
        """(chunk row, BM25 score) pairs, best first; empty when no term matches."""
        assert self.model is not None
        tokens = self.analyzer.tokens(query)
        if not tokens:
            return []
        scores = np.asarray(self.model.get_scores(tokens))  # type: ignore[attr-defined]
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(int(i), float(scores[i])) for i in top if scores[i] > 0]
