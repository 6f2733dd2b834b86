"""``cold``: a new process answering one question (``python -m assistant ask``) per
embedding backend, and ``app.py`` start-to-ready."""

from __future__ import annotations

import contextlib
import statistics
import subprocess
import sys
import time
from pathlib import Path

from assistant.embeddings import BACKENDS
from assistant.settings import PROJECT_ROOT

from .context import Context, running_app, wait_http_ok
from .machine import free_port, log
from .plan import COLD_QUESTION, TARGETS
from .report import Row, Section, fmt_s, runs_text


def time_cold_ask(env: dict[str, str]) -> float:
    """Seconds for ``python -m assistant ask`` to answer in a fresh process."""
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "assistant", "ask", COLD_QUESTION],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    seconds = time.perf_counter() - start
    if result.returncode != 0 or not result.stdout.strip():
        raise RuntimeError(f"cold ask failed ({result.returncode}): {result.stderr[-2000:]}")
    return seconds


def time_app_ready(env: dict[str, str]) -> float:
    port = free_port()
    start = time.perf_counter()
    with running_app(env, port) as proc:
        wait_http_ok(f"http://127.0.0.1:{port}/", proc)
        return time.perf_counter() - start


def bench_cold(ctx: Context) -> Section:
    plan = ctx.plan
    section = Section("cold", "Cold start (new process)")
    for backend in BACKENDS:
        env = ctx.env(backend)
        log(f"cold ask, {backend}: 1 discarded warm-up + {plan.cold_runs} runs")
        time_cold_ask(env)  # page cache, .pyc files and (ONNX) the model export
        asks = [time_cold_ask(env) for _ in range(plan.cold_runs)]
        log(f"app start-to-ready, {backend}: {plan.app_runs} runs")
        apps = [time_app_ready(env) for _ in range(plan.app_runs)]
        ask_s, app_s = statistics.median(asks), statistics.median(apps)
        section.rows += [
            Row(
                f'`python -m assistant ask "{COLD_QUESTION}"`, {backend}',
                fmt_s(ask_s),
                f"≤ {TARGETS['cold_ask_s']:.0f} s",
                ask_s <= TARGETS["cold_ask_s"],
                runs_text(plan.cold_runs),
            ),
            Row(
                f"`app.py` start to HTTP 200, {backend}",
                fmt_s(app_s),
                f"≤ {TARGETS['app_ready_s']:.0f} s",
                app_s <= TARGETS["app_ready_s"],
                runs_text(plan.app_runs),
            ),
        ]
        section.data[backend] = {"cold_ask_s": asks, "app_ready_s": apps}
    section.notes += [
        "Wall time from starting the process to its exit (ask) or to the first HTTP 200 on "
        "`/` (app), with the default settings and index; a discarded first run warms the OS "
        "page cache (and, for ONNX, makes sure the export is cached).",
        f"The default backend is `{ctx.settings.embed_backend}` and uses the default index "
        f"(`{_rel(ctx.settings.index_path)}`); every other backend gets a bench-owned index "
        f"under `{_rel(ctx.settings.data_dir / 'bench')}` (built with `ingest.py` if needed), "
        "so the served index is never rebuilt with another model.",
    ]
    return section


def _rel(path: Path) -> str:
    with contextlib.suppress(ValueError):
        return str(path.resolve().relative_to(PROJECT_ROOT))
    return str(path)
