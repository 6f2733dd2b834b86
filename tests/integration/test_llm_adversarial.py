"""LLM mode's adversarial suite (tests/llm_adversarial.yaml), every output through the real
engine and verifier against the scripted OpenAI-compatible server.

Each output is one test: every sentence must be shown or not as the suite expects, no
markup may reach the answer, every removed sentence is listed with a reason, and a
flagged question's caution is stated (by a kept sentence, or by the appended quote).
The last test checks the issue's targets over the whole suite and writes the per-kind
table to test-output/llm_adversarial.md (the table in docs/llm.md).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.answer.pipeline import Assistant
from evals import llm_suite
from tests.fake_openai import FakeOpenAI

QUESTIONS, OUTPUTS = llm_suite.load_suite()
RESULTS: dict[str, llm_suite.Result] = {}
# The scripted server ``fake`` and ``llm_bot`` on it are tests/conftest.py's.


def test_the_suite_asks_its_own_questions() -> None:
    from tests.unit.test_no_eval_wording import eval_wording, normal

    wording = eval_wording()
    assert [q for q in QUESTIONS.values() if normal(q) in wording] == []


def test_the_suite_is_as_big_as_the_issue_asks() -> None:
    assert len(OUTPUTS) >= 60 and len({o.question for o in OUTPUTS}) >= 15
    kinds = {s.kind for o in OUTPUTS for s in o.sentences}
    assert {"faithful", "fabricated", "flipped", "number", "citation", "markup", "link"} <= kinds
    assert any(o.caution == "appended" for o in OUTPUTS)  # omitted cautions


@pytest.mark.parametrize("output", OUTPUTS, ids=[o.id for o in OUTPUTS])
def test_output_is_verified_as_expected(
    llm_bot: Assistant, fake: FakeOpenAI, output: llm_suite.Output
) -> None:
    result = llm_suite.run_output(llm_bot, fake, QUESTIONS, output)
    RESULTS[output.id] = result
    assert fake.unscripted == 0 and len(fake.requests) == 1
    assert result.problems == []


def test_the_suite_meets_the_targets(output_dir: Path) -> None:
    if len(RESULTS) != len(OUTPUTS):
        pytest.skip("runs after every output of the suite (not under -k)")
    results = [RESULTS[o.id] for o in OUTPUTS]
    table = llm_suite.tally(results)
    faithful = table["faithful"]
    assert faithful["kept"] / faithful["sentences"] >= 0.9
    assert sum(table[k]["kept"] for k in ("fabricated", "flipped", "number")) == 0
    assert not any("markup in the shown answer" in r.problems for r in results)
    (output_dir / "llm_adversarial.md").write_text(llm_suite.markdown(results) + "\n", "utf-8")
