"""What one run of the evals leaves behind, and the small per-case form baselines keep.

A run folder (``--out``) holds ``run.json`` (date, commit, every set's figures) and, per
set, ``<set>/results.jsonl`` (every case with its full reply). A committed baseline keeps
only what a later run is compared on: ``evals/baselines/<set>.jsonl``, one compact record
a case (see ``compact``). Both load into the same ``SetRun``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .sets import Registry

# The scores a compact record keeps (when the case has them), to show what moved.
KEPT_SCORES = ("hit@5", "mrr", "fact_recall", "citation_precision")


class RunError(ValueError):
    """A folder given to ``--compare`` that holds no eval run."""


def compact(result: dict[str, Any]) -> dict[str, Any]:
    """One case's result, small enough to commit: the answer, not the retrieval trace.

    >>> compact({"case": {"id": "a"}, "passed": True, "reasons": [], "latency_ms": 3.14159,
    ...          "reply": {"answer": "x", "citations": [], "abstained": False}})["latency_ms"]
    3.1
    """
    if "case" not in result:  # already compact
        return result
    reply = result["reply"]
    return {
        "id": result["case"]["id"],
        "passed": bool(result["passed"]),
        "outcome": reply.get("outcome"),
        "reason": reply.get("reason"),
        "abstained": bool(reply.get("abstained")),
        "answer": reply.get("answer", ""),
        "citations": [
            {
                "n": c.get("n"),
                "doc_id": c.get("doc_id"),
                "section": c.get("section"),
                "role": c.get("role"),
                "text": c.get("text"),
            }
            for c in reply.get("citations", [])
        ],
        "reasons": list(result.get("reasons", [])),
        "scores": {k: result[k] for k in KEPT_SCORES if result.get(k) is not None},
        "latency_ms": round(float(result.get("latency_ms", 0.0)), 1),
    }


def write_jsonl(path: Path, rows: Iterable[dict[str, Any]], *, append: bool = False) -> None:
    """One JSON object a line, as UTF-8 (not ``\\u`` escapes); the file is replaced, or
    with ``append`` added to. Every JSON-lines file the evals write goes through here."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a" if append else "w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    rows = []
    for number, line in enumerate(path.read_text("utf-8").splitlines(), start=1):
        if line.strip():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as err:
                raise RunError(f"{path}:{number}: not valid JSON ({err.msg})") from err
    return rows


def case_id(row: dict[str, Any]) -> str:
    return row["case"]["id"] if "case" in row else row["id"]


@dataclass(frozen=True)
class SetRun:
    """One set's figures and per-case results in one run (full or compact records)."""

    name: str
    summary: dict[str, Any]
    categories: dict[str, dict[str, Any]] = field(default_factory=dict)
    results: tuple[dict[str, Any], ...] = ()
    gate_failures: tuple[str, ...] = ()

    def by_id(self) -> dict[str, dict[str, Any]]:
        return {case_id(r): compact(r) for r in self.results}


@dataclass(frozen=True)
class Run:
    """A whole run: when, on which commit, and each set's results."""

    label: str  # how the report names it: "committed baselines" or a folder
    date: str | None
    commit: str | None
    sets: dict[str, SetRun]
    tuning: dict[str, Any] = field(default_factory=dict)  # overrides of the default Tuning


def write_run(out: Path, run: Run) -> None:
    """``run.json`` and each set's ``results.jsonl`` and ``summary.json``."""
    out.mkdir(parents=True, exist_ok=True)
    meta = {"date": run.date, "commit": run.commit, "tuning": run.tuning, "sets": {}}
    for name, s in run.sets.items():
        figures = {
            "overall": s.summary,
            "categories": s.categories,
            "gate_failures": list(s.gate_failures),
        }
        meta["sets"][name] = figures
        (out / name).mkdir(exist_ok=True)
        (out / name / "summary.json").write_text(json.dumps(figures, indent=2) + "\n", "utf-8")
        write_jsonl(out / name / "results.jsonl", s.results)
    (out / "run.json").write_text(json.dumps(meta, indent=2) + "\n", "utf-8")


def load_run(folder: Path) -> Run:
    """A run folder written by this version (run.json) or a single-set one from before."""
    if (folder / "run.json").is_file():
        meta = json.loads((folder / "run.json").read_text("utf-8"))
        sets = {
            name: SetRun(
                name,
                figures.get("overall", {}),
                figures.get("categories", {}),
                tuple(read_jsonl(folder / name / "results.jsonl"))
                if (folder / name / "results.jsonl").is_file()
                else (),
                tuple(figures.get("gate_failures", [])),
            )
            for name, figures in meta.get("sets", {}).items()
        }
        return Run(str(folder), meta.get("date"), meta.get("commit"), sets, meta.get("tuning", {}))
    if (folder / "summary.json").is_file() and (folder / "results.jsonl").is_file():
        figures = json.loads((folder / "summary.json").read_text("utf-8"))
        results = tuple(read_jsonl(folder / "results.jsonl"))
        # An older single-set folder does not say which set it ran: name it after the folder;
        # cases are matched by id, which is unique across all sets.
        name = folder.name
        one = SetRun(name, figures.get("overall", {}), figures.get("categories", {}), results)
        return Run(str(folder), None, None, {name: one})
    raise RunError(
        f"{folder}: no eval run here (expected run.json, or summary.json and results.jsonl)"
    )


def committed_baselines(registry: Registry, names: Sequence[str] | None = None) -> Run:
    """The committed baselines of the registry's sets (those that have one)."""
    sets: dict[str, SetRun] = {}
    for s in registry.sets:
        if names is not None and s.name not in names:
            continue
        if s.summary is None or not s.summary.is_file():
            continue
        figures = json.loads(s.summary.read_text("utf-8"))
        records = (
            tuple(read_jsonl(s.per_case)) if s.per_case is not None and s.per_case.is_file() else ()
        )
        sets[s.name] = SetRun(
            s.name, figures.get("overall", {}), figures.get("categories", {}), records
        )
    return Run("committed baselines", None, None, sets)


def write_baseline(summary: Path, per_case: Path, run: SetRun) -> None:
    """A set's baseline: its figures and the compact per-case records, both committed."""
    summary.write_text(
        json.dumps({"overall": run.summary, "categories": run.categories}, indent=2) + "\n",
        "utf-8",
    )
    write_jsonl(per_case, (compact(r) for r in run.results))
