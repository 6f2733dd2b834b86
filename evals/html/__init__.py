"""The eval report: one self-contained HTML page for every set of a run.

Top first, what a maintainer asks first: what got worse since the compared run (metric
deltas, newly failing cases with both answers), then trends, then every case.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from .. import history as hist
from . import charts
from .cases import case_view, change_card
from .overview import (
    SetEntry,
    changes_table,
    headline,
    metrics_by_category,
    set_badges,
    sets_table,
)
from .page import badge, esc, shell

__all__ = ["ReportInput", "SetEntry", "render"]


@dataclass(frozen=True)
class ReportInput:
    date: str
    commit: str | None
    against: str | None  # what the run is compared with, None for nothing
    entries: Sequence[SetEntry]
    history: Sequence[dict[str, Any]] = ()
    problems: Sequence[str] = ()  # history lines that could not be read
    tuning: dict[str, Any] = field(default_factory=dict)
    files: Sequence[tuple[str, str]] = ()  # (label, file name next to the report)


def _banner(entries: Sequence[SetEntry]) -> str:
    # A set outside the registry was asked for by file: its gate counts.
    gated = [e for e in entries if e.run and (e.registered is None or e.registered.gated)]
    failures = [(e.name, f) for e in gated for f in e.run.gate_failures]  # type: ignore[union-attr]
    newly = sum(len(e.comparison.with_status("newly_failing")) for e in entries if e.comparison)
    if failures:
        items = "".join(f"<li>{esc(n)}: {esc(f)}</li>" for n, f in failures)
        return f'<div class="banner bad">Gate failed<ul>{items}</ul></div>'
    text = "Gate passed" if gated else "No gated set in this run"
    if newly:
        return f'<div class="banner bad">{text}, but {newly} case(s) newly failing</div>'
    return f'<div class="banner ok">{text}; no case newly failing</div>'


def _changed(entries: Sequence[SetEntry], status: str, against: str | None) -> str:
    cards = [
        change_card(e.name, c, against or "before")
        for e in entries
        if e.comparison
        for c in e.comparison.with_status(status)
    ]
    if not cards:
        return "<p class=flat>None.</p>"
    return "".join(cards)


def _trends(entries: Sequence[SetEntry], lines: Sequence[dict[str, Any]]) -> str:
    names = [*headline(), "pass_rate"]
    figures = []
    for e in entries:
        svg = charts.trend(hist.series(list(lines), e.name), names, f"{e.name}: headline metrics")
        if svg:
            figures.append(f"<figure>{svg}</figure>")
    if not figures:
        return "<p class=flat>Not enough history yet (two runs of a set make a trend).</p>"
    return (
        "<p class=meta>Filled markers: committed lines (baselines, ★ blind first runs); "
        "hollow: local runs (<code>history.jsonl</code> beside this report).</p>"
        f'<div class="charts">{"".join(figures)}</div>'
    )


def _set_section(e: SetEntry) -> str:
    reg = e.registered
    about = f"<p class=meta>{esc(reg.about)}</p>" if reg and reg.about else ""
    head = f'<h2 id="set-{esc(e.name)}">Set {esc(e.name)} {set_badges(e)}</h2>{about}'
    if e.run is None:
        return head + "<p class=flat>Not run.</p>"
    run = e.run
    failures = "".join(f"<li>{esc(f)}</li>" for f in run.gate_failures)
    gate = f'<ul class="reasons">{failures}</ul>' if failures else ""
    names = [n for n in headline() if any(n in c for c in run.categories.values())]
    figures = [charts.by_category(run.categories, names, f"{e.name}: by category")]
    figures.append(charts.latency([r["latency_ms"] for r in run.results], f"{e.name}: latency"))
    changes = {c.id: c for c in e.comparison.cases} if e.comparison else {}
    cases = "".join(case_view(e.name, r, changes.get(r["case"]["id"])) for r in run.results)
    listing = f"cases-{e.name}"
    return (
        f"{head}{gate}{metrics_by_category(run, e.comparison)}"
        f'<div class="charts">{"".join(f"<figure>{f}</figure>" for f in figures)}</div>'
        f"<h3>Cases ({len(run.results)})</h3>"
        f'<div class="filter" data-filter="{esc(listing)}"><input type="search" '
        'placeholder="filter by id, category or words" aria-label="filter cases">'
        '<select aria-label="status"><option value="">all</option>'
        '<option value="failing">failing</option><option value="newly">newly changed</option>'
        '<option value="passing">passing</option></select></div>'
        f'<div id="{esc(listing)}">{cases}</div>'
    )


def render(report: ReportInput) -> str:
    entries = report.entries
    tuning = (
        " · tuning "
        + ", ".join(f"<code>{esc(k)}={esc(v)}</code>" for k, v in report.tuning.items())
        if report.tuning
        else ""
    )
    against = esc(report.against) if report.against else "nothing (no baseline)"
    files = " · ".join(f'<a href="{esc(name)}">{esc(label)}</a>' for label, name in report.files)
    failing = sum(len(e.comparison.with_status("newly_failing")) for e in entries if e.comparison)
    passing = sum(len(e.comparison.with_status("newly_passing")) for e in entries if e.comparison)
    problems = "".join(f"<li>{esc(p)}</li>" for p in report.problems)
    body = (
        f"<h1>Eval report</h1><p class=meta>{esc(report.date)} · commit "
        f"<code>{esc(report.commit or 'unknown')}</code>{tuning} · compared with {against}"
        f"{' · ' + files if files else ''}</p>{_banner(entries)}"
        f"<h2>Sets</h2>{sets_table(entries)}"
        f"<h2>Metric changes</h2>{changes_table(entries)}"
        f"<h2>Newly failing ({failing}) {badge('worse', 'b-fail') if failing else ''}</h2>"
        f"{_changed(entries, 'newly_failing', report.against)}"
        f"<h2>Newly passing ({passing})</h2>{_changed(entries, 'newly_passing', report.against)}"
        f"<h2>Trends</h2>{_trends(entries, report.history)}"
        + "".join(_set_section(e) for e in entries)
        + (f'<h2>History problems</h2><ul class="reasons">{problems}</ul>' if problems else "")
    )
    return shell("Eval report", body)
