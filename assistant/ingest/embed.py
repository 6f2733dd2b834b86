"""Embedding a build's texts: each chunk and each of its sentences, reusing the vectors
of unchanged chunks and sending only the rest to the model."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..embeddings import DIMENSION, Embedder
from ..schema import Chunk
from .summary import IngestSummary


def sentence_embed_text(chunk: Chunk, text: str) -> str:
    """A sentence as the model embeds it, under its section's last heading: a sentence of
    section ``Guide > Aftercare`` -> ``"Aftercare: <sentence>"``."""
    leaf = chunk.section.rsplit(" > ", 1)[-1]
    return f"{leaf}: {text}"


def embed_missing(
    chunks: list[Chunk],
    chunk_reuse: dict[str, np.ndarray],
    sent_reuse: dict[str, np.ndarray],
    embedder_factory: Callable[[], Embedder],
    progress: Callable[[int, int], None] | None,
    summary: IngestSummary,
) -> tuple[np.ndarray, np.ndarray]:
    """The chunk vectors and the sentence vectors of ``chunks``, in chunk order: taken
    from ``chunk_reuse``/``sent_reuse`` (by content hash) where the live build has them,
    the rest embedded in one call; ``summary.embedded`` counts the texts embedded."""
    todo_chunks = [c for c in chunks if c.content_hash not in chunk_reuse]
    todo_texts = [c.embed_text for c in todo_chunks]
    todo_texts += [sentence_embed_text(c, s.text) for c in todo_chunks for s in c.sentences]
    summary.embedded = len(todo_texts)
    fresh = np.zeros((0, DIMENSION), dtype=np.float32)
    if todo_texts:
        embedder = embedder_factory()
        done = 0

        def tick(n: int) -> None:
            nonlocal done
            done += n
            if progress:
                progress(done, len(todo_texts))

        fresh = embedder.embed(todo_texts, progress=tick)
    chunk_new = {c.content_hash: fresh[i] for i, c in enumerate(todo_chunks)}
    offset = len(todo_chunks)
    sent_new = {}
    for c in todo_chunks:
        sent_new[c.content_hash] = fresh[offset : offset + len(c.sentences)]
        offset += len(c.sentences)
    vectors = (
        np.vstack([chunk_reuse.get(c.content_hash, chunk_new.get(c.content_hash)) for c in chunks])
        if chunks
        else np.zeros((0, DIMENSION), dtype=np.float32)
    )
    parts = [sent_reuse.get(c.content_hash, sent_new.get(c.content_hash)) for c in chunks]
    sentences = np.vstack(parts) if parts else np.zeros((0, DIMENSION), dtype=np.float32)
    return vectors.astype(np.float32), sentences.astype(np.float32)
