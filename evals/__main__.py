"""``python -m evals``: run the eval set, write the report, optionally gate on it."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
BASELINE = HERE / "baseline.json"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals")
    parser.add_argument(
        "command", nargs="?", default="run", choices=("run", "from-feedback", "calibrate")
    )
    parser.add_argument("--cases", type=Path, default=HERE / "cases.jsonl")
    parser.add_argument("--category", help="only cases of this category")
    parser.add_argument("--out", type=Path, default=HERE / "out")
    parser.add_argument("--baseline", type=Path, default=BASELINE)
    parser.add_argument("--check", action="store_true", help="exit 1 if a gate fails")
    parser.add_argument(
        "--write-baseline", action="store_true", help="store this run's figures as the new baseline"
    )
    parser.add_argument("--feedback", type=Path, help="feedback JSONL (from-feedback)")
    args = parser.parse_args(argv)

    if args.command == "from-feedback":
        from .feedback import drafts_main

        return drafts_main(args.feedback, args.out / "draft_cases.jsonl")
    if args.command == "calibrate":
        from .calibrate import main as calibrate_main

        return calibrate_main()
    return run_main(args)


def run_main(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.progress import Progress
    from rich.table import Table

    import assistant
    from assistant import AssistantError

    from . import metrics, report, runner
    from .cases import CaseError, load_cases

    console = Console()
    try:
        cases = load_cases(args.cases, args.category)
        bot = assistant.load()
    except (CaseError, AssistantError, OSError) as err:
        console.print(f"[red]error:[/red] {err}")
        return 2
    if not cases:
        console.print("[red]error:[/red] no cases selected")
        return 2
    with Progress(console=console, transient=True) as bar:
        task = bar.add_task("evaluating", total=len(cases))
        results = runner.run(bot, cases, on_case=lambda _: bar.advance(task))
    summary = metrics.aggregate(results)
    categories = runner.by_category(results)
    baseline = None
    if args.baseline.exists() and not args.write_baseline:
        baseline = json.loads(args.baseline.read_text("utf-8"))["overall"]
    failures = (
        metrics.gate_failures(summary, baseline)
        if args.category is None
        else metrics.gate_failures(summary, None)
    )
    report.write(args.out, summary, categories, results, failures)

    table = Table(title=f"Eval: {int(summary['passed'])}/{int(summary['cases'])} cases passed")
    table.add_column("metric")
    table.add_column("value", justify="right")
    table.add_column("gate", justify="right")
    table.add_column("target", justify="right")
    table.add_column("baseline", justify="right")
    for name, value in summary.items():
        gate, target = metrics.GATES.get(name), metrics.TARGETS.get(name)
        table.add_row(
            name,
            "–" if value is None else f"{value:g}",
            "" if gate is None else f"{gate:g}",
            "" if target is None else f"{target:g}",
            "" if not baseline or baseline.get(name) is None else f"{baseline[name]:g}",
        )
    console.print(table)
    console.print(f"report: {args.out / 'report.html'}")
    if args.write_baseline:
        args.baseline.write_text(
            json.dumps({"overall": summary, "categories": categories}, indent=2) + "\n", "utf-8"
        )
        console.print(f"baseline written: {args.baseline}")
    for failure in failures:
        console.print(f"[red]GATE[/red] {failure}")
    if args.check and failures:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
