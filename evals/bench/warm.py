"""``warm``: ``Assistant.ask`` p50/p95 over the eval questions, per backend, in one
loaded assistant."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from assistant.embeddings import BACKENDS

from ..cases import Case
from .context import Context, eval_cases
from .machine import log, ms_since, pass_percentiles
from .report import Row, Section, fmt_ms, runs_text


def time_asks(bot: Any, cases: Sequence[Case]) -> list[float]:
    """Milliseconds of ``bot.ask`` per case (with its history)."""
    out = []
    for case in cases:
        start = time.perf_counter()
        bot.ask(case.question, history=case.history)
        out.append(ms_since(start))
    return out


def bench_warm(ctx: Context) -> Section:
    plan = ctx.plan
    section = Section("warm", "Warm `ask` (5-article corpus, loaded assistant)")
    cases = [c for c in eval_cases(plan.warm_cases) if c.question.strip()]
    for backend in BACKENDS:
        bot = ctx.bot(backend)
        bot.ask("warm-up question about microneedling")
        log(f"warm ask, {backend}: {plan.warm_passes} passes over {len(cases)} questions")
        passes = [time_asks(bot, cases) for _ in range(plan.warm_passes)]
        p50, p95 = pass_percentiles(passes)
        runs = runs_text(plan.warm_passes, "pass") + f" over {len(cases)} questions"
        section.rows += [
            Row(f"warm `ask` p50, {backend}", fmt_ms(p50), "≤ 25 ms", p50 <= 25.0, runs),
            Row(f"warm `ask` p95, {backend}", fmt_ms(p95), "≤ 60 ms", p95 <= 60.0, runs),
        ]
        section.data[backend] = {"p50_ms": p50, "p95_ms": p95, "passes": passes}
    section.notes.append(
        "Every eval question with its history (evals/cases.jsonl; empty-input cases, which "
        "raise before any work, are left out), timed around `Assistant.ask` in-process."
    )
    return section
