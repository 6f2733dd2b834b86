"""The eval-case format: loading, validation and gold-source matching."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CATEGORIES = (
    "answerable",
    "multi_turn",  # a true follow-up: only makes sense with the history
    "topic_switch",  # a self-contained question after an unrelated conversation
    "long_context",  # personal background around the question
    "safety",
    "out_of_scope",
    "small_talk",  # greetings, thanks, "are you a bot?"
    "adversarial",
)
EXPECTS = ("answer", "abstain", "small_talk", "any")
FIELDS = (
    "id",
    "category",
    "history",
    "question",
    "expect",
    "gold_sources",
    "required_facts",
    "forbidden",
    "notes",
)
DEFAULT_CASES = Path(__file__).with_name("cases.jsonl")


class CaseError(ValueError):
    """A case file line that does not follow the format."""


@dataclass(frozen=True)
class Case:
    id: str
    category: str
    question: str
    expect: str
    history: list[dict[str, str]] = field(default_factory=list)
    gold_sources: list[dict[str, str]] = field(default_factory=list)
    required_facts: list[list[str]] = field(default_factory=list)
    forbidden: list[str] = field(default_factory=list)
    notes: str = ""


def section_matches(section: str, gold: str) -> bool:
    """Gold sources name a section or a parent of it, so re-chunking does not break them."""
    return section == gold or section.startswith(gold + " > ")


def _check(raw: Any, where: str) -> Case:
    if not isinstance(raw, dict):
        raise CaseError(f"{where}: each line must be a JSON object")
    missing = [f for f in FIELDS if f not in raw]
    if missing:
        raise CaseError(f"{where}: missing fields {missing}")
    if raw["category"] not in CATEGORIES:
        raise CaseError(f"{where}: category must be one of {CATEGORIES}")
    if raw["expect"] not in EXPECTS:
        raise CaseError(f"{where}: expect must be one of {EXPECTS}")
    if not isinstance(raw["question"], str):
        raise CaseError(f"{where}: question must be a string")
    history = raw["history"]
    if not isinstance(history, list) or not all(
        isinstance(t, dict)
        and t.get("role") in ("user", "assistant")
        and isinstance(t.get("content"), str)
        for t in history
    ):
        raise CaseError(f"{where}: history must be a list of {{role, content}} turns")
    gold = raw["gold_sources"]
    if not isinstance(gold, list) or not all(
        isinstance(g, dict)
        and isinstance(g.get("doc_id"), str)
        and isinstance(g.get("section"), str)
        for g in gold
    ):
        raise CaseError(f"{where}: gold_sources must be a list of {{doc_id, section}}")
    facts = raw["required_facts"]
    if not isinstance(facts, list) or not all(
        isinstance(f, list) and f and all(isinstance(p, str) for p in f) for f in facts
    ):
        raise CaseError(f"{where}: required_facts must be a list of non-empty regex lists")
    if not isinstance(raw["forbidden"], list) or not all(
        isinstance(p, str) for p in raw["forbidden"]
    ):
        raise CaseError(f"{where}: forbidden must be a list of regexes")
    for pattern in [p for f in facts for p in f] + raw["forbidden"]:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise CaseError(f"{where}: bad regex {pattern!r}: {exc}") from exc
    return Case(**{k: raw[k] for k in FIELDS})


def load_cases(path: Path = DEFAULT_CASES, category: str | None = None) -> list[Case]:
    """Read and validate a case file; raise ``CaseError`` naming the bad line."""
    cases: list[Case] = []
    seen: set[str] = set()
    for number, line in enumerate(path.read_text("utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path.name}:{number}"
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as exc:
            raise CaseError(f"{where}: not valid JSON ({exc.msg})") from exc
        case = _check(raw, where)
        if case.id in seen:
            raise CaseError(f"{where}: duplicate id {case.id!r}")
        seen.add(case.id)
        if category is None or case.category == category:
            cases.append(case)
    return cases
