"""Retrieve stage: BM25 + dense (Chroma) candidates fused by reciprocal rank fusion."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from .embedding import Embedder
from .index import LoadedIndex
from .models import Hit


class Evidence(Protocol):
    """A quotable sentence of a retrieved chunk, scored against the question."""

    hit: Hit
    score: float


def rerank(hits: list[Hit], evidence: Sequence[Evidence]) -> list[Hit]:
    """The hits in a new order: their retrieval rank fused with the rank of each chunk's
    best sentence (reciprocal ranks, k = 1, equal votes).

    Retrieval scores whole chunks; the sentence score sees which chunk actually states
    the answer. Each hit keeps that best sentence score as ``evidence``.
    """
    for hit in hits:
        hit.evidence = max((e.score for e in evidence if e.hit is hit), default=None)
    by_evidence = sorted(hits, key=lambda h: -(h.evidence if h.evidence is not None else -1.0))
    sentence_rank = {id(h): r for r, h in enumerate(by_evidence)}
    fused = {id(h): 1 / (1 + r) + 1 / (1 + sentence_rank[id(h)]) for r, h in enumerate(hits)}
    return sorted(hits, key=lambda h: -fused[id(h)])


@dataclass
class Retrieval:
    hits: list[Hit]
    query_vector: np.ndarray


class HybridRetriever:
    def __init__(
        self,
        index: LoadedIndex,
        embedder: Embedder,
        *,
        candidate_k: int = 20,
        top_k: int = 8,
        rrf_k: int = 60,
        dense_weight: float = 1.0,
        correct: Callable[[str], str] | None = None,
    ) -> None:
        self.index = index
        self.correct = correct or (lambda text: text)
        self.embedder = embedder
        self.candidate_k = candidate_k
        self.top_k = top_k
        self.rrf_k = rrf_k
        self.dense_weight = dense_weight
        self._rows = {c.id: i for i, c in enumerate(index.chunks)}

    def embed_query(self, query: str) -> np.ndarray:
        return self.embedder.embed([query])[0]

    def dense(self, vector: np.ndarray, k: int) -> list[int]:
        k = min(k, len(self.index.chunks))
        if k == 0:
            return []
        result = self.index.collection.query(
            query_embeddings=[vector.tolist()], n_results=k, include=["distances"]
        )
        return [self._rows[i] for i in result["ids"][0] if i in self._rows]

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
        fused: dict[int, float] = {}
        for weight, ranking in ((self.dense_weight, dense_rows), (1.0, keyword_rows)):
            for rank, row in enumerate(ranking):
                fused[row] = fused.get(row, 0.0) + weight / (self.rrf_k + rank + 1)
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
