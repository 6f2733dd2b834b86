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


def units(chunk: Chunk) -> list[tuple[Sentence, list[int]]]:
    """Quotable units of a chunk: a whole list-item line, or one paragraph sentence.

    A list item ("Consultation: ... Discuss your ... medical history ...") reads as one
    thought, so it is quoted whole; paragraphs are quoted sentence by sentence.
    """
    out: list[tuple[Sentence, list[int]]] = []
    for i, sentence in enumerate(chunk.sentences):
        rel = sentence.start - chunk.start
        line_start = chunk.text.rfind("\n", 0, rel) + 1
        in_list = chunk.text[line_start:rel].lstrip().startswith(("- ", "* ", "+ "))
        if out and in_list and out[-1][0].start - chunk.start >= line_start:
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
) -> list[Candidate]:
    """Every quotable unit of the hits, scored against the question."""
    out = []
    for hit, row in zip(hits, rows, strict=True):
        matrix = index.sentence_matrix(row)
        # Best of the whole question and its focus (the question minus the domain words
        # every passage shares), so "How much does it cost?" meets "$700" either way.
        sims = (matrix @ np.atleast_2d(query_vectors).T).max(axis=1)
        for unit, members in units(hit.chunk):
            if not quotable(unit):
                continue
            best = max(members, key=lambda i: sims[i])
            shared = overlap(analyzer.passage_terms(f"{hit.chunk.section} {unit.text}"), weights)
            # Dense similarity leads; shared rare terms and a well-ranked chunk add to it.
            sim = float(sims[best])
            score = sim + 0.3 * shared + 0.05 * float(hit.dense_similarity or 0)
            out.append(Candidate(hit.chunk, unit, matrix[best], sim, score, hit))
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
    """A sentence that leans on the one before it ("This is normal.") brings it along."""
    before = [s for s in cand.chunk.sentences if s.end <= cand.sentence.start]
    if before and _CONTINUATION.match(cand.sentence.text):
        prev = before[-1]
        if not any(p.sentence.start <= prev.start < p.sentence.end for p in picked):
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
        lines.extend(f"- {s.text} [{n}]" for s in spans)
    return "\n".join([lead, "", *lines]), citations
