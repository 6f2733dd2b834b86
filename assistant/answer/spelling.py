"""A client's misspelled words, read the way the articles spell them.

"how many sesions wil i need befor i see a diffrence" is the question "how many sessions
... before ... difference": read as typed, its typos are words no article uses, which
weigh the most and make a question the articles answer look uncovered. A word is
corrected only when it is no word at all — not an article word, not a common word, not
in an English word list or the embedding model's vocabulary — and it is a typo of
exactly one article word by the same rules as the safety topics' typos (first
and last letters kept, a small edit), or that word with its last letter dropped, and no
common word is closer. So "greece" stays Greece (the model knows it) and is never read
as "grease", and "runing" is a typo of "running" (one edit), not of "ranging" (two).

>>> Speller(frozenset({"sessions", "difference", "before"}), frozenset()).fix(
...     "how many sesions befor a diffrence?")
'how many sessions before a difference?'
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from functools import cache, cached_property
from pathlib import Path

from ..schema import Chunk
from ..text import edit_distance

_WORD = re.compile(r"[A-Za-z]+")
MIN_LETTERS = 5  # shorter ones are often shorthand ("tret", "derm") or ambiguous ("shud")


@cache
def shorthand() -> dict[str, str]:
    """Chat shortenings and the words they stand for (``data/shorthand.yaml``)."""
    from ..data import load_yaml

    return {str(k).lower(): str(v) for k, v in load_yaml("shorthand.yaml").items()}


@cache  # one list per process, however many assistants it opens
def english_words() -> frozenset[str]:
    """pyspellchecker's English word list (160k words with their frequencies; only the
    words are used: the corrections themselves are ours, towards article words)."""
    from spellchecker import SpellChecker  # loads its list: once per process, at start

    return frozenset(SpellChecker(language="en").word_frequency.dictionary)


@cache
def model_words(model_path: Path) -> frozenset[str]:
    """The whole English words of the model's WordPiece vocabulary (``vocab.txt``), or
    none when the folder has no such file (a test's toy embedder)."""
    vocab = model_path / "vocab.txt"
    if not vocab.is_file():
        return frozenset()
    lines = vocab.read_text("utf-8").splitlines()
    return frozenset(w for w in lines if w.isalpha() and w.isascii() and w.islower())


def article_words(chunks: Iterable[Chunk], spellings: Iterable[str] = ()) -> frozenset[str]:
    """Every word the articles use, lower-cased, and the words of the synonym lists'
    spellings (``Analyzer.canonical``: "sunscreen" reads as the articles' "SPF")."""
    texts = [f"{c.title} {c.section} {c.text}" for c in chunks] + list(spellings)
    return frozenset(w.lower() for text in texts for w in _WORD.findall(text))


def _swapped(word: str, target: str) -> bool:
    """Whether ``word`` is ``target`` with two neighbouring letters swapped."""
    if len(word) != len(target) or word == target:
        return False
    diff = [i for i, (a, b) in enumerate(zip(word, target, strict=True)) if a != b]
    return (
        len(diff) == 2
        and diff[1] == diff[0] + 1
        and word[diff[0]] == target[diff[1]]
        and (word[diff[1]] == target[diff[0]])
    )


_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def _one_edit(word: str) -> set[str]:
    """Every string one deletion, swap, replacement or insertion away from ``word``.

    >>> sorted(w for w in _one_edit("runing") if w in {"running", "ruing", "ranging"})
    ['ruing', 'running']
    """
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    return {
        *(a + b[1:] for a, b in splits if b),
        *(a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1),
        *(a + c + b[1:] for a, b in splits if b for c in _LETTERS),
        *(a + c + b for a, b in splits for c in _LETTERS),
    }


class Speller:
    """Corrects words that are typos of ``targets``; leaves ``known`` words alone; reads a
    ``shorthand`` word as the word it stands for ("wks" -> "weeks").

    >>> Speller(frozenset(), frozenset(), {"wks": "weeks"}).fix("how many Wks")
    'how many weeks'
    """

    def __init__(
        self,
        targets: frozenset[str] | Callable[[], frozenset[str]],
        known: frozenset[str],
        shorthand: Mapping[str, str] | None = None,
    ) -> None:
        self._targets = targets
        self._common = known
        self._shorthand = dict(shorthand or {})
        self._fixed: dict[str, str] = {}

    @cached_property
    def _words(self) -> tuple[frozenset[str], frozenset[str]]:
        """(the words a typo may stand for, every word that is no typo)."""
        targets = self._targets() if callable(self._targets) else self._targets
        return frozenset(t for t in targets if len(t) >= MIN_LETTERS), self._common | targets

    @property
    def targets(self) -> frozenset[str]:
        return self._words[0]

    @property
    def known(self) -> frozenset[str]:
        return self._words[1]

    def word(self, word: str) -> str:
        """The word as the articles would spell it (lower-case), or the word itself."""
        low = word.lower()
        if low in self._shorthand:
            return self._shorthand[low]
        if len(low) < MIN_LETTERS or low in self.known:
            return word
        if low not in self._fixed:
            if len(self._fixed) > 50_000:  # bounded: questions are untrusted input
                self._fixed.clear()
            self._fixed[low] = self._closest(low)
        fixed = self._fixed[low]
        return word if fixed == low else fixed

    def _closest(self, low: str) -> str:
        """The one target ``low`` is a typo of; ``low`` itself when none or several tie."""
        limit = 1 if len(low) < 6 else 2
        found: dict[str, int] = {}
        for target in self.targets:
            if target[:-1] == low or _swapped(low, target):  # "befor", "microneedlign"
                found[target] = 1
            elif target[0] == low[0] and target[-1] == low[-1]:
                distance = edit_distance(low, target, limit)
                if distance <= limit:
                    found[target] = distance
        if not found:
            return low
        best = min(found.values())
        if best > 1 and not _one_edit(low).isdisjoint(self.known):
            return low  # a typo of a word no article uses ("runing" -> "running")
        closest = sorted(t for t, d in found.items() if d == best)
        return closest[0] if len(closest) == 1 else low

    def fix(self, text: str) -> str:
        """The text with each misspelled word replaced; everything else as written."""
        return _WORD.sub(lambda m: self.word(m.group()), text)
