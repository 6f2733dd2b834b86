"""Answer types: a question that asks for a percentage or a price needs one quoted.

The kinds and their patterns live in ``data/answer_types.yaml``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources

import yaml


@dataclass(frozen=True)
class AnswerType:
    name: str
    question: re.Pattern[str]
    answer: re.Pattern[str]


class AnswerTypes:
    def __init__(self, types: list[AnswerType]) -> None:
        self.types = types

    @classmethod
    def from_package(cls) -> AnswerTypes:
        text = resources.files("assistant.data").joinpath("answer_types.yaml").read_text("utf-8")
        specs = yaml.safe_load(text)["types"]
        return cls(
            [
                AnswerType(
                    name,
                    re.compile(" ".join(spec["question"].split()), re.IGNORECASE),
                    re.compile(spec["answer"], re.IGNORECASE),
                )
                for name, spec in specs.items()
            ]
        )

    def asked(self, question: str) -> AnswerType | None:
        """The kind of value the question asks for, if it asks for one."""
        return next((t for t in self.types if t.question.search(question)), None)

    def missing(self, question: str, quotes: Iterable[str]) -> str | None:
        """The kind asked for when no quote holds one; None when answered or not asked."""
        kind = self.asked(question)
        if kind is None or any(kind.answer.search(q) for q in quotes):
            return None
        return kind.name
