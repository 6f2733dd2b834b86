"""Write a run's files: run.json and per-set results, report.html, junit.xml, results.csv.

Everything lands in one folder (``--out``), so the report's links to its JUnit and CSV
files work wherever the folder is copied (a CI artifact, say).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import ci, html
from .compare import SetComparison
from .record import Run, write_run

REPORT, JUNIT, CSV = "report.html", "junit.xml", "results.csv"


@dataclass(frozen=True)
class Written:
    report: Path
    junit: Path
    csv: Path


def cases_href(file: Path, out: Path) -> str:
    """The case file as a link from the report (relative, so the folder can move with it)."""
    return Path(os.path.relpath(file.resolve(), out.resolve())).as_posix()


def write(
    out: Path,
    run: Run,
    entries: Sequence[html.SetEntry],
    comparisons: dict[str, SetComparison],
    history: Sequence[dict[str, Any]] = (),
    problems: Sequence[str] = (),
) -> Written:
    write_run(out, run)
    runs = [run.sets[e.name] for e in entries if e.name in run.sets]
    ci.write_junit(out / JUNIT, runs, comparisons)
    ci.write_csv(out / CSV, runs, comparisons)
    page = html.render(
        html.ReportInput(
            date=run.date or "",
            commit=run.commit,
            against=next((c.against for c in comparisons.values() if c.against), None),
            entries=entries,
            history=history,
            problems=problems,
            tuning=run.tuning,
            files=(
                ("JUnit XML", JUNIT),
                ("per-case CSV", CSV),
                ("run.json", "run.json"),
                ("local history", "history.jsonl"),
            ),
        )
    )
    (out / REPORT).write_text(page, "utf-8")
    return Written(out / REPORT, out / JUNIT, out / CSV)
