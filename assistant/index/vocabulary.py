"""The build's vocabulary: which terms the articles use, how rare each is, and which
article term a client's misspelling ("dermarollr") stands for."""

from __future__ import annotations

import difflib
import math
import re

from ..data import load_yaml
from ..schema import Chunk
from .analyzer import Analyzer

_WORD = re.compile(r"\S+")
# Terms every passage shares: they carry no topic (data/domain.yaml).
_GENERIC = frozenset(load_yaml("domain.yaml")["generic_terms"])


def topic_tokens(analyzer: Analyzer, text: str) -> list[str]:
    """The text's terms without those every passage of this corpus shares."""
    return [t for t in analyzer.tokens(text) if t not in _GENERIC]


class Vocabulary:
    """Document frequencies of analyzed terms over the indexed chunks."""

    def __init__(self, analyzer: Analyzer, chunks: list[Chunk]) -> None:
        df: dict[str, int] = {}
        for chunk in chunks:
            for term in set(analyzer.tokens(f"{chunk.title} {chunk.section} {chunk.text}")):
                df[term] = df.get(term, 0) + 1
        self._init(analyzer, df, len(chunks))

    @classmethod
    def from_counts(cls, analyzer: Analyzer, df: dict[str, int], chunks: int) -> Vocabulary:
        """From document frequencies already counted (``KeywordIndex`` holds them: the
        same analysis of each chunk's title, heading path and text)."""
        vocabulary = cls.__new__(cls)
        vocabulary._init(analyzer, dict(df), chunks)
        return vocabulary

    def _init(self, analyzer: Analyzer, df: dict[str, int], chunks: int) -> None:
        self.analyzer = analyzer
        self.df = df
        self.n = max(1, chunks)
        self._terms = sorted(self.df)
        self._corrections: dict[str, str] = {}

    def correct(self, term: str) -> str:
        """Map a misspelling ("dermarollr") to the article term it is closest to, and an
        adjective in -y to the article word it is made from ("saggy" -> "sag")."""
        if term in self.df or term.isdigit():
            return term
        if term.endswith("i") and len(term) >= 4:  # the stemmer spells a final -y as -i
            root = term[:-1]
            for candidate in (root, root[:-1] if root[-1:] == root[-2:-1] else "", root + "e"):
                if candidate in self.df:
                    return candidate
        if len(term) < 6:
            return term
        if term not in self._corrections:
            if len(self._corrections) > 50_000:  # bounded: questions are untrusted input
                self._corrections.clear()
            close = difflib.get_close_matches(term, self._terms, n=1, cutoff=0.85)
            self._corrections[term] = close[0] if close else term
        return self._corrections[term]

    def corrected(self, text: str) -> str:
        """The text with misspelled words replaced by the article term they resemble."""
        out = []
        for word in _WORD.findall(text):
            terms = self.analyzer.tokens(word)
            fixed = [self.correct(t) for t in terms]
            out.append(" ".join(fixed) if fixed != terms else word)
        return " ".join(out)

    def weights(self, text: str) -> dict[str, float]:
        # Numbers tell the asker's situation ("I'm 28", "3 days after"), not the topic: a
        # passage that answers need not repeat them (retrieval still matches them).
        terms = [self.correct(t) for t in topic_tokens(self.analyzer, text) if not t.isdigit()]
        return {t: math.log(1 + self.n / (1 + self.df.get(t, 0))) for t in terms}

    def unknown_words(self, text: str) -> list[str]:
        """Surface words none of whose terms appear in any article; a word of a synonym
        phrase ("derma" in "derma roller") counts as its phrase, which is known."""
        in_phrase = self.analyzer.phrase_spans(text)
        out = []
        for match in _WORD.finditer(text):
            if any(lo <= match.start() < hi for lo, hi in in_phrase):
                continue
            terms = [self.correct(t) for t in self.analyzer.tokens(match.group())]
            if terms and all(t not in self.df for t in terms):
                out.append(match.group())
        return out
