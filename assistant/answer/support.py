"""Offline citation-support check, shared by the eval harness and LLM verification.

A statement counts as supported by its cited passages when (1) some cited sentence is
close to it in meaning (cosine of the embeddings) and says the same thing: the same
polarity, no opposite ("increase" for "reduce"), the same numbers in the same units
(``meaning.py``), and (2) most of its content words occur in the passages and in the
cited sentences that say the same thing.
Every cited sentence is read, not only the nearest, and the reason for a "no" is kept.
Thresholds (``Tuning.support_*``) are calibrated on ``evals/support_labels.jsonl``.

Sentences of a passage are read the way a reader takes them: one per line of a list,
a list item together with the line that introduces it ("Exercise caution or avoid if
you have: Open wounds, cuts, or abrasions.").

All statements of one answer and all their cited sentences are embedded in one model
call; cited sentences come from a fixed corpus, so their vectors are kept (up to
``cache_size``) and only new ones are embedded.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from functools import lru_cache

import numpy as np

from ..embeddings import Embedder
from ..index.analyzer import Analyzer
from ..text import LEXICON, plain_quotes, split_sentences
from .meaning import MeaningReader

_MARKER = re.compile(r"\s*\[(\d+)\]")
_LIST_ITEM = re.compile(r"^\s*(?:[-*+•]|\d+[.)])\s+")
MIN_PIECE_TERMS = 3  # a clause with fewer content words is too short to be compared alone


@dataclass(frozen=True)
class Support:
    supported: bool
    similarity: float  # cosine with the closest cited sentence
    recall: float  # share of the statement's content words found in the passages
    agreeing: float  # best cosine among cited sentences that say the same thing
    agreeing_all_words: float  # ... among those that also hold every one of its words
    best: str  # the supporting sentence, or else the closest one
    reason: str | None = None  # why it is not supported
    sources: tuple[int, ...] = ()  # indices of the passages holding a supporting sentence

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def strip_markers(text: str) -> str:
    return _MARKER.sub("", text).strip()


def markers(text: str) -> list[int]:
    return [int(n) for n in _MARKER.findall(text)]


_QUOTE_START = re.compile(r"(?:^|[.!?:;(\[“\"])\s*(?:(?:[-*+•]|\d+[.)])\s*)?$")


def _flat(text: str) -> str:
    return " ".join(plain_quotes(text).split())


def quotes(statement: str, passage: str) -> bool:
    """The statement is the passage's own words, starting where a sentence, a clause
    after a colon or semicolon, or a list item starts ("A series of 3-6 sessions ...").
    A fragment that starts mid-clause is not a quote: "stop prescribed medication
    without medical advice" is in "Do not stop prescribed medication without ...".

    >>> quotes("It heals fast.", "Yes. It heals fast.")
    True
    >>> quotes("heals fast.", "It never heals fast.")
    False
    """
    claim, text = _flat(statement), _flat(passage)
    start = text.find(claim)
    while start >= 0:
        if _QUOTE_START.search(text[:start]):
            return True
        start = text.find(claim, start + 1)
    return False


@lru_cache(maxsize=4096)
def passage_units(passage: str) -> tuple[str, ...]:
    """A passage's sentences, a list item read with the line that introduces it, and a
    sentence that continues the one before ("This is ...") also read together with it.

    >>> for unit in passage_units("Avoid it if you have:\\n- Open wounds.\\n- Sores. Or acne."):
    ...     print(unit)
    Avoid it if you have:
    Avoid it if you have: Open wounds.
    Avoid it if you have: Sores.
    Or acne.
    """
    out: list[str] = []
    lead = ""
    for line in passage.splitlines():
        item = _LIST_ITEM.match(line) is not None
        body = _LIST_ITEM.sub("", line, count=1).strip()
        if not body:
            continue
        if not item:  # the lead-in is the line's last sentence: "... Avoid it if you have:"
            lead = split_sentences(body)[-1].text if body.endswith(":") else ""
        previous = None
        for i, sentence in enumerate(split_sentences(body)):
            prefix = f"{lead} " if item and lead and i == 0 else ""
            unit = prefix + sentence.text
            opener = unit.split(maxsplit=1)[0].lower()
            if previous is not None and opener in LEXICON.continuation:
                out.append(f"{previous} {unit}")  # "... is applied. This is left on for ..."
            out.append(unit)
            previous = unit
    return tuple(out)


class SupportChecker:
    def __init__(
        self,
        embedder: Embedder,
        analyzer: Analyzer,
        *,
        min_similarity: float,
        min_recall: float,
        min_similarity_all_words: float | None = None,
        cache_size: int = 4096,
    ) -> None:
        self.embedder = embedder
        self.analyzer = analyzer
        self.min_similarity = min_similarity
        self.min_recall = min_recall
        # The small model scores "Microneedling doesn't hurt" far from "it doesn't hurt";
        # a sentence holding every word of the statement, in the same sense, needs less.
        self.min_similarity_all_words = (
            min_similarity if min_similarity_all_words is None else min_similarity_all_words
        )
        self.reader = MeaningReader(analyzer)
        self.subject = frozenset(analyzer.tokens(" ".join(LEXICON.subject)))
        self._pieces = lru_cache(maxsize=8192)(self._clause_texts)
        self.cache_size = cache_size
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def pieces(self, unit: str) -> tuple[str, ...]:
        """The clauses of a longer sentence that say something on their own (three content
        words or more). A statement that restates one clause of a long sentence is close
        to that clause, not to the whole; the meaning and the words are still checked on
        the whole. (Statements are not split so: it would double the model's work per
        answer for a few more faithful sentences kept.)"""
        return self._pieces(unit)

    def _clause_texts(self, unit: str) -> tuple[str, ...]:
        clauses = self.reader.read(unit).clauses
        if len(clauses) < 2:
            return ()
        out = []
        for clause in clauses:
            if len(set().union(*(t.terms for t in clause))) >= MIN_PIECE_TERMS:
                out.append(unit[clause[0].start : clause[-1].end])
        return tuple(out)

    def check(self, statement: str, passages: Sequence[str]) -> Support:
        return self.check_many([(statement, passages)])[0]

    def check_many(self, items: Sequence[tuple[str, Sequence[str]]]) -> list[Support]:
        """One ``Support`` per (statement, cited passages), from one model call."""
        claims = [strip_markers(statement) for statement, _ in items]
        units = [[(k, u) for k, p in enumerate(ps) for u in passage_units(p)] for _, ps in items]
        texts = [t for found in units for _, u in found for t in (u, *self.pieces(u))]
        said = [c for c in claims if c]
        vectors = self._embed(said, texts)
        return [
            self._judge(claim, passages, found, vectors)
            for claim, (_, passages), found in zip(claims, items, units, strict=True)
        ]

    def _embed(self, claims: list[str], sentences: list[str]) -> dict[str, np.ndarray]:
        with self._lock:
            known = {s: self._vectors[s] for s in dict.fromkeys(sentences) if s in self._vectors}
        fresh = [s for s in dict.fromkeys(sentences) if s not in known]
        todo = list(dict.fromkeys([c for c in claims if c] + fresh))
        vectors = dict(zip(todo, self.embedder.embed(todo), strict=True)) if todo else {}
        with self._lock:
            for s in fresh:
                self._vectors[s] = vectors[s]
            for s in known:
                self._vectors.move_to_end(s)
            while len(self._vectors) > self.cache_size:
                self._vectors.popitem(last=False)
        return known | vectors

    def _judge(
        self,
        claim: str,
        passages: Sequence[str],
        units: list[tuple[int, str]],
        vectors: dict[str, np.ndarray],
    ) -> Support:
        if not claim or not units:
            return Support(False, 0.0, 0.0, 0.0, 0.0, "", "nothing to compare it with")
        quoted = tuple(k for k, p in enumerate(passages) if quotes(claim, p))
        if quoted:  # the source's own words, from the start of a sentence or clause
            return Support(True, 1.0, 1.0, 1.0, 1.0, claim, None, quoted)
        plain = plain_quotes(claim)
        verbatim = any(plain in plain_quotes(p) for p in passages)
        # The statement against the whole sentence or one of its clauses, whichever is closer.
        said = vectors[claim][None, :]
        sims = np.array(
            [
                float(np.max(np.vstack([vectors[t] for t in (u, *self.pieces(u))]) @ said.T))
                for _, u in units
            ]
        )
        if verbatim:  # a quote: every sentence that holds it is as close as can be
            sims = np.where([plain in plain_quotes(u) for _, u in units], 1.0, sims)
        words = set(self.analyzer.tokens(claim)) - self.subject
        found = set().union(*(self.analyzer.passage_terms(p) for p in passages))
        recall = 1.0 if not words else len(words & found) / len(words)
        reading = self.reader.read(claim)
        agreeing: list[int] = []
        problem = None
        floor = min(self.min_similarity, self.min_similarity_all_words)
        for i in np.argsort(-sims, kind="stable"):
            if sims[i] < floor:
                break
            context = [
                self.reader.read(u) for k, u in units if k == units[i][0] and u != units[i][1]
            ]
            why = self.reader.disagreement(reading, self.reader.read(units[i][1]), context)
            if why is None:
                agreeing.append(int(i))
            elif problem is None:
                problem = why
        closest = int(np.argmax(sims))
        all_words = [
            i for i in agreeing if words and words <= self.analyzer.passage_terms(units[i][1])
        ]
        agree_all = max((float(sims[i]) for i in all_words), default=0.0)
        agreeing = [i for i in agreeing if sims[i] >= self.min_similarity or i in all_words]
        agree = max((float(sims[i]) for i in agreeing), default=0.0)
        # The sentences that agree must hold its words too: a statement is not supported
        # by a sentence that is merely on its topic ("more sun exposure lowers the risk of
        # hyper-pigmentation" by "the skin could develop hyper-pigmentation").
        held = set().union(*(self.analyzer.passage_terms(units[i][1]) for i in agreeing))
        coverage = 1.0 if not words else len(words & held) / len(words)
        supported = min(recall, coverage) >= self.min_recall and (
            agree >= self.min_similarity or agree_all >= self.min_similarity_all_words
        )
        reason = None
        if not supported:
            if recall < self.min_recall:
                reason = f"word overlap {recall:.2f} < {self.min_recall}"
            elif agreeing and coverage < self.min_recall:
                reason = (
                    f"the sentences that agree hold only {coverage:.2f} of its words: "
                    f"“{units[agreeing[0]][1]}”"
                )
            elif problem is not None:
                reason = problem
            else:
                reason = (
                    f"similarity {sims[closest]:.2f} < {self.min_similarity} with the closest "
                    f"sentence: “{units[closest][1]}”"
                )
        return Support(
            supported,
            float(sims[closest]),
            recall,
            agree,
            agree_all,
            units[agreeing[0]][1] if agreeing else units[closest][1],
            reason,
            tuple(sorted({units[i][0] for i in agreeing})) if supported else (),
        )
