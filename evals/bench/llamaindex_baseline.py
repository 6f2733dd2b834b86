"""Plain llama-index (its defaults) over the corpus files, and its retrieval scored on
the eval cases: each retrieved node is placed in our corpus by its character offsets."""

from __future__ import annotations

import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..cases import Case, section_matches


def llama_embedding(embedder: Any) -> Any:
    """Our embedder as a llama-index ``BaseEmbedding``: llama-index-embeddings-huggingface
    is not installed, and this way both sides use the very same model and runtime."""
    from llama_index.core.embeddings import BaseEmbedding
    from pydantic import PrivateAttr

    class ProjectEmbedding(BaseEmbedding):
        _embedder: Any = PrivateAttr()

        def __init__(self, inner: Any) -> None:
            super().__init__(model_name=inner.model_id, embed_batch_size=32)
            self._embedder = inner

        def _get_query_embedding(self, query: str) -> list[float]:
            return self._embedder.embed([query])[0].tolist()

        async def _aget_query_embedding(self, query: str) -> list[float]:
            return self._get_query_embedding(query)

        def _get_text_embedding(self, text: str) -> list[float]:
            return self._embedder.embed([text])[0].tolist()

        def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
            return self._embedder.embed(texts).tolist()

    return ProjectEmbedding(embedder)


@dataclass
class LlamaBaseline:
    """A plain llama-index ``VectorStoreIndex`` over the corpus files."""

    retriever: Any
    texts: dict[str, str]  # llama-index document id -> its text
    doc_ids: dict[str, str]  # llama-index document id -> our doc_id
    nodes: int
    build_s: float


def build_llamaindex(
    files: Sequence[Path],
    doc_ids: dict[str, str],
    embedder: Any,
    top_k: int = 2,
    splitter: Any = None,
) -> LlamaBaseline:
    """llama-index defaults: ``SimpleDirectoryReader``, ``SentenceSplitter()``, in-memory
    vector store, dense retriever with ``similarity_top_k=2``. Nothing global is changed:
    the model and the transformations are passed in, never set on ``Settings``."""
    from llama_index.core import SimpleDirectoryReader, VectorStoreIndex
    from llama_index.core.node_parser import SentenceSplitter

    start = time.perf_counter()
    documents = SimpleDirectoryReader(input_files=[str(f) for f in files]).load_data()
    index = VectorStoreIndex.from_documents(
        documents,
        embed_model=llama_embedding(embedder),
        transformations=[splitter or SentenceSplitter()],
    )
    build_s = time.perf_counter() - start
    return LlamaBaseline(
        retriever=index.as_retriever(similarity_top_k=top_k),
        texts={d.id_: d.text for d in documents},
        doc_ids={d.id_: doc_ids[Path(d.metadata["file_path"]).name] for d in documents},
        nodes=len(index.docstore.docs),
        build_s=build_s,
    )


def section_at(chunks: Sequence[Any], offset: int) -> str:
    """The section of the chunk holding ``offset``, else of the nearest chunk (headings
    and blank lines between chunks belong to no chunk)."""
    for chunk in chunks:
        if chunk.start <= offset < chunk.end:
            return chunk.section
    nearest = min(chunks, key=lambda c: min(abs(offset - c.start), abs(offset - c.end)))
    return nearest.section


def sections_between(chunks: Sequence[Any], start: int, end: int) -> list[str]:
    return [c.section for c in chunks if c.start < end and start < c.end]


@dataclass(frozen=True)
class MappedNode:
    doc_id: str
    section: str  # the section at the node's midpoint
    sections: tuple[str, ...]  # every section the node overlaps


def map_node(node: Any, baseline: LlamaBaseline, chunks_by_doc: dict[str, list[Any]]) -> MappedNode:
    """Place a retrieved llama-index node in our corpus by its character offsets."""
    source_id = node.node.ref_doc_id
    doc_id = baseline.doc_ids[source_id]
    start, end = node.node.start_char_idx, node.node.end_char_idx
    if start is None or end is None:  # offsets are normally set; fall back to a search
        start = max(0, baseline.texts[source_id].find(node.node.get_content()))
        end = start + len(node.node.get_content())
    chunks = chunks_by_doc[doc_id]
    return MappedNode(
        doc_id, section_at(chunks, (start + end) // 2), tuple(sections_between(chunks, start, end))
    )


def scores_of(rels: list[int], total: int) -> dict[str, float]:
    from ..metrics import retrieval_scores

    return retrieval_scores(rels, total)


def mean_scores(rows: Sequence[dict[str, float]]) -> dict[str, float]:
    return {k: statistics.fmean(r[k] for r in rows) for k in ("hit@1", "hit@5", "mrr")}


def llama_quality(
    baseline: LlamaBaseline, bot: Any, cases: Sequence[Case]
) -> tuple[dict[str, float], dict[str, float]]:
    """(midpoint mapping, lenient overlap mapping) retrieval scores on ``cases``."""
    from ..metrics import relevance
    from ..runner import relevant_total

    chunks_by_doc: dict[str, list[Any]] = {}
    for chunk in bot.index.chunks:
        chunks_by_doc.setdefault(chunk.doc_id, []).append(chunk)
    strict, lenient = [], []
    for case in cases:
        mapped = [
            map_node(n, baseline, chunks_by_doc) for n in baseline.retriever.retrieve(case.question)
        ]
        total = relevant_total(bot, case.gold_sources)
        rels = relevance(
            [{"doc_id": m.doc_id, "section": m.section} for m in mapped], case.gold_sources
        )
        loose = [
            int(
                any(
                    m.doc_id == g["doc_id"] and section_matches(s, g["section"])
                    for g in case.gold_sources
                    for s in m.sections
                )
            )
            for m in mapped
        ]
        strict.append(scores_of(rels, total))
        lenient.append(scores_of(loose, total))
    return mean_scores(strict), mean_scores(lenient)
