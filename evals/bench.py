"""``python -m evals.bench``: how fast the assistant is, how it scales, and how it compares.

Sections (``--only`` picks some; all run by default):

``cold``        a new process answering one question (``python -m assistant ask``) per
                embedding backend, and ``app.py`` start-to-ready
``warm``        ``Assistant.ask`` p50/p95 over the eval questions, per backend
``embed``       embedding throughput per backend (torch, ONNX int8, ONNX fp32), and the
                eval retrieval figures of an index built with each
``scale``       synthetic corpora (evals/synthetic.py) of 1k/10k/100k chunks: ingest time,
                index size, peak memory and query latency, each in its own process
``load``        concurrent clients on the app's ``/ask`` API
``llamaindex``  plain llama-index (its defaults) over the same files and model, next to ours

Every figure is the median over several runs and each row says how many. The report is
printed as Markdown and written to ``--out``: ``evals/BENCHMARKS.md`` for a full run, else
``evals/out/bench.md`` (git-ignored), so a partial or quick run never replaces the full
report. Raw numbers go to ``evals/out/bench.json``.

The module stays light at import time (no torch, no llama-index): the scale workers are
this same module run as ``python -m evals.bench _worker ...``, and their peak memory must
be the assistant's, not the benchmark's.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from assistant.embedding import BACKENDS, model_id_for
from assistant.settings import PROJECT_ROOT, Settings

from .cases import Case, load_cases, section_matches
from .metrics import percentile

SECTIONS = ("cold", "warm", "embed", "scale", "load", "llamaindex")
FULL_REPORT = PROJECT_ROOT / "evals" / "BENCHMARKS.md"
OUT_DIR = PROJECT_ROOT / "evals" / "out"
COLD_QUESTION = "Does it hurt?"
PACKAGES = (
    "chromadb",
    "llama-index-core",
    "sentence-transformers",
    "torch",
    "onnxruntime",
    "gradio",
    "gradio_client",
    "numpy",
    "bm25s",
)
# The project's targets (issue: performance), printed next to every measured figure.
TARGETS = {
    "embed_speedup": 3.0,  # ONNX int8 chunks/s over torch chunks/s, at least
    "cold_ask_s": 3.0,
    "app_ready_s": 10.0,
    "warm_p50_ms": 25.0,
    "warm_p95_ms": 60.0,
    "scale_p50_ms": 60.0,  # at 100k chunks
    "scale_rss_mib": 2048.0,  # at 100k chunks, serving process
    "load_p95_ms": 500.0,
}


# -- plan ---------------------------------------------------------------------------------
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
    latency_passes=1,
)


# -- report -------------------------------------------------------------------------------
@dataclass
class Row:
    """One headline figure, with its target when the project has one."""

    what: str
    measured: str
    target: str = ""
    met: bool | None = None
    runs: str = ""


@dataclass
class Table:
    headers: list[str]
    rows: list[list[str]]


@dataclass
class Section:
    key: str
    title: str
    rows: list[Row] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)  # raw numbers for bench.json


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |"

    return "\n".join(
        [line(headers), "|" + "|".join("---" for _ in headers) + "|", *map(line, rows)]
    )


def _met(met: bool | None) -> str:
    return "" if met is None else ("yes" if met else "**no**")


def render_rows(rows: Sequence[Row]) -> str:
    return markdown_table(
        ["", "measured", "target", "met", "runs"],
        [[r.what, r.measured, r.target, _met(r.met), r.runs] for r in rows],
    )


def render_section(section: Section) -> str:
    parts = [f"## {section.title}"]
    if section.rows:
        parts.append(render_rows(section.rows))
    parts += [markdown_table(t.headers, t.rows) for t in section.tables]
    if section.notes:
        parts.append("\n".join(f"- {note}" for note in section.notes))
    return "\n\n".join(parts)


def render(sections: Sequence[Section], header: dict[str, str]) -> str:
    """The whole report: run facts, the figures that have targets, then each section."""
    lines = ["# Benchmarks", ""] + [f"- **{k}**: {v}" for k, v in header.items()]
    with_targets = [r for s in sections for r in s.rows if r.met is not None]
    parts = ["\n".join(lines)]
    if with_targets:
        parts.append("## Against the targets\n\n" + render_rows(with_targets))
    parts += [render_section(s) for s in sections]
    return "\n\n".join(parts) + "\n"


def fmt_ms(value: float) -> str:
    return f"{value:.1f} ms"


def fmt_s(value: float) -> str:
    return f"{value:.2f} s"


def runs_text(n: int, what: str = "run") -> str:
    """ "median of 3 runs", or "1 run" when there was only one."""
    plural = what + ("es" if what.endswith("s") else "s")
    return f"median of {n} {plural}" if n > 1 else f"1 {what}"


# -- machine and small helpers ------------------------------------------------------------
def log(message: str) -> None:
    """Progress on stderr, so stdout stays the report."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def proc_status(field_name: str, pid: int | str = "self") -> float:
    """A memory figure of /proc/<pid>/status in MiB (VmHWM = peak RSS, VmRSS = now)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field_name + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def mem_total_gib() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) / 1024 / 1024
    return float("nan")


def cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown CPU"


def load_average() -> str:
    with contextlib.suppress(OSError):
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    return "n/a"


def versions() -> str:
    found = []
    for name in PACKAGES:
        try:
            found.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            found.append(f"{name} (not installed)")
    return ", ".join(found)


def disk_usage_mib(path: Path) -> float:
    """Space the files really take (allocated blocks), like ``du``."""
    total = sum(p.lstat().st_blocks * 512 for p in path.rglob("*") if p.is_file())
    return total / 1024 / 1024


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def subprocess_env(**extra: str) -> dict[str, str]:
    """The caller's environment (so SKINQA_* settings apply), offline, plus ``extra``."""
    env = dict(os.environ)
    env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", GRADIO_ANALYTICS_ENABLED="False")
    env.update(extra)
    return env


def ms_since(start: float) -> float:
    return (time.perf_counter() - start) * 1000


def pass_percentiles(passes: Sequence[Sequence[float]]) -> tuple[float, float]:
    """Median over passes of each pass's p50 and p95."""
    p50 = statistics.median(percentile(p, 0.5) for p in passes)
    p95 = statistics.median(percentile(p, 0.95) for p in passes)
    return p50, p95


def eval_cases(limit: int | None = None) -> list[Case]:
    cases = load_cases()
    return cases[:limit] if limit else cases


def askable(case: Case, max_chars: int) -> bool:
    """Cases the app would answer rather than reject (empty or absurdly long input)."""
    return bool(case.question.strip()) and len(case.question) <= 20 * max_chars


# -- the assistant under test -------------------------------------------------------------
def run_ingest(env: dict[str, str], attempts: int = 5) -> None:
    """``python ingest.py --quiet``; retried a few times because another ingest of the
    same index (a test run, the app's maintainer) holds the lock for a while."""
    for attempt in range(attempts):
        result = subprocess.run(
            [sys.executable, "ingest.py", "--quiet"],
            cwd=PROJECT_ROOT,
            env=env,
            capture_output=True,
            text=True,
        )
        if result.returncode == 0:
            return
        if "Another ingest is already running" not in result.stdout + result.stderr:
            break
        time.sleep(5 * (attempt + 1))
    raise RuntimeError(f"ingest.py failed ({result.returncode}): {result.stderr[-2000:]}")


class Context:
    """The real default settings, plus one index, embedder and bot per backend, made once."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.settings = Settings()
        self._embedders: dict[str, Any] = {}
        self._bots: dict[str, Any] = {}
        self._ready: set[str] = set()

    @property
    def model_cache(self) -> Path:
        return self.settings.data_dir / "models"

    def index_dir(self, backend: str) -> Path:
        """The default index for the default backend; a bench-owned one for the others,
        so benchmarking never rebuilds the index the app serves with another model."""
        if backend == self.settings.embed_backend:
            return self.settings.index_path
        return self.settings.data_dir / "bench" / f"index-{backend}"

    def env(self, backend: str, **extra: str) -> dict[str, str]:
        """Environment for a subprocess on ``backend``; builds its index first if needed."""
        env = subprocess_env(
            SKINQA_EMBED_BACKEND=backend, SKINQA_INDEX_DIR=str(self.index_dir(backend)), **extra
        )
        if backend not in self._ready:
            log(f"ingest.py for the {backend} index at {self.index_dir(backend)}")
            run_ingest(env)
            self._ready.add(backend)
        return env

    def embedder(self, backend: str) -> Any:
        if backend not in self._embedders:
            from assistant.embedding import make_embedder

            s = self.settings
            self._embedders[backend] = make_embedder(
                backend, s.model_path, s.embed_batch_size, self.model_cache
            )
        return self._embedders[backend]

    def bot(self, backend: str) -> Any:
        """The assistant as the app loads it: its own embedder, with the answering
        thread count (``query_threads``), not the batch embedder of the throughput runs."""
        if backend not in self._bots:
            from assistant.engine import Assistant

            self.env(backend)  # the index must exist
            settings = self.settings.model_copy(
                update={"embed_backend": backend, "index_dir": self.index_dir(backend)}
            )
            self._bots[backend] = Assistant.load(settings)
        return self._bots[backend]


# -- cold: new processes ------------------------------------------------------------------
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


@contextlib.contextmanager
def running_app(env: dict[str, str], port: int) -> Iterator[subprocess.Popen[bytes]]:
    """``app.py`` in a subprocess; always stopped (SIGTERM, then SIGKILL) on exit."""
    proc = subprocess.Popen(
        [sys.executable, "app.py", "--port", str(port)],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(30)


def wait_http_ok(url: str, proc: subprocess.Popen[bytes], timeout: float = 180.0) -> float:
    """Poll ``url`` until it answers 200; seconds from now. Fails if the process dies."""
    import httpx

    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        if proc.poll() is not None:
            raise RuntimeError(f"app.py exited with {proc.returncode} before it was ready")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=2).status_code == 200:
                return time.perf_counter() - start
        time.sleep(0.05)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f} s")


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


# -- warm: one loaded assistant -----------------------------------------------------------
def time_asks(bot: Any, cases: Sequence[Case]) -> list[float]:
    """Milliseconds of ``bot.ask`` per case (with its history)."""
    out = []
    for case in cases:
        start = time.perf_counter()
        bot.ask(case.question, history=case.history)
        out.append(ms_since(start))
    return out


def bench_warm(ctx: Context) -> Section:
    plan = ctx.plan
    section = Section("warm", "Warm `ask` (5-article corpus, loaded assistant)")
    cases = [c for c in eval_cases(plan.warm_cases) if c.question.strip()]
    for backend in BACKENDS:
        bot = ctx.bot(backend)
        bot.ask("warm-up question about microneedling")
        log(f"warm ask, {backend}: {plan.warm_passes} passes over {len(cases)} questions")
        passes = [time_asks(bot, cases) for _ in range(plan.warm_passes)]
        p50, p95 = pass_percentiles(passes)
        runs = runs_text(plan.warm_passes, "pass") + f" over {len(cases)} questions"
        section.rows += [
            Row(f"warm `ask` p50, {backend}", fmt_ms(p50), "≤ 25 ms", p50 <= 25.0, runs),
            Row(f"warm `ask` p95, {backend}", fmt_ms(p95), "≤ 60 ms", p95 <= 60.0, runs),
        ]
        section.data[backend] = {"p50_ms": p50, "p95_ms": p95, "passes": passes}
    section.notes.append(
        "Every eval question with its history (evals/cases.jsonl; empty-input cases, which "
        "raise before any work, are left out), timed around `Assistant.ask` in-process."
    )
    return section


# -- embed: throughput and retrieval per backend --------------------------------------------
def embedding_texts(n: int, length: int = 450) -> list[str]:
    """``n`` deterministic ~``length``-character windows of the real corpus text."""
    from .synthetic import load_material

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
    from . import metrics
    from .runner import relevant_total

    scores = []
    for case in cases:
        retrieved = bot.ask(case.question, history=case.history).to_dict()["retrieved"]
        rels = metrics.relevance(retrieved, case.gold_sources)
        scores.append(metrics.retrieval_scores(rels, relevant_total(bot, case.gold_sources)))
    return {k: statistics.fmean(s[k] for s in scores) for k in ("hit@1", "hit@5", "mrr")}


def isolated_settings(corpus_dir: Path, data_dir: Path, backend: str) -> Settings:
    """Settings that write only under ``data_dir``, whatever SKINQA_* variables are set:
    an index path or Chroma server from the environment must not receive a temp build."""
    return Settings(
        corpus_dir=corpus_dir,
        data_dir=data_dir,
        index_dir=data_dir / "index",
        feedback_path=data_dir / "feedback.jsonl",
        embed_backend=backend,  # type: ignore[arg-type]
        chroma_host=None,
    )


def build_temp_bot(ctx: Context, backend: str, data_dir: Path) -> tuple[Any, float]:
    """A fresh index of the real corpus with ``backend`` in ``data_dir``; (bot, ingest s)."""
    from assistant.engine import Assistant
    from assistant.ingestion import ingest

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


# -- scale: synthetic corpora, one process per step -----------------------------------------
def scale_backend(settings: Settings) -> str:
    """The backend the app serves with, unless that is torch: then ONNX int8, since the
    real-model rows embed tens of thousands of texts."""
    return settings.embed_backend if settings.embed_backend != "torch" else "onnx"


def scale_settings(root: Path, backend: str) -> Settings:
    return isolated_settings(root / "corpus", root / "data", backend)


def scale_questions(n: int) -> list[str]:
    return [c.question for c in load_cases() if c.category == "answerable"][:n]


def project_embedder(backend: str) -> Any:
    """The real model on ``backend``, from the project's model cache (exported once)."""
    from assistant.embedding import make_embedder

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


def worker_scale_ingest(root: Path, backend: str, stand_in: bool) -> dict[str, Any]:
    """Ingest ``root/corpus``; runs in its own process so its peak RSS is its own."""
    from assistant.ingestion import ingest

    from .synthetic import StandInEmbedder, load_material

    settings = scale_settings(root, backend)
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
    from assistant.engine import Assistant

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
    from .synthetic import generate

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


# -- load: concurrent API clients ------------------------------------------------------------
Ask = tuple[str, list[Any]]  # a question and its history
Call = Callable[[Any, str, str, list[Any]], str | None]


@dataclass
class LoadResult:
    latencies_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def call_json(client: Any, url: str, question: str, history: list[Any]) -> str | None:
    """One ``POST /api/ask`` (the app's JSON API); ``None`` on success, else the error."""
    response = client.post(f"{url}/api/ask", json={"question": question, "history": history})
    if response.status_code != 200:
        return f"HTTP {response.status_code}: {response.text[:200]}"
    return None if "answer" in response.json() else "reply without an answer"


def call_gradio(client: Any, url: str, question: str, history: list[Any]) -> str | None:
    """One ``/ask`` call over Gradio's REST API; ``None`` on success, else the error."""
    posted = client.post(
        f"{url}/gradio_api/call/ask", json={"data": [question, json.dumps(history)]}
    )
    if posted.status_code != 200:
        return f"HTTP {posted.status_code} on call"
    event_id = posted.json()["event_id"]
    event = ""
    with client.stream("GET", f"{url}/gradio_api/call/ask/{event_id}") as stream:
        for line in stream.iter_lines():
            if line.startswith("event:"):
                event = line[6:].strip()
            elif line.startswith("data:") and event == "complete":
                data = json.loads(line[5:])
                return None if data and "answer" in data[0] else "complete without an answer"
            elif line.startswith("data:") and event == "error":
                return f"error event: {line[5:].strip()[:200]}"
    return f"stream ended without a result (last event {event!r})"


# What the load section measures: the JSON API (the target row) and Gradio's API.
ENDPOINTS: dict[str, tuple[str, Call]] = {
    "json": ("`POST /api/ask` (JSON API)", call_json),
    "gradio": ("Gradio `/ask` (`/gradio_api/call/ask` + event stream)", call_gradio),
}


def client_loop(
    call: Call, url: str, questions: Sequence[Ask], first: int, deadline: float, out: LoadResult
) -> None:
    """One client: ask questions back to back (a closed loop) until the deadline."""
    import httpx

    i = first
    with httpx.Client(timeout=120) as client:  # one keep-alive connection per client
        while time.perf_counter() < deadline:
            question, history = questions[i % len(questions)]
            i += 1
            start = time.perf_counter()
            try:
                error = call(client, url, question, history)
            except (httpx.HTTPError, ValueError, KeyError) as exc:
                error = f"{type(exc).__name__}: {exc}"
            out.latencies_ms.append(ms_since(start))
            if error:
                out.errors.append(error)


def run_load(
    call: Call, url: str, questions: Sequence[Ask], clients: int, seconds: float
) -> tuple[list[LoadResult], float]:
    """Run ``clients`` threads for ``seconds``; (per-client results, wall seconds)."""
    results = [LoadResult() for _ in range(clients)]
    start = time.perf_counter()
    deadline = start + seconds
    step = max(1, len(questions) // clients)
    threads = [
        threading.Thread(target=client_loop, args=(call, url, questions, i * step, deadline, r))
        for i, r in enumerate(results)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, time.perf_counter() - start


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far (/proc/<pid>/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure_load(
    call: Call, url: str, pid: int, questions: Sequence[Ask], plan: Plan
) -> dict[str, Any]:
    """One closed-loop run, with the CPU the server and this load generator used."""
    load_before = load_average()
    server_before, client_before = cpu_seconds(pid), time.process_time()
    results, wall = run_load(call, url, questions, plan.load_clients, plan.load_seconds)
    server_cpu = cpu_seconds(pid) - server_before
    client_cpu = time.process_time() - client_before
    latencies = [x for r in results for x in r.latencies_ms]
    errors = [e for r in results for e in r.errors]
    n = max(1, len(latencies))
    return {
        "requests": len(latencies),
        "wall_s": wall,
        "rps": len(latencies) / wall,
        "p50_ms": percentile(latencies, 0.5),
        "p95_ms": percentile(latencies, 0.95),
        "p99_ms": percentile(latencies, 0.99),
        "errors": len(errors),
        "first_errors": sorted(set(errors))[:3],
        "server_cpu_ms_per_request": server_cpu * 1000 / n,
        "client_cpu_ms_per_request": client_cpu * 1000 / n,
        "server_cores": server_cpu / wall,
        "client_cores": client_cpu / wall,
        "load_before": load_before,
        "load_after": load_average(),
    }


def load_row(name: str, clients: int, r: dict[str, Any]) -> list[str]:
    return [
        ENDPOINTS[name][0],
        str(clients),
        fmt_s(r["wall_s"]),
        str(r["requests"]),
        f"{r['rps']:.1f}",
        fmt_ms(r["p50_ms"]),
        fmt_ms(r["p95_ms"]),
        fmt_ms(r["p99_ms"]),
        str(r["errors"]),
        f"{r['server_cpu_ms_per_request']:.1f} ms ({r['server_cores']:.2f} cores)",
        f"{r['client_cpu_ms_per_request']:.1f} ms ({r['client_cores']:.2f} cores)",
        f"{r['load_before']} → {r['load_after']}",
    ]


LOAD_HEADERS = [
    "endpoint",
    "clients",
    "duration",
    "requests",
    "requests/s",
    "p50",
    "p95",
    "p99",
    "errors",
    "server CPU per request",
    "load-generator CPU per request",
    "load average before → after",
]


def bench_load(ctx: Context) -> Section:
    import httpx

    plan = ctx.plan
    backend = ctx.settings.embed_backend
    section = Section("load", f"Load ({plan.load_clients} concurrent API clients)")
    limit = ctx.settings.max_question_chars
    questions = [(c.question, list(c.history)) for c in eval_cases() if askable(c, limit)]
    # The rate limit (30 questions per client per minute by default) would refuse almost
    # every request of 32 clients sharing one address; it is raised for this run, and the
    # note says so. Its own cost (a lock and a deque per request) is still paid.
    env = ctx.env(backend, SKINQA_RATE_LIMIT_PER_MINUTE=str(10**9))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    runs: dict[str, dict[str, Any]] = {}
    with running_app(env, port) as proc:
        wait_http_ok(url + "/", proc)
        with httpx.Client(timeout=120) as client:  # warm-up: first-call costs
            for _, call in ENDPOINTS.values():
                call(client, url, COLD_QUESTION, [])
        for name, (label, call) in ENDPOINTS.items():
            log(f"load: {plan.load_clients} clients for {plan.load_seconds:.0f} s on {label}")
            runs[name] = measure_load(call, url, proc.pid, questions, plan)
        server_peak = proc_status("VmHWM", proc.pid)
    for name, r in runs.items():
        what = ENDPOINTS[name][0]
        target = name == "json"  # the API clients are pointed at; Gradio's is for comparison
        section.rows += [
            Row(
                f"{what} p95 latency under load",
                fmt_ms(r["p95_ms"]),
                "≤ 500 ms" if target else "",
                r["p95_ms"] <= TARGETS["load_p95_ms"] if target else None,
                "1 run",
            ),
            Row(
                f"{what} errors under load",
                f"{r['errors']} of {r['requests']}",
                "0" if target else "",
                not r["errors"] if target else None,
                "1 run",
            ),
        ]
        if r["errors"]:
            section.notes.append(f"First errors ({what}): " + "; ".join(r["first_errors"]))
    rows = [load_row(name, plan.load_clients, r) for name, r in runs.items()]
    section.tables.append(Table(LOAD_HEADERS, rows))
    section.data = {**runs, "server_peak_rss_mib": server_peak}
    section.notes += [
        f"`app.py` in a subprocess on loopback ({backend} backend, default index, "
        f"`SKINQA_CONCURRENCY={ctx.settings.concurrency}` answers at once, "
        f"`SKINQA_QUERY_THREADS={ctx.settings.query_threads}`, "
        "`SKINQA_RATE_LIMIT_PER_MINUTE` raised to 10^9 so the limiter never refuses: all "
        "clients share one address, and the default 30 a minute would refuse nearly every "
        f"request). {plan.load_clients} threads in this process ask back to back (a closed "
        f"loop) for {plan.load_seconds:.0f} s, cycling through the {len(questions)} askable "
        "eval questions with their history; each thread keeps one HTTP connection. Latency "
        "is per request, from sending it to the complete reply. 1 run per endpoint, one "
        f"after the other on the same server (server peak RSS {server_peak:.0f} MiB).",
        "The JSON API is one `POST /api/ask` per question. Gradio's API is two requests: "
        "`POST /gradio_api/call/ask`, then its event stream until the `complete` event. "
        "No answer or embedding is cached: every request computes its answer.",
        "CPU per request is the process's user + system CPU over the run divided by the "
        "requests (`cores` = CPU seconds per wall second): the load generator runs on the "
        "same 2 cores as the server, so its share is shown rather than assumed small.",
    ]
    return section


# -- llamaindex: plain llama-index side by side ------------------------------------------------
def llama_embedding(embedder: Any) -> Any:
    """Our embedder as a llama-index ``BaseEmbedding``: llama-index-embeddings-huggingface
    is not installed, and this way both sides use the very same model and runtime."""
    from llama_index.core.embeddings import BaseEmbedding
    from pydantic import PrivateAttr

    class ProjectEmbedding(BaseEmbedding):
        _embedder: Any = PrivateAttr()

        def __init__(self, inner: Any) -> None:
            super().__init__(model_name=inner.model_id, embed_batch_size=32)
            self._embedder = inner

        def _get_query_embedding(self, query: str) -> list[float]:
            return self._embedder.embed([query])[0].tolist()

        async def _aget_query_embedding(self, query: str) -> list[float]:
            return self._get_query_embedding(query)

        def _get_text_embedding(self, text: str) -> list[float]:
            return self._embedder.embed([text])[0].tolist()

        def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
            return self._embedder.embed(texts).tolist()

    return ProjectEmbedding(embedder)


@dataclass
class LlamaBaseline:
    """A plain llama-index ``VectorStoreIndex`` over the corpus files."""

    retriever: Any
    texts: dict[str, str]  # llama-index document id -> its text
    doc_ids: dict[str, str]  # llama-index document id -> our doc_id
    nodes: int
    build_s: float


def build_llamaindex(
    files: Sequence[Path],
    doc_ids: dict[str, str],
    embedder: Any,
    top_k: int = 2,
    splitter: Any = None,
) -> LlamaBaseline:
    """llama-index defaults: ``SimpleDirectoryReader``, ``SentenceSplitter()``, in-memory
    vector store, dense retriever with ``similarity_top_k=2``. Nothing global is changed:
    the model and the transformations are passed in, never set on ``Settings``."""
    from llama_index.core import SimpleDirectoryReader, VectorStoreIndex
    from llama_index.core.node_parser import SentenceSplitter

    start = time.perf_counter()
    documents = SimpleDirectoryReader(input_files=[str(f) for f in files]).load_data()
    index = VectorStoreIndex.from_documents(
        documents,
        embed_model=llama_embedding(embedder),
        transformations=[splitter or SentenceSplitter()],
    )
    build_s = time.perf_counter() - start
    return LlamaBaseline(
        retriever=index.as_retriever(similarity_top_k=top_k),
        texts={d.id_: d.text for d in documents},
        doc_ids={d.id_: doc_ids[Path(d.metadata["file_path"]).name] for d in documents},
        nodes=len(index.docstore.docs),
        build_s=build_s,
    )


def section_at(chunks: Sequence[Any], offset: int) -> str:
    """The section of the chunk holding ``offset``, else of the nearest chunk (headings
    and blank lines between chunks belong to no chunk)."""
    for chunk in chunks:
        if chunk.start <= offset < chunk.end:
            return chunk.section
    nearest = min(chunks, key=lambda c: min(abs(offset - c.start), abs(offset - c.end)))
    return nearest.section


def sections_between(chunks: Sequence[Any], start: int, end: int) -> list[str]:
    return [c.section for c in chunks if c.start < end and start < c.end]


@dataclass(frozen=True)
class MappedNode:
    doc_id: str
    section: str  # the section at the node's midpoint
    sections: tuple[str, ...]  # every section the node overlaps


def map_node(node: Any, baseline: LlamaBaseline, chunks_by_doc: dict[str, list[Any]]) -> MappedNode:
    """Place a retrieved llama-index node in our corpus by its character offsets."""
    source_id = node.node.ref_doc_id
    doc_id = baseline.doc_ids[source_id]
    start, end = node.node.start_char_idx, node.node.end_char_idx
    if start is None or end is None:  # offsets are normally set; fall back to a search
        start = max(0, baseline.texts[source_id].find(node.node.get_content()))
        end = start + len(node.node.get_content())
    chunks = chunks_by_doc[doc_id]
    return MappedNode(
        doc_id, section_at(chunks, (start + end) // 2), tuple(sections_between(chunks, start, end))
    )


def scores_of(rels: list[int], total: int) -> dict[str, float]:
    from .metrics import retrieval_scores

    return retrieval_scores(rels, total)


def mean_scores(rows: Sequence[dict[str, float]]) -> dict[str, float]:
    return {k: statistics.fmean(r[k] for r in rows) for k in ("hit@1", "hit@5", "mrr")}


def llama_quality(
    baseline: LlamaBaseline, bot: Any, cases: Sequence[Case]
) -> tuple[dict[str, float], dict[str, float]]:
    """(midpoint mapping, lenient overlap mapping) retrieval scores on ``cases``."""
    from .metrics import relevance
    from .runner import relevant_total

    chunks_by_doc: dict[str, list[Any]] = {}
    for chunk in bot.index.chunks:
        chunks_by_doc.setdefault(chunk.doc_id, []).append(chunk)
    strict, lenient = [], []
    for case in cases:
        mapped = [
            map_node(n, baseline, chunks_by_doc) for n in baseline.retriever.retrieve(case.question)
        ]
        total = relevant_total(bot, case.gold_sources)
        rels = relevance(
            [{"doc_id": m.doc_id, "section": m.section} for m in mapped], case.gold_sources
        )
        loose = [
            int(
                any(
                    m.doc_id == g["doc_id"] and section_matches(s, g["section"])
                    for g in case.gold_sources
                    for s in m.sections
                )
            )
            for m in mapped
        ]
        strict.append(scores_of(rels, total))
        lenient.append(scores_of(loose, total))
    return mean_scores(strict), mean_scores(lenient)


def our_query(bot: Any, case: Case) -> str:
    """The retrieval query the assistant itself uses (clean-up and follow-up rewriting)."""
    from assistant.engine import sanitize
    from assistant.followup import clean_history

    text, _ = sanitize(case.question, bot.settings.max_question_chars)
    return bot.rewrite_query(text, clean_history(case.history))


def our_quality(bot: Any, cases: Sequence[Case], rewrite: bool) -> dict[str, float]:
    from .metrics import relevance
    from .runner import relevant_total

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


# -- main -----------------------------------------------------------------------------------
BENCHES: dict[str, Callable[[Context], Section]] = {
    "cold": bench_cold,
    "warm": bench_warm,
    "embed": bench_embed,
    "scale": bench_scale,
    "load": bench_load,
    "llamaindex": bench_llamaindex,
}


def header(plan: Plan, only: Sequence[str], started: datetime, load_start: str) -> dict[str, str]:
    mode = "quick" if plan.quick else "full"
    return {
        "Date": started.strftime("%Y-%m-%d %H:%M UTC"),
        "Command": f"`python -m evals.bench` ({mode}; sections: {', '.join(only)})",
        "Machine": f"{os.cpu_count()} cores ({cpu_model()}), {mem_total_gib():.1f} GiB RAM, "
        f"{platform.system()} {platform.release()}",
        "Load average (1/5/15 min)": f"{load_start} at the start, {load_average()} at the end; "
        "other work may have shared the machine during the run",
        "Python": platform.python_version(),
        "Default embedding backend": f"`{Settings().embed_backend}` (backends measured: "
        f"{', '.join(BACKENDS)})",
        "Packages": versions(),
        "Runs": "every figure is a median; the `runs` column says over how many",
    }


def worker_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.bench _worker")
    parser.add_argument("job", choices=("scale-ingest", "scale-serve"))
    parser.add_argument("root", type=Path)
    parser.add_argument("--backend", choices=BACKENDS, default="onnx")
    parser.add_argument("--stand-in", action="store_true")
    parser.add_argument("--queries", type=int, default=40)
    parser.add_argument("--passes", type=int, default=3)
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if args.job == "scale-ingest":
        result = worker_scale_ingest(args.root, args.backend, args.stand_in)
    else:
        result = worker_scale_serve(args.root, args.backend, args.queries, args.passes)
    print("RESULT " + json.dumps(result), flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["_worker"]:
        return worker_main(argv[1:])
    parser = argparse.ArgumentParser(
        prog="python -m evals.bench", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--quick", action="store_true", help="fewer runs, smaller sizes")
    parser.add_argument(
        "--only",
        nargs="+",
        choices=SECTIONS,
        metavar="SECTION",
        help=f"run only these sections ({', '.join(SECTIONS)})",
    )
    parser.add_argument(
        "--out",
        type=Path,
        help="report file (default: evals/BENCHMARKS.md for a full run, else evals/out/bench.md)",
    )
    args = parser.parse_args(argv)
    for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
        os.environ.setdefault(name, "1")
    plan = QUICK if args.quick else FULL
    only = [s for s in SECTIONS if s in (args.only or SECTIONS)]
    out = args.out or (FULL_REPORT if not args.quick and not args.only else OUT_DIR / "bench.md")
    started, load_start = datetime.now(UTC), load_average()
    ctx = Context(plan)
    sections = []
    for name in only:
        log(f"section {name}")
        load_before = load_average()
        section = BENCHES[name](ctx)
        # Other work on a shared machine shows up here first: say how busy it was.
        section.notes.append(f"Load average (1/5/15 min) when this section started: {load_before}.")
        sections.append(section)
    report = render(sections, header(plan, only, started, load_start))
    print(report)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(report, encoding="utf-8")
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    raw = {s.key: s.data for s in sections}
    (OUT_DIR / "bench.json").write_text(json.dumps(raw, indent=2, default=str), encoding="utf-8")
    log(f"report written to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
