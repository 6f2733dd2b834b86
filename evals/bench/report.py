"""The report: headline rows, tables and notes per section, rendered as Markdown."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any


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


TARGETS_TITLE = "Against the targets"
RERUN = "- **Re-run since the full run**: "


def _blocks(report: str) -> list[str]:
    """The report cut before each ``## `` heading: the header first, then one per section."""
    blocks, current = [], []
    for line in report.rstrip("\n").split("\n"):
        if line.startswith("## ") and current:
            blocks.append("\n".join(current).rstrip("\n"))
            current = []
        current.append(line)
    blocks.append("\n".join(current).rstrip("\n"))
    return blocks


def _title(block: str) -> str:
    first = block.split("\n", 1)[0]
    return first[3:] if first.startswith("## ") else ""


def splice(report: str, sections: Sequence[Section], when: str) -> str:
    """A full report with ``sections`` re-run: each replaces the section of the same
    title (or is added at the end), its rows with targets replace the old section's in
    "Against the targets", and the header says which sections were re-run ``when``."""
    blocks = _blocks(report)
    for section in sections:
        titles = [_title(b) for b in blocks]
        new = render_section(section)
        old = blocks[titles.index(section.title)] if section.title in titles else ""
        if old:
            blocks[titles.index(section.title)] = new
        else:
            blocks.append(new)
        if TARGETS_TITLE in titles:
            at = titles.index(TARGETS_TITLE)
            table_head = set(render_rows([]).split("\n"))  # shared by every rows table
            stale = {line for line in old.split("\n") if line.startswith("| ")} - table_head
            kept = [line for line in blocks[at].split("\n") if line not in stale]
            fresh = render_rows([r for r in section.rows if r.met is not None]).split("\n")[2:]
            blocks[at] = "\n".join(kept + fresh)
    header = blocks[0].split("\n")
    earlier = [line[len(RERUN) :].split("; ") for line in header if line.startswith(RERUN)]
    redone = tuple(f"{s.title} (" for s in sections)
    entries = [e for e in (earlier[0] if earlier else []) if not e.startswith(redone)]
    entries += [f"{s.title} ({when})" for s in sections]
    kept = [line for line in header if not line.startswith(RERUN)]
    blocks[0] = "\n".join([*kept, RERUN + "; ".join(entries)])
    return "\n\n".join(blocks) + "\n"
