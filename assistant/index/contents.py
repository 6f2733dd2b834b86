"""A build's contents in Chroma: its chunk, exact-vector, sentence and article
collections, written whole by ingest, and an article's text read back.

What each collection holds, and the records that make a build whole and live, are in
``store``; a build's sentence vectors are read back by ``sentences``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..schema import Chunk
from .integrity import text_sha256
from .store import (
    PLACEHOLDER,
    articles_name,
    build_names,
    chunks_name,
    sentences_name,
    vectors_name,
)

_BATCH = 1000


@dataclass(frozen=True)
class Article:
    """One article as the build holds it: its id, whole file text and manifest entry."""

    doc_id: str
    text: str
    meta: dict[str, Any]


def _add(collection: Any, batch: int, **columns: Any) -> None:
    total = len(columns["ids"])
    for i in range(0, total, batch):
        collection.add(**{key: value[i : i + batch] for key, value in columns.items()})


def write_build(
    client: Any,
    manifest: dict[str, Any],
    chunks: Sequence[Chunk],
    tokens: Sequence[Sequence[str]],
    chunk_vectors: np.ndarray,
    sentence_vectors: np.ndarray,
    articles: Sequence[Article],
) -> None:
    """Write the build's collections (replacing any a dead run left under its names)."""
    build_id = str(manifest["build_id"])
    for name in build_names(build_id):
        try:
            client.delete_collection(name)
        except Exception:  # nothing to replace
            continue
    batch = max(1, min(client.get_max_batch_size(), _BATCH))
    ids = [c.id for c in chunks]
    chunk_col = client.create_collection(
        chunks_name(build_id), configuration={"hnsw": {"space": "cosine"}}, embedding_function=None
    )
    publishers = {doc_id: d.get("publisher") or "" for doc_id, d in manifest["documents"].items()}
    _add(
        chunk_col,
        batch,
        ids=ids,
        embeddings=chunk_vectors,
        documents=[c.text for c in chunks],
        metadatas=[
            chunk_metadata(c, row, publishers.get(c.doc_id, ""), tokens[row])
            for row, c in enumerate(chunks)
        ],
    )
    exact = client.create_collection(
        vectors_name(build_id), configuration={"hnsw": {"space": "l2"}}, embedding_function=None
    )
    _add(
        exact,
        batch,
        ids=ids,
        embeddings=chunk_vectors,
        metadatas=[{"row": r} for r in range(len(ids))],
    )
    sentence_col = client.create_collection(
        sentences_name(build_id), configuration={"hnsw": {"space": "l2"}}, embedding_function=None
    )
    sentences = [(row, n, s) for row, c in enumerate(chunks) for n, s in enumerate(c.sentences)]
    _add(
        sentence_col,
        batch,
        ids=[f"{chunks[row].id}#{n}" for row, n, _ in sentences],
        embeddings=sentence_vectors,
        documents=[s.text for _, _, s in sentences],
        metadatas=[
            {"chunk_id": chunks[row].id, "chunk_row": row, "n": n, "start": s.start, "end": s.end}
            for row, n, s in sentences
        ],
    )
    article_col = client.create_collection(articles_name(build_id), embedding_function=None)
    _add(
        article_col,
        batch,
        ids=[a.doc_id for a in articles],
        embeddings=[PLACEHOLDER] * len(articles),
        documents=[a.text for a in articles],
        metadatas=[
            {k: v for k, v in {**a.meta, "doc_id": a.doc_id}.items() if v is not None}
            for a in articles
        ],
    )


def chunk_metadata(chunk: Chunk, row: int, publisher: str, tokens: Sequence[str]) -> dict[str, Any]:
    return {
        "doc_id": chunk.doc_id,
        "title": chunk.title,
        "publisher": publisher,
        "section": chunk.section,
        "start": chunk.start,
        "end": chunk.end,
        "content_hash": chunk.content_hash,
        "text_sha256": text_sha256(chunk.text),
        "row": row,
        "sentences": len(chunk.sentences),
        "sentence_offsets": json.dumps([[s.start, s.end] for s in chunk.sentences]),
        "tokens": " ".join(tokens),
    }


def read_article(client: Any, build_id: str, doc_id: str) -> str | None:
    """An article's whole text as the build holds it, or None if it has no such article."""
    got = client.get_collection(articles_name(build_id)).get(ids=[doc_id], include=["documents"])
    return got["documents"][0] if got["ids"] else None
