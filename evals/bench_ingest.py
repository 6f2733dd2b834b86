"""``python -m evals.bench_ingest``: ingest figures for the 5-article corpus.

Prints the cold ingest wall time (new process, empty index folder), the embedding rate
of that ingest, and the time to re-ingest an unchanged corpus, in a new process and
in-process (model load excluded). Every figure is the median of several runs.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _ingest_process(data_dir: Path) -> float:
    env = {
        **os.environ,
        "SKINQA_DATA_DIR": str(data_dir),
        "SKINQA_INDEX_DIR": str(data_dir / "index"),
    }
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, str(ROOT / "ingest.py"), "--quiet"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.bench_ingest")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)

    from assistant.embeddings import make_embedder
    from assistant.ingest import ingest
    from assistant.settings import Settings

    defaults = Settings()
    models = defaults.data_dir / "models"  # share the ONNX export: it is not ingest work
    cold, rates, warm_process, warm_inprocess = [], [], [], []
    embedder = make_embedder(
        defaults.embed_backend, defaults.model_path, defaults.embed_batch_size, models
    )
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory() as tmp:
            data = Path(tmp)
            (data / "models").symlink_to(models.resolve(), target_is_directory=True)
            cold.append(_ingest_process(data))
            warm_process.append(_ingest_process(data))
            settings = Settings(data_dir=data)
            started = time.perf_counter()
            summary = ingest(settings, lambda: embedder, model_id=embedder.model_id)
            warm_inprocess.append(time.perf_counter() - started)
            assert summary.embedded == 0
            fresh = Settings(data_dir=data, index_dir=data / "again")
            summary = ingest(fresh, lambda: embedder, model_id=embedder.model_id)
            rates.append(summary.total_chunks / summary.seconds)
            texts = summary.embedded
    print(f"ingest benchmark, backend {defaults.embed_backend}, medians of {args.runs} runs")
    print(f"| cold ingest, new process (model load included) | {statistics.median(cold):.2f} s |")
    print(
        f"| ingest rate, model loaded ({texts} texts for {summary.total_chunks} chunks) | "
        f"{statistics.median(rates):.1f} chunks/s |"
    )
    print(f"| re-ingest unchanged corpus, new process | {statistics.median(warm_process):.2f} s |")
    print(
        f"| re-ingest unchanged corpus, in-process (no model load) | "
        f"{statistics.median(warm_inprocess) * 1000:.0f} ms |"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
