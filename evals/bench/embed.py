"""``embed``: embedding throughput per backend (torch, ONNX int8, ONNX fp32), and the
eval retrieval figures of an index built with each."""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from assistant.embeddings import BACKENDS

from ..cases import Case
from .context import Context, eval_cases, isolated_settings
from .machine import log
from .plan import TARGETS
from .report import Row, Section, Table, fmt_s, runs_text


def embedding_texts(n: int, length: int = 450) -> list[str]:
    """``n`` deterministic ~``length``-character windows of the real corpus text."""
    from ..synthetic import load_material

    stream = " ".join(load_material().sentences)
    texts = []
    for i in range(n):
        start = (i * 449) % (len(stream) - 2 * length)
        start = stream.find(" ", start) + 1  # start and end on word boundaries
        end = stream.rfind(" ", start, start + length + 20)
        texts.append(stream[start:end])
    return texts


def throughput(
    embedders: dict[str, Any], texts: Sequence[str], runs: int, pause: float = 0.5
) -> dict[str, list[float]]:
    """Texts/s of each run of embedding ``texts`` with each embedder (batch size as
    configured, 32 by default). The backends take turns, run by run, so a change in the
    machine's load hits them alike; before each run a short pause lets the previous
    backend's worker threads (ONNX Runtime spins its pool for a while) go idle."""
    for embedder in embedders.values():
        embedder.embed(texts[:32])  # one warm-up batch: lazy allocations, thread pools
    rates: dict[str, list[float]] = {name: [] for name in embedders}
    for _ in range(runs):
        for name, embedder in embedders.items():
            time.sleep(pause)
            start = time.perf_counter()
            embedder.embed(texts)
            rates[name].append(len(texts) / (time.perf_counter() - start))
    return rates


def retrieval_quality(bot: Any, cases: Sequence[Case]) -> dict[str, float]:
    """hit@1/hit@5/MRR of ``bot.ask``'s retrieved chunks, as ``python -m evals`` scores them."""
    from .. import metrics
    from ..runner import relevant_total

    scores = []
    for case in cases:
        retrieved = bot.ask(case.question, history=case.history).to_dict()["retrieved"]
        rels = metrics.relevance(retrieved, case.gold_sources)
        scores.append(metrics.retrieval_scores(rels, relevant_total(bot, case.gold_sources)))
    return {k: statistics.fmean(s[k] for s in scores) for k in ("hit@1", "hit@5", "mrr")}


def build_temp_bot(ctx: Context, backend: str, data_dir: Path) -> tuple[Any, float]:
    """A fresh index of the real corpus with ``backend`` in ``data_dir``; (bot, ingest s)."""
    from assistant.answer.pipeline import Assistant
    from assistant.ingest import ingest

    embedder = ctx.embedder(backend)
    settings = isolated_settings(ctx.settings.corpus_dir, data_dir, backend)
    start = time.perf_counter()
    ingest(settings, lambda: embedder, model_id=embedder.model_id)
    seconds = time.perf_counter() - start
    return Assistant.load(settings, embedder=embedder), seconds


def speedup_row(backend: str, rates: dict[str, float], runs: str) -> Row:
    """Throughput of ``backend`` over torch's; the target is for ONNX int8 only."""
    speedup = rates[backend] / rates["torch"]
    has_target = backend == "onnx"
    return Row(
        f"{backend} / torch embedding throughput",
        f"{speedup:.2f}x ({rates[backend]:.1f} vs {rates['torch']:.1f} chunks/s)",
        "≥ 3x (ONNX int8)" if has_target else "",
        speedup >= TARGETS["embed_speedup"] if has_target else None,
        runs,
    )


def bench_embed(ctx: Context) -> Section:
    plan = ctx.plan
    section = Section("embed", "Embedding backends")
    texts = embedding_texts(plan.embed_texts)
    gold = [c for c in eval_cases() if c.gold_sources]
    table = Table(
        ["backend", "chunks/s (batch 32)", "ingest of the 5 articles", "hit@1", "hit@5", "MRR"],
        [],
    )
    log(f"embedding throughput, {', '.join(BACKENDS)} in turn: {plan.embed_runs} runs each")
    runs_by_backend = throughput(
        {backend: ctx.embedder(backend) for backend in BACKENDS}, texts, plan.embed_runs
    )
    rates = {backend: statistics.median(r) for backend, r in runs_by_backend.items()}
    for backend in BACKENDS:
        with tempfile.TemporaryDirectory(prefix=f"bench-{backend}-") as tmp:
            log(f"fresh {backend} index + retrieval over {len(gold)} gold cases")
            bot, ingest_s = build_temp_bot(ctx, backend, Path(tmp))
            quality = retrieval_quality(bot, gold)
        table.rows.append(
            [
                backend,
                f"{rates[backend]:.1f}",
                fmt_s(ingest_s),
                f"{quality['hit@1']:.3f}",
                f"{quality['hit@5']:.3f}",
                f"{quality['mrr']:.3f}",
            ]
        )
        section.data[backend] = {
            "chunks_per_s": rates[backend],
            "chunks_per_s_runs": runs_by_backend[backend],
            "ingest_s": ingest_s,
            **quality,
        }
    runs = runs_text(plan.embed_runs) + f" of {len(texts)} texts"
    section.rows += [speedup_row(backend, rates, runs) for backend in rates if backend != "torch"]
    section.tables.append(table)
    mean_len = statistics.fmean(len(t) for t in texts)
    section.notes += [
        f"Throughput: {len(texts)} windows of the corpus text (mean {mean_len:.0f} characters), "
        "embedded in batches of 32 after one warm-up batch; torch with its default CPU "
        f"threads, ONNX Runtime with {os.cpu_count()} intra-op threads. The backends take "
        "turns run by run (torch, onnx, onnx-fp32, torch, ...), 0.5 s apart, so load from "
        "other processes falls on all of them alike.",
        "Retrieval: a new index of the real corpus built with each backend in a temp folder "
        "(the ingest time includes embedding the chunks and their sentences; model already "
        "loaded), then `Assistant.ask` on "
        f"the {len(gold)} eval cases with gold sources, scored like `python -m evals` "
        "(deterministic: 1 run). The ingest time is 1 run.",
    ]
    return section
