"""Smoke tests of the benchmark helpers (evals/bench/, evals/synthetic.py); the benchmark
itself is run by hand (``python -m evals.bench``), not here."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ..conftest import CORPUS


def files_of(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


# -- the synthetic corpus ----------------------------------------------------------------
def test_synthetic_corpus_is_deterministic(tmp_path) -> None:
    from evals.synthetic import generate, load_material

    material = load_material(CORPUS)
    generate(tmp_path / "a", 120, seed=7, material=material)
    generate(tmp_path / "b", 120, seed=7, material=material)
    generate(tmp_path / "c", 120, seed=8, material=material)
    generate(tmp_path / "small", 50, seed=7, material=material)
    a = files_of(tmp_path / "a")
    assert a == files_of(tmp_path / "b")
    assert a != files_of(tmp_path / "c")
    assert len(a) == 3  # 50 sections per file
    # Files are seeded one by one: a smaller corpus is a prefix of a bigger one.
    assert files_of(tmp_path / "small") == {"synthetic-000000.md": a["synthetic-000000.md"]}


def test_synthetic_sections_ingest_to_one_chunk_each(tmp_path) -> None:
    from assistant.ingest.chunking import chunk_document
    from assistant.ingest.corpus import load_corpus
    from evals.synthetic import generate

    generate(tmp_path, 120, seed=3)
    docs, errors = load_corpus(tmp_path)
    assert not errors
    chunks = [c for doc in docs for c in chunk_document(doc)]
    assert len(chunks) == 120
    assert all(300 <= len(c.text) <= 700 for c in chunks)
    assert len({d.id for d in docs}) == len(docs) == 3


def test_synthetic_text_comes_from_the_real_corpus(tmp_path) -> None:
    from evals.synthetic import generate, load_material

    material = load_material(CORPUS)
    text = generate(tmp_path, 50, seed=1, material=material)[0].read_text("utf-8")
    assert any(sentence in text for sentence in material.sentences)
    words = set(material.words)
    body = text.split("---", 2)[2].lower()
    vocabulary = [w for w in body.replace(".", " ").split() if w.isalpha()]
    assert sum(w in words for w in vocabulary) / len(vocabulary) > 0.9


def test_word_vector_stand_in_is_deterministic_and_normalised() -> None:
    from evals.synthetic import StandInEmbedder

    texts = ["Microneedling boosts collagen.", "Avoid the sun after treatment.", ""]
    first = StandInEmbedder("stand-in").embed(texts)
    second = StandInEmbedder("stand-in").embed(texts)
    assert first.shape == (3, 384) and first.dtype == np.float32
    assert np.array_equal(first, second)
    assert np.allclose(np.linalg.norm(first[:2], axis=1), 1.0, atol=1e-5)
    assert not first[2].any()  # no words, no direction
    shared = StandInEmbedder("stand-in").embed(["collagen boost", "collagen boost today"])
    assert float(shared[0] @ shared[1]) > float(first[0] @ first[1])


def test_word_vector_stand_in_asks_the_model_once_per_distinct_word() -> None:
    from evals.synthetic import StandInEmbedder

    asked: list[list[str]] = []

    def model(words: list[str]) -> np.ndarray:
        asked.append(words)
        return np.ones((len(words), 384), dtype=np.float32)

    stand_in = StandInEmbedder("stand-in", model=model)
    stand_in.embed(["Sun sun SUN protection", "protection"])
    stand_in.embed(["sun again"])
    assert asked == [["protection", "sun"], ["again"]]


def test_stand_in_gives_known_sentences_the_model_vector() -> None:
    from evals.synthetic import StandInEmbedder

    def model(texts: list[str]) -> np.ndarray:
        # A fake model: each text's vector is one-hot on its length, so it is recognisable.
        out = np.zeros((len(texts), 384), dtype=np.float32)
        out[np.arange(len(texts)), [len(t) % 384 for t in texts]] = 1.0
        return out

    known = "Avoid the sun after treatment."
    stand_in = StandInEmbedder("stand-in", model=model, known=[known])
    vectors = stand_in.embed([known, f"Some Heading: {known}", "Avoid the sun."])
    expected = model([known])[0]
    assert np.array_equal(vectors[0], expected)
    assert np.array_equal(vectors[1], expected)  # the ingest's "leaf: sentence" form
    assert not np.array_equal(vectors[2], expected)  # not known: a bag of words


# -- report and helpers ------------------------------------------------------------------
def test_report_has_the_targets_and_the_run_counts() -> None:
    from evals.bench import Row, Section, Table, render

    section = Section(
        "warm",
        "Warm",
        rows=[Row("warm p50", "12.0 ms", "≤ 25 ms", True, "median of 3 passes")],
        tables=[Table(["a", "b|c"], [["1", "2"]])],
        notes=["a note"],
    )
    text = render([section], {"Date": "today"})
    assert "## Against the targets" in text
    assert "| warm p50 | 12.0 ms | ≤ 25 ms | yes | median of 3 passes |" in text
    assert "| a | b\\|c |" in text  # pipes inside cells are escaped
    assert "- a note" in text and "- **Date**: today" in text


def test_embedding_texts_are_about_450_characters() -> None:
    from evals.bench import embedding_texts

    texts = embedding_texts(40)
    assert texts == embedding_texts(40)
    assert all(400 <= len(t) <= 470 for t in texts)
    assert len(set(texts)) == len(texts)


def test_node_offsets_map_to_the_section_that_holds_the_midpoint() -> None:
    from assistant.ingest.chunking import chunk_document
    from assistant.ingest.corpus import read_document
    from evals.bench import section_at, sections_between

    doc = read_document(CORPUS / "microneedling-benefits-and-cautions.md")
    chunks = chunk_document(doc)
    second = chunks[1]
    assert section_at(chunks, (second.start + second.end) // 2) == second.section
    # A heading line sits between chunks: it maps to the nearest chunk.
    assert section_at(chunks, second.start - 2) in {chunks[0].section, second.section}
    spanning = sections_between(chunks, chunks[0].start, second.end)
    assert spanning == [chunks[0].section, second.section]


# -- plain llama-index, on a tiny input --------------------------------------------------
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_llamaindex_baseline_runs_on_a_tiny_input(bot, embedder) -> None:
    from llama_index.core import Settings as LlamaSettings

    from evals.bench import build_llamaindex, corpus_doc_ids, llama_quality, our_quality
    from evals.cases import load_cases

    files, doc_ids = corpus_doc_ids(bot)
    tiny = [f for f in files if f.name == "womens-health-microneedling-basics.md"]
    baseline = build_llamaindex(tiny, doc_ids, embedder)
    assert baseline.nodes >= 1
    cases = [c for c in load_cases() if c.gold_sources and c.id in ("ans-cost-01", "ans-pain-01")]
    strict, lenient = llama_quality(baseline, bot, cases)
    assert set(strict) == {"hit@1", "hit@5", "mrr"}
    assert all(0.0 <= v <= 1.0 for v in strict.values())
    assert all(lenient[k] >= strict[k] for k in strict)
    ours = our_quality(bot, cases, rewrite=True)
    assert ours["hit@5"] == 1.0
    # Built explicitly: llama-index's global Settings must not have been touched.
    assert LlamaSettings._embed_model is None
    assert LlamaSettings._transformations is None


# -- load: the clients against the real app ----------------------------------------------
@pytest.mark.filterwarnings("ignore:'future.no_silent_downcasting'")
@pytest.mark.filterwarnings("ignore:The copy keyword is deprecated")
def test_load_clients_get_answers_from_both_apis(bot, built_settings, tmp_path) -> None:
    import os
    from dataclasses import replace

    from evals.bench import ENDPOINTS, QUICK, measure_load

    from ..e2e.test_app import app_settings, running_app

    questions = [
        ("Is the needling painful?", []),
        ("And how often?", [{"role": "user", "content": "What is the cost of microneedling?"}]),
    ]
    plan = replace(QUICK, load_clients=2, load_seconds=1.0)
    settings = app_settings(built_settings, tmp_path, rate_limit_per_minute=10**9)
    with running_app(bot, settings) as base:
        for _, call in ENDPOINTS.values():
            # The app runs in this process here, so its CPU is this process's too.
            result = measure_load(call, base, os.getpid(), questions, plan)
            assert result["requests"] >= 2, result
            assert result["errors"] == 0, result["first_errors"]
            assert 0 < result["p50_ms"] <= result["p95_ms"] <= result["p99_ms"]
            assert result["server_cpu_ms_per_request"] > 0


def test_embedding_throughput_takes_turns_between_backends() -> None:
    """Each run embeds with every backend in turn, so a load change hits them alike."""
    from evals.bench import throughput

    calls: list[tuple[str, int]] = []

    class Fake:
        def __init__(self, name: str) -> None:
            self.name = name

        def embed(self, texts):
            calls.append((self.name, len(texts)))
            return np.zeros((len(texts), 384), dtype=np.float32)

    texts = ["some text"] * 40
    rates = throughput({"a": Fake("a"), "b": Fake("b")}, texts, runs=3, pause=0.0)
    assert calls == [("a", 32), ("b", 32)] + [("a", 40), ("b", 40)] * 3
    assert {name: len(r) for name, r in rates.items()} == {"a": 3, "b": 3}
    assert all(rate > 0 for r in rates.values() for rate in r)
