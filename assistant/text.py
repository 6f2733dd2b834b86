"""Text primitives shared by every stage: sentence splitting, numbers and negation.

One copy of each: the chunker, the support check and the LLM verifier all split and
read sentences the same way.

>>> [s.text for s in split_sentences("It heals. Dr. Lee agrees.")]
['It heals.', 'Dr. Lee agrees.']
>>> quantities("two to four weeks")
{('week', 2.0, 4.0)}
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from .data import load_yaml
from .schema import Sentence

_BOUNDARY = re.compile(r"[.!?]+[”\"’)\]]*(?=\s+[“\"‘(\[*]?[A-Z0-9])")
_ABBREVIATIONS = ("e.g.", "i.e.", "vs.", "M.D.", "Dr.", "Mr.", "Mrs.", "Ms.", "etc.", "St.")


def split_sentences(text: str, base: int = 0) -> list[Sentence]:
    """Sentences of ``text`` with offsets shifted by ``base``; whitespace trimmed."""
    out: list[Sentence] = []
    start = 0

    def add(lo: int, hi: int) -> None:
        piece = text[lo:hi]
        stripped = piece.strip()
        if stripped:
            lo += len(piece) - len(piece.lstrip())
            out.append(Sentence(base + lo, base + lo + len(stripped), stripped))

    for match in _BOUNDARY.finditer(text):
        end = match.end()
        if text[start:end].endswith(_ABBREVIATIONS):
            continue
        add(start, end)
        start = end
    add(start, len(text))
    return out


# -- the meaning lexicon (data/meaning.yaml) ---------------------------------------------
_MEANING = load_yaml("meaning.yaml")
_QUOTES = str.maketrans(
    {"’": "'", "‘": "'", "‛": "'", "′": "'", "“": '"', "”": '"', "„": '"', "″": '"'}
)


def plain_quotes(text: str) -> str:
    """Typographic apostrophes and quotes made plain, so "doesn’t" reads as "doesn't".

    >>> print(plain_quotes("It doesn’t “hurt”"))
    It doesn't "hurt"
    """
    return text.translate(_QUOTES)


def word_pattern(entries: Iterable[str]) -> re.Pattern[str]:
    """One case-insensitive pattern for whole words and phrases; "avoid*" matches
    "avoided", and the words of a phrase may be split by any spaces.

    >>> bool(word_pattern(["advise against", "avoid*"]).fullmatch("Avoided"))
    True
    """
    parts = []
    for entry in sorted(entries, key=len, reverse=True):
        words = [
            re.escape(w.rstrip("*")) + (r"[\w-]*" if w.endswith("*") else "") for w in entry.split()
        ]
        parts.append(r"\s+".join(words))
    return re.compile(rf"(?<![\w'-])(?:{'|'.join(parts)})(?![\w'-])", re.IGNORECASE)


# -- numbers ------------------------------------------------------------------------------
NUMBER_WORDS: dict[str, float] = {str(k): float(v) for k, v in _MEANING["numbers"]["words"].items()}
_NUM = r"(\d+(?:\.\d+)?|" + "|".join(NUMBER_WORDS) + r")"
_QUANTITY = re.compile(
    rf"\b{_NUM}(?:\s*(?:-|–|to)\s*{_NUM})?\s*(weeks?|months?|days?|hours?|minutes?|years?)\b",
    re.IGNORECASE,
)
# Any number a statement can state: digits (with $ or %), number words, "once", "twice".
NUMBER = re.compile(
    r"\$?\d+(?:[.,]\d+)?%?|\b(?:"
    + "|".join([*NUMBER_WORDS, *_MEANING["numbers"]["frequency"]])
    + r")\b",
    re.IGNORECASE,
)


def _value(word: str) -> float:
    return NUMBER_WORDS.get(word.lower()) or float(word)


def quantities(text: str) -> set[tuple[str, float, float]]:
    """Normalised (unit, low, high) ranges such as ('week', 2, 4) for 'two to four weeks'."""
    found = set()
    for low, high, unit in _QUANTITY.findall(text):
        lo = _value(low)
        found.add((unit.lower().rstrip("s"), lo, _value(high) if high else lo))
    return found


# -- polarity and warnings ----------------------------------------------------------------
_NEGATION = _MEANING["negation"]
_PROHIBITION = _MEANING["prohibition"]


def _cue_pattern(neg: dict, pro: dict) -> str:
    """Every word or phrase that turns a clause into its opposite: denial ("not"), a
    contraction ("doesn't"), absence ("without", "free of", "pain-free", "painless", but
    not "unless"-like words that deny nothing), prohibition ("avoid", "advise against")."""
    spared = "|".join(re.escape(w) for w in neg["not_absence"])
    contraction = re.escape(neg["contraction"]).replace("'", "['’]")  # either apostrophe
    return "|".join(
        [
            word_pattern(
                [*neg["words"], *neg["absence_phrases"], *pro["words"], *pro["phrases"]]
            ).pattern,
            rf"\b\w+{contraction}(?!\w)",
            *(
                rf"\b(?!(?:{spared})\b)[\w-]*\w{re.escape(sfx)}\b"
                for sfx in neg["absence_suffixes"]
            ),
        ]
    )


# Words that turn a statement into its opposite ("not", "avoid", "doesn't", "doesn’t",
# "painless"); the meaning checks count them clause by clause (answer/meaning.py).
NEGATION = re.compile(_cue_pattern(_NEGATION, _PROHIBITION), re.IGNORECASE)
# ... and the words that carry a warning without negating anything ("risk", "consult").
CAUTION = re.compile(
    NEGATION.pattern + "|" + word_pattern(_MEANING["warning"]).pattern, re.IGNORECASE
)


@dataclass(frozen=True)
class Lexicon:
    """The word families of ``data/meaning.yaml``, compiled once (see that file for what
    each one handles); ``answer/meaning.py`` reads sentences with them."""

    cue: re.Pattern[str]  # any word or phrase that turns a clause into its opposite
    absence_suffixes: tuple[str, ...]  # "-free", "less": the word says what is absent
    interjection: str  # "no," answers; it negates nothing
    opposites: dict[str, tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str] | None]]
    warning: re.Pattern[str]
    conjunctions: frozenset[str]
    comma_conjunctions: frozenset[str]
    openers: frozenset[str]
    subordinators: frozenset[str]
    scope_ends: frozenset[str]
    continuation: frozenset[str]
    number_words: dict[str, float]
    needs_unit: frozenset[str]
    frequency: dict[str, float]
    conjunction_before: frozenset[str]
    range_words: frozenset[str]
    units: dict[str, str]  # spelling -> unit
    prefix_units: dict[str, str]
    per_words: frozenset[str]
    subject: tuple[str, ...]  # the articles' subject: "microneedling", "the treatment"

    @classmethod
    def from_data(cls, data: dict) -> Lexicon:
        neg, pro, num = data["negation"], data["prohibition"], data["numbers"]
        opposites = {
            name: (
                word_pattern(sides["up"]),
                word_pattern(sides["down"]),
                word_pattern(sides["ignore"]) if sides.get("ignore") else None,
            )
            for name, sides in data["opposites"].items()
        }
        clauses = data["clauses"]
        words = {str(k): float(v) for k, v in num["words"].items()}
        return cls(
            cue=re.compile(_cue_pattern(neg, pro), re.IGNORECASE),
            absence_suffixes=tuple(neg["absence_suffixes"]),
            interjection=neg["interjection"],
            opposites=opposites,
            warning=word_pattern(data["warning"]),
            conjunctions=frozenset(clauses["conjunctions"]),
            comma_conjunctions=frozenset(clauses["comma_conjunctions"]),
            openers=frozenset(clauses["openers"]),
            subordinators=frozenset(clauses["subordinators"]),
            scope_ends=frozenset(clauses["scope_ends"]),
            continuation=frozenset(clauses["continuation"]),
            number_words=words,
            needs_unit=frozenset(num["needs_unit"]),
            frequency={str(k): float(v) for k, v in num["frequency"].items()},
            conjunction_before=frozenset(num["conjunction_before"]),
            range_words=frozenset(num["range"]),
            units={
                str(a).lower(): unit for unit, spellings in num["units"].items() for a in spellings
            },
            prefix_units={str(k).lower(): v for k, v in num["prefix_units"].items()},
            per_words=frozenset(num["per_words"]),
            subject=tuple(data["subject"]),
        )


LEXICON = Lexicon.from_data(_MEANING)


# -- spelling -----------------------------------------------------------------------------
def edit_distance(a: str, b: str, limit: int) -> int:
    """Levenshtein distance of two words, or ``limit + 1`` once it must exceed ``limit``.

    >>> edit_distance("pregant", "pregnant", 2)
    1
    """
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i]
        for j, cb in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        if min(current) > limit:
            return limit + 1
        previous = current
    return previous[-1]


def typo_of(word: str, spellings: frozenset[str]) -> str | None:
    """The listed spelling a word is a typo of ("acutane" -> "accutane"), if any.

    Typos keep a word's first and last letters ("excema", "pregant"); a short word may be
    one edit off, a longer one two. Another ending is another word ("injections" is no
    "infection", "aspiring" no "aspirin").
    """
    word = word.lower()
    if len(word) < 5 or word in spellings:
        return None
    limit = 1 if len(word) < 6 else 2
    for spelling in spellings:
        if spelling.endswith("ing") and word == spelling[:-1]:
            return spelling  # chat drops a final g: "breakin out"
        if spelling[0] != word[0] or spelling[-1] != word[-1]:
            continue
        if edit_distance(word, spelling, limit) <= limit:
            return spelling
    return None
