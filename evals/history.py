"""``history.jsonl``: one line per set per run (date, commit, set, kind, metrics).

The committed ``evals/history.jsonl`` holds baselines and blind first runs; every other
run appends to ``<out>/history.jsonl`` beside its report. The report draws both.

``python -m evals.history backfill`` rebuilds the committed baseline lines from git: one
line per commit that changed a set's baseline file.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .record import write_jsonl
from .sets import Registry

KINDS = ("run", "baseline", "blind_first_run")
STAMP = "%Y-%m-%dT%H:%M:%SZ"  # UTC, to the second: lines sort by date as text
ROOT = Path(__file__).resolve().parent.parent


def now() -> str:
    return datetime.now(UTC).strftime(STAMP)


def git_commit(root: Path = ROOT) -> str | None:
    """The checked-out commit, with '+dirty' when tracked files differ from it."""
    try:
        head = _git(root, "rev-parse", "--short", "HEAD").strip()
        dirty = _git(root, "status", "--porcelain", "--untracked-files=no").strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    return f"{head}+dirty" if dirty else head


def entry(
    set_name: str, kind: str, summary: dict[str, Any], date: str, commit: str | None, **extra: Any
) -> dict[str, Any]:
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}")
    return {
        "date": date,
        "commit": commit,
        "set": set_name,
        "kind": kind,
        "metrics": summary,
    } | extra


def read(committed: Path, local: Path | None = None) -> tuple[list[dict[str, Any]], list[str]]:
    """Every readable line of both files (those that exist), by date; and what was skipped.

    Each line gets ``committed``: whether it comes from the committed file.
    """
    lines: list[dict[str, Any]] = []
    problems: list[str] = []
    for path in (committed, local):
        if path is None or not path.is_file():
            continue
        for number, text in enumerate(path.read_text("utf-8").splitlines(), start=1):
            if not text.strip():
                continue
            try:
                line = json.loads(text)
            except json.JSONDecodeError as err:
                problems.append(f"{path}:{number}: not valid JSON ({err.msg}); line skipped")
                continue
            if not (isinstance(line, dict) and {"date", "set", "metrics"} <= line.keys()):
                problems.append(f"{path}:{number}: needs date, set and metrics; line skipped")
                continue
            line.setdefault("kind", "run")
            line["committed"] = path is committed
            lines.append(line)
    return sorted(lines, key=lambda x: str(x["date"])), problems


def series(lines: list[dict[str, Any]], set_name: str) -> list[dict[str, Any]]:
    return [x for x in lines if x["set"] == set_name]


def _git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=root, capture_output=True, text=True, check=True
    ).stdout


def backfill(registry: Registry, root: Path = ROOT) -> list[dict[str, Any]]:
    """A baseline line for every commit that changed a set's committed baseline figures."""
    out = []
    for s in registry.sets:
        if s.summary is None:
            continue
        rel = s.summary.resolve().relative_to(root.resolve()).as_posix()
        for row in _git(root, "log", "--format=%h %cI", "--", rel).splitlines():
            commit, date = row.split(" ", 1)
            figures = json.loads(_git(root, "show", f"{commit}:{rel}"))
            stamp = datetime.fromisoformat(date).astimezone(UTC).strftime(STAMP)
            out.append(entry(s.name, "baseline", figures["overall"], stamp, commit))
    return sorted(out, key=lambda x: x["date"])


def main(argv: list[str]) -> int:
    if argv != ["backfill"]:
        print("usage: python -m evals.history backfill", file=sys.stderr)
        return 2
    registry = Registry.load()
    kept = [x for x in read(registry.history)[0] if x["kind"] != "baseline"]
    for x in kept:
        x.pop("committed", None)
    lines = sorted(backfill(registry) + kept, key=lambda x: x["date"])
    write_jsonl(registry.history, lines)
    print(f"{len(lines)} lines in {registry.history}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
