"""``scale``: synthetic corpora (evals/synthetic.py) of 1k/10k/100k chunks: ingest time,
index size, peak memory and query latency. Each step runs in its own process
(scale_worker.py, started as ``python -m evals.bench _worker ...``)."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from assistant.settings import PROJECT_ROOT, Settings

from .context import Context
from .machine import log, subprocess_env
from .plan import TARGETS
from .report import Row, Section, Table, fmt_ms, fmt_s, runs_text


def scale_backend(settings: Settings) -> str:
    """The backend the app serves with, unless that is torch: then ONNX int8, since the
    real-model rows embed tens of thousands of texts."""
    return settings.embed_backend if settings.embed_backend != "torch" else "onnx"


def run_worker(args: Sequence[str], timeout: float = 7200) -> dict[str, Any]:
    """Run ``python -m evals.bench _worker ...`` and return the JSON it prints."""
    result = subprocess.run(
        [sys.executable, "-m", "evals.bench", "_worker", *args],
        cwd=PROJECT_ROOT,
        env=subprocess_env(),
        stdout=subprocess.PIPE,
        text=True,
        timeout=timeout,
    )
    lines = [line for line in result.stdout.splitlines() if line.startswith("RESULT ")]
    if result.returncode != 0 or not lines:
        raise RuntimeError(f"worker {list(args)} failed with exit code {result.returncode}")
    return json.loads(lines[-1].removeprefix("RESULT "))


def scale_one(ctx: Context, size: int, stand_in: bool) -> dict[str, Any]:
    from ..synthetic import generate

    backend = scale_backend(ctx.settings)
    with tempfile.TemporaryDirectory(prefix=f"bench-scale-{size}-") as tmp:
        root = Path(tmp)
        start = time.perf_counter()
        generate(root / "corpus", size)
        generate_s = time.perf_counter() - start
        kind = "stand-in" if stand_in else f"{backend} model"
        log(f"scale {size}: generated in {generate_s:.1f} s; ingest ({kind})")
        common = [str(root), "--backend", backend]
        ingest = run_worker(["scale-ingest", *common] + (["--stand-in"] if stand_in else []))
        log(f"scale {size}: ingest {ingest['ingest_s']:.1f} s; serving")
        serve = run_worker(
            [
                "scale-serve",
                *common,
                "--queries",
                str(ctx.plan.scale_queries),
                "--passes",
                str(ctx.plan.scale_passes),
            ]
        )
    return {
        "size": size,
        "backend": backend,
        "stand_in": stand_in,
        "generate_s": generate_s,
        **ingest,
        "serve": serve,
    }


def scale_row(r: dict[str, Any]) -> list[str]:
    serve = r["serve"]
    return [
        f"{r['chunks']:,}",
        "stand-in (see notes)" if r["stand_in"] else f"{r['backend']} model",
        f"{r['texts_embedded']:,}",
        fmt_s(r["ingest_s"]),
        f"{r['chunks'] / r['ingest_s']:.1f}",
        f"{r['index_mib']:.1f} ({r['chroma_mib']:.1f})",
        f"{r['peak_rss_mib']:.0f}",
        fmt_s(serve["load_s"]),
        f"{serve['rss_loaded_mib']:.0f} / {serve['peak_rss_mib']:.0f}",
        fmt_ms(serve["p50_ms"]),
        fmt_ms(serve["p95_ms"]),
        f"{serve['answered']:.0%}",
    ]


def bench_scale(ctx: Context) -> Section:
    plan = ctx.plan
    backend = scale_backend(ctx.settings)
    section = Section("scale", f"Scale (synthetic corpora, {backend} backend)")
    ctx.embedder(backend)  # export the ONNX model now, not inside a measured worker
    jobs = [(n, False) for n in plan.scale_real] + [(n, True) for n in plan.scale_standin]
    results = [scale_one(ctx, size, stand_in) for size, stand_in in jobs]
    section.tables.append(
        Table(
            [
                "chunks",
                "chunk/sentence vectors from",
                "texts embedded",
                "ingest",
                "chunks/s",
                "index MiB (Chroma)",
                "ingest peak RSS MiB",
                "assistant load",
                "serving RSS MiB loaded / peak",
                "`ask` p50",
                "`ask` p95",
                "answered",
            ],
            [scale_row(r) for r in results],
        )
    )
    largest = max(results, key=lambda r: (r["chunks"], not r["stand_in"]))
    serve = largest["serve"]
    runs = runs_text(plan.scale_passes, "pass") + f" over {plan.scale_queries} questions"
    label = f"at {largest['chunks']:,} chunks" + (" (stand-in vectors)" * largest["stand_in"])
    section.rows += [
        Row(
            f"warm `ask` p50 {label}",
            fmt_ms(serve["p50_ms"]),
            "≤ 60 ms",
            serve["p50_ms"] <= TARGETS["scale_p50_ms"],
            runs,
        ),
        Row(
            f"peak RSS of the serving process {label}",
            f"{serve['peak_rss_mib']:.0f} MiB",
            "≤ 2 GiB",
            serve["peak_rss_mib"] <= TARGETS["scale_rss_mib"],
            "1 run",
        ),
    ]
    section.data["results"] = results
    section.notes += [
        "Corpora from `evals/synthetic.py` (seeded; real corpus sentences, spliced sentences "
        "and vocabulary word salad, one ~500-character section per chunk, 50 sections per "
        ".md file). The data is generated into a temp folder and deleted afterwards.",
        "Each size: ingest in one process, then the assistant loaded and queried in another, "
        "so each peak RSS (`VmHWM`) is that process's own. 1 ingest per size; the "
        f"query figures are {runs} of the eval set (answerable category), after 3 warm-up "
        f"questions. Queries are always embedded with the real model ({backend}).",
        "**Stand-in rows**: the corpus vectors come from `StandInEmbedder` "
        "(evals/synthetic.py), not from running the model on every text, because embedding "
        "100k chunks and their ~485k sentences with the model takes far longer than this "
        "benchmark's budget. Sentences quoted verbatim from the real corpus (a third of "
        "them) get the real model's vector of that sentence; every other text gets the "
        "normalised sum of the model's vectors of its words (each distinct word embedded "
        "once). Those rows measure chunking, BM25, Chroma, disk, memory and query cost, not "
        "embedding speed or retrieval quality; the `answered` column shows how often the "
        "answerability gate let a question through, i.e. how much composing work was timed.",
        "Ingest embeds every chunk and every sentence (about 5.9 texts per chunk "
        "here); `chunks/s` is chunks over the whole ingest wall time, model load included.",
    ]
    return section
