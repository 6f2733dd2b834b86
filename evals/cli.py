"""The terminal side of ``python -m evals run``: progress, a table per run, the report link."""

from __future__ import annotations

import argparse
from typing import Any

from .compare import is_number
from .html.overview import headline


def _value(d: Any) -> str:
    """A figure and its change, coloured: green better, red worse; bold red outside its gate."""
    if d is None or d.new is None:
        return "–"
    text = f"{d.new:.4g}" if is_number(d.new) else str(d.new)
    if d.below_floor:
        text = f"[bold red]{text}[/bold red]"
    if d.change is None or abs(d.change) < 1e-9:
        return text
    colour = "grey50" if d.better is None else ("green" if d.better else "red")
    return f"{text}\n[{colour}]{d.change:+.3g}[/{colour}]"


def run_main(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.progress import Progress
    from rich.table import Table

    import assistant
    from assistant import AssistantError

    from .cases import CaseError
    from .record import RunError
    from .sets import Registry, RegistryError
    from .suite import Options, SelectionError, evaluate, parse_tuning, select

    console = Console()
    try:
        registry = Registry.load(args.registry)
        selections, skipped = select(
            registry,
            cases=args.cases,
            names=args.set,
            every=args.all,
            first_run=args.first_run,
            category=args.category,
            write_baseline=args.write_baseline,
        )
        tuning = parse_tuning(args.tune)
        options = Options(
            out=args.out,
            compare=args.compare,
            baseline=args.baseline,
            category=args.category,
            write_baseline=args.write_baseline,
            record_history=not args.no_history,
            tuning=tuning,
        )
        bot = assistant.load(tuning=assistant.Tuning(**tuning))
        with Progress(console=console, transient=True) as bar:
            tasks = {}
            for sel in selections:
                tasks[sel.name] = bar.add_task(f"{sel.name}", total=None)
            evaluation = evaluate(
                bot,
                selections,
                registry,
                options,
                skipped,
                on_case=lambda name, _: bar.advance(tasks[name]),
            )
    except (CaseError, AssistantError, RegistryError, SelectionError, RunError, OSError) as err:
        console.print(f"[red]error:[/red] {err}")
        return 2

    table = Table(title="Eval" + (f" with {tuning}" if tuning else ""))
    table.add_column("metric", no_wrap=True)
    shown = [e for e in evaluation.entries if e.run is not None]
    for entry in shown:
        blind = "\n[magenta]blind first run[/magenta]" if entry.blind_first_run else ""
        table.add_column(entry.name + blind, justify="right")
    single = len(shown) == 1
    if single:
        table.add_column("gate", justify="right")
        table.add_column("before", justify="right")
    deltas = {e.name: {d.metric: d for d in evaluation.comparisons[e.name].deltas} for e in shown}
    moved = {
        status: [len(evaluation.comparisons[e.name].with_status(status)) for e in shown]
        for status in ("newly_failing", "newly_passing")
    }
    table.add_row(
        "newly failing", *(f"[red]{n}[/red]" if n else "0" for n in moved["newly_failing"])
    )
    table.add_row("newly passing", *(str(n) for n in moved["newly_passing"]))
    for name in ("passed", "cases", *headline(), "latency_p95_ms"):
        row = [_value(deltas[e.name].get(name)) for e in shown]
        if single:
            d = deltas[shown[0].name].get(name)
            row += [d.floor if d else "", "–" if d is None or d.old is None else f"{d.old:g}"]
        table.add_row(name, *row)
    for entry in evaluation.entries:
        if entry.run is None:
            console.print(f"[yellow]{entry.name}: blind, awaiting its first run (not run)[/yellow]")
    console.print(table)
    against = next((c.against for c in evaluation.comparisons.values() if c.against), None)
    console.print(f"compared with: {against or 'nothing (no baseline)'}")
    for name, comparison in evaluation.comparisons.items():
        for change in comparison.with_status("newly_failing"):
            reasons = change.new["reasons"] if change.new else []
            console.print(
                f"[red]newly failing[/red] {name}/{change.id}: {reasons[0] if reasons else ''}"
            )
    for note in evaluation.notes:
        console.print(note)
    url = evaluation.written.report.resolve().as_uri()
    # soft_wrap: a link cut across lines cannot be clicked or copied.
    console.print(f"report: [link={url}]{url}[/link]", soft_wrap=True)
    console.print(f"JUnit: {evaluation.written.junit}", soft_wrap=True)
    console.print(f"CSV: {evaluation.written.csv}", soft_wrap=True)
    failed = False
    explicit = not args.all
    for entry in evaluation.entries:
        failures = evaluation.gate_failures.get(entry.name, [])
        gated = explicit or (entry.registered is not None and entry.registered.gated)
        if gated:
            for failure in failures:
                console.print(f"[red]GATE[/red] {entry.name}: {failure}")
        elif failures:
            console.print(f"{entry.name}: {len(failures)} figures outside the gates (not gated)")
        failed = failed or (gated and bool(failures))
    return 1 if args.check and failed else 0
