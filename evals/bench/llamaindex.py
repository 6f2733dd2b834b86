"""``llamaindex``: plain llama-index (llamaindex_baseline.py) side by side with our
retriever: retrieval scores and retrieve latency over the same files and model."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..cases import Case
from .context import Context, eval_cases
from .llamaindex_baseline import build_llamaindex, llama_quality, mean_scores, scores_of
from .machine import log, ms_since, pass_percentiles
from .report import Row, Section, Table, fmt_ms, runs_text


def our_query(bot: Any, case: Case) -> str:
    """The retrieval query the assistant itself uses (clean-up and follow-up rewriting)."""
    from assistant.answer.query import clean_history, read_query, sanitize

    text, _ = sanitize(case.question, bot.settings.max_question_chars)
    return read_query(text, clean_history(case.history), bot.analyzer).text


def our_quality(bot: Any, cases: Sequence[Case], rewrite: bool) -> dict[str, float]:
    from ..metrics import relevance
    from ..runner import relevant_total

    rows = []
    for case in cases:
        query = our_query(bot, case) if rewrite else case.question
        hits = [h.to_dict() for h in bot.retriever.retrieve(query).hits]
        rows.append(
            scores_of(relevance(hits, case.gold_sources), relevant_total(bot, case.gold_sources))
        )
    return mean_scores(rows)


def retrieve_latency(
    retrieve: Callable[[str], Any], queries: Sequence[str], passes: int
) -> tuple[float, float]:
    retrieve(queries[0])  # warm-up
    timings = []
    for _ in range(passes):
        one = []
        for query in queries:
            start = time.perf_counter()
            retrieve(query)
            one.append(ms_since(start))
        timings.append(one)
    return pass_percentiles(timings)


def corpus_doc_ids(bot: Any) -> tuple[list[Path], dict[str, str]]:
    docs = bot.index.documents()
    files = sorted(bot.settings.corpus_dir / meta["file"] for meta in docs.values())
    return files, {meta["file"]: doc_id for doc_id, meta in docs.items()}


@dataclass
class Comparison:
    """Retrieval scores and latencies of each retriever in the llama-index section."""

    cases: int
    nodes: dict[str, int]
    quality: dict[str, dict[str, float]]
    latency: dict[str, tuple[float, float]]
    untouched: bool


def compare_with_llamaindex(ctx: Context) -> Comparison:
    from llama_index.core import Settings as LlamaSettings
    from llama_index.core.node_parser import SentenceSplitter

    backend = ctx.settings.embed_backend
    bot = ctx.bot(backend)
    embedder = bot.embedder  # both sides embed queries with the same model session
    cases = [c for c in eval_cases() if c.gold_sources]
    files, doc_ids = corpus_doc_ids(bot)
    log("llama-index: building the default index and a chunk-size-matched one")
    plain = build_llamaindex(files, doc_ids, embedder)
    splitter = SentenceSplitter(chunk_size=160, chunk_overlap=20)
    matched = build_llamaindex(files, doc_ids, embedder, top_k=8, splitter=splitter)
    untouched = LlamaSettings._embed_model is None and LlamaSettings._transformations is None
    quality = {"ours": our_quality(bot, cases, rewrite=True)}
    quality["ours_raw"] = our_quality(bot, cases, rewrite=False)
    quality["plain"], quality["plain_lenient"] = llama_quality(plain, bot, cases)
    quality["matched"], _ = llama_quality(matched, bot, cases)
    passes = ctx.plan.latency_passes
    log(f"retrieve latency: {passes} passes over {len(cases)} questions")
    questions = [c.question for c in cases]
    latency = {
        "ours": retrieve_latency(bot.retriever.retrieve, questions, passes),
        "plain": retrieve_latency(plain.retriever.retrieve, questions, passes),
        "matched": retrieve_latency(matched.retriever.retrieve, questions, passes),
    }
    nodes = {"plain": plain.nodes, "matched": matched.nodes}
    return Comparison(len(cases), nodes, quality, latency, untouched)


def comparison_table(c: Comparison) -> Table:
    names = {
        "ours": "ours: hybrid BM25 + dense, RRF, query as the assistant rewrites it",
        "ours_raw": "ours: same retriever, the raw question",
        "plain": f"llama-index defaults ({c.nodes['plain']} nodes, top_k=2)",
        "plain_lenient": "llama-index defaults, lenient mapping (node overlaps a gold section)",
        "matched": f"llama-index, SentenceSplitter(160, 20) ({c.nodes['matched']} nodes), top_k=8",
    }
    rows = []
    for key, name in names.items():
        q, lat = c.quality[key], c.latency.get(key)
        timing = [fmt_ms(lat[0]), fmt_ms(lat[1])] if lat else ["(as above)", ""]
        rows.append([name, f"{q['hit@1']:.3f}", f"{q['hit@5']:.3f}", f"{q['mrr']:.3f}", *timing])
    return Table(["retriever", "hit@1", "hit@5", "MRR", "retrieve p50", "retrieve p95"], rows)


def versus(ours: float, theirs: float, fmt: Callable[[float], str]) -> str:
    return f"{fmt(ours)} vs {fmt(theirs)} ({_ratio(ours, theirs)})"


def comparison_rows(c: Comparison, passes: int) -> list[Row]:
    ours, plain = c.quality["ours"], c.quality["plain"]
    ahead = ours["hit@5"] > plain["hit@5"] and ours["mrr"] > plain["mrr"]
    score = "{:.3f}".format
    latency_runs = runs_text(passes, "pass") + f" over {c.cases} questions"
    return [
        Row("hit@5, ours vs llama-index defaults", versus(ours["hit@5"], plain["hit@5"], score),
            "ours ahead", ahead, "deterministic, 1 run"),
        Row("MRR, ours vs llama-index defaults", versus(ours["mrr"], plain["mrr"], score),
            "ours ahead", ahead, "deterministic, 1 run"),
        Row("warm retrieve p50, ours vs llama-index defaults",
            versus(c.latency["ours"][0], c.latency["plain"][0], fmt_ms), "", None, latency_runs),
    ]  # fmt: skip


def bench_llamaindex(ctx: Context) -> Section:
    comparison = compare_with_llamaindex(ctx)
    section = Section("llamaindex", "Side by side with plain llama-index")
    section.tables.append(comparison_table(comparison))
    section.rows += comparison_rows(comparison, ctx.plan.latency_passes)
    section.data = {"quality": comparison.quality, "latency_ms": comparison.latency}
    section.notes += [
        f"Same files (`corpus/`), same model ({ctx.settings.embed_backend} backend, wrapped in "
        "a llama-index `BaseEmbedding` because llama-index-embeddings-huggingface is not "
        f"installed), the {comparison.cases} eval cases with gold sources. llama-index is "
        "built explicitly (`VectorStoreIndex.from_documents(docs, embed_model=..., "
        "transformations=[SentenceSplitter()])`, documents from `SimpleDirectoryReader`, "
        "in-memory vector store, dense only) and gets the raw question; its global "
        "`Settings` were "
        + ("left untouched." if comparison.untouched else "**changed** (unexpected)."),
        "Each llama-index node is mapped back to our corpus by its character offsets: the "
        "section of our chunk that holds the node's midpoint (strict), or, in the lenient "
        "row, any section the node overlaps. With the default 1024-token nodes most articles "
        "are a single node, so the strict mapping names one section per article; the "
        "lenient row is a generous upper bound for those nodes.",
        "Ratios are ours / llama-index. Retrieve latency embeds the query on both sides; ours "
        "also runs BM25, a Chroma query and fusion, llama-index scans its in-memory vectors.",
    ]
    return section


def _ratio(ours: float, theirs: float) -> str:
    return f"{ours / theirs:.2f}x" if theirs else "n/a"
