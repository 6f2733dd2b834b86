"""Answerability gate: does the corpus actually answer this question?

Two signals, both calibrated on the eval set (thresholds live in ``tuning``):

* **similarity** — the best cosine between the question's focus and one source sentence;
* **coverage** — the weighted share of the question's topic terms that one retrieved
  chunk contains, each term weighted by its IDF and by the meaning it carries (how much
  the question changes without it). Terms no article uses count against coverage,
  unless the question means almost the same without them (the model then treats them
  as chit-chat such as "lol" or "tho"); misspellings of article words are matched
  first. A follow-up may borrow its context's coverage unless it brings a new topic.
"""

from __future__ import annotations

import re

import numpy as np

from ..embeddings import Embedder
from ..index.analyzer import Analyzer
from ..index.vocabulary import Vocabulary
from ..schema import Chunk, Hit, Verdict

_WORD = re.compile(r"\S+")


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
    min_similarity: float,
    min_coverage: float,
    noise_similarity: float,
    follow_up: str | None = None,
    question_vector: np.ndarray | None = None,
    weigh: bool = False,
) -> Verdict:
    """Judge the question; a follow-up is also judged with its conversation context.

    ``question_vector``: the question's embedding when the caller already has it (one
    model run fewer; an embedding does not depend on what it is batched with).
    ``weigh``: weigh the terms by meaning whatever the similarity and coverage (the
    caller reads the weights, say to find the question's key term).
    """
    weights = vocabulary.weights(question)
    unknown = vocabulary.unknown_words(question)
    needs_rest = bool(unknown and weights)
    rest = " ".join(w for w in _WORD.findall(question) if w not in unknown) if needs_rest else ""
    # Weighing costs a model run; it cannot change a full coverage, nor a verdict that
    # the similarity alone already denies.
    needs_shares = len(weights) > 1 and (
        weigh or (similarity >= min_similarity and coverage(weights, hits, vocabulary.analyzer) < 1)
    )
    without = leave_one_out(question, list(weights), vocabulary) if needs_shares else {}
    # Every text this judgement needs, embedded in one model call.
    texts = [*([rest or "?"] if needs_rest else []), *without.values()]
    if texts and question_vector is None:
        texts.insert(0, question)
    vectors = list(embedder.embed(texts)) if texts else []
    if texts and question_vector is None:
        question_vector = vectors.pop(0)
    kept = 1.0
    if needs_rest:
        assert question_vector is not None
        kept = float(question_vector @ vectors.pop(0))
        if kept >= noise_similarity:
            # The question means nearly the same without them: chit-chat, not topic.
            # Names and acronyms (FDA, Botox) always name a topic, however short.
            named = {t for w in unknown if _is_name(w, question) for t in vocabulary.weights(w)}
            weights = {t: w for t, w in weights.items() if t in vocabulary.df or t in named}
    if without:
        assert question_vector is not None
        by_term = dict(zip(without, vectors, strict=True))
        shares = {t: v for t, v in by_term.items() if t in weights}
        weights = weigh_by_meaning(weights, question_vector, shares)
    cov = coverage(weights, hits, vocabulary.analyzer)
    # A follow-up may lean on its context's terms ("and what about the home kind?"), unless it
    # brings a topic of its own that no article names ("does insurance cover that?").
    new_topic = any(t not in vocabulary.df for t in weights)
    if follow_up is not None and not new_topic:
        cov = max(cov, coverage(vocabulary.weights(follow_up), hits, vocabulary.analyzer))
    answerable = similarity >= min_similarity and cov >= min_coverage
    return Verdict(answerable, similarity, cov, tuple(unknown), kept, weights=weights)
