"""Cite stage: the picked units as quotes with [n] markers, one citation per quote.

A quote is one contiguous span of a file: the unit, with the sentence before it when
the unit leans on it ("This is normal."), or with the list's lead-in when the item
follows it directly ("Exercise caution or avoid if you have: ..."). Its citation holds
exactly that span and its offsets, and says what the quote is for (``Role``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ..schema import Citation, Role, Sentence
from .compose import CONTINUATION, Candidate, in_list

_MARKER = re.compile(r"\n[ \t]*[-*+•][ \t]+")


def quote_span(cand: Candidate) -> Sentence:
    """The unit, widened to the text it needs to be read correctly, if that is adjacent."""
    chunk, unit = cand.chunk, cand.sentence
    before = [s for s in chunk.sentences if s.end <= unit.start]
    if not before:
        return unit
    prev = before[-1]
    gap = chunk.text[prev.end - chunk.start : unit.start - chunk.start]
    leans = (
        in_list(chunk, unit) and prev.text.rstrip().endswith(":") and not in_list(chunk, prev)
    ) or (not in_list(chunk, unit) and CONTINUATION.match(unit.text) is not None)
    # Only text right before the unit (a line break at most) joins it: a quote is one
    # span, and a span across other items would quote them too.
    if leans and gap.count("\n") <= 1:
        text = chunk.text[prev.start - chunk.start : unit.end - chunk.start]
        return Sentence(prev.start, unit.end, text)
    return unit


def citation(n: int, cand: Candidate, role: Role) -> Citation:
    span = quote_span(cand)
    chunk = cand.chunk
    return Citation(
        n,
        chunk.doc_id,
        chunk.title,
        chunk.section,
        span.text,
        span.start,
        span.end,
        round(cand.score, 4),
        role,
    )


def inline(text: str) -> str:
    """A quote on one line, list markers and all: the body's lines are its structure.

    >>> inline("Avoid if you have:\n- Keloid scars")
    'Avoid if you have: Keloid scars'
    """
    # Only line breaks (and list markers) go: within a line the quote stays as written.
    return " ".join(part.strip() for part in _MARKER.sub("\n", text).splitlines() if part.strip())


def render(
    parts: Sequence[tuple[Role, Sequence[Candidate]]],
) -> tuple[str, list[Citation]]:
    """The body (lead as a paragraph, the rest as bullets) and every part's citations.

    ``parts`` in display order; a unit quoted by an earlier part is not quoted again.
    Units in a ``Role.MORE`` part get citations but no place in the body.

    >>> render([])
    ('', [])
    """
    citations: list[Citation] = []
    blocks: list[str] = []
    seen: list[Candidate] = []
    for role, cands in parts:
        lines = []
        for cand in cands:
            if any(c.chunk.id == cand.chunk.id and c.sentence == cand.sentence for c in seen):
                continue
            seen.append(cand)
            cited = citation(len(citations) + 1, cand, role)
            citations.append(cited)
            if role is not Role.MORE:
                lines.append(f"{inline(cited.text)} [{cited.n}]")
        if not lines:
            continue
        if role is Role.LEAD:
            blocks.append("\n\n".join(lines))
        else:
            blocks.append("\n".join(f"- {line}" for line in lines))
    return "\n\n".join(blocks), citations


def more_list(citations: Sequence[Citation], heading: str) -> str:
    """The "more from the articles" quotes as text (for the plain answer, not the body)."""
    more = [c for c in citations if c.role is Role.MORE]
    if not more:
        return ""
    return "\n".join([heading, *(f"- {inline(c.text)} [{c.n}]" for c in more)])
