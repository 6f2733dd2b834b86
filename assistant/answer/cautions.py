"""Safety stage of composition: quote the caution passages a flagged question needs.

Whatever the answer quotes, a question that raises a safety topic ("I'm pregnant, ...")
also quotes, with citations, up to two article passages that state the matching caution,
found by retrieving with the topic's own query.
"""

from __future__ import annotations

import numpy as np

from . import compose
from .keyword import Analyzer
from .live_index import Snapshot
from .safety import SafetyTopic

MAX_SOURCES_PER_TOPIC = 2


def add_cautions(
    live: Snapshot,
    picked: list[compose.Candidate],
    topics: list[SafetyTopic],
    analyzer: Analyzer,
    query_vectors: dict[str, np.ndarray],
) -> list[compose.Candidate]:
    """``picked`` plus, for each topic none of them covers, its caution passages.

    ``query_vectors`` caches the topics' query embeddings (fixed texts) across questions.
    """
    picked = list(picked)
    for topic in topics:
        if any(topic.is_caution(p.sentence.text) for p in picked):
            continue
        vector = query_vectors.get(topic.query)
        if vector is None:
            vector = query_vectors[topic.query] = live.retriever.embed_query(topic.query)
        retrieval = live.retriever.retrieve_vector(topic.query, vector, top_k=6)
        rows = [live.retriever.row_of(h) for h in retrieval.hits]
        pool = compose.candidates(
            live.index,
            retrieval.hits,
            rows,
            retrieval.query_vector,
            analyzer,
            live.vocabulary.weights(topic.query),
        )
        docs: set[str] = set()  # one passage per article: two voices, not one twice
        exclude = [p for t in topics for p in t.exclude]
        for cand in pool:
            if (
                topic.is_caution(cand.sentence.text)
                and not any(p.search(cand.sentence.text) for p in exclude)
                and cand.chunk.doc_id not in docs
                and all(p.sentence != cand.sentence for p in picked)
            ):
                picked.append(cand)
                docs.add(cand.chunk.doc_id)
            if len(docs) >= MAX_SOURCES_PER_TOPIC:
                break
    return picked
