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
``llamaindex``  two llama-index peers (its defaults; a BM25 + dense pipeline) over the same
                files, model, queries and k, scored on text on the held-out sets, the
                realistic set and any ``--cases`` set, with bootstrap intervals

Every figure is the median over several runs and each row says how many. The report is
printed as Markdown and written to ``--out``: ``evals/BENCHMARKS.md`` for a full run, else
``evals/out/bench.md`` (git-ignored), so a partial or quick run never replaces the full
report. Raw numbers go to ``evals/out/bench.json``. ``--update-report`` puts the sections
of a partial run into ``evals/BENCHMARKS.md`` in place of the old ones, the rest kept.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from assistant.embeddings import BACKENDS
from assistant.settings import Settings

from ..cases import CaseError, load_cases
from .cold import bench_cold
from .context import Context
from .embed import bench_embed
from .llamaindex import bench_llamaindex
from .load import bench_load
from .machine import cpu_model, load_average, log, mem_total_gib, versions
from .plan import FULL, FULL_REPORT, OUT_DIR, QUICK, SECTIONS, Plan
from .replica import bench_replica
from .report import Section, render, splice
from .scale import bench_scale
from .scale_worker import worker_main
from .warm import bench_warm

BENCHES: dict[str, Callable[[Context], Section]] = {
    "cold": bench_cold,
    "warm": bench_warm,
    "embed": bench_embed,
    "scale": bench_scale,
    "load": bench_load,
    "replica": bench_replica,
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
    parser.add_argument(
        "--cases",
        nargs="+",
        type=Path,
        default=[],
        metavar="FILE",
        help="more case sets (JSONL) for the llamaindex section, e.g. a blind set",
    )
    parser.add_argument(
        "--update-report",
        action="store_true",
        help="splice this run's sections into evals/BENCHMARKS.md (for --only runs)",
    )
    args = parser.parse_args(argv)
    try:  # a bad case file is reported now, not after the other sections ran
        for path in args.cases:
            load_cases(path)
    except (OSError, CaseError) as err:
        print(f"error: --cases: {err}", file=sys.stderr)
        return 2
    for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
        os.environ.setdefault(name, "1")
    plan = QUICK if args.quick else FULL
    only = [s for s in SECTIONS if s in (args.only or SECTIONS)]
    out = args.out or (FULL_REPORT if not args.quick and not args.only else OUT_DIR / "bench.md")
    started, load_start = datetime.now(UTC), load_average()
    ctx = Context(plan, args.cases)
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
    if args.update_report and out != FULL_REPORT:
        when = started.strftime("%Y-%m-%d %H:%M UTC")
        full = splice(FULL_REPORT.read_text("utf-8"), sections, when)
        FULL_REPORT.write_text(full, encoding="utf-8")
        log(f"sections {', '.join(only)} spliced into {FULL_REPORT}")
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    raw = {s.key: s.data for s in sections}
    (OUT_DIR / "bench.json").write_text(json.dumps(raw, indent=2, default=str), encoding="utf-8")
    log(f"report written to {out}")
    return 0
