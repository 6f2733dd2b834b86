"""The scale section's worker processes (``python -m evals.bench _worker ...``): one
ingests a synthetic corpus, one loads the assistant on it and times ``ask``, so that each
peak RSS is that process's own."""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from assistant.embeddings import BACKENDS, model_id_for
from assistant.settings import Settings

from ..cases import load_cases
from .context import isolated_settings
from .machine import disk_usage_mib, log, ms_since, pass_percentiles, proc_status


def scale_settings(root: Path, backend: str, chroma: str | None = None) -> Settings:
    """``chroma``: ``host:port`` of a Chroma server to ingest into (the replica bench)."""
    settings = isolated_settings(root / "corpus", root / "data", backend)
    if chroma:
        host, port = chroma.rsplit(":", 1)
        settings = settings.model_copy(update={"chroma_host": host, "chroma_port": int(port)})
    return settings


def scale_questions(n: int) -> list[str]:
    return [c.question for c in load_cases() if c.category == "answerable"][:n]


def project_embedder(backend: str) -> Any:
    """The real model on ``backend``, from the project's model cache (exported once)."""
    from assistant.embeddings import make_embedder

    s = Settings()
    return make_embedder(backend, s.model_path, s.embed_batch_size, s.data_dir / "models")


def _progress_printer(label: str) -> Callable[[int, int], None]:
    shown = {"decile": -1}

    def progress(done: int, total: int) -> None:
        decile = done * 10 // max(total, 1)
        if decile != shown["decile"]:
            shown["decile"] = decile
            log(f"{label}: embedded {done}/{total}")

    return progress


def worker_scale_ingest(
    root: Path, backend: str, stand_in: bool, chroma: str | None = None
) -> dict[str, Any]:
    """Ingest ``root/corpus``; runs in its own process so its peak RSS is its own."""
    from assistant.ingest import ingest

    from ..synthetic import StandInEmbedder, load_material

    settings = scale_settings(root, backend, chroma)
    model_id = model_id_for(backend)

    def factory() -> Any:
        model = project_embedder(backend)
        if not stand_in:
            return model
        return StandInEmbedder(model_id, model=model.embed, known=load_material().sentences)

    start = time.perf_counter()
    summary = ingest(
        settings, factory, model_id=model_id, progress=_progress_printer(f"ingest {root.name}")
    )
    seconds = time.perf_counter() - start
    build = settings.index_path / "builds" / str(summary.build)
    return {
        "chunks": summary.total_chunks,
        "texts_embedded": summary.embedded,
        "ingest_s": seconds,
        "index_mib": disk_usage_mib(build),
        "chroma_mib": disk_usage_mib(build / "chroma"),
        "peak_rss_mib": proc_status("VmHWM"),
    }


def worker_scale_serve(root: Path, backend: str, queries: int, passes: int) -> dict[str, Any]:
    """Load the assistant on the synthetic index and time ``ask``; its own process too."""
    from assistant.answer.pipeline import Assistant

    start = time.perf_counter()
    bot = Assistant.load(scale_settings(root, backend), embedder=project_embedder(backend))
    load_s = time.perf_counter() - start
    rss_loaded = proc_status("VmRSS")
    questions = scale_questions(queries)
    for question in questions[:3]:
        bot.ask(question)  # warm-up
    timings: list[list[float]] = []
    answered = 0
    for _ in range(passes):
        one_pass = []
        for question in questions:
            t0 = time.perf_counter()
            answered += not bot.ask(question).abstained
            one_pass.append(ms_since(t0))
        timings.append(one_pass)
    p50, p95 = pass_percentiles(timings)
    return {
        "load_s": load_s,
        "p50_ms": p50,
        "p95_ms": p95,
        "answered": answered / (passes * len(questions)),
        "rss_loaded_mib": rss_loaded,
        "peak_rss_mib": proc_status("VmHWM"),
    }


def worker_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.bench _worker")
    parser.add_argument("job", choices=("scale-ingest", "scale-serve"))
    parser.add_argument("root", type=Path)
    parser.add_argument("--backend", choices=BACKENDS, default="onnx")
    parser.add_argument("--stand-in", action="store_true")
    parser.add_argument("--queries", type=int, default=40)
    parser.add_argument("--passes", type=int, default=3)
    parser.add_argument("--chroma", help="host:port of a Chroma server (scale-ingest)")
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if args.job == "scale-ingest":
        result = worker_scale_ingest(args.root, args.backend, args.stand_in, args.chroma)
    else:
        result = worker_scale_serve(args.root, args.backend, args.queries, args.passes)
    print("RESULT " + json.dumps(result), flush=True)
    return 0
