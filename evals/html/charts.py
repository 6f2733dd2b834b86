"""Charts as inline SVG (text stays text, so they stay sharp and small), legends outside."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from ..compare import is_number

# Okabe–Ito (colour-blind-safe, its pale yellow left out) and three more: ten distinct lines.
PALETTE = (
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#CC79A7",
    "#56B4E9",
    "#D55E00",
    "#000000",
    "#999999",
    "#8C564B",
    "#BCBD22",
)
MARKERS = {"baseline": "o", "blind_first_run": "*", "run": "o"}


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"svg.fonttype": "none", "font.size": 9, "svg.hashsalt": "evals"})
    return plt


def _svg(fig: Any) -> str:
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight")
    text = buffer.getvalue()
    return text[text.index("<svg") :]


def _value(metrics: dict[str, Any], name: str) -> float | None:
    if name == "pass_rate":
        passed, cases = metrics.get("passed"), metrics.get("cases")
        return passed / cases if is_number(passed) and is_number(cases) and cases else None
    value = metrics.get(name)
    return float(value) if is_number(value) else None


def trend(lines: Sequence[dict[str, Any]], names: Sequence[str], title: str) -> str | None:
    """Each headline metric over the set's history; ★ marks the blind first run.

    A filled marker is a committed line (a baseline or blind first run), a hollow one a
    local run. None when there are fewer than two points to draw.
    """
    if len(lines) < 2:
        return None
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.2, 2.9))
    xs = range(len(lines))
    for i, name in enumerate(names):
        points = [(x, _value(line["metrics"], name)) for x, line in zip(xs, lines, strict=True)]
        points = [(x, y) for x, y in points if y is not None]
        if not points:
            continue
        colour = PALETTE[i % len(PALETTE)]
        ax.plot(*zip(*points, strict=True), color=colour, linewidth=1.4, label=name)
        for x, y in points:
            line = lines[x]
            kind = line.get("kind", "run")
            ax.plot(
                x,
                y,
                marker=MARKERS.get(kind, "o"),
                markersize=11 if kind == "blind_first_run" else 4.5,
                color=colour,
                markerfacecolor=colour if line.get("committed") else "white",
            )
    step = -(-len(lines) // 6)  # at most six labelled ticks: a label is 7 characters wide
    ticks = list(xs)[::step]
    ax.set_xticks(
        ticks,
        [f"{str(lines[t]['date'])[5:10]}\n{(lines[t].get('commit') or '')[:7]}" for t in ticks],
        fontsize=7,
    )
    ax.set_ylim(-0.02, 1.02)
    ax.grid(axis="y", color="#e3e6e8")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    svg = _svg(fig)
    plt.close(fig)
    return svg


def by_category(categories: dict[str, dict[str, Any]], names: Sequence[str], title: str) -> str:
    """Grouped bars, one group per category; metrics a category lacks are left out."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.2, 2.9))
    width = 0.8 / max(1, len(names))
    groups = list(categories)
    for i, name in enumerate(names):
        xs = [j + i * width for j in range(len(groups))]
        ys = [_value(categories[c], name) for c in groups]
        ax.bar(
            [x for x, y in zip(xs, ys, strict=True) if y is not None],
            [y for y in ys if y is not None],
            width,
            label=name,
            color=PALETTE[i % len(PALETTE)],
        )
    ax.set_xticks([j + 0.4 - width / 2 for j in range(len(groups))], groups, fontsize=8)
    ax.tick_params(axis="x", labelrotation=20)
    ax.set_ylim(0, 1.05)
    ax.grid(axis="y", color="#e3e6e8")
    ax.set_axisbelow(True)
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    svg = _svg(fig)
    plt.close(fig)
    return svg


def latency(values: Sequence[float], title: str) -> str:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.2, 2.6))
    ax.hist(values, bins=30, color=PALETTE[2])
    ax.set_xlabel("ask latency (ms)")
    ax.set_ylabel("cases")
    ax.set_title(title, fontsize=10)
    svg = _svg(fig)
    plt.close(fig)
    return svg
