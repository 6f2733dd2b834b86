"""Command line: ``python -m assistant ask ...`` and ``python ingest.py`` (parsing only)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from .errors import AssistantError
from .settings import Settings


def _settings(corpus: str | None = None, index: str | None = None) -> Settings:
    """Settings from the environment; a bad value exits 2 naming the variable."""
    from pydantic import ValidationError

    overrides: dict[str, object] = {}
    if corpus:
        overrides["corpus_dir"] = Path(corpus)
    if index:
        overrides["index_dir"] = Path(index)
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as err:
        for problem in err.errors():
            name = "SKINQA_" + "_".join(str(p) for p in problem["loc"]).upper()
            print(f"error: invalid setting {name}: {problem['msg']}", file=sys.stderr)
        raise SystemExit(2) from None


def ingest_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="ingest.py", description="Build or update the index.")
    parser.add_argument("--rebuild", action="store_true", help="drop and rebuild everything")
    parser.add_argument("--corpus", metavar="DIR", help="corpus folder (default: settings)")
    parser.add_argument("--index", metavar="DIR", help="index folder (default: settings)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    from .embeddings import make_embedder, model_id_for
    from .ingest import ingest

    console = Console(stderr=True)
    settings = _settings(args.corpus, args.index)
    if not settings.corpus_dir.is_dir():
        console.print(f"error: corpus folder not found: {settings.corpus_dir}")
        return 2

    def factory():
        return make_embedder(
            settings.embed_backend,
            settings.model_path,
            settings.embed_batch_size,
            settings.model_cache,
        )

    columns = (
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, disable=args.quiet, transient=True) as bar:
        task = bar.add_task("embedding", total=None)
        try:
            summary = ingest(
                settings,
                factory,
                model_id=model_id_for(settings.embed_backend),
                rebuild=args.rebuild,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
            )
        except AssistantError as err:
            console.print(f"error: {err}")
            return 2
    print(f"index: {settings.index_path} (build {summary.build})")
    for line in summary.lines():
        print(line)
    return 0


def _print_reply(reply_dict: dict) -> None:
    """The answer (its quotes carry their [n]), then where each [n] comes from."""
    print(reply_dict["answer"])
    if reply_dict["citations"]:
        print("\nSources:")
        for c in reply_dict["citations"]:
            print(f"[{c['n']}] {c['title']} — {c['section']} (characters {c['start']}–{c['end']})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m assistant")
    sub = parser.add_subparsers(dest="command", required=True)
    ask = sub.add_parser("ask", help="answer one question")
    ask.add_argument("question")
    ask.add_argument("--json", action="store_true", help="print reply.to_dict() as JSON")
    ask.add_argument("--history", metavar="FILE", help="JSON list of {role, content} turns")
    args = parser.parse_args(argv)

    history = []
    if args.history:
        try:
            history = json.loads(Path(args.history).read_text("utf-8"))
        except (OSError, ValueError) as exc:
            print(f"error: cannot read history file {args.history}: {exc}", file=sys.stderr)
            return 2
        if not isinstance(history, list):
            print("error: the history file must hold a JSON list of turns", file=sys.stderr)
            return 2
    if not args.question.strip():
        print("error: the question is empty", file=sys.stderr)
        return 2
    from . import load

    settings = _settings()
    try:
        bot = load(settings)
        reply = bot.ask(args.question, history=history)
    except (AssistantError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    try:
        if args.json:
            print(json.dumps(reply.to_dict(), ensure_ascii=False, indent=2))
        else:
            _print_reply(reply.to_dict())
    except BrokenPipeError:  # e.g. piped into `head`: the reader has what it wanted
        sys.stderr.close()
    return 0
