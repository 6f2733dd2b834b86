"""The top of the report: a row per set, then the metrics that moved, then per-set tables."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .. import metrics
from ..compare import Delta, SetComparison, flatten, floor_text, metric_deltas
from ..record import SetRun
from ..sets import EvalSet
from .page import badge, delta_html, esc, fmt, metric_name


@dataclass(frozen=True)
class SetEntry:
    """One set as the report shows it."""

    name: str
    registered: EvalSet | None
    run: SetRun | None  # None: not run (a blind set awaiting its deliberate first run)
    comparison: SetComparison | None
    blind_first_run: bool  # this very run is the set's blind first run
    cases_href: str  # the case file, relative to the report


def headline() -> list[str]:
    """The gated metrics (gates.json decides which), in its order."""
    return list(dict.fromkeys([*metrics.GATES, *metrics.TARGETS]))


def set_badges(entry: SetEntry) -> str:
    out = []
    reg = entry.registered
    if reg is not None and reg.gated:
        out.append(badge("gated", "b-gated"))
    if entry.blind_first_run:
        out.append(badge("blind first run", "b-blind"))
    elif reg is not None and reg.awaiting_first_run:
        out.append(badge("blind · first run not done", "b-wait"))
    elif reg is not None and reg.blind and reg.first_run is not None:
        out.append(badge(f"blind first run {reg.first_run.date}", ""))
    if entry.run is not None and (entry.comparison is None or entry.comparison.against is None):
        out.append(badge("no baseline", ""))
    return "".join(out)


def _cell(d: Delta | None, value: Any = None, gated: bool = True) -> str:
    """A figure and its change; red when a gated set is outside the gate, amber otherwise."""
    if d is None:
        return f'<td class="num">{fmt(value)}</td>'
    outside = d.below_floor or d.regressed
    css = f"num {'fail' if gated else 'under'}" if outside else "num"
    return f'<td class="{css}">{fmt(d.new)}{delta_html(d)}</td>'


def sets_table(entries: Sequence[SetEntry]) -> str:
    names = headline()
    head = "".join(f"<th>{metric_name(n)}<small>{esc(floor_text(n))}</small></th>" for n in names)
    rows = []
    for e in entries:
        link = f'<a href="#set-{esc(e.name)}"><b>{esc(e.name)}</b></a>'
        shown = e.cases_href.rsplit("/", 1)[-1]
        file = f'<br><a href="{esc(e.cases_href)}"><code>{esc(shown)}</code></a>'
        first = f"<td>{link} {set_badges(e)}{file}</td>"
        if e.run is None:
            rows.append(
                f'<tr>{first}<td colspan="{len(names) + 3}" class="flat note">'
                "not run: a blind set is run for the first time only on purpose "
                f"(<code>python -m evals --all --first-run {esc(e.name)}</code>)</td></tr>"
            )
            continue
        deltas = {d.metric: d for d in e.comparison.deltas} if e.comparison else {}
        s = e.run.summary
        failing = len(e.comparison.with_status("newly_failing")) if e.comparison else 0
        passing = len(e.comparison.with_status("newly_passing")) if e.comparison else 0
        moved = (
            f'<span class="{"down" if failing else "flat"}">{failing} ▼</span> / '
            f'<span class="{"up" if passing else "flat"}">{passing} ▲</span>'
            if e.comparison and e.comparison.cases
            else "–"
        )
        gated = e.registered is None or e.registered.gated
        cells = "".join(_cell(deltas.get(n), s.get(n), gated) for n in names)
        passed = f"{fmt(s.get('passed'))} / {fmt(s.get('cases'))}"
        passed_delta = delta_html(deltas["passed"]) if "passed" in deltas else ""
        rows.append(
            f"<tr>{first}<td class='num nowrap'>{passed}{passed_delta}</td>"
            f"<td class=num>{moved}</td>{cells}"
            f"<td class=num>{fmt(s.get('latency_p95_ms'))}</td></tr>"
        )
    return (
        '<div class="wrap"><table class="sets"><tr><th>set</th><th>passed</th>'
        f"<th>newly failing / passing</th>{head}<th>p95 ms</th></tr>{''.join(rows)}</table></div>"
    )


def changes_table(entries: Sequence[SetEntry]) -> str:
    """Every figure that moved (latency aside: it moves every run), worst first."""
    rows = []
    for e in entries:
        if e.comparison is None:
            continue
        for d in e.comparison.deltas:
            if d.metric.endswith("_ms") or d.change is None or abs(d.change) < 1e-9:
                continue
            css = "up" if d.better else ("down" if d.better is False else "flat")
            note = "; ".join(
                t
                for t, on in (("outside its gate", d.below_floor), ("drop > 0.02", d.regressed))
                if on
            )
            rows.append(
                (
                    d.better is not False,
                    f"<tr><td>{esc(e.name)}</td><td>{metric_name(d.metric)}</td>"
                    f"<td class=num>{fmt(d.old)}</td><td class='num {css}'><b>{fmt(d.new)}</b></td>"
                    f"<td class=num>{delta_html(d)}</td><td class=num>{esc(d.floor)}</td>"
                    f"<td class='down'>{esc(note)}</td></tr>",
                )
            )
    if not rows:
        return "<p class=flat>No metric changed against the compared run.</p>"
    rows.sort(key=lambda row: row[0])  # worse first, stable within
    return (
        '<table class="changes"><tr><th>set</th><th>metric</th><th>before</th><th>now</th>'
        f"<th>change</th><th>gate</th><th></th></tr>{''.join(r for _, r in rows)}</table>"
    )


def metrics_by_category(run: SetRun, comparison: SetComparison | None) -> str:
    """Metrics down, categories across: fits the page however many metrics there are."""
    overall = {d.metric: d for d in (comparison.deltas if comparison else [])}
    if not overall:
        overall = {d.metric: d for d in metric_deltas(run.summary, None)}
    flat_cats = {name: flatten(values) for name, values in run.categories.items()}
    head = "".join(f"<th>{esc(c)}</th>" for c in flat_cats)
    rows = []
    for name, d in overall.items():
        cells = "".join(f"<td class=num>{fmt(vals.get(name))}</td>" for vals in flat_cats.values())
        rows.append(
            f"<tr><td>{metric_name(name)}</td>{_cell(d)}<td class=num>{fmt(d.old)}</td>"
            f"<td class=num>{esc(d.floor)}</td>{cells}</tr>"
        )
    return (
        '<div class="wrap"><table><tr><th>metric</th><th>all</th><th>before</th><th>gate</th>'
        f"{head}</tr>{''.join(rows)}</table></div>"
    )
