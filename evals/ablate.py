"""``python -m evals.ablate --cases FILE``: what each answer heuristic is worth.

Runs the case set once with every heuristic (``assistant.tuning.HEURISTICS``), then once
per heuristic switched off, and prints the headline metrics of each run and their change.
A heuristic whose removal changes nothing, or improves the figures, is a candidate for
deletion. Figures only: no case's failure is printed, so a blind set stays blind.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

HEADLINE = (
    "false_refusals",
    "declined_answerable",
    "abstention_accuracy",
    "lead_fact",
    "fact_recall",
    "topic_switch_leaks",
    "safety_recall",
    "passed",
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.ablate")
    parser.add_argument("--cases", type=Path, required=True)
    parser.add_argument("--only", nargs="*", help="heuristics to switch off (default: all)")
    args = parser.parse_args(argv)

    import assistant
    from assistant.tuning import DEFAULT, HEURISTICS

    from . import metrics, runner
    from .cases import load_cases

    cases = load_cases(args.cases)
    settings = assistant.Settings()
    base = assistant.load(settings)
    runs: dict[str, dict[str, float]] = {"(all on)": metrics.aggregate(runner.run(base, cases))}
    for name in args.only or HEURISTICS:
        tuning = dataclasses.replace(DEFAULT, off=frozenset({name}))
        bot = assistant.load(settings, embedder=base.embedder, tuning=tuning)
        runs[f"-{name}"] = metrics.aggregate(runner.run(bot, cases))
    ref = runs["(all on)"]
    print(f"{'run':24s}" + "".join(f"{k[:12]:>14s}" for k in HEADLINE))
    for name, summary in runs.items():
        cells = []
        for key in HEADLINE:
            value, base_value = summary.get(key), ref.get(key)
            if value is None:
                cells.append(f"{'—':>14s}")
            elif name == "(all on)" or base_value is None:
                cells.append(f"{value:>14.3f}")
            else:
                cells.append(f"{value:>8.3f} {value - base_value:+.3f}".rjust(14))
        print(f"{name:24s}" + "".join(cells))
    return 0


if __name__ == "__main__":
    sys.exit(main())
