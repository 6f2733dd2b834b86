"""What the benchmark runs and how often: the sections, where the report goes, the
project's targets, and the full and quick plans (``--quick``)."""

from __future__ import annotations

from dataclasses import dataclass

from assistant.settings import PROJECT_ROOT

SECTIONS = ("cold", "warm", "embed", "scale", "load", "replica", "llamaindex")
FULL_REPORT = PROJECT_ROOT / "evals" / "BENCHMARKS.md"
OUT_DIR = PROJECT_ROOT / "evals" / "out"
COLD_QUESTION = "Does it hurt?"


# The project's targets (issue: performance), printed next to every measured figure.
TARGETS = {
    "embed_speedup": 3.0,  # ONNX int8 chunks/s over torch chunks/s, at least
    "cold_ask_s": 3.0,
    "app_ready_s": 10.0,
    "warm_p50_ms": 25.0,
    "warm_p95_ms": 60.0,
    "scale_p50_ms": 60.0,  # at 100k chunks
    "scale_rss_mib": 2048.0,  # at 100k chunks, serving process
    "load_p95_ms": 350.0,  # 32 clients on POST /api/ask, each of three runs
    "replica_cold_s": 15.0,  # at 100k chunks: process start -> first answer
}


@dataclass(frozen=True)
class Plan:
    """How many runs of what: one full plan, one quick plan (``--quick``)."""

    quick: bool
    cold_runs: int
    app_runs: int
    warm_passes: int
    warm_cases: int | None  # None: every eval case
    embed_texts: int
    embed_runs: int
    scale_real: tuple[int, ...]  # sizes embedded with the real model
    scale_standin: tuple[int, ...]  # sizes embedded with the word-vector stand-in
    scale_queries: int
    scale_passes: int
    load_clients: int
    load_seconds: float
    load_runs: int
    replica_runs: int  # cold starts on the project corpus
    replica_sizes: tuple[int, ...]  # synthetic sizes (stand-in vectors), one start each
    latency_passes: int


FULL = Plan(
    quick=False,
    cold_runs=5,
    app_runs=3,
    warm_passes=3,
    warm_cases=None,
    embed_texts=256,
    embed_runs=7,
    scale_real=(1_000, 10_000),
    scale_standin=(1_000, 10_000, 100_000),
    scale_queries=40,
    scale_passes=3,
    load_clients=32,
    load_seconds=60.0,
    load_runs=3,
    replica_runs=3,
    replica_sizes=(100_000,),
    latency_passes=3,
)


QUICK = Plan(
    quick=True,
    cold_runs=1,
    app_runs=1,
    warm_passes=1,
    warm_cases=40,
    embed_texts=64,
    embed_runs=1,
    scale_real=(1_000,),
    scale_standin=(1_000, 10_000),
    scale_queries=20,
    scale_passes=1,
    load_clients=8,
    load_seconds=10.0,
    load_runs=1,
    replica_runs=1,
    replica_sizes=(),
    latency_passes=1,
)
