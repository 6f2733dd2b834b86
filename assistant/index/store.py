"""A build kept whole in Chroma, so that Chroma alone can describe and serve it.

Per build ``<id>``, these collections (readable by Chroma's own client or any tool):

    chunks-<id>      one record per chunk: its vector, the verbatim text as ``document``,
                     and metadata: doc id, title, publisher, heading path, character
                     offsets, content hash, text SHA-256, row, sentence offsets and the
                     analysed keyword tokens (so BM25 is rebuilt without re-analysing)
    vectors-<id>     the chunk vectors exactly as the model made them (a cosine collection
                     stores each vector normalised again, which moves its last bits;
                     l2 space keeps them bit for bit, so every replica's answers are the
                     ones the ingesting machine gives)
    sentences-<id>   one record per quotable sentence: its vector, its text, its chunk,
                     row and offsets (l2 space: Chroma keeps these vectors bit for bit)
    articles-<id>    one record per article: the whole file text and its metadata
    files-<id>       server mode: the build's local files (chunks.jsonl, vectors.npy,
                     bm25/) in parts, as a replica writes them (``transfer``): a
                     replica copies a build in a few large reads instead of parsing
                     every record (3 minutes at 100k chunks), and checks each file
                     against the SHA-256 the build's record holds

and, in the one ``skinqa-meta`` collection, small JSON records:

    identity         the store's own id, written once: a build names the store it lives
                     in by this id, never by how a host spells the server's address
    build:<id>       the build's manifest (fingerprint, counts, documents, SHA-256s);
                     metadata ``retired`` (epoch seconds) once a newer build is live
    live             the build replicas serve (server mode; embedded mode keeps the
                     ``CURRENT`` file, as a per-build embedded store cannot name another)

Records that are not vectors carry a one-number placeholder embedding: Chroma requires an
embedding per record and would otherwise try to compute one.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..embeddings import DIMENSION
from ..schema import Chunk
from .integrity import text_sha256

META = "skinqa-meta"
IDENTITY = "identity"
LIVE = "live"
_PLACEHOLDER = [1.0]
_BATCH = 1000


def chunks_name(build_id: str) -> str:
    return f"chunks-{build_id}"


def vectors_name(build_id: str) -> str:
    return f"vectors-{build_id}"


def sentences_name(build_id: str) -> str:
    return f"sentences-{build_id}"


def articles_name(build_id: str) -> str:
    return f"articles-{build_id}"


def files_name(build_id: str) -> str:
    return f"files-{build_id}"


# The collection names of a build start with one of these, then the build id.
PREFIXES = ("chunks-", "vectors-", "sentences-", "articles-", "files-")


def build_names(build_id: str) -> tuple[str, ...]:
    return tuple(f"{prefix}{build_id}" for prefix in PREFIXES)


def record_id(build_id: str) -> str:
    return f"build:{build_id}"


@dataclass(frozen=True)
class Article:
    """One article as the build holds it: its id, whole file text and manifest entry."""

    doc_id: str
    text: str
    meta: dict[str, Any]


def meta_collection(client: Any) -> Any:
    return client.get_or_create_collection(META, embedding_function=None)


def _document(collection: Any, record: str) -> tuple[str, dict[str, Any]] | None:
    got = collection.get(ids=[record], include=["documents", "metadatas"])
    if not got["ids"]:
        return None
    return got["documents"][0] or "", dict(got["metadatas"][0] or {})


def _put(collection: Any, record: str, document: str, metadata: dict[str, Any]) -> None:
    collection.upsert(
        ids=[record], documents=[document], metadatas=[metadata], embeddings=[_PLACEHOLDER]
    )


# -- identity and the live record ---------------------------------------------------------
def identity(client: Any, create: bool = False) -> str | None:
    """The store's id; with ``create``, written first if the store has none yet.

    Two writers racing here both upsert, and the later id wins before any build names
    it: ingest calls this under the ingest lease, so only one writes.
    """
    meta = meta_collection(client)
    found = _document(meta, IDENTITY)
    if found is not None and found[0]:
        return found[0]
    if not create:
        return None
    store_id = uuid.uuid4().hex
    _put(meta, IDENTITY, store_id, {"created": time.time()})
    return store_id


def live_build(client: Any) -> str | None:
    """The id of the build the live record names, or None before the first ingest."""
    found = _document(meta_collection(client), LIVE)
    return found[0] if found is not None and found[0] else None


def live_since(client: Any) -> float | None:
    """When the live build was published (epoch seconds), or None."""
    found = _document(meta_collection(client), LIVE)
    since = found[1].get("since") if found is not None else None
    return float(since) if isinstance(since, int | float) else None


def build_record(client: Any, build_id: str) -> dict[str, Any] | None:
    """The build's manifest as the store holds it, or None if it has no record."""
    found = _document(meta_collection(client), record_id(build_id))
    if found is None:
        return None
    manifest = json.loads(found[0])
    return manifest if isinstance(manifest, dict) else None


def build_records(client: Any) -> dict[str, dict[str, Any]]:
    """Build id -> the metadata of its record (``created``, and ``retired`` if not live)."""
    got = meta_collection(client).get(include=["metadatas"])
    return {
        record.removeprefix("build:"): dict(metadata or {})
        for record, metadata in zip(got["ids"], got["metadatas"], strict=True)
        if record.startswith("build:")
    }


def publish(client: Any, build_id: str, now: float | None = None) -> None:
    """Name ``build_id`` live; the build it replaces is marked retired from now on."""
    now = time.time() if now is None else now
    meta = meta_collection(client)
    previous = live_build(client)
    _put(meta, LIVE, build_id, {"since": now})
    if previous and previous != build_id:
        found = _document(meta, record_id(previous))
        if found is not None:
            _put(meta, record_id(previous), found[0], {**found[1], "retired": now})


def drop_build(client: Any, build_id: str) -> None:
    """Delete a build's collections and record (what is already gone is skipped)."""
    for name in build_names(build_id):
        try:
            client.delete_collection(name)
        except Exception:  # absent already (an abandoned or half-dropped build)
            continue
    meta_collection(client).delete(ids=[record_id(build_id)])


def prune(
    client: Any, grace_s: float, keep: Sequence[str] = (), now: float | None = None
) -> list[str]:
    """Drop builds retired more than ``grace_s`` ago, and collections of builds that never
    got a record (an ingest that died before publishing); never the live build or
    ``keep``. Called under the ingest lease. Returns the dropped build ids."""
    now = time.time() if now is None else now
    live = live_build(client)
    records = build_records(client)
    protected = {live, *keep}
    dropped = []
    for build_id, metadata in records.items():
        retired = metadata.get("retired")
        if build_id in protected or not isinstance(retired, int | float):
            continue
        if now - retired >= grace_s:
            drop_build(client, build_id)
            dropped.append(build_id)
    orphans = (
        {
            name.split("-", 1)[1]
            for name in (c.name for c in client.list_collections())
            if name.startswith(PREFIXES)
        }
        - set(records)
        - protected
    )
    for build_id in sorted(orphans):
        drop_build(client, build_id)
        dropped.append(build_id)
    return dropped


# -- writing a build ----------------------------------------------------------------------
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
        embeddings=[_PLACEHOLDER] * len(articles),
        documents=[a.text for a in articles],
        metadatas=[
            {k: v for k, v in {**a.meta, "doc_id": a.doc_id}.items() if v is not None}
            for a in articles
        ],
    )


def write_record(client: Any, manifest: dict[str, Any]) -> None:
    """The build's record, written after its collections: a build with a record is whole."""
    _put(
        meta_collection(client),
        record_id(str(manifest["build_id"])),
        json.dumps(manifest, sort_keys=True),
        {"created": time.time()},
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


# -- reading a build ----------------------------------------------------------------------
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


def read_article(client: Any, build_id: str, doc_id: str) -> str | None:
    """An article's whole text as the build holds it, or None if it has no such article."""
    got = client.get_collection(articles_name(build_id)).get(ids=[doc_id], include=["documents"])
    return got["documents"][0] if got["ids"] else None
