"""How text becomes terms: lowercase, fold synonyms, drop stop-words, stem.

The keyword index, the vocabulary and the answer checks all read text through one
``Analyzer``, so a client's "derma roller" and an article's "dermaroller" are one term.

>>> Analyzer([["dermaroller", "derma roller"]]).tokens("My derma roller hurts")
['dermaroller', 'hurt']
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from functools import cached_property, lru_cache

from ..data import load_yaml, read_text

STOPWORDS = frozenset(
    word
    for line in read_text("stopwords.txt").splitlines()
    if not line.startswith("#")
    for word in line.split()
)
_TOKEN = re.compile(r"[a-z0-9_]+(?:['’][a-z]+)?")


def analyzer_version() -> str:
    """A hash of the synonym and stop-word files: the keyword index depends on both."""
    blob = "".join(read_text(n) for n in ("synonyms.yaml", "stopwords.txt"))
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


class Analyzer:
    """Lowercase, fold synonyms to one token per group, drop stopwords, stem."""

    def __init__(self, groups: Sequence[Sequence[str]]) -> None:
        variants: dict[str, str] = {}
        for group in groups:
            canonical = re.sub(r"[\s\-]+", "_", str(group[0]).lower())
            for variant in group:
                spelled = str(variant).lower()
                variants[spelled] = canonical
                # Phone typing drops apostrophes: "crows feet" is "crow's feet".
                variants.setdefault(spelled.replace("'", ""), canonical)
        self.canonical = variants
        alternation = "|".join(re.escape(v) for v in sorted(variants, key=len, reverse=True))
        self._phrases = re.compile(rf"(?<![a-z0-9_])(?:{alternation})(?![a-z0-9_])")
        # Every question tokenizes its retrieved passages again (the gate's coverage, the
        # composer's term overlap): the same few hundred texts of a small corpus. Only
        # passages come here, never a question, so what is kept is bounded by the corpus.
        self.passage_terms = lru_cache(maxsize=8192)(self._term_set)

    @classmethod
    def from_package(cls) -> Analyzer:
        return cls(load_yaml("synonyms.yaml")["groups"])

    @cached_property
    def _stemmer(self):
        import Stemmer

        return Stemmer.Stemmer("english")

    def fold(self, text: str) -> str:
        lowered = text.lower().replace("’", "'")
        return self._phrases.sub(lambda m: f" {self.canonical[m.group(0)]} ", lowered)

    def phrase_spans(self, text: str) -> list[tuple[int, int]]:
        """Where the text holds a synonym spelled in more than one word ("derma roller")."""
        lowered = text.lower().replace("’", "'")
        return [m.span() for m in self._phrases.finditer(lowered) if " " in m.group().strip()]

    def _term_set(self, text: str) -> frozenset[str]:
        return frozenset(self.tokens(text))

    def tokens(self, text: str) -> list[str]:
        words = [w.replace("'", "").replace("’", "") for w in _TOKEN.findall(self.fold(text))]
        kept = [w for w in words if (w not in STOPWORDS and len(w) > 1) or w.isdigit()]
        return [w if "_" in w else self._stemmer.stemWord(w) for w in kept]
