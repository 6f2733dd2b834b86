"""Ingest and ``LoadedIndex`` on the tiny hand-written corpus of tests/toy.py, with the toy
embedder and a real embedded Chroma in tmp_path (about a second per build)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from assistant.answer.retrieve import HybridRetriever
from assistant.errors import IndexMismatchError, IndexMissingError
from assistant.index import layout
from assistant.index.reader import LoadedIndex
from assistant.index.vocabulary import Vocabulary
from assistant.ingest import ingest
from assistant.ingest.embed import sentence_embed_text
from assistant.settings import Settings
from assistant.tuning import DEFAULT
from tests.toy import ToyEmbedder, write_toy_corpus

DOCS = ["front-desk", "needle-basics", "sun-care"]
CHUNKS, SENTENCES = 7, 14  # of the toy corpus, counted by hand


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(corpus_dir=write_toy_corpus(tmp_path / "corpus"), data_dir=tmp_path / "data")


def run(settings: Settings, embedder: ToyEmbedder, **kw):
    return ingest(settings, lambda: embedder, model_id=embedder.model_id, **kw)


def never() -> ToyEmbedder:
    raise AssertionError("the model was loaded although nothing needed embedding")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory):
    """One toy index for the read-only tests: settings, the embedder, the summary, progress."""
    root = tmp_path_factory.mktemp("toy")
    settings = Settings(corpus_dir=write_toy_corpus(root / "corpus"), data_dir=root / "data")
    embedder = ToyEmbedder()
    ticks: list[tuple[int, int]] = []
    summary = ingest(
        settings,
        lambda: embedder,
        model_id=embedder.model_id,
        progress=lambda done, total: ticks.append((done, total)),
    )
    return settings, embedder, summary, ticks


@pytest.fixture(scope="module")
def index(built) -> LoadedIndex:
    settings, embedder, _, _ = built
    return LoadedIndex.open(settings, embedder.model_id)


def test_first_ingest_embeds_every_chunk_and_sentence(built) -> None:
    _, embedder, summary, ticks = built
    assert sorted(summary.added) == DOCS
    assert (summary.total_chunks, summary.chunks_added, summary.chunks_unchanged) == (
        CHUNKS,
        CHUNKS,
        0,
    )
    assert summary.embedded == embedder.texts_embedded == CHUNKS + SENTENCES
    assert ticks[-1] == (CHUNKS + SENTENCES, CHUNKS + SENTENCES)
    assert summary.skipped == [] and summary.changed


def test_the_index_holds_the_chunks_their_vectors_and_the_manifest(built, index) -> None:
    _, embedder, summary, _ = built
    assert index.build.name == summary.build
    assert [c.doc_id for c in index.chunks].count("sun-care") == 4
    assert index.collection.count() == CHUNKS
    assert index.collection.configuration_json["hnsw"]["space"] == "cosine"
    assert set(index.collection.get(include=[])["ids"]) == {c.id for c in index.chunks}
    # Chunks are embedded with their title and section; sentences with their section.
    toy = ToyEmbedder()
    assert np.array_equal(index.vectors, toy.embed([c.embed_text for c in index.chunks]))
    row = next(i for i, c in enumerate(index.chunks) if c.section == "Cleaning")
    chunk = index.chunks[row]
    expected = toy.embed([sentence_embed_text(chunk, s.text) for s in chunk.sentences])
    assert np.array_equal(index.sentence_matrix(row), expected)
    assert index.sentences.matrix.shape == (SENTENCES, 384)  # type: ignore[attr-defined]
    assert [m.shape[0] for m in index.sentence_matrices([row, 0, row])] == [
        len(chunk.sentences),
        len(index.chunks[0].sentences),
        len(chunk.sentences),
    ]
    # The vocabulary read off the BM25 index is the one a second analysis would count.
    analyzer = index.keyword.analyzer
    assert index.keyword.document_frequencies() == Vocabulary(analyzer, index.chunks).df
    assert index.manifest["model_id"] == embedder.model_id
    assert index.documents()["sun-care"] == {
        "file": "sun-care.md",
        "hash": index.documents()["sun-care"]["hash"],
        "title": "Sun Care After Needling",
        "publisher": "Toy Clinic Journal",
        "retrieved": "2026-01-05",
        "chunks": 4,
    }


def test_retrieval_fuses_the_keyword_and_dense_rankings(built, index) -> None:
    _, embedder, _, _ = built
    retriever = HybridRetriever(index, embedder, DEFAULT)
    # Only the cleaning chunk says "alcohol": first in both rankings.
    result = retriever.retrieve("soak in alcohol")
    first = result.hits[0]
    assert first.chunk.section == "Cleaning"
    assert (first.dense_rank, first.keyword_rank) == (0, 0)
    assert first.dense_similarity == pytest.approx(
        float(index.vectors[retriever.row_of(first)] @ result.query_vector)
    )
    assert len(result.hits) == CHUNKS  # fewer chunks than retrieve_k
    dense_only = retriever.retrieve_vector("soak in alcohol", result.query_vector, keyword=False)
    assert all(h.keyword_rank is None for h in dense_only.hits)
    assert dense_only.hits[0].chunk.section == "Cleaning"


def test_an_unchanged_corpus_loads_no_model(settings: Settings, toy_embedder) -> None:
    first = run(settings, toy_embedder)
    second = ingest(settings, never, model_id=toy_embedder.model_id)
    assert not second.changed and second.embedded == 0
    assert (sorted(second.unchanged), second.build) == (DOCS, first.build)


def test_an_edit_embeds_only_the_new_chunk_and_a_deleted_file_leaves(settings, toy_embedder):
    run(settings, toy_embedder)
    article = settings.corpus_dir / "needle-basics.md"
    article.write_text(article.read_text("utf-8") + "\n## Storage\n\nKeep it dry.\n", "utf-8")
    (settings.corpus_dir / "front-desk.txt").unlink()
    summary = run(settings, toy_embedder)
    assert (summary.updated, summary.removed) == (["needle-basics"], ["front-desk"])
    assert (summary.chunks_added, summary.chunks_removed, summary.embedded) == (1, 1, 2)
    index = LoadedIndex.open(settings, toy_embedder.model_id)
    assert {c.doc_id for c in index.chunks} == {"needle-basics", "sun-care"}
    assert any(c.section == "Storage" and c.text == "Keep it dry." for c in index.chunks)
    assert index.collection.count() == CHUNKS - 1 + 1
    builds = sorted(p.name for p in layout.builds_dir(settings.index_path).iterdir())
    # The live build and the one before it (ids within one second sort by their suffix).
    assert len(builds) == 2 and index.build.name in builds


def test_rebuild_embeds_everything_again(settings: Settings, toy_embedder) -> None:
    run(settings, toy_embedder)
    again = run(settings, toy_embedder, rebuild=True)
    assert again.embedded == CHUNKS + SENTENCES and again.chunks_unchanged == 0


def test_an_index_of_another_model_is_refused(settings: Settings, toy_embedder) -> None:
    run(settings, toy_embedder)
    with pytest.raises(IndexMismatchError, match="embedding model: the index has 'toy-"):
        LoadedIndex.open(settings, "another-model@onnx")


def test_no_index_is_a_named_error(settings: Settings) -> None:
    with pytest.raises(IndexMissingError, match=r"Build it with: python ingest\.py"):
        LoadedIndex.open(settings, ToyEmbedder.model_id)


def test_a_bad_file_is_skipped_and_the_rest_ingested(settings: Settings, toy_embedder) -> None:
    (settings.corpus_dir / "broken.md").write_bytes(b"caf\xe9")
    summary = run(settings, toy_embedder)
    assert sorted(summary.added) == DOCS
    assert summary.skipped == [f"{settings.corpus_dir / 'broken.md'}: is not valid UTF-8 (byte 3)"]


def test_a_damaged_pointer_while_serving_keeps_the_build_in_use(settings: Settings) -> None:
    from assistant import Assistant

    embedder = ToyEmbedder()
    run(settings, embedder)
    bot = Assistant.load(settings, embedder=embedder)
    build = bot.index.build
    (settings.index_path / layout.CURRENT).write_bytes(b"\xff\xfe")
    assert bot.refresh(min_interval=0) is False
    assert bot.index.build == build
    assert bot.ask("how many days of redness should I expect?").answer
