"""Sentences read for meaning: words and their clauses, the words that turn a clause
into its opposite (and what each denies), the more/less words, and the amounts with
their units. The word families come from ``data/meaning.yaml`` (``text.LEXICON``);
``meaning.py`` compares two readings.

>>> from assistant.index.analyzer import Analyzer
>>> reading = SentenceReader(Analyzer([])).read("It doesn't hurt, and it heals in 2-4 days.")
>>> [" ".join(t.text for t in clause) for clause in reading.clauses]
["It doesn't hurt", 'and it heals in 2 - 4 days']
>>> [(a.low, a.high, a.unit) for a in reading.amounts]
[(2.0, 4.0, 'day')]
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from ..index.analyzer import Analyzer
from ..text import LEXICON, Lexicon, plain_quotes

_TOKEN = re.compile(
    r"(?P<num>\d+(?:,\d{3})+(?:\.\d+)?|\d*\.\d+|\d+)"
    r"|(?P<word>[A-Za-z]+(?:'[A-Za-z]+)?(?:-[A-Za-z]+(?:'[A-Za-z]+)?)*)"
    r"|(?P<sym>[$%+])"
    r"|(?P<punct>[,;:()\[\]—–.!?-])"
)
_HARD_BREAKS = frozenset(";:—.!?")  # a unit may hold two sentences ("... This is ...")
_TIME_UNITS = frozenset({"second", "minute", "hour", "day", "week", "month", "year"})


@dataclass(frozen=True)
class Token:
    text: str  # as written
    low: str  # lower-cased
    kind: str  # num | word | sym | punct
    start: int
    end: int
    cue: bool = False  # turns its clause into the opposite
    terms: frozenset[str] = frozenset()  # the analyzer's terms (none for a cue)
    sides: tuple[tuple[str, str], ...] = ()  # (family, "up" | "down")
    scope: frozenset[str] = frozenset()  # for a cue: the terms of the words it denies


@dataclass(frozen=True)
class Amount:
    """A number with its unit: "2-4 weeks" is Amount(2, 4, "week", "2-4 weeks")."""

    low: float
    high: float
    unit: str | None
    text: str

    def found_in(self, others: Sequence[Amount]) -> bool:
        """The same amount, or one end of a range the other gives, in the same unit."""
        for o in others:
            if self.unit is not None and o.unit is not None and self.unit != o.unit:
                continue
            if (self.low, self.high) == (o.low, o.high):
                return True
            if self.low == self.high and self.low in (o.low, o.high):
                return True
        return False


@dataclass(frozen=True)
class Reading:
    """A sentence read for meaning: its clauses of tokens and its amounts."""

    text: str
    clauses: tuple[tuple[Token, ...], ...]
    amounts: tuple[Amount, ...]

    def warns(self, lexicon: Lexicon = LEXICON) -> bool:
        """Says not to do something, or carries a warning word ("risk", "consult")."""
        return any(parity(c) for c in self.clauses) or bool(lexicon.warning.search(self.text))


def parity(tokens: Sequence[Token]) -> int:
    """1 when the words that turn a clause into its opposite are odd in number."""
    return sum(t.cue for t in tokens) % 2


def span(text: str, tokens: Sequence[Token]) -> str:
    return text[tokens[0].start : tokens[-1].end] if tokens else ""


class SentenceReader:
    """Reads sentences into clauses, cues, opposites and amounts."""

    def __init__(self, analyzer: Analyzer, lexicon: Lexicon = LEXICON) -> None:
        self.analyzer = analyzer
        self.lexicon = lexicon
        self._terms = lru_cache(maxsize=16384)(self._word_terms)
        # Source sentences come from a fixed corpus: each is read once.
        self.read = lru_cache(maxsize=8192)(self._read)

    def _word_terms(self, word: str) -> frozenset[str]:
        return frozenset(self.analyzer.tokens(word))

    # -- reading -------------------------------------------------------------------
    def _read(self, sentence: str) -> Reading:
        text = plain_quotes(sentence)
        lex = self.lexicon
        tokens = [
            Token(m.group(), m.group().lower(), m.lastgroup or "", m.start(), m.end())
            for m in _TOKEN.finditer(text)
        ]
        starts = {t.start: i for i, t in enumerate(tokens)}
        cues: set[int] = set()
        for m in lex.cue.finditer(text):
            interjection = text[m.start() : m.end() + 1].lower() == lex.interjection
            if not interjection and m.start() in starts:
                cues.add(starts[m.start()])
        sides: dict[int, list[tuple[str, str]]] = {}
        for family, (up, down, ignore) in lex.opposites.items():
            skip = [m.span() for m in ignore.finditer(text)] if ignore else []
            for side, pattern in (("up", up), ("down", down)):
                for m in pattern.finditer(text):
                    if m.start() in starts and not any(a <= m.start() < b for a, b in skip):
                        sides.setdefault(starts[m.start()], []).append((family, side))
        marked = [
            Token(
                t.text,
                t.low,
                t.kind,
                t.start,
                t.end,
                cue=i in cues,
                terms=frozenset()
                if i in cues or t.kind in ("sym", "punct")
                else self._terms(t.low),
                sides=tuple(sides.get(i, ())),
            )
            for i, t in enumerate(tokens)
        ]
        return Reading(sentence, self._clauses(marked), tuple(self._amounts(marked, text)))

    def _clauses(self, tokens: list[Token]) -> tuple[tuple[Token, ...], ...]:
        """Split at hard breaks, parentheses, clause-opening conjunctions, the comma
        after a subordinate clause, and ", and it/there/avoid ..."."""
        lex = self.lexicon
        done: list[list[Token]] = []
        outer: list[list[Token]] = []  # clauses a parenthesis interrupted
        current: list[Token] = []

        def words(clause: list[Token]) -> list[str]:
            return [t.low for t in clause if t.kind == "word"]

        def close() -> None:
            nonlocal current
            if any(t.kind != "punct" for t in current):
                done.append(current)
            current = []

        for i, tok in enumerate(tokens):
            nxt = [t.low for t in tokens[i + 1 : i + 3]]
            if tok.low in ("(", "["):
                outer.append(current)
                current = []
            elif tok.low in (")", "]"):
                close()
                current = outer.pop() if outer else []
            elif tok.low in _HARD_BREAKS or (
                tok.low in ("-", "–")
                and not (i and tokens[i - 1].kind == "num" and nxt[:1] and nxt[0][0].isdigit())
            ):
                close()
            elif tok.low == ",":
                first = words(current)[:1]
                opens = len(nxt) == 2 and nxt[0] in lex.comma_conjunctions and nxt[1] in lex.openers
                if opens or (first and first[0] in lex.subordinators):
                    close()
                else:
                    current.append(tok)
            elif tok.low in lex.conjunctions and words(current):
                close()
                current.append(tok)
            else:
                current.append(tok)
        close()
        for clause in outer:  # an unclosed parenthesis
            if clause:
                done.append(clause)
        return tuple(tuple(self._scoped(c)) for c in done)

    def _scoped(self, clause: list[Token]) -> list[Token]:
        """Each cue with the terms of the words after it, up to a scope end (a preposition)."""
        out = []
        for i, tok in enumerate(clause):
            if tok.cue:
                stem = next(
                    (
                        tok.low[: -len(sfx)]
                        for sfx in self.lexicon.absence_suffixes
                        if tok.low.endswith(sfx)
                    ),
                    None,
                )
                scope: set[str] = set()
                if stem:  # "pain-free", "painless": the word itself says what is absent
                    scope |= self._terms(stem)
                else:
                    rest = list(clause[i + 1 :])
                    if rest and rest[0].low in self.lexicon.scope_ends:
                        rest = rest[1:]  # "isn't for everyone": what it denies follows
                    for later in rest:
                        if later.low in self.lexicon.scope_ends:
                            break
                        scope |= later.terms
                tok = dataclasses.replace(tok, scope=frozenset(scope))
            out.append(tok)
        return out

    def _amounts(self, tokens: list[Token], text: str) -> list[Amount]:
        lex = self.lexicon
        out: list[Amount] = []

        def value(t: Token) -> float | None:
            if t.kind == "num":
                return float(t.low.replace(",", ""))
            return lex.number_words.get(t.low, lex.frequency.get(t.low))

        def unit_at(j: int) -> tuple[str | None, int]:
            if j >= len(tokens) or tokens[j].kind not in ("word", "sym"):
                return None, 0
            pair = " ".join(t.low for t in tokens[j : j + 2])
            if pair in lex.units:
                return lex.units[pair], 2
            unit = lex.units.get(tokens[j].low.split("-")[0])
            return unit, int(unit is not None)

        i = 0
        while i < len(tokens):
            tok = tokens[i]
            before = tokens[i - 1].low if i else ""
            v = value(tok)
            if v is None:
                unit, width = unit_at(i + 1)
                if tok.low in ("a", "an") and unit in _TIME_UNITS and before not in lex.per_words:
                    out.append(Amount(1.0, 1.0, unit, span(text, tokens[i : i + 1 + width])))
                    i += 1 + width
                else:
                    i += 1
                continue
            after = tokens[i + 1].low if i + 1 < len(tokens) else ""
            if tok.low in lex.frequency and after in lex.conjunction_before:
                i += 1  # "once your results are achieved"
                continue
            j = i + 1
            unit, width = unit_at(j)
            j += width
            high = None
            if j + 1 < len(tokens) and tokens[j].low in lex.range_words:
                high = value(tokens[j + 1])
                if high is not None:
                    j += 2
                    later, width = unit_at(j)
                    unit, j = later or unit, j + width
            unit = (
                unit
                or lex.prefix_units.get(before)
                or ("times" if tok.low in lex.frequency else None)
            )
            if tok.low in lex.needs_unit and unit is None and high is None:
                i += 1  # "one could", "one of the most", "half the battle"
                continue
            out.append(Amount(v, v if high is None else high, unit, span(text, tokens[i:j])))
            i = j
        return out

    # -- comparing -----------------------------------------------------------------
