"""``python -m evals from-feedback``: thumbs-down feedback becomes draft eval cases.

Each app replica keeps its own feedback file (``SKINQA_FEEDBACK_PATH``); this reads any
number of them (files, or folders of ``*.jsonl``) and merges the down-votes: one draft
per question (compared case- and space-insensitively), with every comment and where
each vote came from.

>>> # python -m evals from-feedback --feedback replica-1/feedback.jsonl --feedback replica-2/
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from assistant.settings import Settings

from .record import write_jsonl


def draft(record: dict[str, Any], number: int) -> dict[str, Any]:
    """A case skeleton a person completes: expectations are left for them to decide."""
    cited = [
        {"doc_id": c.get("doc_id", ""), "section": c.get("section", "")}
        for c in record.get("citations") or []
        if isinstance(c, dict)
    ]
    return {
        "id": f"feedback-{number:03d}",
        "category": "answerable",
        "history": [],
        "question": str(record.get("question", "")),
        "expect": "any",
        "gold_sources": [],
        "required_facts": [],
        "forbidden": [],
        "notes": "DRAFT from thumbs-down feedback ({}): comment: {!r}; the answer cited {}. "
        "Set category, expect, gold_sources and required_facts before adding it to "
        "cases.jsonl.".format(record.get("timestamp", "?"), record.get("comment"), cited),
    }


def thumbs_down(path: Path) -> list[dict[str, Any]]:
    """Down-votes of one file, with the comment sent after each (same answer_id) folded in."""
    votes: dict[str, dict[str, Any]] = {}
    comments: dict[str, str] = {}
    for line in path.read_text("utf-8").splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue  # a damaged line must not stop the rest from being used
        if not isinstance(record, dict):
            continue
        key = str(record.get("answer_id") or len(votes))
        if record.get("event") == "comment" and record.get("comment"):
            comments[key] = str(record["comment"])
        elif record.get("vote") == "down":
            votes[key] = record
        elif record.get("vote") in ("up", "none"):
            votes.pop(key, None)  # the vote was changed or taken back
    return [{**r, "comment": comments.get(k, r.get("comment"))} for k, r in votes.items()]


def feedback_files(paths: Sequence[Path]) -> list[Path]:
    """The files named, and the ``*.jsonl`` files of the folders named, in order."""
    found: list[Path] = []
    for path in paths:
        found += sorted(path.glob("*.jsonl")) if path.is_dir() else [path]
    return list(dict.fromkeys(found))


def merged(files: Sequence[Path]) -> list[dict[str, Any]]:
    """The down-votes of every file, one per question (the first, with the comments and
    sources of all), in the order first seen."""
    by_question: dict[str, dict[str, Any]] = {}
    for path in files:
        for record in thumbs_down(path):
            question = str(record.get("question", "")).strip()
            if not question:
                continue
            key = " ".join(question.lower().split())
            kept = by_question.setdefault(key, {**record, "votes": 0, "comments": [], "files": []})
            kept["votes"] += 1
            if record.get("comment"):
                kept["comments"].append(str(record["comment"]))
            kept["files"] = list(dict.fromkeys([*kept["files"], str(path)]))
    for kept in by_question.values():
        if len(kept["files"]) > 1 or kept["votes"] > 1:
            kept["comment"] = " | ".join(kept["comments"]) or None
    return list(by_question.values())


def drafts_main(feedback: Path | Sequence[Path] | None, out: Path) -> int:
    paths = [feedback] if isinstance(feedback, Path) else list(feedback or [])
    files = feedback_files(paths or [Settings().feedback_file])
    missing = [str(p) for p in files if not p.is_file()]
    if missing or not files:
        where = ", ".join(missing) or ", ".join(map(str, paths))
        print(f"error: no feedback file at {where}", file=sys.stderr)
        return 2
    records = merged(files)
    cases = []
    for number, record in enumerate(records, start=1):
        case = draft(record, number)
        if record["votes"] > 1:
            case["notes"] += (
                f" Down-voted {record['votes']} times in {len(record['files'])} file(s)."
            )
        cases.append(case)
    write_jsonl(out, cases)
    print(
        f"{len(records)} draft case(s) from {len(files)} feedback file(s) "
        f"written to {out} for review"
    )
    return 0
