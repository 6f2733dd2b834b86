"""Safety layer: spot contraindications, personal medical situations and complications,
and quote the caution passages a flagged question needs.

The topics, their patterns and which vetted notes they carry live in
``data/safety.yaml`` so clinic staff can review them without reading code. Whatever
the answer quotes, a question that raises a topic ("I'm pregnant, ...") also quotes,
with citations, up to ``Tuning.caution_sources`` passages that state the caution,
found by retrieving with the topic's own query.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from ..data import load_yaml
from ..index.analyzer import Analyzer
from ..text import typo_of
from ..tuning import Tuning
from . import compose
from .live import Snapshot

_WORD = re.compile(r"[A-Za-z]+")


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
    """The topics of ``data/safety.yaml`` and the spellings their typos are read as."""

    def __init__(self, topics: list[SafetyTopic], spellings: frozenset[str] = frozenset()) -> None:
        self.topics = topics
        self.spellings = spellings

    @classmethod
    def from_package(cls) -> SafetyRules:
        data = load_yaml("safety.yaml")
        topics = []
        for name, spec in data["flags"].items():
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
        return cls(topics, frozenset(str(w).lower() for w in data.get("spellings", ())))

    def spelled(self, text: str) -> str:
        """The text with typos of the listed spellings corrected ("im pregant" -> "im
        pregnant"); other words as they are."""
        return _WORD.sub(lambda m: typo_of(m.group(), self.spellings) or m.group(), text)

    def detect(self, text: str) -> list[SafetyTopic]:
        """The topics a text raises, read as typed and with its typos corrected."""
        spelled = self.spelled(text)
        found = [t for t in self.topics if t.matches(text) or t.matches(spelled)]
        if len(found) > 1:
            # The catch-all only adds something when no specific topic matched.
            found = [t for t in found if t.name != "medical_condition"]
        return found

    def notes_for(self, topics: list[SafetyTopic]) -> list[str]:
        """Note keys in display order: urgent first, then each key once."""
        keys = [k for t in topics if t.urgent for k in t.notes]
        keys += [k for t in topics for k in t.notes]
        return list(dict.fromkeys(keys))


def add_cautions(
    live: Snapshot,
    picked: list[compose.Candidate],
    topics: list[SafetyTopic],
    analyzer: Analyzer,
    query_vectors: dict[str, np.ndarray],
    tuning: Tuning,
) -> list[compose.Candidate]:
    """``picked`` plus, for each topic none of them covers, its caution passages.

    ``query_vectors`` caches the topics' query embeddings (fixed texts) across questions.
    """
    picked = list(picked)
    for topic in topics:
        if any(topic.is_caution(p.sentence.text) for p in picked):
            continue
        vector = query_vectors.get(topic.query)
        if vector is None:
            vector = query_vectors[topic.query] = live.retriever.embed_query(topic.query)
        retrieval = live.retriever.retrieve_vector(
            topic.query, vector, top_k=tuning.caution_candidates
        )
        rows = [live.retriever.row_of(h) for h in retrieval.hits]
        pool = compose.candidates(
            live.index,
            retrieval.hits,
            rows,
            retrieval.query_vector,
            analyzer,
            live.vocabulary.weights(topic.query),
            tuning,
        )
        docs: set[str] = set()  # one passage per article: two voices, not one twice
        exclude = [p for t in topics for p in t.exclude]
        for cand in pool:
            if (
                topic.is_caution(cand.sentence.text)
                and not any(p.search(cand.sentence.text) for p in exclude)
                and cand.chunk.doc_id not in docs
                and all(p.sentence != cand.sentence for p in picked)
            ):
                picked.append(cand)
                docs.add(cand.chunk.doc_id)
            if len(docs) >= tuning.caution_sources:
                break
    return picked
