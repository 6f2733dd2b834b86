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


# -- numbers ------------------------------------------------------------------------------
NUMBER_WORDS = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "twelve": 12,
}
_NUM = r"(\d+(?:\.\d+)?|" + "|".join(NUMBER_WORDS) + r")"
_QUANTITY = re.compile(
    rf"\b{_NUM}(?:\s*(?:-|–|to)\s*{_NUM})?\s*(weeks?|months?|days?|hours?|minutes?|years?)\b",
    re.IGNORECASE,
)
# Any number a statement can state: digits (with $ or %), number words, "once", "twice".
NUMBER = re.compile(
    r"\$?\d+(?:[.,]\d+)?%?|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|"
    r"twenty|thirty|forty|fifty|hundred|thousand|dozen|half|once|twice)\b",
    re.IGNORECASE,
)


def _value(word: str) -> float:
    return float(NUMBER_WORDS.get(word.lower(), 0) or word)


def quantities(text: str) -> set[tuple[str, float, float]]:
    """Normalised (unit, low, high) ranges such as ('week', 2, 4) for 'two to four weeks'."""
    found = set()
    for low, high, unit in _QUANTITY.findall(text):
        lo = _value(low)
        found.add((unit.lower().rstrip("s"), lo, _value(high) if high else lo))
    return found


# -- negation -----------------------------------------------------------------------------
# Words that turn a statement into its opposite or into a warning ("not", "avoid",
# "doesn't", "doesn’t").
NEGATION = re.compile(
    r"\b(no|not|never|none|nothing|without|cannot|avoid\w*)\b|n['’]t\b", re.IGNORECASE
)
# ... and the ways a faithful sentence can carry such a warning over in other words.
CAUTION = re.compile(
    r"\b(no|not|never|none|nothing|without|cannot|avoid\w*|against|caution\w*|precaution\w*|"
    r"risk\w*|contraindicat\w*|unless|stop\w*|refrain\w*|skip\w*|warn\w*|careful\w*)\b"
    r"|n['’]t\b",
    re.IGNORECASE,
)


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
        if spelling[0] != word[0] or spelling[-1] != word[-1]:
            continue
        if edit_distance(word, spelling, limit) <= limit:
            return spelling
    return None
