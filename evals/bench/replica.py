"""``replica``: a stateless app replica's cold start against a Chroma server.

A bench-owned ``chroma run`` on loopback holds the build (the project corpus, 81 chunks;
in the full plan also a 100k-chunk synthetic corpus, stand-in vectors). Each start is
``app.py`` with an empty data folder and only the server's address: from process start
to its first answer on ``POST /api/ask`` (copying the build from the server, checking
it, building BM25 from the stored tokens, loading the model), its peak RSS, and then a
restart on the same folder (the local cache). ``python -m assistant ask`` is timed too.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from assistant.settings import PROJECT_ROOT

from .context import Context, running_app
from .machine import (
    free_port,
    load_average,
    log,
    proc_status,
    stop_process,
    subprocess_env,
)
from .plan import TARGETS
from .report import Row, Section, Table, fmt_s
from .scale import run_worker, scale_backend

QUESTION = "What is the cost of microneedling?"  # not an eval case's wording


@contextlib.contextmanager
def chroma_server(root: Path) -> Iterator[tuple[str, int]]:
    """A ``chroma run`` on a free loopback port, stopped on exit."""
    import chromadb

    port = free_port()
    chroma = Path(sys.executable).parent / "chroma"
    log_file = (root / "chroma.log").open("ab")
    proc = subprocess.Popen(
        [str(chroma), "run", "--path", str(root / "db"), "--host", "127.0.0.1", "--port",
         str(port)],
        stdout=log_file, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                chromadb.HttpClient(host="127.0.0.1", port=port).heartbeat()
                break
            except Exception:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("chroma run did not start") from None
                time.sleep(0.2)
        yield "127.0.0.1", port
    finally:
        stop_process(proc)
        log_file.close()


def replica_env(ctx: Context, server: tuple[str, int], data: Path, backend: str) -> dict[str, str]:
    return subprocess_env(
        SKINQA_DATA_DIR=str(data),
        SKINQA_INDEX_DIR=str(data / "index"),
        SKINQA_MODEL_CACHE_DIR=str(ctx.model_cache),
        SKINQA_EMBED_BACKEND=backend,
        SKINQA_CHROMA_HOST=server[0],
        SKINQA_CHROMA_PORT=str(server[1]),
        SKINQA_RATE_LIMIT_PER_MINUTE="100000",
    )


def first_answer(env: dict[str, str], timeout: float = 900) -> dict[str, float]:
    """``app.py`` from process start to its first 200 on ``POST /api/ask``; peak RSS."""
    import httpx

    port = free_port()
    url = f"http://127.0.0.1:{port}/api/ask"
    start = time.perf_counter()
    with running_app(env, port) as proc:
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"app.py exited with {proc.returncode}")
            if time.perf_counter() - start > timeout:
                raise RuntimeError("no answer within the timeout")
            try:
                response = httpx.post(url, json={"question": QUESTION}, timeout=120)
                if response.status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        seconds = time.perf_counter() - start
        return {"seconds": seconds, "peak_rss_mib": proc_status("VmHWM", proc.pid)}


def cli_answer(env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "assistant", "ask", QUESTION],
        cwd=PROJECT_ROOT, env=env, check=True, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    return time.perf_counter() - start


def ingest_into(ctx: Context, server: tuple[str, int], size: int | None, root: Path) -> int:
    """Ingest the project corpus (``size`` None, real model) or a synthetic one."""
    backend = scale_backend(ctx.settings)
    if size is None:
        env = replica_env(ctx, server, root / "ingester", backend)
        env["SKINQA_CORPUS_DIR"] = str(ctx.settings.corpus_dir)
        subprocess.run(
            [sys.executable, "ingest.py", "--quiet"], cwd=PROJECT_ROOT, env=env, check=True
        )
        return 81
    from ..synthetic import generate

    generate(root / "corpus", size)
    result = run_worker(
        ["scale-ingest", str(root), "--backend", backend, "--stand-in",
         "--chroma", f"{server[0]}:{server[1]}"]
    )  # fmt: skip
    return int(result["chunks"])


def measure(ctx: Context, size: int | None, runs: int) -> dict[str, Any]:
    backend = scale_backend(ctx.settings)
    with tempfile.TemporaryDirectory(prefix="bench-replica-") as tmp:
        root = Path(tmp)
        with chroma_server(root) as server:
            log(f"replica: ingesting {'the corpus' if size is None else f'{size:,} chunks'}")
            chunks = ingest_into(ctx, server, size, root)
            starts, cached = [], []
            for n in range(runs):
                data = root / f"replica-{n}"
                env = replica_env(ctx, server, data, backend)
                load = load_average()
                starts.append({**first_answer(env), "load": load})
                log(f"replica {chunks:,} chunks: cold start {starts[-1]['seconds']:.1f} s")
                cached.append(first_answer(env))  # the same folder: its cache
            cli = cli_answer(replica_env(ctx, server, root / "cli", backend))
    return {"chunks": chunks, "starts": starts, "cached": cached, "cli_s": cli}


def median(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[len(ordered) // 2]


def bench_replica(ctx: Context) -> Section:
    plan = ctx.plan
    section = Section("replica", "Replica cold start (empty data folder + Chroma server)")
    ctx.embedder(scale_backend(ctx.settings))  # the model export is not a replica's work
    # The ingest is the slow part of a size; each start from an empty folder is cheap, so
    # every size gets the same number of starts (a median, on a shared machine).
    results = [measure(ctx, size, plan.replica_runs) for size in (None, *plan.replica_sizes)]
    rows = []
    for r in results:
        cold = median([s["seconds"] for s in r["starts"]])
        rss = max(s["peak_rss_mib"] for s in r["starts"])
        warm = median([s["seconds"] for s in r["cached"]])
        loads = ", ".join(s["load"] for s in r["starts"])
        rows.append(
            [f"{r['chunks']:,}", fmt_s(cold), fmt_s(warm), fmt_s(r["cli_s"]), f"{rss:.0f}", loads]
        )
        big = r["chunks"] >= 100_000
        section.rows += [
            Row(
                f"replica cold start at {r['chunks']:,} chunks (process start → first answer)",
                fmt_s(cold),
                "≤ 15 s" if big else "",
                cold <= TARGETS["replica_cold_s"] if big else None,
                f"{len(r['starts'])} run(s), load average {loads}",
            ),
            Row(
                f"replica peak RSS at {r['chunks']:,} chunks",
                f"{rss:.0f} MiB",
                "≤ 2 GiB" if big else "",
                rss <= TARGETS["scale_rss_mib"] if big else None,
                f"{len(r['starts'])} run(s)",
            ),
        ]
    section.tables.append(
        Table(
            [
                "chunks",
                "cold start (empty folder)",
                "restart (local cache)",
                "`python -m assistant ask` (empty folder)",
                "app peak RSS MiB",
                "load average (1/5/15) at each start",
            ],
            rows,
        )
    )
    section.data["results"] = results
    section.notes += [
        "Each start is `app.py` with a new, empty `SKINQA_DATA_DIR` and only "
        "`SKINQA_CHROMA_HOST`/`PORT` (plus `SKINQA_MODEL_CACHE_DIR`: the ONNX export is "
        "shipped with a deployment, not made by a replica). Timed from process start to the "
        "first 200 on `POST /api/ask`: the process polls nothing earlier. It copies the live "
        "build's files from the server's `files-<id>` collection into its folder (chunk "
        "texts, chunk vectors, the BM25 index made from the stored tokens), checks each "
        "against the build's SHA-256s, loads them, the model and Gradio; the first answer "
        "reads its passages' sentence vectors from the server. The restart reuses that "
        "folder (the cache). Each size: the same number of cold starts, each followed by "
        "one restart; the figures are medians.",
        "The 100k corpus is `evals/synthetic.py`'s with stand-in vectors (see the scale "
        "section), ingested into the same kind of server by a worker process.",
    ]
    return section
