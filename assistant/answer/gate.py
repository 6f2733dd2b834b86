"""The answer gate's signals: how close the articles come to the question.

* **similarity**: the best cosine between the question's readings and one quotable unit;
* **coverage**: the weighted share of the question's known topic terms that one
  retrieved chunk holds, each term weighted by its IDF and by the meaning it carries;
* **the key term** and the **unknown share**: what the question is mostly about, and
  how much of it is in words no article uses.

``decide`` (decide.py) reads them; the thresholds live in ``tuning``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache

import numpy as np

from ..data import domain_pattern, load_yaml
from ..embeddings import Embedder
from ..index.analyzer import Analyzer
from ..index.vocabulary import Vocabulary
from ..schema import Chunk, Hit
from ..tuning import Tuning

_WORD = re.compile(r"\S+")
# Words that put a question in the domain even when nothing else in it is known.
_DOMAIN = domain_pattern("domain")
_OTHER_TREATMENT = domain_pattern("other_treatments")
_SUBJECT_REFERENCE = domain_pattern("refers_to_subject")
_HEADING_QUESTION_WORDS = " ".join(load_yaml("domain.yaml")["heading_question_words"])
_COMPARISON_WORDS = frozenset(
    ("than", "compare", "compared", "comparison", "versus", "vs", "like a", "like an", "instead of")
)


def heading_term(key: str | None, hits: list[Hit], analyzer: Analyzer, top: int) -> str | None:
    """The key term, when the own heading of one of the ``top`` hits holds it: the articles'
    headings say what a section answers ("Avoid Strenuous Exercise and Hot Showers/Saunas"
    for "when can I go back to the gym?"), where the small model scores the question far
    from every sentence under it. A word that names the kind of question ("often",
    "avoid") is no topic (``data/domain.yaml``: heading_question_words).

    The heading is the last part of the section path: its parents are broader.
    """
    if key is None or key in _heading_question_terms(analyzer):
        return None
    return key if any(key in heading_terms(analyzer, h.chunk) for h in hits[:top]) else None


@cache  # one analysis per analyzer (one per assistant), not one per question
def _heading_question_terms(analyzer: Analyzer) -> frozenset[str]:
    return frozenset(analyzer.tokens(_HEADING_QUESTION_WORDS))


def heading_terms(analyzer: Analyzer, chunk: Chunk) -> frozenset[str]:
    """The terms of a chunk's own heading: the last part of its section path."""
    return _section_terms(analyzer, chunk.section.split(" > ")[-1])


@cache  # a corpus has a few dozen headings; every question reads some of them
def _section_terms(analyzer: Analyzer, heading: str) -> frozenset[str]:
    return frozenset(analyzer.passage_terms(heading))


def chunk_terms(analyzer: Analyzer, chunk: Chunk) -> frozenset[str]:
    return analyzer.passage_terms(f"{chunk.title} {chunk.section} {chunk.text}")


def coverage(weights: dict[str, float], hits: list[Hit], analyzer: Analyzer) -> float:
    if not weights:
        return 1.0  # a question about microneedling itself ("What is it?")
    total = sum(weights.values())
    return max(
        (
            sum(w for t, w in weights.items() if t in chunk_terms(analyzer, h.chunk)) / total
            for h in hits[:5]
        ),
        default=0.0,
    )


def leave_one_out(question: str, terms: list[str], vocabulary: Vocabulary) -> dict[str, str]:
    """For each term, the question without the words that yield it (a word of a synonym
    phrase, "new" in "a new one", carries the phrase's term)."""
    matches = list(_WORD.finditer(question))
    spans = vocabulary.analyzer.phrase_spans(question)
    positions: dict[str, set[int]] = {}
    for i, match in enumerate(matches):
        phrase = next(((lo, hi) for lo, hi in spans if lo <= match.start() < hi), None)
        text = question[phrase[0] : phrase[1]] if phrase else match.group()
        for term in vocabulary.weights(text):
            positions.setdefault(term, set()).add(i)
    return {
        t: " ".join(m.group() for i, m in enumerate(matches) if i not in positions[t]) or "?"
        for t in terms
        if t in positions
    }


def weigh_by_meaning(
    weights: dict[str, float],
    question_vector: np.ndarray,
    without: dict[str, np.ndarray],
) -> dict[str, float]:
    """Each term's IDF weight times how much the question's meaning changes without it.

    IDF alone counts a client's filler ("realistically", "before i spend money on this")
    among the rarest, heaviest terms, since the articles never use it; the coverage a
    passage needs then hinges on words that carry no topic. The question embedded
    without a term's words (``without``, see ``leave_one_out``) tells how much of it the
    term carries: "cellulite" moves the meaning, "realistically" hardly does.
    """
    # A floor: a term the model barely notices still counts a little.
    share = {t: max(0.02, 1.0 - float(question_vector @ v)) for t, v in without.items()}
    if len(share) < 2:
        return weights
    # A term no word of the question yields on its own counts as the weightiest one.
    top = max(share.values())
    return {t: w * share.get(t, top) for t, w in weights.items()}


@dataclass(frozen=True)
class Signals:
    """What the gate measures about one question; ``decide`` turns it into a verdict."""

    similarity: float  # best cosine of the question's readings with one quotable unit
    coverage: float  # weighted share of the topic terms that one chunk holds
    key_term: str | None  # the term carrying most of the question's meaning
    unknown_terms: tuple[str, ...] = ()  # words no article uses
    unknown_share: float = 0.0  # the share of the question's meaning they carry
    # The question is about the domain: it names it (microneedling, skin, ...) or its key
    # term is one the articles discuss (in more than one passage, not a passing aside).
    domain: bool = False
    # The topic terms' weights (IDF times meaning carried), for the answer checks.
    weights: dict[str, float] = field(default_factory=dict, repr=False, compare=False)

    key_known: bool = True  # the key term is one the articles use
    # Another treatment the question is about, without speaking of microneedling.
    other_subject: str | None = None
    # The key term when a top hit's own heading holds it (``heading_term``).
    heading_term: str | None = None

    def close(self, tuning: Tuning) -> bool:
        """A unit close to the question, and most of its terms in one chunk."""
        return (
            self.similarity >= tuning.gate_min_similarity
            and self.coverage >= tuning.gate_min_coverage
        )


def _is_name(word: str, text: str) -> bool:
    """An acronym, or a capitalised word that does not start a sentence."""
    core = word.strip("\"'“”‘’()[],.;:!?")
    if len(core) >= 2 and core.isupper():
        return True
    if not core[:1].isupper():
        return False
    before = text[: text.find(word)].rstrip()
    return bool(before) and before[-1] not in ".!?"


def assess(
    question: str,
    hits: list[Hit],
    similarity: float,
    vocabulary: Vocabulary,
    embedder: Embedder,
    *,
    noise_similarity: float,
    follow_up: str | None = None,
    question_vector: np.ndarray | None = None,
    heading_hits: int = 0,
) -> Signals:
    """Measure the question against the retrieved passages.

    Each topic term is weighted by its rarity (IDF) and by the meaning it carries (the
    question embedded without it, ``weigh_by_meaning``). Words no article uses count
    against coverage, unless the question means almost the same without them
    (``noise_similarity``: chit-chat such as "lol", "tho", "dinner at 8"); names and
    acronyms (FDA, Botox) always count. A follow-up may borrow its context's coverage
    unless it brings such a word ("does insurance cover that?").

    ``question_vector``: the question's embedding when the caller already has it (one
    model run fewer; an embedding does not depend on what it is batched with).
    """
    weights = vocabulary.weights(question)
    unknown = vocabulary.unknown_words(question)
    rest = " ".join(w for w in _WORD.findall(question) if w not in unknown) if unknown else ""
    without = leave_one_out(question, list(weights), vocabulary) if len(weights) > 1 else {}
    # Every text this judgement needs, embedded in one model call.
    texts = [*([rest or "?"] if unknown and weights else []), *without.values()]
    if texts and question_vector is None:
        texts.insert(0, question)
    vectors = list(embedder.embed(texts)) if texts else []
    if texts and question_vector is None:
        question_vector = vectors.pop(0)
    if unknown and weights:
        assert question_vector is not None
        kept = float(question_vector @ vectors.pop(0))
        if kept >= noise_similarity:
            named = {t for w in unknown if _is_name(w, question) for t in vocabulary.weights(w)}
            weights = {t: w for t, w in weights.items() if t in vocabulary.df or t in named}
    if without:
        assert question_vector is not None
        shares = {t: v for t, v in zip(without, vectors, strict=True) if t in weights}
        weights = weigh_by_meaning(weights, question_vector, shares)
    total = sum(weights.values())
    known = {t: w for t, w in weights.items() if t in vocabulary.df}
    unknown_share = 1 - sum(known.values()) / total if total else 0.0
    cov = coverage(weights, hits, vocabulary.analyzer)
    if follow_up is not None and len(known) == len(weights):
        cov = max(cov, coverage(vocabulary.weights(follow_up), hits, vocabulary.analyzer))
    key = max(weights, key=lambda t: weights[t]) if weights else None
    return Signals(
        similarity=similarity,
        coverage=cov,
        key_term=key,
        unknown_terms=tuple(unknown),
        unknown_share=unknown_share,
        key_known=key is None or key in vocabulary.df,
        domain=bool(_DOMAIN.search(f"{question} {follow_up or ''}"))
        or vocabulary.df.get(key or "", 0) > 1,
        other_subject=other_subject(question),
        heading_term=heading_term(key, hits, vocabulary.analyzer, heading_hits),
        weights=weights,
    )


def other_subject(question: str) -> str | None:
    """The other treatment a question is about ("laser hair removal"), if it names one
    and does not speak of microneedling too ("is it gentler than a peel?" compares).

    >>> other_subject("how many laser hair removal sessions do I need?")
    'laser'
    >>> other_subject("is microneedling gentler than a chemical peel?") is None
    True
    """
    found = [m.group(0).lower() for m in _OTHER_TREATMENT.finditer(question)]
    if not found:
        return None
    # Two other treatments compared ("laser or waxing?") are the question's subject
    # unless microneedling is named or pointed to.
    references = [m.group(0).lower() for m in _SUBJECT_REFERENCE.finditer(question)]
    if len(set(found)) > 1:
        references = [r for r in references if r not in _COMPARISON_WORDS]
    return None if references else found[0]
