"""The question's embedded readings: as retrieval reads it, its focus, and a few more.

The focus is the query (a follow-up with the question it leans on) without the domain
words every passage shares; it ranks the quotable units. The folded focus spells the
client's words the articles' way ("swap out my roller" -> "replace my dermaroller"),
since the small model scores casual wording low; a follow-up is also read as the
conversation in order. The best cosine over all readings is the similarity the gate reads.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

import numpy as np

from ..data import domain_pattern
from ..embeddings import Embedder
from ..index.analyzer import Analyzer
from ..index.vocabulary import Vocabulary
from ..schema import Query
from ..tuning import Tuning

SUBJECT = "microneedling"
# The names of the subject every passage says (data/domain.yaml).
SUBJECT_WORDS = domain_pattern("subject")


@dataclass(frozen=True)
class Readings:
    """The question's embedded readings (see ``embed_readings``).

    ``focus`` ranks the quotable units; the best cosine over all readings is the
    similarity the gate reads.
    """

    query: np.ndarray  # the query as retrieval reads it
    focus: np.ndarray  # without the domain words every passage shares
    others: tuple[np.ndarray, ...] = ()  # folded spelling, conversation, anchored reading

    FOCUS_ROW = 1  # the focus's row in ``matrix()``

    def matrix(self) -> np.ndarray:
        return np.vstack([self.query, self.focus, *self.others])

    def plus(self, vector: np.ndarray) -> Readings:
        return dataclasses.replace(self, others=(*self.others, vector))


def embed_readings(
    query: Query, vocabulary: Vocabulary, analyzer: Analyzer, embedder: Embedder, tuning: Tuning
) -> Readings:
    """The query's vector, its focus's, (when it differs) its folded focus's, and for a
    follow-up the conversation read in order; embedded in one model call."""
    text = query.text
    focus = SUBJECT_WORDS.sub(" ", text)
    if not vocabulary.weights(text) or focus.split() == text.split():
        focus = text
    folded = " ".join(analyzer.fold(focus).replace("_", " ").split())
    changed = re.findall(r"\w+", folded) != re.findall(r"\w+", focus.lower())
    others = ([folded] if changed and tuning.on("folded_reading") else []) + (
        [query.conversation]
        if query.conversation is not None and tuning.on("conversation_reading")
        else []
    )
    texts = list(dict.fromkeys([text, focus, *others]))
    vectors = dict(zip(texts, embedder.embed(texts), strict=True))
    return Readings(vectors[text], vectors[focus], tuple(vectors[t] for t in others))


def anchored_vector(query: Query, embedder: Embedder) -> np.ndarray:
    """The question embedded as explicitly about the assistant's one subject."""
    return embedder.embed([f"{query.text} ({SUBJECT})"])[0]
