"""``python -m evals.llm_promotion``: what LLM mode does to ``related`` replies, measured
on the eval sets with scripted models (no real model; the scripted OpenAI-compatible
server of ``tests/fake_openai.py``).

A reply the engine can only call ``related`` is sent to the model with the same
sources; a verified answer (one supported sentence or more) is shown as an ``answer``
(``generator="llm-promoted"``). Three scripted models show what that does:

- ``paraphraser``: a perfect model. From each provided source that is a gold source of
  the case it restates (lightly reworded) the sentence sharing most words with the
  question, with its number, and says it cannot answer when no gold source was provided.
- ``confabulator``: a model that invents. It rewrites the first sentence of each of the
  first three sources into something false (another number, a negation taken out or
  put in, the opposite direction), or writes a claim of its own, each cited.
- ``quoter``: an eager model. It restates the first provided source whatever the
  question: how far verification alone would let an unsure reply become an answer.

For each set and model: the replies the engine called related, how many the model was
asked about, how many were promoted (split by what the case expects), and the model's
sentences written and shown (in promoted replies, and in answers the model rewrote);
for the confabulator, any invented sentence shown is a verification failure.

By default a promoted answer must also name the question's key term (the generator's
``promote_needs_subject``); ``--no-subject-check`` measures promotion on verification
alone.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from assistant.answer.support import passage_units
from assistant.text import split_sentences

from .cases import Case, load_cases, section_matches
from .llm_suite import shown_lines

HERE = Path(__file__).resolve().parent
SETS = ("cases", "heldout", "heldout2", "heldout3", "heldout4")
_SOURCE = re.compile(
    r'<source n="(\d+)" title="([^"]*)" section="([^"]*)">\n(.*?)\n</source>', re.DOTALL
)
# The paraphraser's rewording: meaning-preserving swaps a careful writer makes.
_REWORDING = (
    (r"\bdoesn['’]t\b", "does not"),
    (r"\bdon['’]t\b", "do not"),
    (r"\bisn['’]t\b", "is not"),
    (r"\bwon['’]t\b", "will not"),
    (r"\bit['’]s\b", "it is"),
    (r"\byou['’]ll\b", "you will"),
    (r"\btypically\b", "usually"),
    (r"\bapproximately\b", "about"),
    (r"\bhelp to\b", "help"),
)
_LABEL = re.compile(r"^(?:[A-Z][\w /-]{0,40}):\s+(?=[A-Z])")  # "Example: ", "How it works: "
_SWAPS = (
    (r"\bnot\s+", ""),
    (r"\bno\b", "some"),
    (r"\bavoid\b", "try"),
    (r"\bwithout\b", "with"),
    (r"\breduce(s|d)?\b", "increase"),
    (r"\bincrease(s|d)?\b", "reduce"),
    (r"\bless\b", "more"),
    (r"\bmore\b", "less"),
    (r"\bbefore\b", "after"),
    (r"\bafter\b", "before"),
)
_NUMBER = re.compile(r"\d+(?:\.\d+)?")


def provided(request: dict[str, Any]) -> list[tuple[int, str, str, str]]:
    """(n, title, section, text) of every source a request carried."""
    user = request["messages"][-1]["content"]
    return [(int(n), t, s, x) for n, t, s, x in _SOURCE.findall(user)]


def sentences_of(text: str) -> list[str]:
    """The passage's sentences of five words or more, one sentence each."""
    units = passage_units(text)
    return [u for u in units if len(u.split()) >= 5 and len(split_sentences(u)) == 1]


def first_sentence(text: str) -> str:
    units = sentences_of(text)
    return _LABEL.sub("", units[0] if units else text.strip()).strip()


def answering_sentence(text: str, question: str) -> str:
    """The sentence of a passage sharing most words with the question (a perfect model
    answers the question, not the passage's first line)."""
    asked = set(re.findall(r"[a-z]{3,}", question.lower()))
    units = sentences_of(text) or [text.strip()]
    best = max(units, key=lambda u: len(asked & set(re.findall(r"[a-z]{3,}", u.lower()))))
    return _LABEL.sub("", best).strip()


def reword(sentence: str) -> str:
    for pattern, repl in _REWORDING:
        sentence = re.sub(pattern, repl, sentence, flags=re.IGNORECASE)
    return sentence


def falsify(sentence: str) -> str | None:
    """The sentence made false: another number, else a negation or direction turned."""
    if _NUMBER.search(sentence):
        return _NUMBER.sub(lambda m: str(int(float(m.group()) * 3 + 1)), sentence, count=1)
    for pattern, repl in _SWAPS:
        if re.search(pattern, sentence, re.IGNORECASE):
            return re.sub(pattern, repl, sentence, count=1, flags=re.IGNORECASE)
    return None


class Scripts:
    """The scripted models, reading the case being asked from ``self.case``."""

    def __init__(self, titles: dict[str, str], cannot_answer: str) -> None:
        self.titles = titles  # title as the prompt shows it -> doc id
        self.cannot_answer = cannot_answer
        self.case: Case | None = None
        self.written: list[str] = []  # what the model said for the current case
        self.debug = False

    def gold(self, title: str, section: str) -> bool:
        doc = self.titles.get(title)
        return any(
            g["doc_id"] == doc and section_matches(section, g["section"])
            for g in (self.case.gold_sources if self.case else [])
        )

    def _say(self, lines: list[str]) -> str:
        self.written = lines
        return "\n".join(lines) if lines else self.cannot_answer

    def paraphraser(self, request: dict[str, Any]) -> str:
        gold = [(n, x) for n, t, s, x in provided(request) if self.gold(t, s)][:3]
        question = self.case.question if self.case else ""
        return self._say([f"{reword(answering_sentence(x, question))} [{n}]" for n, x in gold])

    def confabulator(self, request: dict[str, Any]) -> str:
        lines = []
        for n, _, _, text in provided(request)[:3]:
            false = falsify(first_sentence(text))
            if false is None:
                topic = " ".join(re.findall(r"[a-z]{4,}", self.case.question.lower())[:3])
                false = f"Microneedling permanently cures {topic} after a single session."
            lines.append(f"{false} [{n}]")
        return self._say(lines)

    def quoter(self, request: dict[str, Any]) -> str:
        sources = provided(request)[:1]
        return self._say([f"{reword(first_sentence(x))} [{n}]" for n, _, _, x in sources])


def run(bot: Any, fake: Any, cases: list[Case], script: Callable, scripts: Scripts) -> Counter:
    tally: Counter[str] = Counter()
    for case in cases:
        if not case.question.strip():
            continue
        scripts.case, scripts.written = case, []
        fake.reset()
        fake.push(script)
        reply = bot.ask(case.question, history=case.history)
        asked = len(fake.requests) > 0
        tally["cases"] += 1
        tally["llm calls"] += asked
        tally["model sentences written"] += len(scripts.written)
        lines = shown_lines(reply.body) if reply.generator.startswith("llm") else []
        shown = sum(
            " ".join(re.sub(r"\s*\[\d+\]", "", w).split()) in lines for w in scripts.written
        )
        was_related = reply.generator == "llm-promoted" or reply.outcome.value == "related"
        if not was_related:
            tally["answers rewritten"] += reply.generator == "llm"
            tally["model sentences shown in answers"] += shown
            if shown and scripts.debug:
                kept = [w for w in scripts.written if re.sub(r"\s*\[\d+\]", "", w) in lines]
                print(f"  shown in an answer ({case.id}): {kept}", file=sys.stderr)
            continue
        tally["related"] += 1
        tally["related sent to the model"] += asked
        if reply.generator == "llm-promoted":
            tally["promoted"] += 1
            tally[f"promoted, case expects {case.expect}"] += 1
            tally["model sentences shown"] += shown
        else:
            tally["stayed related"] += 1
        tally["model sentences dropped"] += sum(bool(d.get("sentence")) for d in reply.dropped)
    return tally


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.llm_promotion")
    parser.add_argument("--sets", nargs="*", default=list(SETS), help="eval sets by name")
    parser.add_argument("--models", nargs="*", default=["paraphraser", "confabulator", "quoter"])
    parser.add_argument("--debug", action="store_true", help="print shown model sentences")
    parser.add_argument(
        "--no-subject-check",
        action="store_true",
        help="what-if: promote without requiring the answer to name the question's key term",
    )
    args = parser.parse_args(argv)

    import assistant
    from assistant.answer.pipeline import Assistant
    from assistant.llm import LLMGenerator
    from assistant.settings import Settings
    from tests.fake_openai import FakeOpenAI

    base = assistant.load()
    titles = {
        str(meta.get("title", doc)).replace('"', "'"): doc
        for doc, meta in base.index.documents().items()
    }
    with FakeOpenAI() as fake:
        settings = Settings(
            generator="llm", llm_base_url=fake.base_url, llm_model="scripted", llm_timeout=5.0
        )
        generator = LLMGenerator.from_settings(settings)
        generator.promote_needs_subject = not args.no_subject_check
        bot = Assistant(settings, base.index, base.embedder, generator)
        scripts = Scripts(titles, generator.prompts.cannot_answer)
        scripts.debug = args.debug
        rows = []
        for name in args.sets:
            cases = load_cases(HERE / f"{name}.jsonl")
            for model in args.models:
                tally = run(bot, fake, cases, getattr(scripts, model), scripts)
                rows.append((name, model, tally))
                print(f"{name:<10} {model:<13} {dict(sorted(tally.items()))}", flush=True)
    keys = [
        "cases",
        "related",
        "related sent to the model",
        "promoted",
        "promoted, case expects answer",
        "promoted, case expects abstain",
        "stayed related",
        "model sentences written",
        "model sentences shown",
        "model sentences shown in answers",
    ]
    print("\n| set | model | " + " | ".join(keys) + " |")
    print("|---|---|" + "---:|" * len(keys))
    for name, model, tally in rows:
        print(f"| {name} | {model} | " + " | ".join(str(tally[k]) for k in keys) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
