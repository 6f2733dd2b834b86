"""What a ``[n]`` chip opens: the cited passage in its place in the article.

``passage_for(chunks, citation)`` gives the article title, a short section name, the
quote with the rest of the sentences around it (from the chunk's own sentence offsets),
and the link that opens the whole article with the passage highlighted.

>>> short_section("Navigating … > 4. Post-Treatment Care: Optimizing Healing > No Makeup")
'Post-Treatment Care › No Makeup'
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from ..schema import Chunk

ARTICLE_PATH = "/articles"
_NUMBERING = re.compile(r"^\d+\.\s+")


def _short(segment: str) -> str:
    """'4. Post-Treatment Care: Optimizing Healing and Results' -> 'Post-Treatment Care'."""
    segment = _NUMBERING.sub("", segment.strip())
    head, sep, _ = segment.partition(": ")
    return head if sep and len(head) >= 8 else segment


def short_section(section: str) -> str:
    """The section's own name, with its parent for a list item inside a numbered step."""
    parts = [p for p in section.split(" > ") if p.strip()]
    if not parts:
        return ""
    names = [_short(p) for p in parts]
    return " › ".join(names[-2:]) if len(names) >= 3 else names[-1]


def article_href(doc_id: str, start: int, end: int) -> str:
    """The article page with the passage ``[start, end)`` (file offsets) highlighted."""
    return f"{ARTICLE_PATH}/{quote(doc_id, safe='')}?start={start}&end={end}#passage"


@dataclass(frozen=True)
class Passage:
    """One citation as its chip opens it."""

    n: int
    role: str
    title: str
    section: str  # short name
    before: str  # the rest of the sentence (or the sentence) before the quote
    quote: str
    after: str  # the rest of the sentence (or the sentence) after it
    href: str


def _context(chunk: Chunk | None, start: int, end: int) -> tuple[str, str]:
    """Text of the chunk around ``[start, end)``: to the start of the sentence the quote
    begins in (or the whole sentence before), and to the end of the sentence it ends in
    (or the whole sentence after)."""
    if chunk is None:
        return "", ""

    def text(a: int, b: int) -> str:
        return chunk.text[a - chunk.start : b - chunk.start].strip()

    before = after = ""
    for sentence in chunk.sentences:
        if sentence.start < start < sentence.end:  # the quote starts inside this sentence
            before = text(sentence.start, start)
        elif sentence.end <= start:
            before = sentence.text.strip()
        if sentence.start < end < sentence.end:  # ... and ends inside this one
            after = text(end, sentence.end)
            break
        if sentence.start >= end:
            after = sentence.text.strip()
            break
    return before, after


def chunk_at(chunks: Sequence[Chunk], doc_id: str, start: int) -> Chunk | None:
    return next((c for c in chunks if c.doc_id == doc_id and c.start <= start < c.end), None)


def passage_for(chunks: Sequence[Chunk], citation: dict[str, Any]) -> Passage:
    start, end = int(citation["start"]), int(citation["end"])
    before, after = _context(chunk_at(chunks, citation["doc_id"], start), start, end)
    return Passage(
        n=int(citation["n"]),
        role=str(citation.get("role", "support")),
        title=citation["title"],
        section=short_section(citation["section"]),
        before=before,
        quote=citation["text"],
        after=after,
        href=article_href(citation["doc_id"], start, end),
    )
