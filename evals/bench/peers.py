"""The two llama-index peers of the side-by-side (llamaindex.py), over the corpus files
and the project's own embedding model:

``defaults``  what the llama-index quick start gives: ``VectorStoreIndex`` over the files
              (``SimpleDirectoryReader``, default ``SentenceSplitter``), dense top k.
``pipeline``  what a skilled engineer writes in an afternoon: ``SentenceSplitter(256, 32)``,
              BM25 and dense fused by ``QueryFusionRetriever`` (reciprocal rerank, one
              query, no LLM), top k.

Everything is passed in explicitly; llama-index's global ``Settings`` are never set
(``settings_state`` lets a caller check). This module imports llama-index at import
time: the benchmark imports it only when the side-by-side runs.

BM25 is ``BM25Retriever`` below, not llama-index-retrievers-bm25: every release of that
package pins ``pystemmer<3`` and the project pins PyStemmer 3.1.0. The class does what
the package's does (bm25s, English stop words and stemmer, the node text with its
embedding metadata, every one of the top k returned even at score 0).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import bm25s
import Stemmer
from llama_index.core import Settings as LlamaSettings
from llama_index.core import SimpleDirectoryReader, VectorStoreIndex
from llama_index.core.base.base_retriever import BaseRetriever
from llama_index.core.callbacks import CallbackManager
from llama_index.core.embeddings import BaseEmbedding
from llama_index.core.llms import MockLLM
from llama_index.core.node_parser import SentenceSplitter
from llama_index.core.readers.file.base import default_file_metadata_func
from llama_index.core.retrievers import QueryFusionRetriever
from llama_index.core.schema import BaseNode, Document, MetadataMode, NodeWithScore, QueryBundle
from pydantic import PrivateAttr

from .spans import Span, node_span

PIPELINE_CHUNK = (256, 32)  # SentenceSplitter(chunk_size, chunk_overlap) of the pipeline


class ProjectEmbedding(BaseEmbedding):
    """The project's embedder as a llama-index ``BaseEmbedding``, so every side embeds
    with the very same model and runtime (llama-index-embeddings-huggingface would load
    the model a second way, from the hub)."""

    _embedder: Any = PrivateAttr()

    def __init__(self, embedder: Any, callback_manager: CallbackManager) -> None:
        super().__init__(
            model_name=embedder.model_id, embed_batch_size=32, callback_manager=callback_manager
        )
        self._embedder = embedder

    def _get_query_embedding(self, query: str) -> list[float]:
        return self._embedder.embed([query])[0].tolist()

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._get_query_embedding(query)

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._embedder.embed([text])[0].tolist()

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        return self._embedder.embed(texts).tolist()


class BM25Retriever(BaseRetriever):
    """BM25 over llama-index nodes with bm25s, as llama-index-retrievers-bm25 does it."""

    def __init__(
        self, nodes: Sequence[BaseNode], similarity_top_k: int, callback_manager: CallbackManager
    ) -> None:
        if not nodes:
            raise ValueError("BM25Retriever needs at least one node")
        self._nodes = list(nodes)
        self._stemmer = Stemmer.Stemmer("english")
        self.similarity_top_k = min(similarity_top_k, len(self._nodes))
        tokens = bm25s.tokenize(
            [n.get_content(metadata_mode=MetadataMode.EMBED) for n in self._nodes],
            stopwords="en",
            stemmer=self._stemmer,
            show_progress=False,
        )
        self._bm25 = bm25s.BM25()
        self._bm25.index(tokens, show_progress=False)
        super().__init__(callback_manager=callback_manager)

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        query = bm25s.tokenize(
            query_bundle.query_str, stemmer=self._stemmer, return_ids=False, show_progress=False
        )
        rows, scores = self._bm25.retrieve(query, k=self.similarity_top_k, show_progress=False)
        return [
            NodeWithScore(node=self._nodes[int(row)], score=float(score))
            for row, score in zip(rows[0], scores[0], strict=True)
        ]


@dataclass
class Peer:
    """One llama-index retriever setup, with what is needed to place its nodes."""

    key: str
    label: str
    nodes: list[BaseNode]
    files: dict[str, tuple[str, str]]  # llama-index document id -> (our doc_id, file text)
    make: Callable[[int], BaseRetriever]  # k -> a retriever returning the top k
    _retrievers: dict[int, BaseRetriever] = field(default_factory=dict)

    def retrieve(self, query: str, k: int) -> list[NodeWithScore]:
        if k not in self._retrievers:
            self._retrievers[k] = self.make(k)
        return self._retrievers[k].retrieve(query)

    def spans(self, found: Sequence[NodeWithScore]) -> list[Span | None]:
        return [node_span(n.node, self.files) for n in found]


def file_metadata(path: str) -> dict[str, Any]:
    """llama-index's own file metadata, with the path written as ``corpus/<name>``: the
    path is part of the text a node is embedded and split with, so an absolute path
    would make the figures depend on where the project is checked out."""
    meta = default_file_metadata_func(path)
    meta["file_path"] = f"{Path(path).parent.name}/{Path(path).name}"
    return meta


def load_documents(
    files: Sequence[Path], doc_ids: dict[str, str]
) -> tuple[list[Document], dict[str, tuple[str, str]]]:
    """The files as llama-index reads them, and each document's (doc_id, file text)."""
    reader = SimpleDirectoryReader(input_files=[str(f) for f in files], file_metadata=file_metadata)
    documents = reader.load_data()
    paths = {f.name: f for f in files}
    by_id = {}
    for d in documents:
        name = d.metadata["file_name"]
        by_id[d.id_] = (doc_ids[name], paths[name].read_text("utf-8"))
    return documents, by_id


def build_peers(files: Sequence[Path], doc_ids: dict[str, str], embedder: Any) -> list[Peer]:
    """Both peers over ``files`` (``doc_ids``: file name -> our doc_id), embedding with
    ``embedder``; each builds its own index, nothing is shared through ``Settings``."""
    callbacks = CallbackManager()
    embed_model = ProjectEmbedding(embedder, callbacks)
    documents, by_id = load_documents(files, doc_ids)

    def index_with(splitter: SentenceSplitter) -> VectorStoreIndex:
        return VectorStoreIndex.from_documents(
            documents,
            embed_model=embed_model,
            transformations=[splitter],
            callback_manager=callbacks,
        )

    plain = index_with(SentenceSplitter())
    chunk_size, overlap = PIPELINE_CHUNK
    tuned = index_with(SentenceSplitter(chunk_size=chunk_size, chunk_overlap=overlap))
    tuned_nodes = list(tuned.docstore.docs.values())

    def fused(k: int) -> BaseRetriever:
        return QueryFusionRetriever(
            [tuned.as_retriever(similarity_top_k=k), BM25Retriever(tuned_nodes, k, callbacks)],
            mode="reciprocal_rerank",
            num_queries=1,  # the query as given: no LLM writes variants
            similarity_top_k=k,
            use_async=False,
            llm=MockLLM(),  # never called with one query; keeps Settings.llm unresolved
            callback_manager=callbacks,
        )

    return [
        Peer(
            "defaults",
            "llama-index defaults: SentenceSplitter() (1024/200), dense",
            list(plain.docstore.docs.values()),
            by_id,
            lambda k: plain.as_retriever(similarity_top_k=k),
        ),
        Peer(
            "pipeline",
            f"llama-index pipeline: SentenceSplitter({chunk_size}, {overlap}), BM25 + dense, "
            "QueryFusionRetriever reciprocal rerank",
            tuned_nodes,
            by_id,
            fused,
        ),
    ]


def settings_state() -> dict[str, int | None]:
    """Identity of every value llama-index's global ``Settings`` holds (None: unset), so
    a caller can show the peers changed none of them."""
    values = {f.name: getattr(LlamaSettings, f.name) for f in dataclasses.fields(LlamaSettings)}
    return {name: None if value is None else id(value) for name, value in values.items()}
