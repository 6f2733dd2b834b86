"""Load stage: read corpus files into ``Document`` objects, rejecting unusable files.

Text is never rewritten here: chunk offsets point into the file exactly as it is on
disk, so a citation can always be checked against the file a person can open.

The corpus folder is a trust boundary: only regular files directly inside it are read
(never a symbolic link, a hard link to a file elsewhere, a FIFO or a device), an id
already owned by a file in the live index cannot be taken over by a newcomer, and a
clinic can restrict ingest to an allow-list of vetted files (``allowlist.py``).
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml

from ..errors import CorpusFileError
from .allowlist import Allowlist

SUFFIXES = (".md", ".txt", ".markdown")
MAX_FILE_BYTES = 5_000_000
_FRONT_MATTER = re.compile(r"\A---\r?\n(.*?)\r?\n---\r?\n", re.DOTALL)
_SLUG = re.compile(r"[^a-z0-9]+")
_LINK_REASON = (
    "is a symbolic link; only regular files inside the corpus folder are read "
    "(copy the article in instead)"
)
_KINDS = {
    stat.S_IFDIR: "a folder",
    stat.S_IFIFO: "a FIFO",
    stat.S_IFSOCK: "a socket",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
}


@dataclass(frozen=True)
class Document:
    id: str
    title: str
    path: Path
    text: str  # the whole file, decoded, as on disk
    body_start: int  # offset where the article body begins (after front matter)
    publisher: str | None = None
    retrieved: str | None = None
    id_from_front_matter: bool = False  # else derived from the file name

    @property
    def content_hash(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()

    @property
    def is_markdown(self) -> bool:
        return self.path.suffix.lower() in (".md", ".markdown")


def slugify(name: str) -> str:
    return _SLUG.sub("-", name.lower()).strip("-") or "document"


def read_regular_file(path: Path, limit: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of ``path`` if it is a regular file of its own; else ``CorpusFileError``.

    Opened with ``O_NOFOLLOW`` and checked with ``fstat`` on the open descriptor, so a
    file swapped for a link between listing and reading is refused too. ``O_NONBLOCK``
    keeps a FIFO from blocking the open.
    """
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise CorpusFileError(str(path), _LINK_REASON) from exc
        raise CorpusFileError(str(path), f"cannot be read ({exc.strerror or exc})") from exc
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            kind = _KINDS.get(stat.S_IFMT(info.st_mode), "not a regular file")
            raise CorpusFileError(str(path), f"is {kind}; only regular files are read")
        if info.st_nlink > 1:
            raise CorpusFileError(
                str(path),
                f"has {info.st_nlink} hard links, so it may be a file from outside the "
                "corpus folder; copy it in instead",
            )
        if info.st_size > limit:
            raise CorpusFileError(str(path), f"is larger than {limit} bytes")
        with os.fdopen(fd, "rb", closefd=False) as handle:
            raw = handle.read(limit + 1)
    finally:
        os.close(fd)
    if len(raw) > limit:  # it grew while being read
        raise CorpusFileError(str(path), f"is larger than {limit} bytes")
    return raw


def read_document(path: Path) -> Document:
    """Parse one file; raise ``CorpusFileError`` with a specific reason if unusable."""
    return parse_document(path, read_regular_file(path))


def parse_document(path: Path, raw: bytes) -> Document:
    """A ``Document`` from a file's bytes, or ``CorpusFileError`` saying what is wrong."""
    if b"\x00" in raw:
        raise CorpusFileError(str(path), "looks like a binary file (contains NUL bytes)")
    try:
        text = raw.decode("utf-8-sig" if raw.startswith(b"\xef\xbb\xbf") else "utf-8")
    except UnicodeDecodeError as exc:
        raise CorpusFileError(str(path), f"is not valid UTF-8 (byte {exc.start})") from exc
    if raw.startswith(b"\xef\xbb\xbf"):
        # Keep offsets aligned with what a reader sees; the BOM is not article text.
        text = text.lstrip("\ufeff")
    if not text.strip():
        raise CorpusFileError(str(path), "is empty")

    meta: dict[str, object] = {}
    body_start = 0
    match = _FRONT_MATTER.match(text)
    if match:
        try:
            loaded = yaml.safe_load(match.group(1)) or {}
        except yaml.YAMLError as exc:
            raise CorpusFileError(str(path), f"has invalid YAML front matter ({exc})") from exc
        if not isinstance(loaded, dict):
            raise CorpusFileError(str(path), "front matter must be a mapping of fields")
        meta = loaded
        body_start = match.end()

    body = text[body_start:]
    if not body.strip():
        raise CorpusFileError(str(path), "has front matter but no article text")
    doc_id = slugify(str(meta.get("id") or path.stem))
    title = str(meta.get("title") or "").strip()
    if not title:
        # No front matter: the first line is the title, so the body starts after it.
        first = re.search(r"[^\r\n]*\S[^\r\n]*", body)
        assert first is not None  # body.strip() is non-empty
        title = first.group(0).lstrip("#").strip()
        body_start += first.end()
    return Document(
        id=doc_id,
        title=title,
        path=path,
        text=text,
        body_start=body_start,
        publisher=str(meta["publisher"]) if meta.get("publisher") else None,
        retrieved=str(meta["retrieved"]) if meta.get("retrieved") else None,
        id_from_front_matter=bool(meta.get("id")),
    )


def scan_corpus(corpus_dir: Path) -> tuple[list[Path], list[CorpusFileError]]:
    """Candidate article files in a stable order, and one error per entry refused.

    Hidden files and names without an article suffix are not articles and are passed
    over silently; an article-named entry that is not a regular file of this folder (a
    symbolic link, a FIFO, a device, a folder) is refused with its reason.
    """
    if not corpus_dir.is_dir():
        raise FileNotFoundError(f"Corpus folder not found: {corpus_dir}")
    root = corpus_dir.resolve()
    paths: list[Path] = []
    errors: list[CorpusFileError] = []
    with os.scandir(corpus_dir) as entries:
        for entry in entries:
            path = corpus_dir / entry.name
            if entry.name.startswith(".") or path.suffix.lower() not in SUFFIXES:
                continue
            if entry.is_symlink():
                errors.append(CorpusFileError(str(path), _LINK_REASON))
            elif not entry.is_file(follow_symlinks=False):
                mode = entry.stat(follow_symlinks=False).st_mode
                kind = _KINDS.get(stat.S_IFMT(mode), "not a regular file")
                errors.append(CorpusFileError(str(path), f"is {kind}; only regular files are read"))
            elif path.resolve().parent != root:  # cannot happen for a plain entry; belt and braces
                errors.append(CorpusFileError(str(path), "resolves outside the corpus folder"))
            else:
                paths.append(path)
    return sorted(paths), sorted(errors, key=lambda e: e.path)


def corpus_files(corpus_dir: Path) -> list[Path]:
    """Article files in a stable order (the refused entries are left out)."""
    return scan_corpus(corpus_dir)[0]


def _claim_order(doc: Document, claimed: Mapping[str, str]) -> tuple[int, int, str]:
    """Who keeps a contested id: the file that holds it in the live index, then a file
    whose front matter names the id, then the first file name in byte order."""
    return (
        0 if claimed.get(doc.id) == doc.path.name else 1,
        0 if doc.id_from_front_matter else 1,
        doc.path.name,
    )


def load_corpus(
    corpus_dir: Path,
    *,
    claimed: Mapping[str, str] | None = None,
    allowlist: Allowlist | None = None,
) -> tuple[list[Document], list[CorpusFileError]]:
    """All usable documents, plus one error per skipped file (ingest reports them).

    ``claimed`` maps the ids of the live index to their files: such a file keeps its id,
    and a newcomer with the same id is refused, naming the file that owns it. With an
    ``allowlist``, only the files it names (at their vetted content, when it gives a
    SHA-256) are read.
    """
    claimed = claimed or {}
    paths, errors = scan_corpus(corpus_dir)
    docs: list[Document] = []
    for path in paths:
        try:
            raw = read_regular_file(path)
            if allowlist is not None:
                allowlist.check(path, raw)
            docs.append(parse_document(path, raw))
        except CorpusFileError as err:
            errors.append(err)
    if allowlist is not None:
        seen = {p.name for p in paths} | {Path(e.path).name for e in errors}
        errors += allowlist.missing(corpus_dir, seen)

    by_id: dict[str, list[Document]] = {}
    for doc in docs:
        by_id.setdefault(doc.id, []).append(doc)
    kept: set[Path] = set()
    for doc_id, contenders in by_id.items():
        owner, *others = sorted(contenders, key=lambda d: _claim_order(d, claimed))
        kept.add(owner.path)
        for doc in others:
            errors.append(
                CorpusFileError(
                    str(doc.path),
                    f"duplicate id '{doc_id}': already used by {owner.path.name}, which keeps "
                    "it; give this file its own id in its front matter or rename it",
                )
            )
    return [d for d in docs if d.path in kept], errors
