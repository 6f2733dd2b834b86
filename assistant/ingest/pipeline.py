"""The ingest pipeline: load -> chunk -> embed -> store, incremental and crash-safe.

Each run writes a complete new build and only then names it live (see ``index.layout``), so
an interrupted run leaves the previous index serving. Embeddings are reused by chunk
content hash, so only new or edited passages are embedded again.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from filelock import FileLock, Timeout

from ..embeddings import DIMENSION, Embedder
from ..errors import CorpusFileError, IndexCorruptError, IngestLeaseError, IngestLockedError
from ..index import integrity, layout, replica, sentences, store, vectors
from ..index.analyzer import analyzer_version
from ..index.lease import Lease
from ..schema import Chunk
from ..settings import Settings
from ..tuning import DEFAULT, Tuning
from .allowlist import Allowlist
from .chunking import chunk_document
from .corpus import load_corpus
from .write import write_build


@dataclass
class IngestSummary:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    chunks_added: int = 0
    chunks_removed: int = 0
    chunks_unchanged: int = 0
    embedded: int = 0  # texts sent to the model (chunks + sentences)
    total_chunks: int = 0
    skipped: list[str] = field(default_factory=list)  # "file: reason"
    notices: list[str] = field(default_factory=list)  # about the previous build
    build: str | None = None
    seconds: float = 0.0

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def lines(self) -> list[str]:
        out = [
            f"documents: {len(self.added)} added, {len(self.updated)} updated, "
            f"{len(self.removed)} removed, {len(self.unchanged)} unchanged",
            f"chunks:    {self.chunks_added} added, {self.chunks_removed} removed, "
            f"{self.chunks_unchanged} unchanged ({self.total_chunks} in index)",
            f"embedded:  {self.embedded} texts in {self.seconds:.2f} s"
            + ("" if self.changed else " (index already up to date)"),
        ]
        out += [f"skipped:   {reason}" for reason in self.skipped]
        out += [f"note:      {notice}" for notice in self.notices]
        return out


def sentence_embed_text(chunk: Chunk, text: str) -> str:
    leaf = chunk.section.rsplit(" > ", 1)[-1]
    return f"{leaf}: {text}"


def _previous(index_dir: Path) -> tuple[Path | None, dict[str, Any] | None]:
    """The live build and its manifest, or (None, None) when there is no usable one."""
    build = layout.live_build_or_none(index_dir)
    if build is None or not (build / layout.MANIFEST).exists():
        return None, None
    try:
        return build, layout.read_manifest(build)
    except IndexCorruptError:
        return None, None


def _claims(manifest: dict[str, Any] | None) -> dict[str, str]:
    """Document id -> file name in the live build: those files keep their ids."""
    documents = manifest.get("documents") if manifest else None
    if not isinstance(documents, dict):
        return {}
    return {
        doc_id: doc["file"]
        for doc_id, doc in documents.items()
        if isinstance(doc, dict) and isinstance(doc.get("file"), str)
    }


def _reused_files(embedded: bool) -> tuple[str, ...]:
    """The files of the live build a new one reuses: its chunks and vectors (on a Chroma
    server the sentence vectors are in the store, not a file)."""
    files = (layout.CHUNKS_FILE, layout.VECTORS_FILE)
    return (*files, layout.SENTENCES_FILE) if embedded else files


def _check_reusable(build: Path, manifest: dict[str, Any], embedded: bool) -> None:
    """Raise ``IndexCorruptError`` unless the live build's manifest is sound and the files
    a new build reuses (chunks and vectors) still match their recorded SHA-256: vectors
    changed on disk are never carried into a new build."""
    integrity.check_manifest(manifest, build)
    files = manifest["files"]
    reused = _reused_files(embedded)
    missing = [name for name in reused if name not in files]
    if missing:
        raise IndexCorruptError(f"{layout.MANIFEST} of {build.name} lacks {missing[0]}")
    try:
        integrity.check_contents(build, {name: files[name] for name in reused})
    except OSError as exc:
        raise IndexCorruptError(f"unreadable index file: {exc}") from exc


def _reusable_vectors(
    build: Path, client: Any = None
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Chunk and sentence vectors of the previous build, keyed by chunk content hash;
    ``client``: the Chroma server, which holds the sentence vectors in server mode."""
    try:
        with (build / layout.CHUNKS_FILE).open(encoding="utf-8") as handle:
            rows = [json.loads(line) for line in handle]
        chunk_vectors = np.load(build / layout.VECTORS_FILE, allow_pickle=False)
        if client is None:
            sentences = np.load(build / layout.SENTENCES_FILE, allow_pickle=False)
            starts = np.cumsum([0] + [len(row["sentences"]) for row in rows])
            per_chunk = [sentences[starts[i] : starts[i + 1]] for i in range(len(rows))]
        else:
            per_chunk = _stored_sentences(client, build.name, rows)
    except (OSError, ValueError, KeyError):
        return {}, {}
    chunk_vecs, sent_vecs = {}, {}
    for i, row in enumerate(rows):
        chunk_vecs[row["content_hash"]] = chunk_vectors[i]
        sent_vecs[row["content_hash"]] = per_chunk[i]
    return chunk_vecs, sent_vecs


def _stored_sentences(client: Any, build_id: str, rows: list[dict[str, Any]]) -> list[np.ndarray]:
    """The sentence vectors of a build's chunks from the Chroma server (``KeyError`` if
    the store lacks its collection or a sentence: nothing is reused then)."""
    try:
        collection = client.get_collection(store.sentences_name(build_id))
    except Exception as exc:
        if vectors.is_not_found(exc):
            raise KeyError(store.sentences_name(build_id)) from exc
        raise
    wanted = [(str(row["id"]), len(row["sentences"])) for row in rows]
    return sentences.read_sentence_vectors(collection, wanted)


def ingest(
    settings: Settings,
    embedder_factory: Callable[[], Embedder],
    *,
    model_id: str,
    rebuild: bool = False,
    progress: Callable[[int, int], None] | None = None,
    tuning: Tuning = DEFAULT,
) -> IngestSummary:
    """Bring the index in line with the corpus. Raises ``IngestLockedError`` if busy:
    another ingest holds the local lock, or (server mode) the store's ingest lease."""
    index_dir = settings.index_path
    index_dir.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(index_dir / layout.LOCK_FILE))
    try:
        lock.acquire(timeout=0)
    except Timeout as exc:
        raise IngestLockedError(str(index_dir / layout.LOCK_FILE)) from exc
    try:
        if not settings.chroma_host:
            return _ingest_locked(settings, embedder_factory, model_id, rebuild, progress, tuning)
        client = vectors.connect(settings)
        holder = f"{socket.gethostname()} pid {os.getpid()}"
        where = vectors.server_address(settings)
        with Lease(client, holder, settings.ingest_lease_seconds, where) as lease:
            return _ingest_locked(
                settings, embedder_factory, model_id, rebuild, progress, tuning, client, lease
            )
    finally:
        lock.release()


def _ingest_locked(
    settings: Settings,
    embedder_factory: Callable[[], Embedder],
    model_id: str,
    rebuild: bool,
    progress: Callable[[int, int], None] | None,
    tuning: Tuning,
    client: Any = None,
    lease: Lease | None = None,
) -> IngestSummary:
    started = time.perf_counter()
    index_dir = settings.index_path
    summary = IngestSummary()
    identity = None
    on_server = None  # the server's live build, as the local cache holds it
    if client is not None:
        identity = store.identity(client, create=True)
        if store.live_build(client) is not None:
            try:
                on_server = replica.sync_live(settings, client)
            except IndexCorruptError as err:
                summary.notices.append(f"the store's live build was not reused: {err}")
    prev_build, prev = _previous(index_dir)
    if client is not None and (on_server is None or prev_build != on_server):
        prev_build, prev = None, None  # only the store's own live build is reused
    allowlist = Allowlist.read(settings.corpus_allowlist) if settings.corpus_allowlist else None
    docs, errors = load_corpus(settings.corpus_dir, claimed=_claims(prev), allowlist=allowlist)
    summary.skipped = [str(err) for err in errors]
    fingerprint = layout.fingerprint(
        tuning, model_id, analyzer_version(), vectors.chroma_target(identity)
    )
    compatible = prev is not None and not rebuild and layout.mismatch(prev, fingerprint) is None
    if compatible and prev_build and prev:
        try:
            _check_reusable(prev_build, prev, embedded=client is None)
        except IndexCorruptError as err:
            # Nothing of a damaged live build is reused, and a new build is written even
            # if the corpus did not change.
            compatible = False
            summary.notices.append(f"the live build was not reused: {err}")
    prev_docs: dict[str, Any] = prev["documents"] if compatible and prev else {}

    for doc in docs:
        old = prev_docs.get(doc.id)
        if old is None:
            summary.added.append(doc.id)
        elif old["hash"] != doc.content_hash:
            summary.updated.append(doc.id)
        else:
            summary.unchanged.append(doc.id)
    summary.removed = sorted(set(prev_docs) - {d.id for d in docs})

    if compatible and not summary.changed:
        summary.total_chunks = prev["total_chunks"] if prev else 0
        summary.chunks_unchanged = summary.total_chunks
        summary.build = prev_build.name if prev_build else None
        # A run killed earlier may have left an unfinished build behind.
        _prune(settings, client)
        summary.seconds = time.perf_counter() - started
        return summary

    chunks_by_doc = {doc.id: chunk_document(doc, tuning.chunk_max_chars) for doc in docs}
    chunks = [c for doc in docs for c in chunks_by_doc[doc.id]]
    chunk_reuse, sent_reuse = (
        _reusable_vectors(prev_build, client) if compatible and prev_build else ({}, {})
    )
    old_hashes = set(chunk_reuse)
    new_hashes = {c.content_hash for c in chunks}
    summary.chunks_unchanged = len(new_hashes & old_hashes)
    summary.chunks_added = len(chunks) - summary.chunks_unchanged
    summary.chunks_removed = len(old_hashes - new_hashes)
    summary.total_chunks = len(chunks)

    chunk_vectors, sentence_vectors = _embed(
        chunks, chunk_reuse, sent_reuse, embedder_factory, progress, summary
    )
    build = layout.builds_dir(index_dir) / (
        time.strftime("%Y%m%dT%H%M%S") + f"-{secrets.token_hex(3)}"
    )
    build.mkdir(parents=True)
    write_build(
        settings,
        build,
        docs,
        chunks_by_doc,
        chunks,
        chunk_vectors,
        sentence_vectors,
        fingerprint,
        client,
    )
    if lease is not None and not lease.held():
        # Another machine took the lease over (this run stalled past its expiry): it
        # decides what is live; this build is left for its prune.
        raise IngestLeaseError("another ingest (it took over this run's expired lease)", 0)
    if client is not None:
        store.publish(client, build.name)
    layout.publish(index_dir, build)
    _prune(settings, client, keep=build.name)
    summary.build = build.name
    summary.seconds = time.perf_counter() - started
    return summary


def _prune(settings: Settings, client: Any, keep: str | None = None) -> None:
    """Old local builds go (the local folder is a cache in server mode); on the server,
    builds retired longer ago than the grace period and builds that were never
    published: a replica still serving the previous build keeps it for that long."""
    layout.prune(settings.index_path)
    if client is not None:
        grace_s = settings.build_grace_minutes * 60
        store.prune(client, grace_s, keep=[keep] if keep else [])


def _embed(
    chunks: list[Chunk],
    chunk_reuse: dict[str, np.ndarray],
    sent_reuse: dict[str, np.ndarray],
    embedder_factory: Callable[[], Embedder],
    progress: Callable[[int, int], None] | None,
    summary: IngestSummary,
) -> tuple[np.ndarray, np.ndarray]:
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


__all__ = ["CorpusFileError", "IngestSummary", "ingest"]
