"""Suggested next questions: 2-3 chips under an answer, chosen from ``data/followups.yaml``.

The chips follow the topic of the answer's lead passage (its article section), never a
model. A decline gets none, nor does small talk that ends the conversation ("bye",
"thanks"); other small talk ("hi") gets the starter topics.

>>> s = Suggester.from_package()
>>> s.topic_of("womens-health-microneedling-basics", "What’s the Pain Like?")
'pain'
>>> s.suggest("pain", asked=["How long does redness last after microneedling?"])[:2]
['Can I wear makeup after microneedling?', 'How should I prepare for microneedling?']
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from ..data import load_yaml, read_text
from .repeats import Repeats

MAX_CHIPS = 3


@dataclass(frozen=True)
class Topic:
    name: str
    sections: tuple[tuple[str, str], ...]  # (doc id, heading-path prefix; "" = whole doc)
    questions: tuple[str, ...]
    next: tuple[str, ...]


def _words(text: str) -> frozenset[str]:
    """The topic words of a question, crudely singular: 'How many sessions will I need?'
    -> {'many', 'session', 'need'}."""
    words = re.findall(r"[a-z]+", text.lower())
    return frozenset(w.removesuffix("s") for w in words if w not in _stopwords())


@lru_cache(maxsize=1)
def _stopwords() -> frozenset[str]:
    lines = (ln for ln in read_text("stopwords.txt").splitlines() if not ln.startswith("#"))
    return frozenset(w for ln in lines for w in ln.split()) | {"microneedling"}


def _covered(question: str, asked: list[frozenset[str]]) -> bool:
    """Whether a message already asked it: all its topic words are in one message."""
    words = _words(question)
    return bool(words) and any(words <= other for other in asked)


class Suggester:
    def __init__(
        self,
        topics: dict[str, Topic],
        start: Sequence[str],
        closing: Iterable[str] = (),
        repeats: Repeats | None = None,
    ) -> None:
        self.topics = topics
        self.start = tuple(start)
        self.closing = frozenset(closing)  # small-talk kinds that get no chips
        # Finds questions asked in other words; without it, only in the same words.
        self.repeats = repeats
        unknown = [n for t in topics.values() for n in t.next if n not in topics]
        unknown += [n for n in self.start if n not in topics]
        if unknown:
            raise ValueError(f"followups.yaml: unknown topics {sorted(set(unknown))}")

    @classmethod
    def from_package(cls, repeats: Repeats | None = None) -> Suggester:
        data = load_yaml("followups.yaml")
        topics = {}
        for name, spec in data["topics"].items():
            sections = []
            for entry in spec["sections"]:
                doc_id, _, prefix = (part.strip() for part in entry.partition(" > "))
                sections.append((doc_id, prefix))
            topics[name] = Topic(
                name, tuple(sections), tuple(spec["questions"]), tuple(spec["next"])
            )
        kinds = load_yaml("conversation.yaml")["small_talk"]
        unknown = sorted(set(data["closing"]) - set(kinds))
        if unknown:
            raise ValueError(f"followups.yaml: unknown small-talk kinds {unknown}")
        return cls(topics, data["start"], data["closing"], repeats)

    def questions(self) -> list[str]:
        """Every question the chips can offer (each must be one the articles answer)."""
        return [q for t in self.topics.values() for q in t.questions]

    def topic_of(self, doc_id: str, section: str) -> str | None:
        """The topic whose section prefix matches longest; None if none does."""
        best, length = None, -1
        for topic in self.topics.values():
            for doc, prefix in topic.sections:
                if doc == doc_id and section.startswith(prefix) and len(prefix) > length:
                    best, length = topic.name, len(prefix)
        return best

    def suggest(
        self, topic: str | None, asked: Iterable[str], shown: Iterable[str] = ()
    ) -> list[str]:
        """Up to three questions: the first unasked one of each next topic, then more.

        Questions the conversation asked (in any words) are left out; ones the page
        showed under recent answers (``shown``) come last.
        """
        order = self.topics[topic].next if topic in self.topics else self.start
        asked = list(asked)
        said = [_words(q) for q in asked]
        candidates = list(dict.fromkeys(q for n in order for q in self.topics[n].questions))
        same = self.repeats.repeated(candidates, asked) if self.repeats else set()
        recent = set(shown)
        pools = [
            sorted(
                (q for q in self.topics[n].questions if q not in same and not _covered(q, said)),
                key=lambda q: q in recent,  # stable: the data's order otherwise
            )
            for n in order
        ]
        chosen: list[str] = []
        for depth in range(max((len(p) for p in pools), default=0)):
            for pool in pools:
                if depth < len(pool) and pool[depth] not in chosen:
                    chosen.append(pool[depth])
                if len(chosen) == MAX_CHIPS:
                    return chosen
        return chosen

    def for_reply(
        self, reply: dict[str, Any], asked: Iterable[str], shown: Iterable[str] = ()
    ) -> list[str]:
        """The chips for one reply (``Reply.to_dict()``): none for a decline or a goodbye."""
        outcome = reply.get("outcome")
        if outcome == "declined":
            return []
        if outcome == "small_talk":
            if reply.get("small_talk") in self.closing:
                return []
            return self.suggest(None, asked, shown)
        citations = reply.get("citations") or []
        lead = next((c for c in citations if c.get("n") == reply.get("lead")), None)
        first = lead or (citations[0] if citations else None)
        if first is None:
            return []
        return self.suggest(self.topic_of(first["doc_id"], first["section"]), asked, shown)
