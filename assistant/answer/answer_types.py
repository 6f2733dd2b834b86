"""Answer types: what a quote must hold for a question to count as answered.

A question asking for a percentage or a price needs one quoted; a question whether the
treatment changes something ("get rid of moles?") needs a quote naming that thing with
an effect. The patterns live in ``data/answer_types.yaml``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib import resources

import yaml


@dataclass(frozen=True)
class AnswerType:
    name: str
    question: re.Pattern[str]
    answer: re.Pattern[str]


def _pattern(text: str) -> re.Pattern[str]:
    # Long patterns are folded over lines in the YAML file; the folds are not spaces.
    return re.compile("".join(line.strip() for line in text.splitlines()), re.IGNORECASE)


@dataclass(frozen=True)
class EffectCheck:
    questions: tuple[re.Pattern[str], ...]  # each captures the thing asked about as ``object``
    answer: re.Pattern[str]  # an effect: "reduce", "fade", "less noticeable", ...

    def missing(
        self, question: str, quotes: Iterable[str], terms: Callable[[str], set[str]]
    ) -> bool:
        """True when the question asks whether the treatment changes a thing and no quote
        names that thing (``terms`` of both compared) together with an effect."""
        asked = next((m for p in self.questions if (m := p.search(question))), None)
        wanted = terms(asked.group("object")) if asked else set()
        if not wanted:
            return False
        return not any(self.answer.search(q) and wanted & terms(q) for q in quotes)


class AnswerTypes:
    def __init__(
        self,
        types: list[AnswerType],
        effect: EffectCheck | None = None,
        evidence: list[AnswerType] | None = None,
    ) -> None:
        self.types = types
        self.effect = effect
        self.evidence = evidence or []

    @classmethod
    def from_package(cls) -> AnswerTypes:
        text = resources.files("assistant.data").joinpath("answer_types.yaml").read_text("utf-8")
        data = yaml.safe_load(text)

        def kinds(section: str) -> list[AnswerType]:
            return [
                AnswerType(name, _pattern(spec["question"]), _pattern(spec["answer"]))
                for name, spec in (data.get(section) or {}).items()
            ]

        effect = data.get("effect")
        check = None
        if effect:
            asks = effect["question"]
            patterns = tuple(_pattern(q) for q in ([asks] if isinstance(asks, str) else asks))
            check = EffectCheck(patterns, _pattern(effect["answer"]))
        return cls(kinds("types"), check, kinds("evidence"))

    def asked(self, question: str) -> AnswerType | None:
        """The kind of value the question asks for, if it asks for one."""
        return next((t for t in self.types if t.question.search(question)), None)

    def evidence_for(self, question: str) -> AnswerType | None:
        """The kind of value whose presence in a sentence counts as evidence of an answer:
        one the question asks for (price, ...) or an evidence-only kind (a span of time)."""
        return self.asked(question) or next(
            (t for t in self.evidence if t.question.search(question)), None
        )

    def missing(self, question: str, quotes: Iterable[str]) -> str | None:
        """The kind asked for when no quote holds one; None when answered or not asked."""
        kind = self.asked(question)
        if kind is None or any(kind.answer.search(q) for q in quotes):
            return None
        return kind.name
