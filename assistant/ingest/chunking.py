"""Chunk stage: section-aware chunks and quotable sentences with exact file offsets.

The Markdown structure decides the boundaries: a chunk never straddles two sections,
a paragraph or list item is never split mid-sentence, and a list item that carries a
label and its own sub-items ("No Makeup (Initially): ...") is a sub-section of its own.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator

from ..index.layout import CHUNKER_VERSION
from ..schema import Chunk, Sentence
from ..text import split_sentences
from .corpus import Document

__all__ = ["CHUNKER_VERSION", "INTRO_SECTION", "chunk_document", "split_sentences"]

INTRO_SECTION = "Introduction"

_HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t#]*$")
_ITEM = re.compile(r"^([ \t]*)(?:[-*+•]|\d+[.)])[ \t]+")
_LABEL = re.compile(r"^([^:.!?\n]{2,60}):\s")


class _Block:
    """A paragraph or a top-level list item (with its nested items)."""

    def __init__(self, start: int, section: str) -> None:
        self.start = start
        self.end = start
        self.section = section
        self.sentences: list[Sentence] = []
        self.own_section = False

    def add_line(self, text: str, offset: int) -> None:
        self.sentences.extend(split_sentences(text, offset))
        self.end = offset + len(text.rstrip())


def _lines(doc: Document) -> Iterator[tuple[int, str]]:
    offset = doc.body_start
    for line in doc.text[doc.body_start :].splitlines(keepends=True):
        yield offset, line.rstrip("\r\n")
        offset += len(line)


def parse_blocks(doc: Document) -> list[_Block]:
    blocks: list[_Block] = []
    headings: list[tuple[int, str]] = []
    block: _Block | None = None
    in_item = False

    def section() -> str:
        return " > ".join(text for _, text in headings) or INTRO_SECTION

    for offset, line in _lines(doc):
        if not line.strip():
            if block is not None and not in_item:
                block = None
            continue
        heading = _HEADING.match(line) if doc.is_markdown else None
        if heading:
            block, in_item = None, False
            level = len(heading.group(1))
            headings = [h for h in headings if h[0] < level] + [(level, heading.group(2))]
            continue
        item = _ITEM.match(line)
        indent = len(line) - len(line.lstrip())
        if item and indent < 2:
            block, in_item = _Block(offset, section()), True
            blocks.append(block)
            content = line[item.end() :]
            label = _LABEL.match(content)
            block.add_line(content, offset + item.end())
            block.label = label.group(1) if label else None  # type: ignore[attr-defined]
            continue
        if block is not None and in_item and (item or indent >= 2):
            # A nested item or an indented continuation belongs to the open item; an
            # item with sub-items and a label is a sub-section in its own right.
            content = line[item.end() :] if item else line.lstrip()
            block.add_line(content, offset + len(line) - len(content))
            label = getattr(block, "label", None)
            if item and label and not block.own_section:
                block.own_section = True
                block.section = f"{block.section} > {label}"
            continue
        if block is None or in_item:
            block, in_item = _Block(offset, section()), False
            blocks.append(block)
        stripped = line.lstrip()
        block.add_line(stripped, offset + len(line) - len(stripped))
    return [b for b in blocks if b.sentences]


def _pieces(block: _Block, max_chars: int) -> Iterator[list[Sentence]]:
    """Split an over-long block at sentence boundaries."""
    current: list[Sentence] = []
    for sentence in block.sentences:
        if current and sentence.end - current[0].start > max_chars:
            yield current
            current = []
        current.append(sentence)
    if current:
        yield current


def chunk_document(doc: Document, max_chars: int = 700) -> list[Chunk]:
    """Pack consecutive blocks of one section into chunks of at most ``max_chars``."""
    groups: list[tuple[str, list[Sentence]]] = []
    open_group: list[Sentence] | None = None
    open_section: str | None = None
    for block in parse_blocks(doc):
        for piece in _pieces(block, max_chars):
            fits = (
                open_group is not None
                and open_section == block.section
                and not block.own_section
                and piece[-1].end - open_group[0].start <= max_chars
            )
            if fits and open_group is not None:
                open_group.extend(piece)
            else:
                open_group, open_section = list(piece), block.section
                groups.append((block.section, open_group))
            if block.own_section:
                open_group = None

    chunks = []
    for i, (section, sentences) in enumerate(groups):
        start, end = sentences[0].start, sentences[-1].end
        # Keep the "- " of a list item the chunk opens with: the composer reads it to
        # quote the item whole, as it does for items further down a chunk.
        line_start = doc.text.rfind("\n", 0, start) + 1
        if _ITEM.fullmatch(doc.text[line_start:start]):
            start = line_start
        text = doc.text[start:end]
        digest = hashlib.sha256(f"{doc.title}\n{section}\n{text}".encode()).hexdigest()
        chunks.append(
            Chunk(
                id=f"{doc.id}:{i:04d}:{digest[:10]}",
                doc_id=doc.id,
                title=doc.title,
                section=section,
                start=start,
                end=end,
                text=text,
                content_hash=digest,
                sentences=tuple(sentences),
            )
        )
    return chunks
