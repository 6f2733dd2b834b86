"""Integrity of a build: what ingest records in the manifest and a reader verifies.

Ingest records the SHA-256 and size of every file of a build and the SHA-256 of every
chunk's text (``record``). Opening a build (``reader.LoadedIndex.open``) checks the
manifest's fields, that the build holds exactly the recorded files at their recorded
sizes, and every chunk text; file contents are hashed before the first answer, or, for
a build larger than ``EAGER_VERIFY_BYTES``, by a background ``Verification`` that stops
the build answering if it finds a difference. A mismatch is an ``IndexCorruptError``
whose message carries the rebuild command.

Chroma's own files are the exception: Chroma rewrites its segment files when a process
opens them (``length.bin`` changes on the first query), so no hash of them can hold.
Instead the vectors Chroma serves are compared with ``vectors.npy``, whose hash is
checked (``reader``), which also covers a collection on a Chroma server.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
from collections.abc import Callable, Sequence
from pathlib import Path, PurePosixPath
from typing import Any

from ..errors import IndexCorruptError
from .layout import CHROMA_DIR, MANIFEST

log = logging.getLogger(__name__)

# Hashing runs at ~1.8 GB/s here (SHA-NI): a 5-article build takes milliseconds, a
# 100k-chunk build (1.25 GB) about 0.7 s. Above this, contents are checked in the
# background so a large deployment starts answering at once.
EAGER_VERIFY_BYTES = 512 * 1024 * 1024
_BLOCK = 1 << 20
_SHA256 = re.compile(r"[0-9a-f]{64}")


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def build_files(build: Path) -> list[str]:
    """The hashed files of a build (all but the manifest and Chroma's), as sorted POSIX
    paths within it."""
    skip = {build / MANIFEST}
    chroma = build / CHROMA_DIR
    return sorted(
        p.relative_to(build).as_posix()
        for p in build.rglob("*")
        if (p.is_file() or p.is_symlink()) and p not in skip and not p.is_relative_to(chroma)
    )


def record(build: Path, chunk_texts: Sequence[str]) -> dict[str, Any]:
    """The manifest's integrity fields for a build whose files are all written."""
    return {
        "files": {
            name: {"sha256": file_sha256(build / name), "bytes": (build / name).stat().st_size}
            for name in build_files(build)
        },
        "chunk_text_sha256": [text_sha256(t) for t in chunk_texts],
    }


# -- the manifest's fields ---------------------------------------------------------------
def _fail(what: str) -> IndexCorruptError:
    return IndexCorruptError(f"{MANIFEST}: {what}")


def _int(manifest: dict[str, Any], key: str) -> int:
    value = manifest.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise _fail(f"'{key}' must be a whole number ≥ 0, not {value!r:.40}")
    return value


def _str(container: dict[str, Any], key: str, where: str = "") -> str:
    value = container.get(key)
    if not isinstance(value, str) or not value:
        raise _fail(f"{where}'{key}' must be a non-empty string, not {value!r:.40}")
    return value


def check_manifest(manifest: dict[str, Any], build: Path) -> None:
    """Raise ``IndexCorruptError`` naming the first field a reader cannot rely on."""
    if _str(manifest, "build_id") != build.name:
        raise _fail(f"'build_id' is {manifest['build_id']!r:.40}, the folder is {build.name!r}")
    _str(manifest, "collection")
    total = _int(manifest, "total_chunks")
    _int(manifest, "total_sentences")
    documents = manifest.get("documents")
    if not isinstance(documents, dict):
        raise _fail("'documents' must be an object of documents by id")
    for doc_id, doc in documents.items():
        where = f"document {doc_id!r:.40}: "
        if not isinstance(doc, dict):
            raise _fail(f"{where}must be an object")
        name = _str(doc, "file", where)
        if "/" in name or "\\" in name or name in (".", ".."):
            raise _fail(f"{where}'file' must be a file name in the corpus folder")
        _str(doc, "hash", where)
        if not isinstance(doc.get("title"), str) or not isinstance(doc.get("chunks"), int):
            raise _fail(f"{where}needs a string 'title' and a whole number 'chunks'")
        for key in ("publisher", "retrieved"):
            if not isinstance(doc.get(key), str | None):
                raise _fail(f"{where}'{key}' must be a string or null")
    files = manifest.get("files")
    if not isinstance(files, dict) or not files:
        raise _fail("'files' must be an object of the build's files")
    for name, entry in files.items():
        path = PurePosixPath(name)
        if path.is_absolute() or ".." in path.parts or not isinstance(entry, dict):
            raise _fail(f"'files' entry {name!r:.60} is not a file of the build")
        size = entry.get("bytes")
        if not _SHA256.fullmatch(str(entry.get("sha256"))) or not isinstance(size, int):
            raise _fail(f"'files' entry {name!r:.60} needs a 'sha256' and a size in 'bytes'")
    texts = manifest.get("chunk_text_sha256")
    if (
        not isinstance(texts, list)
        or len(texts) != total
        or not all(isinstance(t, str) and _SHA256.fullmatch(t) for t in texts)
    ):
        raise _fail(f"'chunk_text_sha256' must list one SHA-256 per chunk ({total})")


# -- the build's files -------------------------------------------------------------------
def check_listing(build: Path, files: dict[str, dict[str, Any]]) -> None:
    """The build holds exactly the recorded files, each a regular file of its size."""
    present = build_files(build)
    extra = sorted(set(present) - set(files))
    if extra:
        raise IndexCorruptError(f"{extra[0]} is in the build but not in its manifest")
    for name, entry in files.items():
        path = build / name
        if path.is_symlink() or not path.is_file():
            raise IndexCorruptError(f"missing file {name}")
        size = path.stat().st_size
        if size != entry["bytes"]:
            raise IndexCorruptError(
                f"{name} has {size} bytes, the manifest recorded {entry['bytes']}"
            )


def check_contents(build: Path, files: dict[str, dict[str, Any]]) -> None:
    for name, entry in files.items():
        if file_sha256(build / name) != entry["sha256"]:
            raise IndexCorruptError(
                f"{name} does not match the SHA-256 its manifest recorded (changed after "
                "the build was written)"
            )


def check_chunk_texts(texts: Sequence[str], digests: Sequence[str]) -> None:
    for i, (text, digest) in enumerate(zip(texts, digests, strict=True)):
        if text_sha256(text) != digest:
            raise IndexCorruptError(
                f"the text of chunk {i} does not match the SHA-256 its manifest recorded"
            )


def build_bytes(files: dict[str, dict[str, Any]]) -> int:
    return sum(int(entry["bytes"]) for entry in files.values())


Check = Callable[[], None]  # raises IndexCorruptError


class Verification:
    """The slow checks of one build: run at once, or in the background.

    ``raise_if_failed`` is called on every answer's path (``LoadedIndex``), so a build
    found changed stops answering at once, with the rebuild command.
    """

    def __init__(self, build: Path, checks: Sequence[Check]) -> None:
        self.build = build
        self.checks = list(checks)
        self.error: IndexCorruptError | None = None
        self.done = threading.Event()

    @classmethod
    def run(cls, build: Path, checks: Sequence[Check], background: bool) -> Verification:
        """Run ``checks`` now (raising on a mismatch), or start them in the background."""
        verification = cls(build, checks)
        if not background:
            for check in verification.checks:
                check()
            verification.done.set()
        else:
            log.info("checking build %s in the background", build.name)
            thread = threading.Thread(
                target=verification._background, name="index-verify", daemon=True
            )
            thread.start()
        return verification

    def _background(self) -> None:
        try:
            for check in self.checks:
                check()
        except IndexCorruptError as err:
            self.error = err
            log.error("build %s failed its integrity check: %s", self.build.name, err)
        except OSError as exc:
            self.error = IndexCorruptError(f"a file could not be read: {exc}")
            log.error("build %s failed its integrity check: %s", self.build.name, exc)
        finally:
            self.done.set()

    def raise_if_failed(self) -> None:
        if self.error is not None:
            raise self.error
