"""Where a build's sentence vectors come from while answering: the local file, or the
Chroma store.

An answer reads the sentence vectors of a handful of retrieved chunks only. Embedded, a
build keeps them all in ``sentences.npy``. On a Chroma server they are 80% of a build's
bytes (486k vectors, 712 MiB at 100k chunks): a replica that copied them would start in
minutes and hold them all in memory, so in server mode they stay in the store and each
answer reads the rows it needs in one request (about 5 ms for 50 vectors), keeping
recent rows in a bounded LRU. The store's sentence collection is in l2 space, which
keeps every vector bit for bit, so the replies are the ones the local file gives.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np

from ..embeddings import DIMENSION
from ..errors import IndexCorruptError
from ..schema import Chunk
from . import vectors

# Unit-length vectors (cosine space); anything else was not written by ingest.
NORM_TOLERANCE = 1e-2


def check_vectors(matrix: np.ndarray, rows: int, name: str) -> None:
    """Finite, unit-length vectors, one per row: a non-finite score never reaches a reply."""
    if matrix.ndim != 2 or matrix.shape[0] != rows:
        raise IndexCorruptError("chunk, vector and sentence counts disagree")
    if matrix.dtype.kind != "f" or not np.isfinite(matrix).all():
        raise IndexCorruptError(f"{name} holds values that are not finite numbers")
    norms = np.linalg.norm(matrix, axis=1)
    # (An all-zero row is what normalising an empty text gives; it is not tampering.)
    if not ((np.abs(norms - 1.0) <= NORM_TOLERANCE) | (norms == 0.0)).all():
        raise IndexCorruptError(f"{name} holds vectors that are not unit length")


def sentence_ids(chunk_id: str, count: int) -> list[str]:
    """The record ids of a chunk's ``count`` sentences, in order."""
    return [f"{chunk_id}#{n}" for n in range(count)]


def read_sentence_vectors(
    collection: Any, chunks: Sequence[tuple[str, int]], batch: int = 5000
) -> list[np.ndarray]:
    """The sentence vectors of each ``(chunk id, sentence count)``, one matrix per chunk,
    exactly as the model made them. Raises ``KeyError`` for a sentence the collection
    lacks, Chroma's errors as they come."""
    wanted = [sid for chunk_id, count in chunks for sid in sentence_ids(chunk_id, count)]
    found: dict[str, Any] = {}
    for i in range(0, len(wanted), batch):
        got = collection.get(ids=wanted[i : i + batch], include=["embeddings"])
        found.update(zip(got["ids"], got["embeddings"], strict=True))
    return [
        _matrix([found[sid] for sid in sentence_ids(chunk_id, count)]) for chunk_id, count in chunks
    ]


def _matrix(rows: list[Any]) -> np.ndarray:
    if not rows:
        return np.zeros((0, DIMENSION), dtype=np.float32)
    return np.asarray(np.vstack(rows), dtype=np.float32)


class SentenceVectors(Protocol):
    def matrices(self, rows: Sequence[int]) -> list[np.ndarray]:
        """The sentence vectors of each chunk row, one matrix per row (sentences x dim)."""
        ...


class LocalSentences:
    """All sentence vectors of a build in one matrix, in chunk order (``sentences.npy``)."""

    def __init__(self, matrix: np.ndarray, chunks: Sequence[Chunk]) -> None:
        self.matrix = matrix
        counts = [len(c.sentences) for c in chunks]
        self.starts = np.cumsum([0, *counts]).tolist()

    def matrices(self, rows: Sequence[int]) -> list[np.ndarray]:
        return [self.matrix[self.starts[r] : self.starts[r + 1]] for r in rows]


class StoreSentences:
    """Sentence vectors read from the build's sentence collection on the Chroma server.

    ``server``: the address, for messages; ``cache_rows``: how many chunks' vectors are
    kept (about 7.5 KiB a chunk). Raises ``ChromaUnavailableError`` when the server does
    not answer, ``BuildGoneError`` when the build was pruned, ``IndexCorruptError`` when
    the store lacks a sentence or holds a vector no ingest wrote.
    """

    def __init__(
        self,
        collection: Any,
        chunks: Sequence[Chunk],
        server: str,
        build_id: str,
        cache_rows: int = 8192,
    ) -> None:
        self.collection = collection
        self.chunks = chunks
        self.server = server
        self.build_id = build_id
        self.cache_rows = cache_rows
        self._cache: OrderedDict[int, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()
        self.reads = 0  # requests to the store, for tests

    def matrices(self, rows: Sequence[int]) -> list[np.ndarray]:
        found: dict[int, np.ndarray] = {}
        with self._lock:
            for row in rows:
                if row in self._cache:
                    self._cache.move_to_end(row)
                    found[row] = self._cache[row]
        missing = [r for r in dict.fromkeys(rows) if r not in found]
        if missing:
            found.update(self._read(missing))
        return [found[r] for r in rows]

    def _read(self, rows: list[int]) -> dict[int, np.ndarray]:
        wanted = [(self.chunks[r].id, len(self.chunks[r].sentences)) for r in rows]
        with vectors.reading(self.server, self.build_id):
            try:
                read = read_sentence_vectors(self.collection, wanted)
            except KeyError as exc:
                lacking = f"the Chroma store lacks sentence {exc.args[0]!r:.80}"
                raise IndexCorruptError(lacking) from None
        self.reads += 1
        out = {}
        for row, matrix in zip(rows, read, strict=True):
            check_vectors(matrix, len(self.chunks[row].sentences), "the store's sentence vectors")
            matrix.setflags(write=False)
            out[row] = matrix
        with self._lock:
            for row, matrix in out.items():
                self._cache[row] = matrix
                self._cache.move_to_end(row)
            while len(self._cache) > self.cache_rows:
                self._cache.popitem(last=False)
        return out
