"""Whether a suggested question repeats one the client already asked, in other words.

The engine's own two readings of a question decide, either is enough:

* its **terms** (the analyzer's: stemmed, synonyms folded, the words every passage
  shares left out): every term of the suggestion is among the asked question's ("is it
  painful?" holds the one term of "Does microneedling hurt?", pain folded to hurt);
* its **meaning** (the app's embedder): the two, without the subject's names (and also in
  the articles' spelling, and without the words every passage shares), are at least
  ``Tuning.suggestion_repeat_cosine`` alike.
  Without the subject's names because every suggestion says "microneedling": the small
  model scores any two of them alike (up to 0.83 for different questions), and a client's
  "is it painful?" far from all of them.

``scripts/suggestion_repeats.py`` measures the threshold on hand-written paraphrases.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence

import numpy as np

from ..data import domain_pattern
from ..embeddings import Embedder, normalize
from ..index.analyzer import Analyzer
from ..index.vocabulary import topic_tokens

# The names of the subject every passage and every suggestion says (data/domain.yaml).
SUBJECT_WORDS = domain_pattern("subject")


class Repeats:
    """Finds the suggestions a conversation already asked (see the module docstring).

    The suggestions' vectors are embedded once, on first use (they are a fixed list); an
    asked question costs one embedding call per answer (the app's embedder caches texts).
    """

    def __init__(self, analyzer: Analyzer, embedder: Embedder, min_cosine: float) -> None:
        self.analyzer = analyzer
        self.embedder = embedder
        self.min_cosine = min_cosine
        self._known: dict[str, np.ndarray] = {}  # suggestion -> its readings' vectors
        self._lock = threading.Lock()

    def readings(self, text: str) -> list[str]:
        """The text without the subject's names; that in the articles' spelling; and that
        without the words every passage shares ("session", "skin": "how many treatments
        would I need?" asks what "How many sessions will I need?" does).

        >>> repeats = Repeats(Analyzer([["hurt", "painful"]]), None, 0.65)
        >>> repeats.readings("Is microneedling painful for skin?")
        ['Is painful for skin?', 'is hurt for skin?', 'is hurt for']
        """
        focus = " ".join(SUBJECT_WORDS.sub(" ", text).split()) or text
        folded = " ".join(self.analyzer.fold(focus).replace("_", " ").split())
        bare = " ".join(w for w in folded.split() if not self._generic(w)) or folded
        return list(dict.fromkeys([focus, folded, bare]))

    def _generic(self, word: str) -> bool:
        """A word whose terms are all ones every passage shares (data/domain.yaml)."""
        terms = self.analyzer.tokens(word)
        return bool(terms) and not topic_tokens(self.analyzer, word)

    def terms(self, text: str) -> frozenset[str]:
        return frozenset(t for t in topic_tokens(self.analyzer, text) if not t.isdigit())

    def repeated(self, suggestions: Sequence[str], asked: Iterable[str]) -> set[str]:
        """The suggestions that mean what one of the asked questions means."""
        asked = [a for a in dict.fromkeys(asked) if a.strip()]
        if not asked:
            return set()
        said = [self.terms(a) for a in asked]
        found = {s for s in suggestions if (t := self.terms(s)) and any(t <= a for a in said)}
        rest = [s for s in suggestions if s not in found]
        alike = self.alike(rest, asked)
        return found | {s for s in rest if alike[s] >= self.min_cosine}

    def alike(self, suggestions: Sequence[str], asked: Sequence[str]) -> dict[str, float]:
        """Each suggestion's best cosine with any asked question (any of their readings)."""
        if not suggestions or not asked:
            return dict.fromkeys(suggestions, -1.0)
        mine = np.vstack(list(self._embed(asked).values()))
        known = self._suggestions(suggestions)
        return {s: float((known[s] @ mine.T).max()) for s in suggestions}

    def _suggestions(self, suggestions: Sequence[str]) -> dict[str, np.ndarray]:
        with self._lock:
            missing = [s for s in suggestions if s not in self._known]
            if missing:
                self._known.update(self._embed(missing))
            return {s: self._known[s] for s in suggestions}

    def _embed(self, texts: Sequence[str]) -> dict[str, np.ndarray]:
        """Each text's readings' unit vectors (one row each), in one embedding call."""
        readings = {t: self.readings(t) for t in texts}
        flat = list(dict.fromkeys(r for rs in readings.values() for r in rs))
        vectors = dict(zip(flat, normalize(np.asarray(self.embedder.embed(flat))), strict=True))
        return {t: np.vstack([vectors[r] for r in rs]) for t, rs in readings.items()}
