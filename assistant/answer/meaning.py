"""Meaning checks of the support check: does a statement say what its source sentence
says, or the opposite, or other numbers?

Offline and explainable, from the word families of ``data/meaning.yaml`` and the
readings of ``reading.py``:

- **polarity**: each clause's polarity is the parity of the words that turn it into its
  opposite ("not", "without", "avoid", "contraindicated"; two cancel out). A statement's
  clause is compared with the stretch of the source sentence that holds the words they
  share: from the start of the source clause where they begin to the last shared word
  (and a "not"/"is contraindicated" right after it). "Requires the same downtime"
  against "it does not require the downtime" differs; "is not strictly contraindicated"
  against "While not strictly contraindicated, many advise against it" agrees.
- **opposites**: a statement that uses one side of a pair ("more", "increase") the
  stretch of the source does not use, where it uses the other ("less", "reduce"), says
  the opposite; so does one that says the other side of the same word ("more sun
  exposure" for "limiting exposure to sunlight").
- **numbers**: every amount a statement gives (".5 mm" = "0.5 millimeters", "two to
  four weeks" = "2-4 weeks") must be one its source sentence gives, in the same unit.

>>> from assistant.index.analyzer import Analyzer
>>> reader = MeaningReader(Analyzer([]))
>>> reader.disagreement(reader.read("It requires downtime."),
...                     reader.read("It does not require downtime."))
'negation differs: “It requires downtime” where the source says “It does not require downtime”'
"""

from __future__ import annotations

from collections.abc import Sequence

from .reading import Reading, SentenceReader, Token, parity, span


def _sides(tokens: Sequence[Token]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for t in tokens:
        for family, side in t.sides:
            out.setdefault(family, set()).add(side)
    return out


class MeaningReader(SentenceReader):
    """Reads sentences (``SentenceReader``) and compares two readings."""

    def windows(self, clause: Sequence[Token], source: Reading) -> list[list[Token]]:
        """The stretches of ``source`` a statement's clause is read against: the fewest
        consecutive source clauses holding every word they share, from the first one's
        start to the last shared word (and the cues right after it)."""
        terms = frozenset().union(*(t.terms for t in clause))
        shared = terms & frozenset().union(*(t.terms for c in source.clauses for t in c))
        if not shared:
            return []
        spans: list[tuple[int, int]] = []
        for i in range(len(source.clauses)):
            cover: set[str] = set()
            for j in range(i, len(source.clauses)):
                cover |= {w for t in source.clauses[j] for w in t.terms} & shared
                if cover == shared:
                    spans.append((i, j))
                    break
        shortest = min(j - i for i, j in spans)
        out = []
        for i, j in spans:
            if j - i != shortest:
                continue
            last = source.clauses[j]
            end = max(k for k, t in enumerate(last) if t.terms & shared) + 1
            # ... and what says something of them right after: "is contraindicated",
            # "may worsen".
            while end < len(last) and (last[end].cue or last[end].sides or not last[end].terms):
                end += 1
            # A clause in between that shares no word is one the statement leaves out.
            between = [c for c in source.clauses[i:j] if any(t.terms & shared for t in c)]
            out.append([t for c in between for t in c] + list(last[:end]))
        return out

    def _targets(self, tokens: Sequence[Token]) -> dict[tuple[str, str], set[str]]:
        """(family, term) -> sides: what each more/less word says of the next two words
        ("limiting exposure": less exposure; "more sun exposure": more sun, exposure)."""
        out: dict[tuple[str, str], set[str]] = {}
        for i, tok in enumerate(tokens):
            if not tok.sides:
                continue
            targets: set[str] = set()
            found = 0
            for later in tokens[i + 1 :]:
                if later.low in self.lexicon.scope_ends or found == 2:
                    break
                if later.terms and not later.sides:
                    targets |= later.terms
                    found += 1
            for family, side in tok.sides:
                for term in targets:
                    out.setdefault((family, term), set()).add(side)
        return out

    def disagreement(
        self, claim: Reading, source: Reading, context: Sequence[Reading] = ()
    ) -> str | None:
        """Why ``claim`` does not say what ``source`` says, or None when it does.

        A clause of the statement that shares no word with ``source`` is read against
        the ``context`` (the other sentences of the same passage): "sterilize it before
        each use, and don't share it" joins two sentences of one passage."""
        for amount in claim.amounts:
            if not amount.found_in(source.amounts):
                given = ", ".join(f"“{a.text}”" for a in source.amounts) or "no number"
                return f"“{amount.text}” is not in the source (it gives {given})"
        for clause in claim.clauses:
            found = [(source, w) for w in self.windows(clause, source)]
            if not found:
                found = [(other, w) for other in context for w in self.windows(clause, other)]
            if not found:
                if parity(clause):
                    return (
                        f"negates something the source does not say: “{span(claim.text, clause)}”"
                    )
                continue
            # What the clause mentions: its words, and what its "-free"/"not" words deny.
            terms = frozenset().union(*(t.terms | t.scope for t in clause))
            problems = [self._differ(claim.text, clause, r.text, w, terms) for r, w in found]
            if all(problems):
                return problems[0]
        return None

    def _differ(
        self,
        claim: str,
        clause: Sequence[Token],
        source: str,
        window: Sequence[Token],
        terms: frozenset[str],
    ) -> str | None:
        said, found = span(claim, clause), span(source, window)
        # A source's negation counts when it denies something the statement mentions, or
        # nothing in particular ("is contraindicated"); not when the statement leaves out
        # what it denies ("glowing around three days" for "glowing and without irritation
        # around three days").
        denies = [t for t in window if t.cue and (not t.scope or t.scope & terms)]
        if parity(clause) != len(denies) % 2:
            return f"negation differs: “{said}” where the source says “{found}”"
        mine, theirs = self._targets(clause), self._targets(window)
        for (family, term), sides in mine.items():
            other = theirs.get((family, term), set())
            if len(sides) == 1 and len(other) == 1 and sides != other:
                word = next(t.text for t in clause if (family, *sides) in t.sides)
                their = next(t.text for t in window if (family, *other) in t.sides)
                return f"says “{word}” where the source says “{their}”: “{found}”"
        # A side of a pair the source does not use here, where it uses the other one:
        # "smaller and more noticeable" for "smaller and less noticeable".
        mine, theirs = _sides(clause), _sides(window)
        for family, sides in mine.items():
            other = theirs.get(family, set())
            for side in sides - other:
                opposite = "down" if side == "up" else "up"
                if opposite in other:
                    word = next(t.text for t in clause if (family, side) in t.sides)
                    their = next(t.text for t in window if (family, opposite) in t.sides)
                    return f"says “{word}” where the source says “{their}”: “{found}”"
        return None
