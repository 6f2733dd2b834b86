"""Compose stage (no LLM): pick a few verbatim source sentences and cite them.

Every sentence of an answer is either a verbatim span of a source file or vetted
wording from ``data/wording.yaml``; nothing is paraphrased.
"""

from __future__ import annotations

import re
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field

import numpy as np

from .index import LoadedIndex
from .keyword import Analyzer
from .models import Chunk, Citation, Hit, Sentence

_CONTINUATION = re.compile(
    r"^(This|These|That|Those|It|They|Them|Its|Their|Both|Because|Still|However)\b"
)
_NUMBER_WORDS = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "twelve": 12,
}
_NUM = r"(\d+(?:\.\d+)?|" + "|".join(_NUMBER_WORDS) + r")"
_QUANTITY = re.compile(
    rf"\b{_NUM}(?:\s*(?:-|–|to)\s*{_NUM})?\s*(weeks?|months?|days?|hours?|minutes?|years?)\b",
    re.IGNORECASE,
)


@dataclass
class Candidate:
    chunk: Chunk
    sentence: Sentence
    vector: np.ndarray
    similarity: float
    score: float
    hit: Hit


@dataclass
class Selection:
    picked: list[Candidate] = field(default_factory=list)
    conflict: bool = False


def quantities(text: str) -> set[tuple[str, float, float]]:
    """Normalised (unit, low, high) ranges such as ('week', 2, 4) for 'two to four weeks'."""
    found = set()
    for low, high, unit in _QUANTITY.findall(text):
        lo = float(_NUMBER_WORDS.get(low.lower(), low) if low.lower() in _NUMBER_WORDS else low)
        hi = (
            lo
            if not high
            else float(
                _NUMBER_WORDS.get(high.lower(), high) if high.lower() in _NUMBER_WORDS else high
            )
        )
        found.add((unit.lower().rstrip("s"), lo, hi))
    return found


def quotable(sentence: Sentence) -> bool:
    """Questions, fragments ("Yep.") and list lead-ins ("... avoid if you have:") say
    nothing on their own."""
    text = sentence.text.rstrip('”"’) ')
    return len(text) >= 20 and not text.endswith(("?", ":"))


def overlap(terms: AbstractSet[str], weights: dict[str, float]) -> float:
    total = sum(weights.values())
    return sum(w for t, w in weights.items() if t in terms) / total if total else 0.0


def _line_start(chunk: Chunk, sentence: Sentence) -> int:
    """File offset of the start of the line the sentence begins on."""
    return chunk.start + chunk.text.rfind("\n", 0, sentence.start - chunk.start) + 1


def _in_list(chunk: Chunk, sentence: Sentence) -> bool:
    lead = chunk.text[_line_start(chunk, sentence) - chunk.start : sentence.start - chunk.start]
    return lead.lstrip().startswith(("- ", "* ", "+ "))


def _nested(chunk: Chunk, sentence: Sentence) -> bool:
    """Whether the sentence's line is indented: a sub-item of the list item above."""
    start = _line_start(chunk, sentence) - chunk.start
    return chunk.text[start : start + 1] in (" ", "\t")


def _continues_item(chunk: Chunk, unit: Sentence, sentence: Sentence) -> bool:
    """A list sentence on the unit's own line, or a sub-item under a list-item unit."""
    if unit.start >= _line_start(chunk, sentence):
        return True
    return _nested(chunk, sentence) and _in_list(chunk, unit)


def units(chunk: Chunk) -> list[tuple[Sentence, list[int]]]:
    """Quotable units of a chunk: a whole list item with its sub-items, or one paragraph
    sentence.

    A list item ("Strict Sun Protection: ... - Actionable Advice: wear a hat ...") reads
    as one thought, so it is quoted whole; paragraphs are quoted sentence by sentence.
    """
    out: list[tuple[Sentence, list[int]]] = []
    for i, sentence in enumerate(chunk.sentences):
        if out and _in_list(chunk, sentence) and _continues_item(chunk, out[-1][0], sentence):
            prev, members = out[-1]
            span = chunk.text[prev.start - chunk.start : sentence.end - chunk.start]
            out[-1] = (Sentence(prev.start, sentence.end, span), [*members, i])
        else:
            out.append((sentence, [i]))
    return out


def candidates(
    index: LoadedIndex,
    hits: list[Hit],
    rows: list[int],
    query_vectors: np.ndarray,
    analyzer: Analyzer,
    weights: dict[str, float],
    rank_by: int = 0,
) -> list[Candidate]:
    """Every quotable unit of the hits, scored against the question.

    ``similarity`` is the best cosine over all ``query_vectors`` (the gate reads it);
    the ranking uses row ``rank_by`` alone, the question's focus, because every passage
    is about microneedling and the whole question would favour passages that merely
    say so ("While generally safe, microneedling is not for everyone.").
    """
    vectors = np.atleast_2d(query_vectors)
    out = []
    for hit, row in zip(hits, rows, strict=True):
        matrix = index.sentence_matrix(row)
        all_sims = matrix @ vectors.T
        sims, focus = all_sims.max(axis=1), all_sims[:, rank_by]
        for unit, members in units(hit.chunk):
            if not quotable(unit) or (members[0] == 0 and _CONTINUATION.match(unit.text)):
                continue  # "This is a critical distinction." with its antecedent elsewhere
            best = max(members, key=lambda i: sims[i])
            shared = overlap(analyzer.passage_terms(f"{hit.chunk.section} {unit.text}"), weights)
            relevance = float(max(focus[i] for i in members))
            # Relevance leads; shared rare terms and a well-ranked chunk add to it.
            score = relevance + 0.3 * shared + 0.05 * float(hit.dense_similarity or 0)
            out.append(Candidate(hit.chunk, unit, matrix[best], float(sims[best]), score, hit))
    return sorted(out, key=lambda c: -c.score)


def select(
    pool: list[Candidate],
    *,
    max_sentences: int,
    min_similarity: float,
    quantity_question: bool,
) -> Selection:
    """Greedy relevance + diversity selection; near-duplicates are skipped."""
    selection = Selection()
    if not pool:
        return selection
    best = pool[0].score
    for cand in pool:
        if len(selection.picked) >= max_sentences:
            break
        if cand.similarity < min_similarity or cand.score < best - 0.18:
            continue
        if any(float(cand.vector @ p.vector) > 0.9 for p in selection.picked):
            continue
        if sum(p.chunk.id == cand.chunk.id for p in selection.picked) >= 2:
            continue
        selection.picked.append(cand)
    if quantity_question:
        _add_other_views(pool, selection, min_similarity, max_sentences + 2)
    return selection


def _add_other_views(pool: list[Candidate], selection: Selection, min_sim: float, cap: int) -> None:
    """When sources state different numbers for the same thing, cite every side."""
    seen = {(p.chunk.doc_id, q) for p in selection.picked for q in quantities(p.sentence.text)}
    units = {q[0] for _, q in seen}
    for cand in pool:
        if len(selection.picked) >= cap or cand.similarity < min_sim - 0.05:
            continue
        qs = {q for q in quantities(cand.sentence.text) if q[0] in units}
        docs = {d for d, _ in seen}
        if qs and cand.chunk.doc_id not in docs and cand not in selection.picked:
            selection.picked.append(cand)
            seen |= {(cand.chunk.doc_id, q) for q in qs}
    by_unit: dict[str, set[tuple[float, float]]] = {}
    docs_by_unit: dict[str, set[str]] = {}
    for doc_id, (unit, lo, hi) in seen:
        by_unit.setdefault(unit, set()).add((lo, hi))
        docs_by_unit.setdefault(unit, set()).add(doc_id)
    selection.conflict = any(len(by_unit[u]) > 1 and len(docs_by_unit[u]) > 1 for u in by_unit)


def with_context(cand: Candidate, picked: list[Candidate]) -> list[Sentence]:
    """What a quoted unit needs to be read correctly: a sentence that leans on the one
    before it ("This is normal.") brings that one along, and a list item brings its
    list's lead-in ("Exercise caution or avoid if you have:"), each quoted as is."""
    before = [s for s in cand.chunk.sentences if s.end <= cand.sentence.start]
    if not before:
        return [cand.sentence]
    prev = before[-1]
    if _in_list(cand.chunk, cand.sentence):
        lead = next((s for s in reversed(before) if not _in_list(cand.chunk, s)), None)
        if lead is not None and lead.text.rstrip().endswith(":"):
            return [lead, cand.sentence]
    elif _CONTINUATION.match(cand.sentence.text) and not any(
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
            nested = nested and _in_list(chunk, s)
            lines.append(f"{'  ' if nested else ''}- {s.text} [{n}]")
            nested = nested or s.text.rstrip().endswith(":")
    return "\n".join([lead, "", *lines]), citations
