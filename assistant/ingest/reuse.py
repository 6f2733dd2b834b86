"""What a new build takes over from the live one: which file keeps which document id,
and the vectors of every chunk whose text did not change (by content hash), once the
files they come from are checked against the SHA-256s the live build recorded."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import IndexCorruptError
from ..index import integrity, layout, store, vectors
from ..index.sentences import read_sentence_vectors


def previous_build(index_dir: Path) -> tuple[Path | None, dict[str, Any] | None]:
    """The live build and its manifest, or (None, None) when there is no usable one."""
    build = layout.live_build_or_none(index_dir)
    if build is None or not (build / layout.MANIFEST).exists():
        return None, None
    try:
        return build, layout.read_manifest(build)
    except IndexCorruptError:
        return None, None


def claimed_ids(manifest: dict[str, Any] | None) -> dict[str, str]:
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


def check_reusable(build: Path, manifest: dict[str, Any], embedded: bool) -> None:
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


def reusable_vectors(
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
    return read_sentence_vectors(collection, wanted)
