"""``python -m evals``: run eval sets, compare with a baseline, write the report, gate."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals")
    parser.add_argument(
        "command", nargs="?", default="run", choices=("run", "from-feedback", "calibrate")
    )
    which = parser.add_argument_group("which sets (default: the gated set, evals/cases.jsonl)")
    which.add_argument("--cases", type=Path, help="a case file (registered or not)")
    which.add_argument("--set", action="append", default=[], help="a registered set by name")
    which.add_argument("--all", action="store_true", help="every set of evals/sets.json")
    which.add_argument(
        "--first-run",
        action="append",
        default=[],
        metavar="SET",
        help="run a blind set for the first time, on purpose (recorded in sets.json and history)",
    )
    which.add_argument("--category", help="only cases of this category")
    which.add_argument("--registry", type=Path, default=HERE / "sets.json", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, default=HERE / "out")
    parser.add_argument(
        "--compare", type=Path, metavar="DIR", help="an earlier run's --out (default: baselines)"
    )
    parser.add_argument("--baseline", type=Path, help="the summary file a single set gates on")
    parser.add_argument(
        "--tune", action="append", default=[], metavar="NAME=VALUE", help="override a Tuning value"
    )
    parser.add_argument("--check", action="store_true", help="exit 1 if a gated set fails")
    parser.add_argument(
        "--write-baseline", action="store_true", help="store this run as the sets' new baselines"
    )
    parser.add_argument(
        "--no-history", action="store_true", help="do not append to <out>/history.jsonl"
    )
    parser.add_argument(
        "--feedback",
        type=Path,
        action="append",
        default=[],
        help="a feedback JSONL file or a folder of them (from-feedback; repeat for replicas)",
    )
    args = parser.parse_args(argv)

    if args.command == "from-feedback":
        from .feedback import drafts_main

        return drafts_main(args.feedback, args.out / "draft_cases.jsonl")
    if args.command == "calibrate":
        from .calibrate import main as calibrate_main

        return calibrate_main()
    from .cli import run_main

    return run_main(args)


if __name__ == "__main__":
    sys.exit(main())
