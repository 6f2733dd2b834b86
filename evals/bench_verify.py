"""``python -m evals.bench_verify``: CPU time of LLM mode's verification per answer.

For each question of the adversarial suite (tests/llm_adversarial.yaml) the engine picks
the sources it would give the model; a 3-sentence "model answer" restates the first
sentence of three of them, each cited. The ``Verifier`` then checks it, and the CPU time
of the whole process (``time.process_time``: every thread, the model runtime's too) is
taken per answer:

- ``whole``: the answer arrives at once (the JSON API, a fast server): one model call;
- ``streamed``: its sentences settle one at a time (a slow stream): one call each;
- ``cold``: a new checker for every answer, so the cited sentences are embedded too
  (the first questions after a start); ``warm`` answers find them kept.

Figures are medians (p50) and 95th percentiles over ``--passes`` passes of all answers.
The target (issue 16) is p50 <= 30 ms CPU for a 3-sentence answer.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .llm_suite import load_suite

ROOT = Path(__file__).resolve().parent.parent


def answers(bot: Any, questions: list[str]) -> list[tuple[list[Any], list[str]]]:
    """(provided sources, 3 cited sentences) for each question the engine answers."""
    from assistant.answer.support import passage_units
    from assistant.llm.prompt import provided_sources

    out = []
    for question in questions:
        reply = bot.ask(question)
        sources = provided_sources(reply, reply.hits, bot.safety_rules.detect(question), 8)
        lines = []
        for source in sources:
            units = [u for u in passage_units(source.text) if len(u.split()) >= 5]
            if units:
                lines.append(f"{units[0]} [{source.n}]")
            if len(lines) == 3:
                break
        if len(lines) == 3:
            out.append((sources, lines))
    return out


def cpu_ms(run: Any) -> float:
    start = time.process_time()
    run()
    return (time.process_time() - start) * 1000


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.bench_verify")
    parser.add_argument("--passes", type=int, default=5)
    args = parser.parse_args(argv)

    import assistant
    from assistant.llm.prompt import Prompts
    from assistant.llm.verify import Verifier

    bot = assistant.load()
    prompts = Prompts.from_package()
    questions, _ = load_suite()
    cases = answers(bot, list(questions.values()))

    def verify(checker: Any, sources: list[Any], lines: list[str], streamed: bool) -> None:
        verifier = Verifier(checker, sources, [], prompts.cannot_answer)
        if streamed:
            text = ""
            for line in lines:  # each sentence settles when the next one starts
                text += line + "\n"
                verifier.feed(text + "Next")
            verifier.feed(text, final=True)
        else:
            verifier.feed("\n".join(lines), final=True)
        assert verifier.kept or verifier.dropped

    figures: dict[str, list[float]] = {}
    warm = bot.support_checker()
    for sources, lines in cases:  # fill the kept vectors once
        verify(warm, sources, lines, streamed=False)
    for _ in range(args.passes):
        for sources, lines in cases:
            figures.setdefault("warm, whole", []).append(
                cpu_ms(lambda s=sources, ln=lines: verify(warm, s, ln, streamed=False))
            )
            figures.setdefault("warm, streamed", []).append(
                cpu_ms(lambda s=sources, ln=lines: verify(warm, s, ln, streamed=True))
            )
            cold = type(warm)(
                warm.embedder,
                warm.analyzer,
                min_similarity=warm.min_similarity,
                min_recall=warm.min_recall,
                min_similarity_all_words=warm.min_similarity_all_words,
            )
            figures.setdefault("cold, whole", []).append(
                cpu_ms(lambda c=cold, s=sources, ln=lines: verify(c, s, ln, streamed=False))
            )
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    print(f"LLM verification CPU per 3-sentence answer ({when}, commit {commit})")
    print(f"{len(cases)} answers x {args.passes} passes; target: p50 <= 30 ms (warm, whole)")
    print(f"{'':<16}{'p50 ms':>10}{'p95 ms':>10}{'mean ms':>10}")
    for name, values in figures.items():
        print(
            f"{name:<16}{percentile(values, 0.5):>10.1f}{percentile(values, 0.95):>10.1f}"
            f"{statistics.fmean(values):>10.1f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
