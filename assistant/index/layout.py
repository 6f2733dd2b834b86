"""The on-disk layout of an index: builds, the live-build pointer, the fingerprint.

An index folder holds numbered builds and a ``CURRENT`` file naming the live one::

    index/CURRENT                  build id, replaced atomically when a build completes
    index/builds/<id>/manifest.json   written last: a build without it is incomplete;
                                      it records the SHA-256 of every other file
    index/builds/<id>/chunks.jsonl    chunk texts, offsets, sections, sentences
    index/builds/<id>/vectors.npy      chunk embeddings (reused by the next ingest)
    index/builds/<id>/sentences.npy    sentence embeddings, in chunk order (embedded
                                       only: on a server they stay in the store)
    index/builds/<id>/bm25/            keyword index
    index/builds/<id>/chroma/          embedded Chroma (absent in server mode)

Readers only ever open the build that ``CURRENT`` names, and a build is never changed
after it is named, so a reader never sees a half-written index.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ..errors import IndexCorruptError
from ..tuning import Tuning

# Bump when what a build holds changes shape, so older builds are refused.
# 2: the manifest records file and chunk-text SHA-256s; 3: the build is kept whole in
# Chroma too (texts, metadata and tokens, sentences, articles, its record: ``store``);
# 4: on a server, the local files in the store too (``transfer``) and no sentences.npy.
INDEX_FORMAT = 4
# Bump when the chunking rules change (ingest/chunking.py): chunk ids and texts change.
CHUNKER_VERSION = "2"  # 2: a chunk that opens with a list item keeps its marker

# The files of a build: the one place their names are written.
MANIFEST = "manifest.json"
CURRENT = "CURRENT"
CHUNKS_FILE = "chunks.jsonl"
VECTORS_FILE = "vectors.npy"
SENTENCES_FILE = "sentences.npy"
BM25_DIR = "bm25"
CHROMA_DIR = "chroma"
LOCK_FILE = "ingest.lock"
KEEP_BUILDS = 2  # the live build and the one before it, which open readers may still use


def builds_dir(index_dir: Path) -> Path:
    return index_dir / "builds"


# What ingest names a build (``20261201T194500-1a2b3c``); a pointer naming anything else
# (a path, "..", control characters) is refused rather than followed.
BUILD_ID = re.compile(r"[0-9A-Za-z][0-9A-Za-z_-]{0,63}")
MAX_POINTER_BYTES = 256


def current_build(index_dir: Path) -> Path | None:
    """The live build the ``CURRENT`` pointer names; None when there is no pointer.

    Raises ``IndexCorruptError`` for a pointer that is not a build id (binary junk, a
    path, an empty file): it is never followed outside ``builds/``.
    """
    try:
        raw = (index_dir / CURRENT).read_bytes()[: MAX_POINTER_BYTES + 1]
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:
        raise IndexCorruptError(f"the {CURRENT} pointer cannot be read: {exc.strerror}") from exc
    try:
        build_id = raw.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise IndexCorruptError(f"the {CURRENT} pointer is not UTF-8 text") from None
    if not BUILD_ID.fullmatch(build_id):
        shown = build_id[:40] + ("…" if len(build_id) > 40 else "")
        raise IndexCorruptError(f"the {CURRENT} pointer does not name a build ({shown!r})")
    return builds_dir(index_dir) / build_id


def live_build_or_none(index_dir: Path) -> Path | None:
    """``current_build``, with a damaged pointer read as no pointer (for ingest and
    pruning, which replace it)."""
    try:
        return current_build(index_dir)
    except IndexCorruptError:
        return None


def atomic_write_text(path: Path, text: str) -> None:
    """Write via a temp file and ``os.replace`` so readers see old or new, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def publish(index_dir: Path, build: Path) -> None:
    atomic_write_text(index_dir / CURRENT, build.name + "\n")


def prune(index_dir: Path, drop: Callable[[Path], None] | None = None) -> None:
    """Delete old and abandoned builds, keeping the live one and its predecessor.

    ``drop(build)`` removes what a complete build keeps outside its folder (its
    collection on a Chroma server).
    """
    root = builds_dir(index_dir)
    live = live_build_or_none(index_dir)
    builds = sorted(p for p in root.iterdir() if p.is_dir()) if root.is_dir() else []
    complete = [b for b in builds if (b / MANIFEST).exists()]
    keep = set(complete[-KEEP_BUILDS:]) | ({live} if live else set())
    for build in builds:
        if build in keep:
            continue
        if drop is not None and (build / MANIFEST).exists():
            drop(build)
        shutil.rmtree(build, ignore_errors=True)


def write_rows(path: Path, rows: Sequence[dict[str, Any]]) -> None:
    with path.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")


def read_manifest(build: Path) -> dict[str, Any]:
    """The build's manifest as a JSON object; ``IndexCorruptError`` naming what is wrong.

    Only the shape every reader relies on is checked here; ``manifest.check_fields``
    checks the rest once the fingerprint agrees (an older format has other fields).
    """
    try:
        raw = (build / MANIFEST).read_bytes()
    except FileNotFoundError:
        raise IndexCorruptError(f"build {build.name} has no {MANIFEST}") from None
    except OSError as exc:
        raise IndexCorruptError(f"{MANIFEST} of {build.name} cannot be read: {exc}") from exc
    try:
        manifest = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise IndexCorruptError(f"{MANIFEST} of {build.name} is not valid JSON ({exc})") from None
    if not isinstance(manifest, dict):
        raise IndexCorruptError(
            f"{MANIFEST} of {build.name} holds a JSON {type(manifest).__name__}, not an object"
        )
    return manifest


def fingerprint(tuning: Tuning, model_id: str, analyzer: str, chroma: str) -> dict[str, Any]:
    """What a build must agree on with the code reading it; recorded in its manifest.

    ``analyzer``: the analyzer's version (synonym and stop-word lists); ``chroma``: where
    its vectors live (``"embedded"`` or the server's address).
    """
    return {
        "format": INDEX_FORMAT,
        "model_id": model_id,
        "chunker_version": CHUNKER_VERSION,
        "chunk_max_chars": tuning.chunk_max_chars,
        "analyzer": analyzer,
        "chroma": chroma,
    }


def mismatch(manifest: dict[str, Any], expected: dict[str, Any]) -> str | None:
    """Why a build's manifest does not fit ``expected`` (a ``fingerprint``), or None."""
    labels = {
        "format": "index format",
        "model_id": "embedding model",
        "chunker_version": "chunker version",
        "chunk_max_chars": "chunk size",
        "analyzer": "synonym or stop-word lists",
        "chroma": "Chroma target",
    }
    for key, want in expected.items():
        have = manifest.get(key)
        if have != want:
            return f"{labels[key]}: the index has {have!r}, this assistant uses {want!r}"
    return None
