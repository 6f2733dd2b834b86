"""The eval set's format, the metrics by hand, and a gate that can fail."""

from __future__ import annotations

import json
import random
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from assistant.answer.retrieve import Retrieval
from assistant.data import load_wording
from assistant.ingest.chunking import chunk_document
from assistant.ingest.corpus import load_corpus
from assistant.schema import Hit
from evals import metrics, report, runner
from evals.cases import Case, CaseError, load_cases, section_matches
from evals.compare import compare_set
from evals.feedback import drafts_main
from evals.html import SetEntry
from evals.record import Run, SetRun

from ..conftest import CORPUS, ROOT

CASES = load_cases()
# Written later, blind to the engine's tuning; never used to pick thresholds.
HELDOUT = load_cases(ROOT / "evals" / "heldout.jsonl")
# Three more held-out sets, written 2026-12-01 by helpers who saw neither the engine nor
# the other case files (see docs/evaluation.md for which engine changes each one informed).
LATER_HELDOUT = {
    name: load_cases(ROOT / "evals" / f"{name}.jsonl")
    for name in ("heldout2", "heldout3", "heldout4")
}
ALL_CASES = [*CASES, *HELDOUT, *(c for cases in LATER_HELDOUT.values() for c in cases)]


def test_case_file_follows_the_schema_and_covers_every_category() -> None:
    counts = Counter(c.category for c in CASES)
    assert len(CASES) >= 100
    minimums = {
        "answerable": 45,
        "multi_turn": 15,
        "safety": 15,
        "out_of_scope": 15,
        "adversarial": 10,
    }
    for category, minimum in minimums.items():
        assert counts[category] >= minimum, category
    for case in CASES:
        if case.category == "multi_turn":
            assert case.history, case.id
        if case.expect == "abstain":
            assert case.gold_sources == [] and case.required_facts == [], case.id


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("not json", "not valid JSON"),
        ('{"id": "x"}', "missing fields"),
        (
            '{"id":"x","category":"nope","history":[],"question":"q","expect":"answer",'
            '"gold_sources":[],"required_facts":[],"forbidden":[],"notes":""}',
            "category",
        ),
        (
            '{"id":"x","category":"answerable","history":[],"question":"q","expect":"answer",'
            '"gold_sources":[],"required_facts":[["("]],"forbidden":[],"notes":""}',
            "bad regex",
        ),
    ],
)
def test_bad_case_lines_are_named(tmp_path: Path, line: str, message: str) -> None:
    path = tmp_path / "cases.jsonl"
    path.write_text(line + "\n", "utf-8")
    with pytest.raises(CaseError, match=rf"cases.jsonl:1: .*{message}"):
        load_cases(path)


def test_heldout_set_is_separate_and_covers_every_category() -> None:
    counts = Counter(c.category for c in HELDOUT)
    assert len(HELDOUT) == 60
    assert set(counts) == {"answerable", "multi_turn", "safety", "out_of_scope", "adversarial"}
    assert not {c.id for c in HELDOUT} & {c.id for c in CASES}
    assert not {c.question for c in HELDOUT} & {c.question for c in CASES}


@pytest.mark.parametrize(
    ("name", "counts"),
    [
        ("heldout2", (26, 8, 8, 10, 8)),
        ("heldout3", (26, 8, 8, 10, 8)),
        ("heldout4", (34, 10, 10, 16, 10)),
    ],
)
def test_later_heldout_sets_are_separate_from_every_other(
    name: str, counts: tuple[int, ...]
) -> None:
    cases = LATER_HELDOUT[name]
    categories = ("answerable", "multi_turn", "safety", "out_of_scope", "adversarial")
    assert Counter(c.category for c in cases) == dict(zip(categories, counts, strict=True))
    others = [c for c in ALL_CASES if c not in cases]
    assert not {c.id for c in cases} & {c.id for c in others}
    assert not {c.question for c in cases} & {c.question for c in others}


def test_every_gold_source_exists_in_the_corpus() -> None:
    docs, _ = load_corpus(CORPUS)
    sections = {(d.id, c.section) for d in docs for c in chunk_document(d)}
    for case in ALL_CASES:
        for gold in case.gold_sources:
            assert any(
                doc == gold["doc_id"] and section_matches(sec, gold["section"])
                for doc, sec in sections
            ), (case.id, gold)


def test_no_eval_text_appears_in_the_assistant_package() -> None:
    package = "\n".join(
        p.read_text("utf-8").lower()
        for p in (ROOT / "assistant").rglob("*")
        if p.suffix in {".py", ".yaml", ".txt"}
    )
    for case in ALL_CASES:
        question = " ".join(case.question.lower().split())
        if len(question) >= 20:
            assert question[:60] not in package, case.id
        assert case.id not in package


def test_retrieval_metrics_by_hand() -> None:
    retrieved = [
        {"doc_id": "a", "section": "X > Y"},
        {"doc_id": "b", "section": "Z"},
        {"doc_id": "a", "section": "X"},
    ]
    rels = metrics.relevance(retrieved, [{"doc_id": "a", "section": "X"}])
    assert rels == [1, 0, 1]
    scores = metrics.retrieval_scores(rels, relevant_total=2)
    assert (scores["hit@1"], scores["hit@5"], scores["mrr"]) == (1.0, 1.0, 1.0)
    # DCG = 1/log2(2) + 1/log2(4) = 1.5; ideal (2 relevant) = 1 + 1/log2(3) = 1.6309
    assert scores["ndcg@5"] == pytest.approx(1.5 / 1.6309, abs=1e-4)
    late = metrics.retrieval_scores([0, 0, 1], relevant_total=1)
    assert (late["hit@1"], late["mrr"], late["ndcg@5"]) == (0.0, pytest.approx(1 / 3), 0.5)


def test_citation_checks_catch_dangling_markers_and_edited_quotes() -> None:
    source = "Avoid makeup for 24 hours."
    reply = {
        "answer": "- Avoid makeup for 24 hours. [1] [2]",
        "citations": [
            {"n": 1, "doc_id": "d", "text": "Avoid makeup for 48 hours.", "start": 0, "end": 26}
        ],
    }
    problems = metrics.citation_problems(reply, {"d": source})
    assert problems == ["[2] does not resolve", "citation 1 is not verbatim in d"]


def test_gate_failures_name_the_metric_and_the_baseline_drop() -> None:
    good = {k: 1.0 for k in metrics.HIGHER_IS_BETTER} | {k: 0.0 for k in metrics.LOWER_IS_BETTER}
    assert metrics.gate_failures(good, good) == []
    worse = good | {"hit@5": 0.97, "false_refusals": 0.5}
    failures = metrics.gate_failures(worse, good)
    assert any(f.startswith("false_refusals = 0.5 is above its gate") for f in failures)
    assert any(f.startswith("hit@5 = 0.97 regressed from baseline 1.0") for f in failures)


@pytest.fixture(scope="module")
def subset():
    picked = [c for c in CASES if c.category in ("answerable", "safety")][:30]
    return picked + [c for c in CASES if c.category == "out_of_scope"][:6]


def test_the_real_engine_passes_the_gate_on_a_sample(bot, subset) -> None:
    summary = metrics.aggregate(runner.run(bot, subset))
    assert summary["citation_validity"] == 1.0
    assert summary["hit@5"] >= 0.85


def test_citation_precision_counts_citations_outside_the_gold_sections(bot) -> None:
    basics = "womens-health-microneedling-basics"
    right = {"doc_id": basics, "section": "How Often Do You Need Treatments to Maintain Results?"}
    wrong = {"doc_id": basics, "section": "What’s the Pain Like?"}
    checker, sources, wording = bot.support_checker(), runner.source_texts(bot), load_wording()

    def precision(gold: dict[str, str]) -> float:
        case = Case("t", "answerable", "What is the cost of microneedling?", "answer", [], [gold])
        return runner.run_case(bot, case, checker, sources, wording)["citation_precision"]

    # The answer quotes one passage, from the cost section.
    assert (precision(right), precision(wrong)) == (1.0, 0.0)


def test_a_broken_retriever_fails_the_gate(bot, subset, monkeypatch, tmp_path) -> None:
    rng = random.Random(7)
    real = bot.retriever.retrieve_vector

    def random_chunks(
        query: str, vector: Any, top_k: int | None = None, keyword: bool = True
    ) -> Retrieval:
        result = real(query, vector, top_k, keyword)
        chunks = rng.sample(bot.index.chunks, len(result.hits))
        return Retrieval([Hit(c, 0.0) for c in chunks], result.query_vector)

    # The engine embeds the query itself (with its focus, in one call), then retrieves.
    monkeypatch.setattr(bot.retriever, "retrieve_vector", random_chunks)
    results = runner.run(bot, subset)
    summary = metrics.aggregate(results)
    failures = metrics.gate_failures(summary, None)
    assert summary["hit@5"] < 0.5
    assert any(f.startswith("hit@5 = ") for f in failures)
    one = SetRun("subset", summary, runner.by_category(results), tuple(results), tuple(failures))
    comparison = compare_set(one, None, None)
    entry = SetEntry("subset", None, one, comparison, False, "cases.jsonl")
    run = Run(str(tmp_path), "2026-12-02", None, {"subset": one})
    report.write(tmp_path, run, [entry], {"subset": comparison})
    written = json.loads((tmp_path / "subset" / "summary.json").read_text())
    assert written["gate_failures"] == failures
    page = (tmp_path / "report.html").read_text()
    assert "<svg" in page and f"Cases ({len(subset)})" in page and "Gate failed" in page
    assert len((tmp_path / "subset" / "results.jsonl").read_text().splitlines()) == len(subset)


def test_thumbs_down_feedback_becomes_draft_cases(tmp_path: Path) -> None:
    feedback = tmp_path / "feedback.jsonl"
    lines = [
        {
            "answer_id": "a",
            "event": "vote",
            "vote": "down",
            "question": "Can I tan after?",
            "citations": [{"doc_id": "d", "section": "S"}],
            "timestamp": "t1",
        },
        {"answer_id": "a", "event": "comment", "comment": "missed the sun advice"},
        {"answer_id": "b", "event": "vote", "vote": "up", "question": "Is the needling painful?"},
        {"answer_id": "c", "event": "vote", "vote": "down", "question": "Is it safe?"},
        {"answer_id": "c", "event": "vote", "vote": "none", "question": "Is it safe?"},
    ]
    feedback.write_text("\n".join(json.dumps(x) for x in lines) + "\nbroken line\n", "utf-8")
    out = tmp_path / "drafts.jsonl"
    assert drafts_main(feedback, out) == 0
    [draft] = [json.loads(x) for x in out.read_text().splitlines()]
    assert draft["question"] == "Can I tan after?"
    assert "missed the sun advice" in draft["notes"] and re.match(r"DRAFT", draft["notes"])
    load_cases(out)  # drafts are valid cases, ready for a person to complete


def test_feedback_of_several_replicas_is_merged_by_question(tmp_path: Path) -> None:
    """Each replica keeps its own feedback file; the drafts come from all of them."""
    one, two = tmp_path / "replica-1", tmp_path / "replica-2"
    one.mkdir()
    two.mkdir()

    def down(answer_id: str, question: str, comment: str | None = None) -> list[dict]:
        vote = {"answer_id": answer_id, "event": "vote", "vote": "down", "question": question}
        note = {"answer_id": answer_id, "event": "comment", "comment": comment}
        return [vote, note] if comment else [vote]

    (one / "feedback.jsonl").write_text(
        "\n".join(
            json.dumps(x)
            for x in down("r1-a", "Can I swim the day after?", "no word on chlorine")
            + down("r1-b", "Is numbing cream used?")
        ),
        "utf-8",
    )
    (two / "feedback.jsonl").write_text(
        "\n".join(json.dumps(x) for x in down("r2-a", "can i  SWIM the day after?", "too vague")),
        "utf-8",
    )
    out = tmp_path / "drafts.jsonl"
    assert drafts_main([one / "feedback.jsonl", two], out) == 0
    drafts = [json.loads(x) for x in out.read_text().splitlines()]
    assert [d["question"] for d in drafts] == [
        "Can I swim the day after?",
        "Is numbing cream used?",
    ]
    assert "no word on chlorine | too vague" in drafts[0]["notes"]
    assert "Down-voted 2 times in 2 file(s)" in drafts[0]["notes"]
    assert drafts_main([tmp_path / "replica-3.jsonl"], out) == 2  # a missing file is named
