"""Safety layer: spot contraindications, personal medical situations and complications.

The topics, their patterns and which vetted notes they carry live in
``data/safety.yaml`` so clinic staff can review them without reading code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources

import yaml


@dataclass(frozen=True)
class SafetyTopic:
    name: str
    patterns: tuple[re.Pattern[str], ...]
    query: str
    caution: tuple[str, ...]  # lower-case substrings a quoted caution passage must contain
    notes: tuple[str, ...]
    urgent: bool = False
    decline: bool = False  # the articles do not cover this situation: decline, with notes
    exclude: tuple[re.Pattern[str], ...] = ()

    def matches(self, text: str) -> bool:
        return any(p.search(text) for p in self.patterns)

    def is_caution(self, sentence: str) -> bool:
        lowered = sentence.lower()
        return any(c in lowered for c in self.caution)


class SafetyRules:
    def __init__(self, topics: list[SafetyTopic]) -> None:
        self.topics = topics

    @classmethod
    def from_package(cls) -> SafetyRules:
        text = resources.files("assistant.data").joinpath("safety.yaml").read_text("utf-8")
        topics = []
        for name, spec in yaml.safe_load(text)["flags"].items():
            topics.append(
                SafetyTopic(
                    name=name,
                    patterns=tuple(re.compile(p, re.IGNORECASE) for p in spec["patterns"]),
                    query=spec.get("query", ""),
                    caution=tuple(c.lower() for c in spec.get("caution", ())),
                    notes=tuple(spec["notes"]),
                    urgent=bool(spec.get("urgent", False)),
                    decline=bool(spec.get("decline", False)),
                    exclude=tuple(
                        re.compile(p, re.IGNORECASE) for p in spec.get("exclude_sentences", ())
                    ),
                )
            )
        return cls(topics)

    def detect(self, text: str) -> list[SafetyTopic]:
        found = [t for t in self.topics if t.matches(text)]
        if len(found) > 1:
            # The catch-all only adds something when no specific topic matched.
            found = [t for t in found if t.name != "medical_condition"]
        return found

    def notes_for(self, topics: list[SafetyTopic]) -> list[str]:
        """Note keys in display order: urgent first, then each key once."""
        keys = [k for t in topics if t.urgent for k in t.notes]
        keys += [k for t in topics for k in t.notes]
        return list(dict.fromkeys(keys))
