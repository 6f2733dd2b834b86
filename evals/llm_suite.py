"""``python -m evals.llm_suite``: LLM mode's adversarial suite, summarised as a table.

Every scripted model output of ``tests/llm_adversarial.yaml`` goes through the real
engine in LLM mode (retrieval, gate, safety, prompt, llama-index's client, verification)
against the scripted OpenAI-compatible server of ``tests/fake_openai.py``; each sentence's
verdict (shown or not) is compared with the verdict the suite expects. The test
``tests/test_llm_adversarial.py`` runs the same outputs and fails on any difference; this
script prints the per-kind table for docs/llm.md.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from assistant.answer.support import strip_markers

SUITE = Path(__file__).resolve().parent.parent / "tests" / "llm_adversarial.yaml"
KINDS = (
    "faithful",
    "fabricated",
    "flipped",
    "number",
    "citation",
    "markup",
    "link",
    "injection",
    "chatter",
)
_SOURCE_BLOCK = re.compile(r"<source n=\"(\d+)\"[^\n]*\n(.*?)\n</source>", re.DOTALL)
_BULLET = re.compile(r"^\s*-\s+")
# What must never reach the shown answer: a tag, an entity, a script or event handler.
_MARKUP = re.compile(r"<[a-z/!]|&#?\w+;|javascript:|onerror|<script", re.IGNORECASE)


class SuiteError(ValueError):
    """The suite file is malformed, or a cited snippet is in no provided source."""


@dataclass(frozen=True)
class Sentence:
    say: str
    kind: str
    expect: str  # "keep" or "drop"
    cite: tuple[str, ...] = ()
    cite_n: tuple[int, ...] = ()
    shown: str | None = None
    miss: str | None = None  # a known miss of the verifier: why it gets this one wrong

    @property
    def text_shown(self) -> str:
        return " ".join((self.shown or self.say).split())


@dataclass(frozen=True)
class Output:
    id: str
    question: str
    sentences: tuple[Sentence, ...]
    caution: str | None = None  # "stated" | "appended" for a flagged question
    inline: bool = False


@dataclass
class Result:
    """What the engine did with one output."""

    output: Output
    kept: list[bool]  # per sentence: shown in the answer
    reply: dict[str, Any]
    appended: list[str] = field(default_factory=list)  # shown lines the model did not write
    problems: list[str] = field(default_factory=list)  # differences from the expectation


def load_suite(path: Path = SUITE) -> tuple[dict[str, str], list[Output]]:
    data = yaml.safe_load(path.read_text("utf-8"))
    questions = {str(k): str(v) for k, v in data["questions"].items()}
    outputs = []
    for raw in data["outputs"]:
        sentences = []
        for s in raw["sentences"]:
            if s["kind"] not in KINDS or s["expect"] not in ("keep", "drop"):
                raise SuiteError(f"{raw['id']}: bad kind or expect in {s}")
            sentences.append(
                Sentence(
                    str(s["say"]),
                    s["kind"],
                    s["expect"],
                    tuple(s.get("cite", ())),
                    tuple(s.get("cite_n", ())),
                    s.get("shown"),
                    s.get("miss"),
                )
            )
        if raw["question"] not in questions:
            raise SuiteError(f"{raw['id']}: unknown question {raw['question']!r}")
        outputs.append(
            Output(
                raw["id"],
                raw["question"],
                tuple(sentences),
                raw.get("caution"),
                raw.get("inline", False),
            )
        )
    ids = [o.id for o in outputs]
    if len(set(ids)) != len(ids):
        raise SuiteError("output ids are not unique")
    return questions, outputs


def provided(request: dict[str, Any]) -> dict[int, str]:
    """The numbered source passages a request to the scripted server carried."""
    user = request["messages"][-1]["content"]
    return {int(n): text for n, text in _SOURCE_BLOCK.findall(user)}


def script_for(output: Output):
    """The scripted server's answer: each snippet becomes the [n] of the source holding it."""

    def content(request: dict[str, Any]) -> str:
        sources = provided(request)
        lines = []
        for s in output.sentences:
            numbers = list(s.cite_n)
            for snippet in s.cite:
                found = [n for n, text in sources.items() if snippet in text]
                if not found:
                    raise SuiteError(f"{output.id}: no provided source holds {snippet!r}")
                numbers.append(found[0])
            marks = "".join(f"[{n}]" for n in numbers)
            lines.append(f"{s.say} {marks}".strip())
        return (" " if output.inline else "\n").join(lines)

    return content


def shown_lines(body: str) -> list[str]:
    """The answer's bullets as plain sentences: no bullet, no markers, spaces collapsed."""
    out = []
    for line in body.splitlines():
        if _BULLET.match(line):
            out.append(" ".join(strip_markers(_BULLET.sub("", line)).split()))
    return out


def run_output(bot: Any, fake: Any, questions: dict[str, str], output: Output) -> Result:
    """Ask ``output``'s question of ``bot`` (LLM mode on ``fake``) with the output scripted."""
    fake.reset()
    errors: list[BaseException] = []
    script = script_for(output)

    def guarded(request: dict[str, Any]) -> str:
        try:
            return script(request)
        except SuiteError as err:  # reported below, not lost in the server thread
            errors.append(err)
            return ""

    fake.push(guarded)
    reply = bot.ask(questions[output.question])
    if errors:
        raise errors[0]
    data = reply.to_dict()
    lines = shown_lines(data["body"]) if data["generator"].startswith("llm") else []
    kept = [s.text_shown in lines for s in output.sentences]
    model_lines = {s.text_shown for s in output.sentences}
    result = Result(output, kept, data, [line for line in lines if line not in model_lines])
    result.problems = expectation_problems(result)
    return result


def expectation_problems(result: Result) -> list[str]:
    out = result.output
    data = result.reply
    problems = []
    for s, kept in zip(out.sentences, result.kept, strict=True):
        right = kept == (s.expect == "keep")
        if not right and s.miss is None:
            problems.append(
                f"{'shown' if kept else 'not shown'} ({s.kind}, expected {s.expect}): {s.say!r}"
            )
        elif right and s.miss is not None:  # strict: a fixed miss must leave the list
            problems.append(f"a known miss is now right, drop its `miss`: {s.say!r}")
    if _MARKUP.search(data["answer"]) or _MARKUP.search(data["body"]):
        problems.append("markup in the shown answer")
    # Every removed sentence with words left in it is listed for staff, with a reason.
    removed = [
        s
        for s, kept in zip(out.sentences, result.kept, strict=True)
        if not kept and re.search(r"[A-Za-z]{3}", re.sub(r"<[^>]*>|&\w+;", " ", s.say))
    ]
    if len(data["dropped"]) < len(removed):
        problems.append(f"{len(removed)} sentences removed, {len(data['dropped'])} listed")
    if data["safety"] and out.caution is None:
        problems.append(f"question flagged {data['safety']}: the output needs `caution`")
    if out.caution == "stated" and result.appended:
        problems.append(f"caution was stated, yet lines were appended: {result.appended}")
    if out.caution == "appended" and data["generator"].startswith("llm"):
        quotes = [c["text"] for c in data["citations"]]
        if not any(any(line.rstrip(".") in q for q in quotes) for line in result.appended):
            problems.append("the caution the model left out was not appended as a quote")
    return problems


def tally(results: Sequence[Result]) -> dict[str, Counter[str]]:
    """Per sentence kind: how many were expected shown, shown, not shown, and wrong."""
    table: dict[str, Counter[str]] = {k: Counter() for k in KINDS}
    for r in results:
        for s, kept in zip(r.output.sentences, r.kept, strict=True):
            row = table[s.kind]
            row["sentences"] += 1
            row["expected_kept"] += s.expect == "keep"
            row["kept"] += kept
            row["dropped"] += not kept
            row["wrong"] += kept != (s.expect == "keep")
    return table


def markdown(results: Sequence[Result]) -> str:
    table = tally(results)
    lines = [
        "| kind | sentences | kept | dropped | expected kept | differing from expected |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for kind, row in table.items():
        if row["sentences"]:
            lines.append(
                f"| {kind} | {row['sentences']} | {row['kept']} | {row['dropped']} | "
                f"{row['expected_kept']} | {row['wrong']} |"
            )
    flagged = [r for r in results if r.reply["safety"]]
    stated = sum(not any("caution" in p or "appended" in p for p in r.problems) for r in flagged)
    markup = sum("markup in the shown answer" in r.problems for r in results)
    faithful = table["faithful"]
    bad = sum(table[k]["kept"] for k in ("fabricated", "flipped", "number"))
    lines += [
        "",
        f"- outputs: {len(results)}, sentences: {sum(len(r.kept) for r in results)}, "
        f"questions: {len({r.output.question for r in results})}",
        f"- faithful paraphrases kept: {faithful['kept']}/{faithful['sentences']} "
        f"({faithful['kept'] / max(faithful['sentences'], 1):.2f})",
        f"- fabricated, flipped or mis-numbered sentences shown: {bad}",
        f"- answers with markup: {markup}",
        f"- flagged questions with the caution stated in the shown answer: {stated}/{len(flagged)}",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.llm_suite")
    parser.add_argument("--suite", type=Path, default=SUITE)
    parser.add_argument("--verbose", action="store_true", help="list every difference")
    parser.add_argument(
        "--skip-missing",
        action="store_true",
        help="skip (and list) outputs citing a passage the engine no longer provides",
    )
    args = parser.parse_args(argv)

    import assistant
    from assistant.answer.pipeline import Assistant
    from assistant.llm import LLMGenerator
    from assistant.settings import Settings
    from tests.fake_openai import FakeOpenAI

    questions, outputs = load_suite(args.suite)
    base = assistant.load()
    with FakeOpenAI() as fake:
        settings = Settings(
            generator="llm", llm_base_url=fake.base_url, llm_model="scripted", llm_timeout=5.0
        )
        bot = Assistant(settings, base.index, base.embedder, LLMGenerator.from_settings(settings))
        results, skipped = [], []
        for output in outputs:
            try:
                results.append(run_output(bot, fake, questions, output))
            except SuiteError as err:
                if not args.skip_missing:
                    raise
                skipped.append(str(err))
    print(markdown(results))
    for reason in skipped:
        print(f"skipped {reason}")
    wrong = [r for r in results if r.problems]
    for r in wrong if args.verbose else []:
        for p in r.problems:
            print(f"{r.output.id}: {p}")
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
