"""Compose stage (no LLM): score the quotable units of the hits and pick the answer's.

A unit is what can be quoted on its own: one sentence of a paragraph, or one line of a
list (an item, or a sub-item such as "Actionable Advice: Relax and breathe."), without
the articles' scaffolding labels (``data/quoting.yaml``). The answer leads with the
unit that best answers, then at most ``Tuning.support_units`` more; further relevant
units go to "more from the articles". ``cite`` renders them with their citations.
"""

from __future__ import annotations

import re
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from ..data import domain_pattern, load_yaml
from ..index.analyzer import Analyzer
from ..index.reader import LoadedIndex
from ..schema import Chunk, Hit, Sentence
from ..text import quantities
from ..tuning import Tuning

CONTINUATION = domain_pattern("continuation", flags=0)
_WORD = re.compile(r"[a-z’']+")


@dataclass(frozen=True)
class Quoting:
    """The word lists of ``data/quoting.yaml``."""

    scaffolding: tuple[str, ...]
    aside_words: frozenset[str]

    @classmethod
    def from_package(cls) -> Quoting:
        data = load_yaml("quoting.yaml")
        labels = sorted((str(s) for s in data["scaffolding"]), key=len, reverse=True)
        return cls(tuple(labels), frozenset(str(w).lower() for w in data["aside_words"]))

    def unlabelled(self, unit: Sentence) -> Sentence:
        """The unit without a leading scaffolding label, its offsets moved with it.

        >>> style = Quoting(("Example:",), frozenset())
        >>> style.unlabelled(Sentence(10, 27, "Example: It heals.")).text
        'It heals.'
        """
        for label in self.scaffolding:
            if unit.text[: len(label)].lower() == label.lower():
                rest = unit.text[len(label) :]
                cut = len(label) + len(rest) - len(rest.lstrip())
                if unit.text[cut:]:
                    return Sentence(unit.start + cut, unit.end, unit.text[cut:])
        return unit

    def is_aside(self, text: str) -> bool:
        return any(w in self.aside_words for w in _WORD.findall(text.lower()))


@lru_cache(maxsize=1)
def quoting() -> Quoting:
    return Quoting.from_package()


@dataclass(eq=False)  # compared by identity: a unit of a retrieved chunk is one object
class Candidate:
    chunk: Chunk
    sentence: Sentence  # the unit as quoted (scaffolding label removed)
    vector: np.ndarray
    similarity: float  # best cosine over the question's readings (the gate reads it)
    score: float  # what ranks units: relevance to the question's focus, plus a little
    hit: Hit
    # How well the unit answers the question (``adapter.LeadAdapter``), when known.
    answers: float | None = None


@dataclass
class Selection:
    lead: Candidate | None = None
    support: list[Candidate] = field(default_factory=list)
    more: list[Candidate] = field(default_factory=list)

    @property
    def picked(self) -> list[Candidate]:
        """What the answer body quotes: the lead, then the support."""
        return ([self.lead] if self.lead else []) + self.support

    @property
    def conflict(self) -> bool:
        """Whether the quoted articles give different figures for one thing ("4-6 weeks
        apart" in one, "every three to four weeks" in another)."""
        seen: dict[str, set[tuple[str, float, float]]] = {}
        for cand in self.picked:
            for unit, lo, hi in quantities(cand.sentence.text):
                seen.setdefault(unit, set()).add((cand.chunk.doc_id, lo, hi))
        return any(
            len({d for d, *_ in views}) > 1 and len({(lo, hi) for _, lo, hi in views}) > 1
            for views in seen.values()
        )


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


def nested(chunk: Chunk, sentence: Sentence) -> bool:
    """Whether the sentence is on an indented list line: a sub-item of the item above."""
    start = line_start(chunk, sentence) - chunk.start
    return in_list(chunk, sentence) and chunk.text[start : start + 1] in (" ", "\t")


def units(chunk: Chunk) -> list[tuple[Sentence, list[int]]]:
    """Quotable units of a chunk: one list line (an item or a sub-item, all its
    sentences), or one paragraph sentence; each with its sentences' positions."""
    out: list[tuple[Sentence, list[int]]] = []
    for i, sentence in enumerate(chunk.sentences):
        same_line = out and line_start(chunk, sentence) <= out[-1][0].start
        if same_line and in_list(chunk, sentence):
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
    answer_vector: np.ndarray | None = None,
) -> list[Candidate]:
    """Every quotable unit of the hits, scored against the question.

    ``similarity`` is the best cosine over all ``query_vectors`` (the gate reads it);
    the ranking uses row ``rank_by`` alone, the question's focus, because every passage
    is about microneedling and the whole question would favour passages that merely
    say so ("While generally safe, microneedling is not for everyone."). With
    ``answer_vector`` (the lead adapter's query), each unit also gets its answer score.
    """
    vectors = np.atleast_2d(query_vectors)
    style = quoting()
    out = []
    # One read for all the hits (from the store on a Chroma server).
    matrices = index.sentence_matrices(rows)
    for hit, matrix in zip(hits, matrices, strict=True):
        all_sims = matrix @ vectors.T
        sims, focus = all_sims.max(axis=1), all_sims[:, rank_by]
        fits = None if answer_vector is None else matrix @ answer_vector
        for unit, members in units(hit.chunk):
            if members[0] == 0 and CONTINUATION.match(unit.text):
                continue  # "This is a critical distinction." with its antecedent elsewhere
            unit = style.unlabelled(unit)
            if not quotable(unit):
                continue
            best = max(members, key=lambda i: sims[i])
            shared = overlap(analyzer.passage_terms(f"{hit.chunk.section} {unit.text}"), weights)
            relevance = float(max(focus[i] for i in members))
            # Relevance leads; shared rare terms and a well-ranked chunk add to it; a
            # writer's aside gives way to a plain statement that is as relevant, and a
            # sub-item (advice under a point) to the point it elaborates.
            score = (
                relevance
                + tuning.shared_terms_weight * shared
                + tuning.chunk_weight * float(hit.dense_similarity or 0)
                - (tuning.aside_penalty if style.is_aside(unit.text) else 0.0)
                - (tuning.sub_item_penalty if nested(hit.chunk, unit) else 0.0)
            )
            answers = None if fits is None else float(max(fits[i] for i in members))
            out.append(
                Candidate(hit.chunk, unit, matrix[best], float(sims[best]), score, hit, answers)
            )
    return sorted(out, key=lambda c: -c.score)


def _under(cand: Candidate, item: Candidate) -> bool:
    """Whether ``cand`` is a sub-item of the list item ``item`` (same chunk, below it,
    only indented lines between)."""
    if cand.chunk.id != item.chunk.id or not nested(cand.chunk, cand.sentence):
        return False
    if not in_list(item.chunk, item.sentence) or nested(item.chunk, item.sentence):
        return False
    gap = item.chunk.text[
        item.sentence.end - item.chunk.start : cand.sentence.start - item.chunk.start
    ]
    lines = gap.split("\n")[1:]
    return bool(lines) and all(line[:1] in (" ", "\t") for line in lines)


def _repeats(cand: Candidate, picked: list[Candidate], tuning: Tuning) -> bool:
    """A near-duplicate of a picked unit, or a third unit from one chunk."""
    if any(float(cand.vector @ p.vector) > tuning.duplicate_cosine for p in picked):
        return True
    return sum(p.chunk.id == cand.chunk.id for p in picked) >= tuning.units_per_chunk


def _next_in_paragraph(lead: Candidate, pool: list[Candidate]) -> Candidate | None:
    """The unit right after ``lead`` in the same paragraph of its chunk, if quotable."""
    if in_list(lead.chunk, lead.sentence):
        return None
    text, start = lead.chunk.text, lead.chunk.start
    for cand in pool:
        if cand.chunk.id != lead.chunk.id or cand.sentence.start <= lead.sentence.end:
            continue
        gap = text[lead.sentence.end - start : cand.sentence.start - start]
        if not gap.strip() and "\n" not in gap and not in_list(cand.chunk, cand.sentence):
            return cand
    return None


def _quoted_in(cand: Candidate, lead: Candidate) -> bool:
    """Whether ``cand`` is part of the lead's span (the sentence a pair brought along)."""
    return (
        cand.chunk.id == lead.chunk.id
        and lead.sentence.start <= cand.sentence.start < lead.sentence.end
    )


def paired(lead: Candidate, pool: list[Candidate], tuning: Tuning) -> Candidate:
    """The lead with the next sentence of its paragraph when that one is about as
    relevant, or whenever the lead only opens the paragraph ("Not everyone can safely
    undergo microneedling."), and the two are short together: one verbatim span from the
    first sentence's start to the second's end, scored and embedded as the lead."""
    follower = _next_in_paragraph(lead, pool)
    if follower is None:
        return lead
    opener = tuning.on("opener") and len(lead.sentence.text.split()) <= tuning.opener_max_words
    close = (
        follower.similarity >= tuning.sentence_min_similarity
        and follower.score >= lead.score - tuning.lead_pair_window
    )
    if not (opener or close):
        return lead
    lo, hi = lead.sentence.start, follower.sentence.end
    span = lead.chunk.text[lo - lead.chunk.start : hi - lead.chunk.start]
    if len(span.split()) > tuning.lead_pair_max_words:
        return lead
    return Candidate(
        lead.chunk,
        Sentence(lo, hi, span),
        lead.vector,
        lead.similarity,
        lead.score,
        lead.hit,
        lead.answers,
    )


def select(pool: list[Candidate], tuning: Tuning, *, lead: Candidate | None = None) -> Selection:
    """The lead (``lead`` if given: the unit holding an asked-for value), at most
    ``support_units`` more units close to it, and "more" further down."""
    selection = Selection()
    ranked = [c for c in pool if c.similarity >= tuning.sentence_min_similarity]
    if lead is None and ranked:
        lead = ranked[0]
        if tuning.on("lead_adapter") and lead.answers is not None:
            # The unit that answers, not only the closest one (``adapter``).
            lead = max(ranked, key=lambda c: c.answers or 0.0)
    if lead is None:
        return selection
    if tuning.on("lead_pair"):
        lead = paired(lead, pool, tuning)
    selection.lead = lead
    best = max(lead.score, ranked[0].score if ranked else lead.score)
    picked = [lead]
    # A point's own advice (its first sub-item) comes with it: "Peeling/Flaking: ... This
    # is normal." is followed by what to do about it.
    advice = next((c for c in ranked if c is not lead and _under(c, lead)), None)
    if not tuning.on("advice"):
        advice = None
    if advice is not None and tuning.support_units:
        selection.support.append(advice)
        picked.append(advice)
    for cand in ranked:
        if cand is lead or _quoted_in(cand, lead) or _repeats(cand, picked, tuning):
            continue
        short = len(cand.sentence.text.split()) <= tuning.support_max_words
        if (
            len(selection.support) < tuning.support_units
            and cand.score >= best - tuning.support_window
            and short
        ):
            selection.support.append(cand)
        elif len(selection.more) < tuning.more_units and cand.score >= best - tuning.more_window:
            selection.more.append(cand)
        else:
            continue
        picked.append(cand)
    return selection
