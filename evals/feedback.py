"""``python -m evals from-feedback``: thumbs-down feedback becomes draft eval cases."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from assistant.settings import Settings


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
    """Down-votes, with the comment sent after each (same answer_id) folded in."""
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


def drafts_main(feedback: Path | None, out: Path) -> int:
    path = feedback or Settings().feedback_file
    if not path.exists():
        print(f"error: no feedback file at {path}", file=sys.stderr)
        return 2
    records = [r for r in thumbs_down(path) if str(r.get("question", "")).strip()]
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8") as handle:
        for number, record in enumerate(records, start=1):
            handle.write(json.dumps(draft(record, number), ensure_ascii=False) + "\n")
    print(f"{len(records)} draft case(s) written to {out} for review")
    return 0
