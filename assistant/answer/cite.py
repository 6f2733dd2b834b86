"""Cite stage: the picked units as an answer body with [n] markers, and their citations.

One citation per source chunk; a unit that leans on the sentence before it, or a list
item under a lead-in, brings that text along, quoted as is.
"""

from __future__ import annotations

from ..schema import Citation, Sentence
from .compose import CONTINUATION, Candidate, in_list


def with_context(cand: Candidate, picked: list[Candidate]) -> list[Sentence]:
    """What a quoted unit needs to be read correctly: a sentence that leans on the one
    before it ("This is normal.") brings that one along, and a list item brings its
    list's lead-in ("Exercise caution or avoid if you have:"), each quoted as is."""
    before = [s for s in cand.chunk.sentences if s.end <= cand.sentence.start]
    if not before:
        return [cand.sentence]
    prev = before[-1]
    if in_list(cand.chunk, cand.sentence):
        lead = next((s for s in reversed(before) if not in_list(cand.chunk, s)), None)
        if lead is not None and lead.text.rstrip().endswith(":"):
            return [lead, cand.sentence]
    elif CONTINUATION.match(cand.sentence.text) and not any(
        p.sentence.start <= prev.start < p.sentence.end for p in picked
    ):
        return [prev, cand.sentence]
    return [cand.sentence]


def render(picked: list[Candidate], lead: str) -> tuple[str, list[Citation]]:
    """Bullets of verbatim sentences with [n] markers; one citation per source chunk."""
    groups: dict[str, list[Candidate]] = {}
    for cand in picked:
        groups.setdefault(cand.chunk.id, []).append(cand)
    lines: list[str] = []
    citations: list[Citation] = []
    for n, group in enumerate(groups.values(), start=1):
        chunk = group[0].chunk
        spans: list[Sentence] = []
        for cand in group:
            for s in with_context(cand, picked):
                if not any(o.start <= s.start < o.end or s.start <= o.start < s.end for o in spans):
                    spans.append(s)
        spans.sort(key=lambda s: s.start)
        start, end = spans[0].start, spans[-1].end
        text = chunk.text[start - chunk.start : end - chunk.start]
        citations.append(
            Citation(
                n,
                chunk.doc_id,
                chunk.title,
                chunk.section,
                text,
                start,
                end,
                round(max(c.score for c in group), 4),
            )
        )
        nested = False  # list items under a quoted lead-in are shown under it
        for i, s in enumerate(spans):
            gap = chunk.text[spans[i - 1].end - chunk.start : s.start - chunk.start] if i else ""
            if gap.isspace() and "\n" not in gap:
                # The next sentence of the same line ("Why? Because ..."): one bullet.
                lines[-1] = f"{lines[-1].removesuffix(f' [{n}]')}{gap}{s.text} [{n}]"
                continue
            nested = nested and in_list(chunk, s)
            lines.append(f"{'  ' if nested else ''}- {s.text} [{n}]")
            nested = nested or s.text.rstrip().endswith(":")
    return "\n".join([lead, "", *lines]), citations
