"""Load stage: read corpus files into ``Document`` objects, rejecting unusable files.

Text is never rewritten here: chunk offsets point into the file exactly as it is on
disk, so a citation can always be checked against the file a person can open.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from ..errors import CorpusFileError

SUFFIXES = (".md", ".txt", ".markdown")
MAX_FILE_BYTES = 5_000_000
_FRONT_MATTER = re.compile(r"\A---\r?\n(.*?)\r?\n---\r?\n", re.DOTALL)
_SLUG = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True)
class Document:
    id: str
    title: str
    path: Path
    text: str  # the whole file, decoded, as on disk
    body_start: int  # offset where the article body begins (after front matter)
    publisher: str | None = None
    retrieved: str | None = None

    @property
    def content_hash(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()

    @property
    def is_markdown(self) -> bool:
        return self.path.suffix.lower() in (".md", ".markdown")


def slugify(name: str) -> str:
    return _SLUG.sub("-", name.lower()).strip("-") or "document"


def read_document(path: Path) -> Document:
    """Parse one file; raise ``CorpusFileError`` with a specific reason if unusable."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise CorpusFileError(str(path), f"cannot be read ({exc.strerror or exc})") from exc
    if len(raw) > MAX_FILE_BYTES:
        raise CorpusFileError(str(path), f"is larger than {MAX_FILE_BYTES} bytes")
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
    )


def corpus_files(corpus_dir: Path) -> list[Path]:
    """Article files in a stable order; hidden files and README-like notes are skipped."""
    if not corpus_dir.is_dir():
        raise FileNotFoundError(f"Corpus folder not found: {corpus_dir}")
    return sorted(
        p
        for p in corpus_dir.iterdir()
        if p.is_file() and p.suffix.lower() in SUFFIXES and not p.name.startswith(".")
    )


def load_corpus(corpus_dir: Path) -> tuple[list[Document], list[CorpusFileError]]:
    """All usable documents, plus one error per skipped file (ingest reports them)."""
    docs: list[Document] = []
    errors: list[CorpusFileError] = []
    seen: dict[str, Path] = {}
    for path in corpus_files(corpus_dir):
        try:
            doc = read_document(path)
        except CorpusFileError as err:
            errors.append(err)
            continue
        if doc.id in seen:
            errors.append(
                CorpusFileError(str(path), f"duplicate id '{doc.id}' (also {seen[doc.id].name})")
            )
            continue
        seen[doc.id] = path
        docs.append(doc)
    return docs, errors
