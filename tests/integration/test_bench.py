"""Smoke tests of the benchmark helpers (evals/bench/, evals/synthetic.py); the benchmark
itself is run by hand (``python -m evals.bench``), not here."""

from __future__ import annotations

from dataclasses import dataclass
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


# -- the llama-index side-by-side: text-based relevance ----------------------------------
@dataclass(frozen=True)
class FakeChunk:
    doc_id: str
    section: str
    start: int
    end: int


def test_text_overlap_relevance_on_a_hand_made_example() -> None:
    from evals.bench import Span, gold_spans, overlaps, rank_scores, relevance

    chunks = [
        FakeChunk("a", "Intro", 0, 100),
        FakeChunk("a", "Care", 120, 200),  # 100:120 is a heading line, in no chunk
        FakeChunk("a", "Care > Sun", 200, 300),
        FakeChunk("a", "Cost", 320, 400),
        FakeChunk("b", "Care", 0, 50),  # same section name, another document
    ]
    gold = gold_spans(chunks, [{"doc_id": "a", "section": "Care"}])
    assert gold == [Span("a", 120, 200), Span("a", 200, 300)]  # the section and its child
    assert overlaps(Span("a", 290, 330), gold)  # ten characters of "Care > Sun"
    assert not overlaps(Span("a", 300, 400), gold)  # starts where the gold text ends
    assert not overlaps(Span("a", 100, 120), gold)  # only the heading line
    assert not overlaps(Span("b", 0, 50), gold)  # right offsets, wrong document
    assert overlaps(Span("a", 0, 1000), gold)  # a passage holding the whole file
    ranked = [Span("a", 0, 90), None, Span("a", 150, 160), Span("a", 250, 260)]
    rels = relevance(ranked, gold)
    assert rels == (False, False, True, True)  # None: a passage that could not be placed
    assert rank_scores(rels, k=5) == (1.0, 1 / 3)
    assert rank_scores(rels, k=2) == (0.0, 0.0)


def test_a_node_is_placed_by_checked_offsets_or_by_its_text() -> None:
    from evals.bench import locate

    text = "Heading\n\nSun care matters. Wear sunscreen daily.\n"  # the quote: 27:48
    assert locate(text, "Wear sunscreen daily.", 27, 48) == (27, 48)
    assert locate(text, "Wear sunscreen daily.", 0, 21) == (27, 48)  # wrong offsets: searched
    assert locate(text, "Wear sunscreen daily.", None, None) == (27, 48)
    assert locate(text, "Not in the file.", None, None) is None


def test_text_relevance_agrees_with_sections_for_the_projects_own_chunks() -> None:
    """Chunks never overlap, so scoring our chunks on text changes nothing: a chunk
    overlaps a section's text exactly when it is in that section (or under it)."""
    from assistant.ingest.chunking import chunk_document
    from assistant.ingest.corpus import load_corpus
    from evals.bench import Span, gold_spans, overlaps
    from evals.cases import section_matches

    docs, errors = load_corpus(CORPUS)
    assert not errors
    chunks = [c for doc in docs for c in chunk_document(doc)]
    for doc_id, section in {(c.doc_id, c.section) for c in chunks}:
        gold = gold_spans(chunks, [{"doc_id": doc_id, "section": section}])
        for c in chunks:
            expected = c.doc_id == doc_id and section_matches(c.section, section)
            assert overlaps(Span(c.doc_id, c.start, c.end), gold) == expected


def test_bootstrap_intervals_are_fixed_and_hold_the_mean() -> None:
    from evals.bench import bootstrap, paired_difference

    values = [1.0] * 30 + [0.0] * 10
    first, again = bootstrap(values), bootstrap(values)
    assert first == again  # a fixed seed: a re-run prints the same interval
    assert first.mean == 0.75 and first.n == 40
    assert 0.55 < first.low < 0.75 < first.high < 0.9
    assert bootstrap([1.0, 1.0]).text() == "1.000 [1.000, 1.000]"
    same = paired_difference(values, values)
    assert (same.mean, same.low, same.high) == (0.0, 0.0, 0.0)
    assert same.verdict() == "not separable"
    assert paired_difference([1.0] * 20, [0.0] * 20).verdict() == "ahead"
    with pytest.raises(ValueError, match="differ in length"):
        paired_difference([1.0], [1.0, 0.0])


def test_splice_replaces_a_section_and_its_rows_with_targets() -> None:
    from evals.bench import Row, Section, render, splice

    old = Section("b", "B", rows=[Row("b figure", "1", "≤ 2", True)], notes=["old b"])
    other = Section("a", "A", rows=[Row("a figure", "5", "≤ 9", True)], notes=["kept"])
    report = render([other, old], {"Date": "day one"})
    new = Section("b", "B", rows=[Row("b figure, new", "3", "≤ 2", False)], notes=["new b"])
    spliced = splice(report, [new], "day two")
    assert "- **Date**: day one" in spliced
    assert "- **Re-run since the full run**: B (day two)" in spliced
    assert "| a figure | 5 | ≤ 9 | yes |  |" in spliced and "- kept" in spliced
    assert "b figure |" not in spliced and "old b" not in spliced
    assert spliced.count("| b figure, new | 3 | ≤ 2 | **no** |  |") == 2  # top table + B
    assert spliced.index("## B") > spliced.index("## A")
    assert spliced.count("|  | measured | target | met | runs |") == 3  # top table, A, B


# -- the llama-index side-by-side, on a tiny input ---------------------------------------
TINY_CASES = [
    {
        "id": "tiny-pain",
        "category": "answerable",
        "history": [],
        "question": "Is the treatment painful?",
        "expect": "answer",
        "gold_sources": [
            {"doc_id": "womens-health-microneedling-basics", "section": "What’s the Pain Like?"}
        ],
        "required_facts": [],
        "forbidden": [],
        "notes": "",
    },
    {
        "id": "tiny-follow-up",
        "category": "multi_turn",
        "history": [
            {"role": "user", "content": "How often do you need treatments?"},
            {"role": "assistant", "content": "A series of treatments is recommended."},
        ],
        "question": "And to keep the results?",
        "expect": "answer",
        "gold_sources": [
            {
                "doc_id": "womens-health-microneedling-basics",
                "section": "How Often Do You Need Treatments to Maintain Results?",
            }
        ],
        "required_facts": [],
        "forbidden": [],
        "notes": "",
    },
]


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_side_by_side_runs_on_a_tiny_input(bot, tmp_path) -> None:
    import json

    from evals.bench import case_sets, corpus_files, peer_query, score_set
    from evals.bench.llamaindex import (
        conversation_table,
        differences_table,
        passages_table,
        results_table,
    )
    from evals.bench.peers import build_peers, settings_state

    path = tmp_path / "tiny.jsonl"
    path.write_text("\n".join(json.dumps(c) for c in TINY_CASES), encoding="utf-8")
    tiny = case_sets([path])[-1]
    assert (tiny.name, [c.id for c in tiny.cases]) == ("tiny", ["tiny-pain", "tiny-follow-up"])
    earlier, question = peer_query(tiny.cases[1]).split("\n")
    assert (earlier, question) == ("How often do you need treatments?", "And to keep the results?")

    files, doc_ids = corpus_files(bot)
    one = [f for f in files if f.name == "womens-health-microneedling-basics.md"]
    before = settings_state()
    peers = build_peers(one, doc_ids, bot.embedder)
    scores = score_set(tiny, bot, peers)
    assert settings_state() == before  # llama-index's global Settings never touched

    assert scores.cases == 2 and scores.no_gold_text == [] and scores.unplaced == 0
    for system in ("project", "defaults", "pipeline"):
        for metric in ("hit@5", "mrr@5", "hit@8", "mrr@8"):
            assert len(scores.values[f"{system}|{metric}"]) == 2
            assert all(0.0 <= v <= 1.0 for v in scores.values[f"{system}|{metric}"])
    assert set(scores.values["project|cited"]) <= {0.0, 1.0}
    # The default 1024-token splitter makes this 3.6k-character article one node, and a
    # node holding the whole file overlaps every gold section of it: rank 1 every time.
    defaults = next(p for p in peers if p.key == "defaults")
    assert len(defaults.nodes) == 1
    assert scores.values["defaults|mrr@5"] == [1.0, 1.0]
    # Only the follow-up has a history: one figure each, with and without it.
    assert {k: len(v) for k, v in scores.history.items()} == {
        "project|hit@5": 1,
        "defaults|hit@5": 1,
        "defaults|alone hit@5": 1,
        "pipeline|hit@5": 1,
        "pipeline|alone hit@5": 1,
    }
    assert len(results_table([scores]).rows) == 3
    assert len(differences_table([scores]).rows) == 1
    assert len(conversation_table(scores, peers).rows) == 3
    assert passages_table(scores, peers, 81).rows[1][2] == "1"  # the defaults' one node


def test_bench_rejects_a_bad_case_file_before_running(tmp_path, capsys) -> None:
    from evals.bench import main

    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "x"}\n', encoding="utf-8")
    assert main(["--only", "llamaindex", "--cases", str(bad)]) == 2
    assert "bad.jsonl:1: missing fields" in capsys.readouterr().err
    assert main(["--only", "llamaindex", "--cases", str(tmp_path / "none.jsonl")]) == 2
    assert "none.jsonl" in capsys.readouterr().err


# -- load: the clients against the real app ----------------------------------------------
@pytest.mark.filterwarnings("ignore:'future.no_silent_downcasting'")
@pytest.mark.filterwarnings("ignore:The copy keyword is deprecated")
def test_load_clients_get_answers_from_both_apis(bot, built_settings, tmp_path) -> None:
    import os
    from dataclasses import replace

    from evals.bench import ENDPOINTS, QUICK, measure_load

    from ..servers import app_settings, running_app

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
