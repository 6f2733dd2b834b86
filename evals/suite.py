"""Run eval sets against one assistant and compare them with an earlier run.

Which sets (``select``), then ``evaluate``: run each set, gate it against its committed
baseline, compare it with the earlier run, record history and first runs, write the files.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant.answer.pipeline import Assistant
from assistant.tuning import Tuning

from . import history, metrics, report, runner
from .cases import load_cases
from .compare import SetComparison, compare_set
from .html import SetEntry
from .record import Run, SetRun, committed_baselines, load_run, write_baseline, write_jsonl
from .sets import EvalSet, Registry


class SelectionError(ValueError):
    """The sets asked for cannot be run as asked."""


@dataclass(frozen=True)
class Selection:
    name: str
    file: Path
    registered: EvalSet | None
    first_run: bool = False  # this run is the blind set's first: recorded as such


def select(
    registry: Registry,
    *,
    cases: Path | None = None,
    names: Sequence[str] = (),
    every: bool = False,
    first_run: Sequence[str] = (),
    category: str | None = None,
    write_baseline: bool = False,
) -> tuple[list[Selection], list[EvalSet]]:
    """(sets to run, registered sets left out because they await their blind first run)."""
    for name in first_run:
        s = registry.get(name)
        if not s.awaiting_first_run:
            raise SelectionError(
                f"{name}: not a blind set awaiting its first run (first run: "
                f"{s.first_run.date if s.first_run else 'not blind'})"
            )
    if first_run and category:
        raise SelectionError("a blind first run covers the whole set: drop --category")
    if write_baseline and category:
        raise SelectionError("a baseline covers the whole set: drop --category")
    if every:
        chosen = list(registry.sets)
    elif names or first_run:
        chosen = [registry.get(n) for n in dict.fromkeys([*names, *first_run])]
    else:
        path = cases if cases is not None else registry.get("cases").file
        found = registry.for_file(path)
        if found is None:
            return [Selection(path.stem, path, None)], []
        chosen = [found]
    picked, skipped = [], []
    for s in chosen:
        if s.awaiting_first_run and s.name not in first_run:
            if not every:
                raise SelectionError(
                    f"{s.name} is a blind set whose first run has not happened; run it on "
                    f"purpose with --first-run {s.name} (the date and commit are recorded)"
                )
            skipped.append(s)
            continue
        picked.append(Selection(s.name, s.file, s, s.name in first_run))
    return picked, skipped


def parse_tuning(items: Sequence[str]) -> dict[str, Any]:
    """``["gate_min_similarity=0.6"]`` → ``{"gate_min_similarity": 0.6}``, typed as Tuning."""
    known = {f.name: type(f.default) for f in dataclasses.fields(Tuning)}
    out: dict[str, Any] = {}
    for item in items:
        name, sep, raw = item.partition("=")
        if not sep or name not in known:
            raise SelectionError(
                f"--tune {item!r}: expected NAME=VALUE, NAME one of {sorted(known)}"
            )
        try:
            out[name] = known[name](raw)
        except ValueError as err:
            raise SelectionError(f"--tune {item!r}: {known[name].__name__} expected") from err
    return out


@dataclass(frozen=True)
class Options:
    out: Path
    compare: Path | None = None  # an earlier run folder; None: the committed baselines
    baseline: Path | None = None  # a summary file the gate compares with (instead of the set's)
    category: str | None = None
    write_baseline: bool = False
    record_history: bool = True
    tuning: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Evaluation:
    run: Run
    entries: list[SetEntry]
    comparisons: dict[str, SetComparison]
    gate_failures: dict[str, list[str]]
    written: report.Written
    notes: list[str]  # what was recorded where, for the terminal


def _gate_baseline(sel: Selection, options: Options) -> dict[str, Any] | None:
    path = options.baseline or (sel.registered.summary if sel.registered else None)
    if options.write_baseline or options.category or path is None or not path.is_file():
        return None
    return json.loads(path.read_text("utf-8"))["overall"]


def _against(options: Options, registry: Registry, selections: Sequence[Selection]) -> Run:
    if options.compare is not None:
        return load_run(options.compare)
    # Only a registered set has committed baselines (an unregistered file may share a name).
    against = committed_baselines(registry, [s.name for s in selections if s.registered])
    if options.baseline is not None and len(selections) == 1 and options.baseline.is_file():
        figures = json.loads(options.baseline.read_text("utf-8"))
        name = selections[0].name
        kept = against.sets.get(name)
        records = kept.results if kept else ()
        one = SetRun(name, figures["overall"], figures.get("categories", {}), records)
        against = Run(str(options.baseline), None, None, {name: one})
    return against


def evaluate(
    bot: Assistant,
    selections: Sequence[Selection],
    registry: Registry,
    options: Options,
    skipped: Sequence[EvalSet] = (),
    on_case: Callable[[str, dict[str, Any]], None] | None = None,
) -> Evaluation:
    if options.baseline is not None and len(selections) > 1:
        raise SelectionError("--baseline is one set's file: use it with one set")
    unplaced = [s.file for s in selections if s.registered is None]
    if options.write_baseline and options.baseline is None and unplaced:
        raise SelectionError(
            f"{unplaced[0]}: register the set in evals/sets.json or pass --baseline"
        )
    date, commit = history.now(), history.git_commit()
    against = _against(options, registry, selections)
    runs: dict[str, SetRun] = {}
    comparisons: dict[str, SetComparison] = {}
    gates: dict[str, list[str]] = {}
    notes: list[str] = []
    committed: list[dict[str, Any]] = []
    local: list[dict[str, Any]] = []
    for sel in selections:
        cases = load_cases(sel.file, options.category)
        results = runner.run(
            bot, cases, on_case=(lambda r, n=sel.name: on_case(n, r)) if on_case else None
        )
        summary = metrics.aggregate(results)
        failures = metrics.gate_failures(summary, _gate_baseline(sel, options))
        gates[sel.name] = failures
        one = SetRun(
            sel.name, summary, runner.by_category(results), tuple(results), tuple(failures)
        )
        runs[sel.name] = one
        old = against.sets.get(sel.name)
        if old is None and options.compare and len(against.sets) == 1 and len(selections) == 1:
            old = next(iter(against.sets.values()))  # an older single-set folder
        comparisons[sel.name] = compare_set(one, old, against.label if old else None)
        extra = {"tuning": options.tuning} if options.tuning else {}
        if sel.first_run:
            registry = registry.record_first_run(sel.name, date[:10], commit)
            committed.append(
                history.entry(sel.name, "blind_first_run", summary, date, commit, **extra)
            )
            notes.append(
                f"blind first run of {sel.name} recorded in {registry.path.name} and history"
            )
        if options.write_baseline:
            if options.baseline is not None:
                summary_path = options.baseline
                per_case = summary_path.parent / "baselines" / f"{sel.name}.jsonl"
            else:
                summary_path, per_case, registry = registry.baseline_paths(sel.name)
            write_baseline(summary_path, per_case, one)
            committed.append(history.entry(sel.name, "baseline", summary, date, commit, **extra))
            notes.append(f"baseline written: {summary_path} and {per_case}")
        elif not sel.first_run and options.record_history and options.category is None:
            local.append(history.entry(sel.name, "run", summary, date, commit, **extra))
    if committed:
        write_jsonl(registry.history, committed, append=True)
    if local:
        write_jsonl(options.out / "history.jsonl", local, append=True)
    lines, problems = history.read(registry.history, options.out / "history.jsonl")
    registered = {s.name: s for s in registry.sets}
    entries = [
        SetEntry(
            sel.name,
            registered.get(sel.name) if sel.registered else None,  # a file may share a name
            runs[sel.name],
            comparisons[sel.name],
            sel.first_run,
            report.cases_href(sel.file, options.out),
        )
        for sel in selections
    ] + [
        SetEntry(s.name, s, None, None, False, report.cases_href(s.file, options.out))
        for s in skipped
    ]
    order = [s.name for s in registry.sets]
    entries.sort(key=lambda e: order.index(e.name) if e.name in order else len(order))
    run = Run(str(options.out), date, commit, runs, options.tuning)
    written = report.write(options.out, run, entries, comparisons, lines, problems)
    return Evaluation(run, entries, comparisons, gates, written, notes + problems)
