"""``llamaindex``: the project side by side with two llama-index peers (peers.py), on
the held-out sets, the realistic set and any ``--cases`` set, scored on text
(sidebyside.py, spans.py), with bootstrap 95 % intervals (bootstrap.py)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .bootstrap import RESAMPLES, bootstrap, paired_difference
from .context import Context
from .machine import git_commit, log
from .report import Row, Section, Table, fmt_ms
from .sidebyside import (
    KS,
    SetScores,
    case_sets,
    corpus_files,
    median_or_nan,
    pooled,
    score_set,
)

TITLE = "Side by side with llama-index"
POOLED = "held-out 1–4"
PROJECT = "`Assistant.ask` with the history: its ranked hits; its citations"


def measure(ctx: Context) -> tuple[list[SetScores], list[SetScores], list[Any], bool]:
    """Every set's scores (the held-out sets also pooled), the scores a headline row is
    given for (the pooled held-out sets and every other set), the peers, and whether
    llama-index's global Settings were left as they were."""
    from .peers import build_peers, settings_state

    sets = case_sets(ctx.case_files)
    bot = ctx.bot(ctx.settings.embed_backend)
    files, doc_ids = corpus_files(bot)
    before = settings_state()
    log("llama-index: building the two peers over the corpus files")
    peers = build_peers(files, doc_ids, bot.embedder)
    bot.ask("warm-up question about microneedling")  # the first call pays one-off costs
    for peer in peers:
        peer.retrieve("warm-up question about microneedling", KS[0])
    held_out, others = [], []
    for case_set in sets:
        log(f"side by side: {case_set.name} ({len(case_set.cases)} answerable cases)")
        (held_out if case_set.held_out else others).append(score_set(case_set, bot, peers))
    together = [pooled(POOLED, held_out)] if held_out else []
    return held_out + together + others, together + others, peers, settings_state() == before


SHORT = {
    "project": "project",
    "defaults": "llama-index defaults",
    "pipeline": "llama-index pipeline",
}


def results_table(scores: Sequence[SetScores]) -> Table:
    metrics = [f"{m}@{k}" for k in KS for m in ("hit", "mrr")]
    rows = []
    for s in scores:
        for key, name in SHORT.items():
            cells = [bootstrap(s.values[f"{key}|{m}"]).text() for m in metrics]
            cited, silent = s.values.get(f"{key}|cited"), s.values.get(f"{key}|uncited")
            citing = s.values.get(f"{key}|cited when citing")
            rows.append(
                [s.name if key == "project" else "", str(s.cases), name, *cells,
                 bootstrap(cited).text() if cited else "—",
                 f"{sum(silent) / len(silent):.3f}" if silent else "—",
                 bootstrap(citing).text() if citing else "—"]
            )  # fmt: skip
    headers = ["set", "cases", "system", *(m.replace("mrr", "MRR") for m in metrics)]
    return Table(
        [*headers, "cited evidence", "no citation", "cited evidence, replies that cite"], rows
    )


# The comparisons the issue asks about: the project's cited evidence (what a client is
# shown) against each peer's top 5, and retrieval against retrieval.
DIFFERENCES = (
    ("cited evidence − pipeline hit@5", "project|cited", "pipeline|hit@5"),
    ("cited evidence − defaults hit@5", "project|cited", "defaults|hit@5"),
    ("hit@5 − pipeline hit@5", "project|hit@5", "pipeline|hit@5"),
    ("MRR@5 − pipeline MRR@5", "project|mrr@5", "pipeline|mrr@5"),
    ("MRR@5 − defaults MRR@5", "project|mrr@5", "defaults|mrr@5"),
)


def differences_table(scores: Sequence[SetScores]) -> Table:
    rows = []
    for s in scores:
        cells = []
        for _, ours, theirs in DIFFERENCES:
            diff = paired_difference(s.values[ours], s.values[theirs])
            cells.append(f"{diff.text(signed=True)} {diff.verdict()}")
        rows.append([s.name, str(s.cases), *cells])
    return Table(["set", "cases", *(f"project {name}" for name, _, _ in DIFFERENCES)], rows)


def conversation_table(everything: SetScores, peers: Sequence[Any]) -> Table:
    h = everything.history
    n = len(h.get("project|hit@5", []))
    rows = [["project", str(n), bootstrap(h["project|hit@5"]).text(), "(its own handling)"]]
    for p in peers:
        rows.append(
            [SHORT[p.key], str(n), bootstrap(h[f"{p.key}|hit@5"]).text(),
             bootstrap(h[f"{p.key}|alone hit@5"]).text()]
        )  # fmt: skip
    return Table(
        ["system", "cases with a history", "hit@5, conversation", "hit@5, question alone"], rows
    )


def passages_table(everything: SetScores, peers: Sequence[Any], chunks: int) -> Table:
    setup = {"project": PROJECT} | {p.key: p.label for p in peers}
    counts = {"project": chunks} | {p.key: len(p.nodes) for p in peers}
    what = {"project": "the whole `ask`: retrieval and answer"}
    rows = [
        [SHORT[key], setup[key], str(counts[key]), f"{median_or_nan(everything.words[key]):.0f}",
         fmt_ms(median_or_nan(everything.latency_ms[key])), what.get(key, "retrieve, top 5")]
        for key in counts
    ]  # fmt: skip
    return Table(
        ["system", "setup", "passages indexed", "median words per passage (top 5)",
         "p50 per query", "the time covers"],
        rows,
    )  # fmt: skip


def headline(s: SetScores) -> Row:
    """The issue's goal on one set: cited evidence ahead of the pipeline's top 5."""
    ours, theirs = bootstrap(s.values["project|cited"]), bootstrap(s.values["pipeline|hit@5"])
    diff = paired_difference(s.values["project|cited"], s.values["pipeline|hit@5"])
    return Row(
        f"cited evidence vs llama-index pipeline hit@5 ({s.name}, {s.cases} cases)",
        f"{ours.mean:.3f} vs {theirs.mean:.3f}, difference {diff.text(signed=True)}",
        "ahead (interval above 0)",
        diff.low > 0,
        f"deterministic, 1 run; {RESAMPLES:,} bootstrap resamples",
    )


def bench_llamaindex(ctx: Context) -> Section:
    started = datetime.now(UTC)
    scores, headlines, peers, untouched = measure(ctx)
    everything = pooled("all sets", [s for s in scores if s.name != POOLED])
    chunks = len(ctx.bot(ctx.settings.embed_backend).index.chunks)
    section = Section("llamaindex", TITLE)
    section.rows = [headline(s) for s in headlines]
    section.tables += [
        results_table(scores),
        differences_table(scores),
        conversation_table(everything, peers),
        passages_table(everything, peers, chunks),
    ]
    section.data = {
        s.name: {"cases": s.cases, "values": s.values, "history": s.history} for s in scores
    }
    section.notes += notes(ctx, everything, untouched, started)
    return section


def notes(ctx: Context, everything: SetScores, untouched: bool, started: datetime) -> list[str]:
    sets = ", ".join(f"`{Path(p).name}`" for p in ctx.case_files) or "none"
    skipped = everything.no_gold_text
    retrieved = ctx.bot(ctx.settings.embed_backend).tuning.retrieve_k
    return [
        f"Measured {started:%Y-%m-%d %H:%M} UTC at commit {git_commit()} with "
        "`python -m evals.bench --only llamaindex`; extra case sets (`--cases`): "
        f"{sets}. Figures are means over cases with bootstrap 95 % intervals "
        f"({RESAMPLES:,} resamples of the cases, fixed seed); differences are paired (the "
        "same cases resampled for both sides) and called ahead/behind only when the whole "
        "interval is on one side of 0.",
        "Cases: the answerable ones (expect `answer`, gold sources named) of every set. "
        f"The {POOLED} row pools the four held-out sets. The held-out sets have informed "
        "the project's tuning after their first run, so they favour the project; so does "
        "a blind set run with `--cases` once its failures have been read (evals/sets.json "
        "and docs/evaluation.md say which have).",
        "Relevance is scored on text: a gold section is the character span of the "
        "project's chunks of that section (`section_matches`) in its corpus file; a "
        "passage is relevant when its span overlaps one. llama-index nodes are placed by "
        "their `start_char_idx`/`end_char_idx` (checked against the file) or by searching "
        f"their text; {everything.unplaced} passage(s) could not be placed (scored not "
        f"relevant). Gold sections matching no chunk: {len(skipped)} case(s) skipped"
        + (f" ({', '.join(skipped)})." if skipped else "."),
        "Same files (`corpus/`), same model: the project's embedder "
        f"({ctx.settings.embed_backend} backend) wrapped as a llama-index `BaseEmbedding` "
        "for both peers. Same k for everyone: each peer is built with `similarity_top_k=k` "
        f"(the pipeline's BM25 and dense retrievers too), the project retrieves {retrieved} "
        f"and is scored on its first {' and '.join(map(str, KS))}. Same queries: the "
        "project gets the question and the history through `Assistant.ask` (its own "
        "follow-up handling); a peer gets the earlier user turns, then the question.",
        "The project's retrieval is the reply's ranked `hits` (BM25 + dense, RRF, "
        "re-ordered by each chunk's best sentence); *cited evidence* is whether the "
        "reply's citations, what the client is shown, overlap a gold section; a declined "
        "question cites nothing and scores 0 (*no citation*: the share of such replies; "
        "the last column is cited evidence over the replies that cite). The peers have no "
        "answer stage, so their hit@5 is the most their citations could reach.",
        "The pipeline's BM25 is a bm25s `BaseRetriever` doing what "
        "llama-index-retrievers-bm25 does (that package pins `pystemmer<3`; the project "
        'pins PyStemmer 3.1.0). Fusion is `QueryFusionRetriever(mode="reciprocal_rerank", '
        "num_queries=1)` with a `MockLLM` passed in (no query is generated). llama-index's "
        "global `Settings` were "
        + ("left untouched." if untouched else "**changed** (unexpected)."),
        "Passage size matters for text overlap: a 1024-token node spans several sections, "
        "so it overlaps a gold section more easily than a smaller passage does; the "
        "passages table gives each system's size. Small changes move the peers' figures by "
        "a few hundredths per set (writing the node metadata's file path as an absolute "
        "path instead of `corpus/<name>` did), within the intervals. Latency is a single "
        "pass, informative only: the project's figure is the whole `ask`, the peers' "
        "retrieval alone.",
    ]
