"""The side-by-side's measurements: the project and each llama-index peer on the same
answerable cases, the same queries and the same k, every passage scored on text
(spans.py). The report of them is llamaindex.py.

The project is asked as a client asks it (``Assistant.ask`` with the conversation):
its retrieval is the reply's ranked ``hits``, its *cited evidence* the reply's
citations. A peer has no conversation handling of its own, so it reads the earlier user
turns and then the question (``peer_query``); for the cases with a history it is also
scored on the question alone, to show what that choice costs or gains.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..cases import Case, load_cases
from .spans import Span, gold_spans, overlaps, rank_scores, relevance

KS = (5, 8)
HELD_OUT = ("heldout", "heldout2", "heldout3", "heldout4")  # under evals/, pooled too
SETS = (*HELD_OUT, "realistic")
EVALS_DIR = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class CaseSet:
    name: str
    path: Path
    cases: list[Case]

    @property
    def held_out(self) -> bool:
        """One of the project's own held-out sets (not a ``--cases`` file of that name)."""
        return self.path == EVALS_DIR / f"{self.name}.jsonl" and self.name in HELD_OUT


def answerable(cases: Sequence[Case]) -> list[Case]:
    """The cases the articles answer and whose gold sections are named."""
    return [c for c in cases if c.expect == "answer" and c.gold_sources]


def case_sets(extra: Sequence[Path] = ()) -> list[CaseSet]:
    """The held-out sets and the realistic set, then ``extra`` (e.g. a blind set);
    raises ``CaseError`` (or ``OSError``) naming a file that cannot be read."""
    paths = [EVALS_DIR / f"{name}.jsonl" for name in SETS] + list(extra)
    return [CaseSet(p.stem, p, answerable(load_cases(p))) for p in paths]


def peer_query(case: Case) -> str:
    """What a peer retrieves with: the earlier user turns, then the question.

    >>> peer_query(Case("x", "multi_turn", "and how often?", "answer",
    ...                 history=[{"role": "user", "content": "Does it hurt?"},
    ...                          {"role": "assistant", "content": "A little."}]))
    'Does it hurt?\\nand how often?'
    """
    turns = [t["content"].strip() for t in case.history if t["role"] == "user"]
    return "\n".join([*turns, case.question.strip()])


@dataclass
class SetScores:
    """Per-case figures of one case set, one list per ``"system|metric"`` key."""

    name: str
    cases: int = 0
    no_gold_text: list[str] = field(default_factory=list)  # gold sections matching no chunk
    values: dict[str, list[float]] = field(default_factory=dict)
    history: dict[str, list[float]] = field(default_factory=dict)  # cases with a history
    latency_ms: dict[str, list[float]] = field(default_factory=dict)
    words: dict[str, list[int]] = field(default_factory=dict)  # per passage in the top 5
    unplaced: int = 0  # peer passages not found in their file (scored not relevant)

    def add(self, table: dict[str, list[float]], key: str, value: float) -> None:
        table.setdefault(key, []).append(value)

    def add_ranking(self, system: str, k: int, rels: Sequence[bool]) -> None:
        hit, rr = rank_scores(rels, k)
        self.add(self.values, f"{system}|hit@{k}", hit)
        self.add(self.values, f"{system}|mrr@{k}", rr)


def pooled(name: str, parts: Sequence[SetScores]) -> SetScores:
    """Several sets as one (their cases are distinct)."""
    out = SetScores(name)
    for part in parts:
        out.cases += part.cases
        out.no_gold_text += part.no_gold_text
        out.unplaced += part.unplaced
        for mine, theirs in (
            (out.values, part.values),
            (out.history, part.history),
            (out.latency_ms, part.latency_ms),
            (out.words, part.words),
        ):
            for key, values in theirs.items():
                mine.setdefault(key, []).extend(values)  # type: ignore[arg-type]
    return out


def corpus_files(bot: Any) -> tuple[list[Path], dict[str, str]]:
    """The indexed files, and each file name's doc_id."""
    docs = bot.index.documents()
    files = sorted(bot.settings.corpus_dir / meta["file"] for meta in docs.values())
    return files, {meta["file"]: doc_id for doc_id, meta in docs.items()}


def ask(bot: Any, case: Case) -> tuple[Any, float]:
    start = time.perf_counter()
    try:
        reply = bot.ask(case.question, history=case.history)
    except ValueError:  # an empty question: nothing retrieved, nothing cited
        reply = None
    return reply, (time.perf_counter() - start) * 1000


def retrieve(peer: Any, query: str, k: int) -> tuple[list[Any], float]:
    start = time.perf_counter()
    found = peer.retrieve(query, k) if query.strip() else []
    return found, (time.perf_counter() - start) * 1000


def score_case(out: SetScores, bot: Any, peers: Sequence[Any], case: Case) -> None:
    gold = gold_spans(bot.index.chunks, case.gold_sources)
    if not gold:
        out.no_gold_text.append(case.id)
        return
    out.cases += 1
    with_history = any(t["role"] == "user" for t in case.history)
    reply, ms = ask(bot, case)
    hits = reply.hits if reply is not None else []
    chunks = [Span(h.chunk.doc_id, h.chunk.start, h.chunk.end) for h in hits]
    rels = relevance(chunks, gold)
    for k in KS:
        out.add_ranking("project", k, rels)
    cited = reply is not None and any(
        overlaps(Span(c.doc_id, c.start, c.end), gold) for c in reply.citations
    )
    out.add(out.values, "project|cited", float(cited))
    out.add(out.values, "project|uncited", float(reply is None or not reply.citations))
    if reply is not None and reply.citations:  # not per case: only replies that cite
        out.add(out.values, "project|cited when citing", float(cited))
    out.add(out.latency_ms, "project", ms)
    out.words.setdefault("project", []).extend(len(h.chunk.text.split()) for h in hits[:5])
    if with_history:
        out.add(out.history, "project|hit@5", rank_scores(rels, 5)[0])

    query = peer_query(case)
    for peer in peers:
        for k in KS:
            found, ms = retrieve(peer, query, k)
            spans = peer.spans(found)
            out.unplaced += sum(s is None for s in spans)
            out.add_ranking(peer.key, k, relevance(spans, gold))
            if k == KS[0]:
                out.add(out.latency_ms, peer.key, ms)
                out.words.setdefault(peer.key, []).extend(
                    len(n.node.get_content().split()) for n in found
                )
        if with_history:
            out.add(out.history, f"{peer.key}|hit@5", out.values[f"{peer.key}|hit@5"][-1])
            alone, _ = retrieve(peer, case.question, 5)
            hit, _ = rank_scores(relevance(peer.spans(alone), gold), 5)
            out.add(out.history, f"{peer.key}|alone hit@5", hit)


def score_set(case_set: CaseSet, bot: Any, peers: Sequence[Any]) -> SetScores:
    out = SetScores(case_set.name)
    for case in case_set.cases:
        score_case(out, bot, peers, case)
    return out


def median_or_nan(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")
