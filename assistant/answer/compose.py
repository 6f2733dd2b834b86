"""Compose stage (no LLM): score the quotable units of the hits and pick a few.

Every sentence of an answer is either a verbatim span of a source file or vetted
wording from ``data/wording.yaml``; nothing is paraphrased. ``cite`` renders the
picked units with their citations.
"""

from __future__ import annotations

import re
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field

import numpy as np

from ..index.analyzer import Analyzer
from ..index.reader import LoadedIndex
from ..schema import Chunk, Hit, Sentence
from ..text import quantities
from ..tuning import Tuning

CONTINUATION = re.compile(
    r"^(This|These|That|Those|It|They|Them|Its|Their|Both|Because|Still|However)\b"
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


def quotable(sentence: Sentence) -> bool:
    """Questions, fragments ("Yep.") and list lead-ins ("... avoid if you have:") say
    nothing on their own."""
    text = sentence.text.rstrip('”"’) ')
    return len(text) >= 20 and not text.endswith(("?", ":"))


def overlap(terms: AbstractSet[str], weights: dict[str, float]) -> float:
    total = sum(weights.values())
    return sum(w for t, w in weights.items() if t in terms) / total if total else 0.0


def line_start(chunk: Chunk, sentence: Sentence) -> int:
    """File offset of the start of the line the sentence begins on."""
    return chunk.start + chunk.text.rfind("\n", 0, sentence.start - chunk.start) + 1


def in_list(chunk: Chunk, sentence: Sentence) -> bool:
    lead = chunk.text[line_start(chunk, sentence) - chunk.start : sentence.start - chunk.start]
    return lead.lstrip().startswith(("- ", "* ", "+ "))


def _nested(chunk: Chunk, sentence: Sentence) -> bool:
    """Whether the sentence's line is indented: a sub-item of the list item above."""
    start = line_start(chunk, sentence) - chunk.start
    return chunk.text[start : start + 1] in (" ", "\t")


def _continues_item(chunk: Chunk, unit: Sentence, sentence: Sentence) -> bool:
    """A list sentence on the unit's own line, or a sub-item under a list-item unit."""
    if unit.start >= line_start(chunk, sentence):
        return True
    return _nested(chunk, sentence) and in_list(chunk, unit)


def units(chunk: Chunk) -> list[tuple[Sentence, list[int]]]:
    """Quotable units of a chunk: a whole list item with its sub-items, or one paragraph
    sentence.

    A list item ("Strict Sun Protection: ... - Actionable Advice: wear a hat ...") reads
    as one thought, so it is quoted whole; paragraphs are quoted sentence by sentence.
    """
    out: list[tuple[Sentence, list[int]]] = []
    for i, sentence in enumerate(chunk.sentences):
        if out and in_list(chunk, sentence) and _continues_item(chunk, out[-1][0], sentence):
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
    tuning: Tuning,
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
            if not quotable(unit) or (members[0] == 0 and CONTINUATION.match(unit.text)):
                continue  # "This is a critical distinction." with its antecedent elsewhere
            best = max(members, key=lambda i: sims[i])
            shared = overlap(analyzer.passage_terms(f"{hit.chunk.section} {unit.text}"), weights)
            relevance = float(max(focus[i] for i in members))
            # Relevance leads; shared rare terms and a well-ranked chunk add to it.
            score = (
                relevance
                + tuning.shared_terms_weight * shared
                + tuning.chunk_weight * float(hit.dense_similarity or 0)
            )
            out.append(Candidate(hit.chunk, unit, matrix[best], float(sims[best]), score, hit))
    return sorted(out, key=lambda c: -c.score)


def select(pool: list[Candidate], tuning: Tuning, *, quantity_question: bool) -> Selection:
    """Greedy relevance + diversity selection; near-duplicates are skipped."""
    selection = Selection()
    if not pool:
        return selection
    best = pool[0].score
    min_similarity = tuning.sentence_min_similarity
    for cand in pool:
        if len(selection.picked) >= tuning.max_sentences:
            break
        if cand.similarity < min_similarity or cand.score < best - tuning.score_window:
            continue
        if any(float(cand.vector @ p.vector) > tuning.duplicate_cosine for p in selection.picked):
            continue
        if sum(p.chunk.id == cand.chunk.id for p in selection.picked) >= tuning.units_per_chunk:
            continue
        selection.picked.append(cand)
    if quantity_question:
        _add_other_views(pool, selection, min_similarity, tuning.max_sentences + 2)
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
