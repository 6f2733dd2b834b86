"""Retrieve stage: BM25 + dense (Chroma) candidates fused by reciprocal rank fusion."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

import numpy as np

from ..embeddings import Embedder
from ..index.reader import LoadedIndex
from ..schema import Hit
from ..tuning import Tuning

K = TypeVar("K", bound=Hashable)


def fuse(rankings: Sequence[tuple[float, Sequence[K]]], k: float) -> dict[K, float]:
    """Weighted reciprocal rank fusion: each item scores the sum of weight / (k + rank)
    over the rankings that hold it (ranks count from 1).

    >>> fuse([(1.0, ["a", "b"]), (1.0, ["b"])], k=0)
    {'a': 1.0, 'b': 1.5}
    """
    fused: dict[K, float] = {}
    for weight, ranking in rankings:
        for rank, item in enumerate(ranking, start=1):
            fused[item] = fused.get(item, 0.0) + weight / (k + rank)
    return fused


class Scored(Protocol):
    """A quotable unit of a retrieved chunk, scored against the question."""

    hit: Hit
    score: float


def rerank(hits: list[Hit], units: Sequence[Scored]) -> list[Hit]:
    """The hits in a new order: their retrieval rank fused with the rank of each chunk's
    best quotable unit (reciprocal ranks with k = 0: the top of each list counts most).

    Retrieval scores whole chunks; the unit score sees which chunk actually states the
    answer. Each hit keeps that best unit score as ``sentence_score``.
    """
    for hit in hits:
        hit.sentence_score = max((u.score for u in units if u.hit is hit), default=None)
    by_unit = sorted(
        hits, key=lambda h: -(h.sentence_score if h.sentence_score is not None else -1.0)
    )
    fused = fuse([(1.0, [id(h) for h in hits]), (1.0, [id(h) for h in by_unit])], k=0)
    return sorted(hits, key=lambda h: -fused[id(h)])


@dataclass
class Retrieval:
    hits: list[Hit]
    query_vector: np.ndarray


class HybridRetriever:
    """Dense (Chroma) and BM25 rankings of one build, fused (``Tuning``'s k and weights).

    ``correct`` spells a question's words the articles' way before BM25 reads it.
    """

    def __init__(
        self,
        index: LoadedIndex,
        embedder: Embedder,
        tuning: Tuning,
        correct: Callable[[str], str] | None = None,
    ) -> None:
        self.index = index
        self.correct = correct or (lambda text: text)
        self.embedder = embedder
        self.candidate_k = tuning.candidate_k
        self.top_k = tuning.retrieve_k
        self.rrf_k = tuning.rrf_k
        self.dense_weight = tuning.dense_weight
        self._rows = {c.id: i for i, c in enumerate(index.chunks)}

    def embed_query(self, query: str) -> np.ndarray:
        return self.embedder.embed([query])[0]

    def dense(self, vector: np.ndarray, k: int) -> list[int]:
        k = min(k, len(self.index.chunks))
        if k == 0:
            return []
        return [self._rows[i] for i in self.index.query(vector, k) if i in self._rows]

    def retrieve(self, query: str, top_k: int | None = None) -> Retrieval:
        vector = self.embed_query(query)
        return self.retrieve_vector(query, vector, top_k)

    def retrieve_vector(
        self, query: str, vector: np.ndarray, top_k: int | None = None, keyword: bool = True
    ) -> Retrieval:
        """The fused top hits; ``keyword=False`` leaves BM25 out (dense ranking only)."""
        dense_rows = self.dense(vector, self.candidate_k)
        keyword_rows = (
            [row for row, _ in self.index.keyword.search(self.correct(query), self.candidate_k)]
            if keyword
            else []
        )
        # Weighted RRF: on the eval sets BM25 (with synonyms) ranks the right section
        # first more often than the small embedding model, so dense votes count less.
        fused = fuse([(self.dense_weight, dense_rows), (1.0, keyword_rows)], self.rrf_k)
        dense_rank = {row: r for r, row in enumerate(dense_rows)}
        keyword_rank = {row: r for r, row in enumerate(keyword_rows)}
        best = sorted(fused, key=lambda row: (-fused[row], row))[: top_k or self.top_k]
        hits = [
            Hit(
                chunk=self.index.chunks[row],
                score=fused[row],
                dense_rank=dense_rank.get(row),
                keyword_rank=keyword_rank.get(row),
                dense_similarity=float(self.index.vectors[row] @ vector),
            )
            for row in best
        ]
        return Retrieval(hits, vector)

    def row_of(self, hit: Hit) -> int:
        return self._rows[hit.chunk.id]
