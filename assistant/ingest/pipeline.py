"""The ingest pipeline: load -> chunk -> embed -> store, incremental and crash-safe.

Each run writes a complete new build and only then names it live (see ``index.layout``), so
an interrupted run leaves the previous index serving. Embeddings are reused by chunk
content hash, so only new or edited passages are embedded again: ``reuse`` says what of
the live build a new one takes over, ``embed`` embeds the rest, ``write`` writes the
build and ``summary`` reports the run.
"""

from __future__ import annotations

import os
import secrets
import socket
import time
from collections.abc import Callable
from typing import Any

from filelock import FileLock, Timeout

from ..embeddings import Embedder
from ..errors import CorpusFileError, IndexCorruptError, IngestLeaseError, IngestLockedError
from ..index import layout, replica, store, vectors
from ..index.analyzer import analyzer_version
from ..index.lease import Lease
from ..settings import Settings
from ..tuning import DEFAULT, Tuning
from .allowlist import Allowlist
from .chunking import chunk_document
from .corpus import load_corpus
from .embed import embed_missing
from .reuse import check_reusable, claimed_ids, previous_build, reusable_vectors
from .summary import IngestSummary
from .write import write_build


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
    prev_build, prev = previous_build(index_dir)
    if client is not None and (on_server is None or prev_build != on_server):
        prev_build, prev = None, None  # only the store's own live build is reused
    allowlist = Allowlist.read(settings.corpus_allowlist) if settings.corpus_allowlist else None
    docs, errors = load_corpus(settings.corpus_dir, claimed=claimed_ids(prev), allowlist=allowlist)
    summary.skipped = [str(err) for err in errors]
    fingerprint = layout.fingerprint(
        tuning, model_id, analyzer_version(), vectors.chroma_target(identity)
    )
    compatible = prev is not None and not rebuild and layout.mismatch(prev, fingerprint) is None
    if compatible and prev_build and prev:
        try:
            check_reusable(prev_build, prev, embedded=client is None)
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
        reusable_vectors(prev_build, client) if compatible and prev_build else ({}, {})
    )
    old_hashes = set(chunk_reuse)
    new_hashes = {c.content_hash for c in chunks}
    summary.chunks_unchanged = len(new_hashes & old_hashes)
    summary.chunks_added = len(chunks) - summary.chunks_unchanged
    summary.chunks_removed = len(old_hashes - new_hashes)
    summary.total_chunks = len(chunks)

    chunk_vectors, sentence_vectors = embed_missing(
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


__all__ = ["CorpusFileError", "IngestSummary", "ingest"]
