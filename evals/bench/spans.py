"""Relevance scored on text, not on metadata: a gold section is a set of character spans
of its file, and a retrieved passage is relevant when its span overlaps one of them.

Any retriever can be scored this way, whatever its chunking: the project's chunks and
citations carry their file offsets, a llama-index node is placed in its file by its
``start_char_idx``/``end_char_idx`` or, failing that, by a search for its text.

>>> gold = [Span("a", 100, 200)]
>>> [overlaps(Span("a", 150, 400), gold), overlaps(Span("a", 200, 300), gold)]
[True, False]
>>> rank_scores([False, True, True], k=5)
(1.0, 0.5)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from ..cases import section_matches


@dataclass(frozen=True)
class Span:
    """Characters ``start:end`` of the corpus file of document ``doc_id``."""

    doc_id: str
    start: int
    end: int


class Sectioned(Protocol):
    """What a gold span is built from: a project chunk (``assistant.schema.Chunk``)."""

    doc_id: str
    section: str
    start: int
    end: int


def gold_spans(chunks: Iterable[Sectioned], gold: Sequence[dict[str, str]]) -> list[Span]:
    """The text of the gold sections: the spans of every chunk of a gold document whose
    section is a gold section or lies under one (``section_matches``)."""
    return [
        Span(c.doc_id, c.start, c.end)
        for c in chunks
        if any(c.doc_id == g["doc_id"] and section_matches(c.section, g["section"]) for g in gold)
    ]


def overlaps(passage: Span, gold: Sequence[Span]) -> bool:
    """True when at least one character of ``passage`` lies inside a gold span."""
    return any(
        passage.doc_id == g.doc_id and passage.start < g.end and g.start < passage.end for g in gold
    )


def relevance(passages: Sequence[Span | None], gold: Sequence[Span]) -> tuple[bool, ...]:
    """Relevance of each ranked passage; one that could not be placed (None) is not."""
    return tuple(p is not None and overlaps(p, gold) for p in passages)


def rank_scores(rels: Sequence[bool], k: int) -> tuple[float, float]:
    """(hit@k, reciprocal rank@k) of one ranked list: 1/rank of the first relevant
    passage among the top ``k``, 0 when none is."""
    first = next((i for i, r in enumerate(rels[:k]) if r), None)
    return (0.0, 0.0) if first is None else (1.0, 1.0 / (first + 1))


def locate(text: str, content: str, start: int | None, end: int | None) -> tuple[int, int] | None:
    """Where ``content`` lies in ``text``: at the given offsets when they hold it, else
    at its first occurrence; None when it is not in ``text`` at all.

    >>> locate("one two three", "two", 4, 7), locate("one two three", "two", None, None)
    ((4, 7), (4, 7))
    >>> locate("one two three", "four", None, None) is None
    True
    """
    if start is not None and end is not None and text[start:end] == content:
        return start, end
    found = text.find(content) if content else -1
    return None if found < 0 else (found, found + len(content))


def node_span(node: Any, files: dict[str, tuple[str, str]]) -> Span | None:
    """A llama-index node placed in its corpus file; ``files`` maps its source
    document's id to (our doc_id, the file's text)."""
    source = files.get(node.ref_doc_id or "")
    if source is None:
        return None
    doc_id, text = source
    where = locate(text, node.get_content(), node.start_char_idx, node.end_char_idx)
    return None if where is None else Span(doc_id, *where)
