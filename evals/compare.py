"""A run against an earlier one: metric deltas and which cases changed, worst news first.

>>> [c.status for c in compare_cases({"a": {"id": "a", "passed": False}},
...                                  {"a": {"id": "a", "passed": True}})]
['newly_failing']
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from . import metrics
from .record import SetRun, compact

# The order the report lists changed cases in: what got worse first.
STATUSES = (
    "newly_failing",
    "newly_passing",
    "still_failing",
    "changed",
    "new",
    "removed",
    "same",
)
REGRESSION_TOLERANCE = 0.02  # the baseline drop `metrics.gate_failures` allows


def flatten(summary: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested figures (e.g. counts per outcome) as dotted names, so any summary renders.

    >>> flatten({"a": 1.0, "outcomes": {"answer": 3, "declined": None}})
    {'a': 1.0, 'outcomes.answer': 3, 'outcomes.declined': None}
    """
    out: dict[str, Any] = {}
    for key, value in summary.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out |= flatten(value, name + ".")
        else:
            out[name] = value
    return out


def direction(metric: str) -> int:
    """+1 when higher is better, -1 when lower is, 0 when a change is neither."""
    base = metric.split(".")[0]
    if base in metrics.HIGHER_IS_BETTER or base == "passed":
        return 1
    if base in metrics.LOWER_IS_BETTER or base.endswith("_ms"):
        return -1
    return 0


def floor_text(metric: str) -> str:
    """The enforced gate as a reader checks it: '≥ 0.95', '≤ 0.05', '= 1' or ''."""
    bound = metrics.GATES.get(metric)
    if bound is None:
        return ""
    if metric in metrics.LOWER_IS_BETTER:
        return f"≤ {bound:g}"
    return f"= {bound:g}" if bound == 1 else f"≥ {bound:g}"


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


@dataclass(frozen=True)
class Delta:
    metric: str
    new: Any
    old: Any
    change: float | None  # new - old, when both are numbers
    better: bool | None  # None: unchanged, not comparable, or a change that is neither
    floor: str
    below_floor: bool  # outside the enforced gate
    regressed: bool  # worse than the baseline by more than the gate's tolerance


def metric_deltas(new: Mapping[str, Any], old: Mapping[str, Any] | None) -> list[Delta]:
    """Every figure the new summary holds (in its order), against the old one."""
    flat_new, flat_old = flatten(new), flatten(old or {})
    rows = []
    for metric, value in flat_new.items():
        before = flat_old.get(metric)
        change = value - before if is_number(value) and is_number(before) else None
        sign = direction(metric)
        better = None
        if change is not None and abs(change) > 1e-9 and sign:
            better = change * sign > 0
        bound = metrics.GATES.get(metric)
        below = False
        if bound is not None and is_number(value):
            below = value > bound if metric in metrics.LOWER_IS_BETTER else value < bound
        regressed = bool(
            change is not None
            and sign
            and metric in (*metrics.HIGHER_IS_BETTER, *metrics.LOWER_IS_BETTER)
            and -change * sign > REGRESSION_TOLERANCE + 1e-9
        )
        rows.append(
            Delta(metric, value, before, change, better, floor_text(metric), below, regressed)
        )
    return rows


@dataclass(frozen=True)
class CaseChange:
    id: str
    status: str
    new: dict[str, Any] | None  # the full result of this run (None: case removed)
    old: dict[str, Any] | None  # the compact record of the earlier run (None: new case)

    @property
    def answer_changed(self) -> bool:
        return bool(self.new and self.old) and compact(self.new)["answer"] != self.old["answer"]


def _status(new: dict[str, Any] | None, old: dict[str, Any] | None) -> str:
    if new is None:
        return "removed"
    if old is None:
        return "new"
    now, before = bool(new["passed"]), bool(old["passed"])
    if before and not now:
        return "newly_failing"
    if now and not before:
        return "newly_passing"
    if not now:
        return "still_failing"
    return "changed" if compact(new)["answer"] != old.get("answer") else "same"


def compare_cases(
    new: Mapping[str, dict[str, Any]], old: Mapping[str, dict[str, Any]]
) -> list[CaseChange]:
    """Every case of either run, ordered by STATUSES, then as the new run lists them."""
    ids = list(new) + [i for i in old if i not in new]
    changes = [CaseChange(i, _status(new.get(i), old.get(i)), new.get(i), old.get(i)) for i in ids]
    return sorted(changes, key=lambda c: STATUSES.index(c.status))


@dataclass(frozen=True)
class SetComparison:
    name: str
    against: str | None  # the earlier run's label, None when there is nothing to compare
    deltas: list[Delta]
    cases: list[CaseChange]
    same_cases: bool  # both runs scored the same case ids, so metric deltas mean something

    def with_status(self, *statuses: str) -> list[CaseChange]:
        return [c for c in self.cases if c.status in statuses]

    def status_of(self, case_id: str) -> str:
        return next((c.status for c in self.cases if c.id == case_id), "new")


def compare_set(new: SetRun, old: SetRun | None, against: str | None) -> SetComparison:
    """``old`` None: no earlier run of this set, every case is new and no deltas show."""
    new_ids = {(r["case"]["id"] if "case" in r else r["id"]): r for r in new.results}
    old_ids = old.by_id() if old else {}
    same = bool(old) and set(new_ids) == set(old_ids)
    # Deltas on a different case list (a --category run, a changed file) would mislead;
    # an old baseline without per-case records is taken at its word.
    comparable = old is not None and (same or not old.results)
    deltas = metric_deltas(new.summary, old.summary if comparable and old else None)
    if old is not None and not old.results:
        return SetComparison(new.name, against, deltas, [], comparable)
    return SetComparison(new.name, against, deltas, compare_cases(new_ids, old_ids), comparable)


# -- answers side by side ---------------------------------------------------------------

_MARK = re.compile(r"\s*\[\d+\]")


def _units(answer: str) -> list[str]:
    """An answer's lines, the citation numbers dropped: a renumbered quote is the same quote."""
    return [_MARK.sub("", line).strip() for line in answer.splitlines() if line.strip()]


# (kind, text) pieces: same, removed / added (words), removed_line / added_line (whole).
Line = list[tuple[str, str]]
SIMILAR_LINE = 0.5  # share of words two lines have in common to be diffed word by word


def _words(a: str, b: str) -> tuple[Line, Line]:
    """Two versions of a line, word by word; unrelated lines are shown whole."""
    wa, wb = a.split(" "), b.split(" ")
    matcher = difflib.SequenceMatcher(None, wa, wb, autojunk=False)
    if matcher.ratio() < SIMILAR_LINE:
        return [("removed_line", a)], [("added_line", b)]
    left: Line = []
    right: Line = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            left.append(("same", " ".join(wa[i1:i2])))
            right.append(("same", " ".join(wb[j1:j2])))
            continue
        if i2 > i1:
            left.append(("removed", " ".join(wa[i1:i2])))
        if j2 > j1:
            right.append(("added", " ".join(wb[j1:j2])))
    return left, right


def diff_answers(old: str, new: str) -> tuple[list[Line], list[Line]]:
    """Old and new answer line by line; changed lines diffed word by word.

    >>> left, right = diff_answers("- Wait 24 hours. [1]", "- Wait 48 hours. [1]")
    >>> left
    [[('same', '- Wait'), ('removed', '24'), ('same', 'hours.')]]
    >>> right
    [[('same', '- Wait'), ('added', '48'), ('same', 'hours.')]]
    """
    a, b = _units(old), _units(new)
    left: list[Line] = []
    right: list[Line] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            left += [[("same", line)] for line in a[i1:i2]]
            right += [[("same", line)] for line in b[j1:j2]]
        elif tag == "replace":
            for k in range(max(i2 - i1, j2 - j1)):
                old_line = a[i1 + k] if i1 + k < i2 else None
                new_line = b[j1 + k] if j1 + k < j2 else None
                if old_line is not None and new_line is not None:
                    pieces = _words(old_line, new_line)
                    left.append(pieces[0])
                    right.append(pieces[1])
                elif old_line is not None:
                    left.append([("removed_line", old_line)])
                elif new_line is not None:
                    right.append([("added_line", new_line)])
        else:
            left += [[("removed_line", line)] for line in a[i1:i2]]
            right += [[("added_line", line)] for line in b[j1:j2]]
    return left, right


def facts(answer: str, required: list[list[str]]) -> list[tuple[list[str], str | None]]:
    """Each required fact (its alternative patterns) with the text that matched, or None."""
    out = []
    for patterns in required:
        found = None
        for pattern in patterns:
            match = re.search(pattern, answer, re.IGNORECASE)
            if match:
                found = match.group(0)
                break
        out.append((patterns, found))
    return out
