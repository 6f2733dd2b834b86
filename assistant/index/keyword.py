"""The keyword side of a build: BM25 over chunk texts (bm25s), saved in the build."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .analyzer import Analyzer

# What a chunk without a single term is indexed as (bm25s needs a term per document).
EMPTY = "_empty_"


class KeywordIndex:
    """BM25 over chunk texts (bm25s), saved next to the vector store."""

    def __init__(self, analyzer: Analyzer, model: object | None = None) -> None:
        self.analyzer = analyzer
        self.model = model

    def build(self, texts: Sequence[str]) -> None:
        self.index_tokens([self.analyzer.tokens(t) for t in texts])

    @classmethod
    def from_tokens(cls, analyzer: Analyzer, tokens: Sequence[Sequence[str]]) -> KeywordIndex:
        """BM25 over texts already analysed (as the Chroma store keeps them)."""
        index = cls(analyzer)
        index.index_tokens(tokens)
        return index

    def index_tokens(self, tokens: Sequence[Sequence[str]]) -> None:
        import bm25s

        docs = [list(t) or [EMPTY] for t in tokens]
        # Term ids in sorted order: bm25s would number terms in set order, which changes
        # with each process's string hashing, and the saved files must be the same bytes
        # wherever the build is written (ingest, or a replica copying it from Chroma).
        vocab = {term: i for i, term in enumerate(sorted({t for doc in docs for t in doc}))}
        model = bm25s.BM25()
        model.index(([[vocab[t] for t in doc] for doc in docs], vocab), show_progress=False)
        self.model = model

    def save(self, path: Path) -> None:
        assert self.model is not None
        self.model.save(str(path))  # type: ignore[attr-defined]

    @classmethod
    def load(cls, path: Path, analyzer: Analyzer) -> KeywordIndex:
        import bm25s

        return cls(analyzer, bm25s.BM25.load(str(path)))

    def document_frequencies(self) -> dict[str, int]:
        """Term -> how many chunks hold it, read off the saved index (each term's column
        of the BM25 score matrix holds one entry per chunk containing it), so the
        vocabulary needs no second analysis of every chunk (18 s at 100k chunks).

        >>> # {"microneedl": 63, "sunscreen": 7, ...}
        """
        assert self.model is not None
        vocab: dict[str, int] = self.model.vocab_dict  # type: ignore[attr-defined]
        counts = np.diff(np.asarray(self.model.scores["indptr"]))  # type: ignore[attr-defined]
        # bm25s adds "" to the vocabulary without a column; EMPTY is no article term.
        return {
            term: int(counts[i])
            for term, i in vocab.items()
            if term and term != EMPTY and i < len(counts)
        }

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
