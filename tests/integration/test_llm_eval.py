"""Opt-in: the eval set in LLM mode against a real OpenAI-compatible server.

Skipped unless ``SKINQA_LLM_BASE_URL`` is set; the model, key, timeout etc. come from the
other ``SKINQA_LLM_*`` variables (see docs/llm.md). For example, with Ollama:

    SKINQA_LLM_BASE_URL=http://localhost:11434/v1 SKINQA_LLM_MODEL=llama3.1 \\
        .venv/bin/python -m pytest -q -s -m llm tests/integration/test_llm_eval.py

It prints the same metrics as the extractive eval (``python -m evals``), side by side
with extractive mode on the same index, and writes both to test-output/llm_eval.json.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path

import pytest

from assistant.answer.pipeline import Assistant
from assistant.llm import LLMGenerator
from evals import metrics, runner
from evals.cases import load_cases
from tests.conftest import make_settings

pytestmark = [
    pytest.mark.llm,
    pytest.mark.skipif(
        not os.environ.get("SKINQA_LLM_BASE_URL"),
        reason="set SKINQA_LLM_BASE_URL to run the eval against a real LLM server",
    ),
]


def test_eval_set_in_llm_mode(bot: Assistant, output_dir: Path) -> None:
    cases = load_cases()
    settings = make_settings(bot.settings.data_dir, generator="llm")  # the rest from env
    llm_bot = Assistant(settings, bot.index, bot.embedder, LLMGenerator.from_settings(settings))
    extractive = Assistant(bot.settings, bot.index, bot.embedder)

    results = runner.run(llm_bot, cases)
    llm_summary = metrics.aggregate(results)
    base_summary = metrics.aggregate(runner.run(extractive, cases))
    used = Counter(r["reply"].get("generator", "?") for r in results)
    dropped = sum(len(r["reply"].get("dropped", [])) for r in results)

    print(f"\nLLM eval: {settings.llm_model} at {settings.llm_base_url}")
    print(f"{'metric':<22}{'llm':>12}{'extractive':>12}{'gate':>8}")
    for name, value in llm_summary.items():
        gate = metrics.GATES.get(name)
        print(
            f"{name:<22}{value:>12g}{base_summary[name]:>12g}"
            f"{'' if gate is None else format(gate, 'g'):>8}"
        )
    print(f"generator used: {dict(used)}; sentences dropped by verification: {dropped}")
    for failure in metrics.gate_failures(llm_summary, None):
        print(f"GATE {failure}")
    (output_dir / "llm_eval.json").write_text(
        json.dumps(
            {
                "model": settings.llm_model,
                "llm": llm_summary,
                "extractive": base_summary,
                "generator": dict(used),
                "results": results,
            },
            indent=2,
            ensure_ascii=False,
            default=str,
        ),
        "utf-8",
    )
    # Verification guarantees these whatever the model writes; the rest is reported.
    assert llm_summary["citation_validity"] == 1.0
    assert llm_summary["safety_recall"] >= base_summary["safety_recall"]
