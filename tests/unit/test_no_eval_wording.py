"""No unit or integration test copies an eval set's wording.

How the assistant does on the eval questions is the eval's job (``python -m evals``); a test
that asks an eval question pins the engine to that wording, so a change that improves the
metrics can fail it. Tests write their own questions.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from ..conftest import ROOT

# Files not yet rewritten, and why. Remove an entry once its file passes.
PENDING = {}
MIN_CONTAINED = 30  # a test string may not contain an eval question this long or longer
# Shorter eval questions ("hi", "does it hurt") are everyday phrases, not copied wording:
# a test may use them as long as they are not all it asks.
MIN_WORDS = 4


def normal(text: str) -> str:
    return " ".join(text.lower().split())


def eval_wording() -> dict[str, str]:
    """Every question and user turn of evals/*.jsonl, normalised -> where it comes from."""
    found: dict[str, str] = {}
    for path in sorted((ROOT / "evals").glob("*.jsonl")):
        for number, line in enumerate(path.read_text("utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            case = json.loads(line)
            turns = [t for t in case.get("history") or [] if isinstance(t, dict)]
            texts = [case.get("question")] + [
                t.get("content") for t in turns if t.get("role") == "user"
            ]
            for text in texts:
                if isinstance(text, str) and text.strip():
                    found.setdefault(normal(text), f"{path.name}:{number}")
    return found


def tier_files() -> list[Path]:
    tiers = [ROOT / "tests" / "unit", ROOT / "tests" / "integration"]
    return sorted(p for tier in tiers for p in tier.rglob("*.py"))


def copied(path: Path, wording: dict[str, str]) -> list[str]:
    problems = []
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if not (isinstance(node, ast.Constant) and isinstance(node.value, str)):
            continue
        text = normal(node.value)
        if text in wording and len(text.split()) >= MIN_WORDS:
            problems.append(f"line {node.lineno}: {node.value!r} is {wording[text]}")
            continue
        for question, where in wording.items():
            if len(question) >= MIN_CONTAINED and question in text:
                problems.append(f"line {node.lineno}: contains {question!r} ({where})")
    return problems


@pytest.fixture(scope="module")
def wording() -> dict[str, str]:
    found = eval_wording()
    assert len(found) > 400  # the five eval sets and the realistic set were read
    return found


@pytest.mark.parametrize("path", tier_files(), ids=lambda p: str(p.relative_to(ROOT / "tests")))
def test_no_eval_question_in_a_test(path: Path, wording: dict[str, str]) -> None:
    name = str(path.relative_to(ROOT))
    problems = copied(path, wording)
    if name in PENDING:
        assert problems, f"{name} has no eval wording any more: remove it from PENDING"
        pytest.skip(f"pending: {PENDING[name]}")
    assert not problems, "\n".join(problems)


def test_the_check_finds_a_copied_question(tmp_path: Path, wording: dict[str, str]) -> None:
    question = next(q for q in wording if len(q) >= MIN_CONTAINED)
    sample = tmp_path / "test_sample.py"
    sample.write_text(f"QUESTIONS = ['Is the needling painful?', {question.upper()!r}]\n")
    assert [p.split(":")[0] for p in copied(sample, wording)] == ["line 1"]
    sample.write_text(f"X = (\n    'Context: {question}  and more'\n)\n")
    assert copied(sample, wording)[0].startswith(f"line 2: contains {question!r}")
    sample.write_text("QUESTIONS = ['Is the needling painful?']\n")
    assert copied(sample, wording) == []
