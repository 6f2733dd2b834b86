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

This module names the collections and keeps the records; ``contents`` writes a build's
collections, ``sentences`` reads its sentence vectors and ``transfer`` its files.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Sequence
from typing import Any

META = "skinqa-meta"
IDENTITY = "identity"
LIVE = "live"
PLACEHOLDER = [1.0]


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


def meta_collection(client: Any) -> Any:
    return client.get_or_create_collection(META, embedding_function=None)


def _document(collection: Any, record: str) -> tuple[str, dict[str, Any]] | None:
    got = collection.get(ids=[record], include=["documents", "metadatas"])
    if not got["ids"]:
        return None
    return got["documents"][0] or "", dict(got["metadatas"][0] or {})


def _put(collection: Any, record: str, document: str, metadata: dict[str, Any]) -> None:
    collection.upsert(
        ids=[record], documents=[document], metadatas=[metadata], embeddings=[PLACEHOLDER]
    )


# -- identity, the live record and the build records --------------------------------------
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


def write_record(client: Any, manifest: dict[str, Any]) -> None:
    """The build's record, written after its collections: a build with a record is whole."""
    _put(
        meta_collection(client),
        record_id(str(manifest["build_id"])),
        json.dumps(manifest, sort_keys=True),
        {"created": time.time()},
    )


# -- publishing and pruning builds --------------------------------------------------------
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
