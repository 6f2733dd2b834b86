"""The asked-for value check: which retrieved sentence holds the price a question asks for."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from assistant.answer import compose
from assistant.answer.checks import AnswerChecks, AnswerTypes
from assistant.answer.gate import Signals
from assistant.index.analyzer import Analyzer
from assistant.ingest.chunking import chunk_document
from assistant.ingest.corpus import read_document
from assistant.schema import Hit

ARTICLE = """---
id: toy
title: Toy Guide
---
## Cost

A review site, the largest of its kind by far, says a package of sessions runs up to $700.

A single session takes about an hour.
"""
QUESTION = "What is the price of a package?"


def pool(tmp_path: Path, similarity: float) -> list[compose.Candidate]:
    """Every unit of the toy article, each as close to the question as ``similarity``."""
    path = tmp_path / "toy.md"
    path.write_text(ARTICLE, "utf-8")
    (chunk,) = chunk_document(read_document(path), max_chars=2000)
    vector = np.ones(3) / np.sqrt(3)
    return [
        compose.Candidate(chunk, unit, vector, similarity, similarity, Hit(chunk, 1.0))
        for unit, _ in compose.units(chunk)
    ]


def checks(whole: float) -> AnswerChecks:
    analyzer = Analyzer.from_package()
    return AnswerChecks(
        AnswerTypes.from_package(),
        analyzer,
        min_similarity=0.35,
        min_share=0.5,
        whole_similarity=whole,
    )


def evidence(tmp_path: Path, similarity: float, whole: float) -> str | None:
    found = checks(whole).evidence(
        QUESTION,
        pool(tmp_path, similarity),
        Signals(0.6, 1.0, "packag", weights={"cost": 0.6, "packag": 0.5}),
        {"cost", "packag", "session"},
    )
    return found.sentence.text if found else None


def test_a_close_sentence_holding_the_price_and_the_topic_is_the_evidence(tmp_path) -> None:
    assert evidence(tmp_path, 0.5, whole=0.25) is not None
    assert "$700" in evidence(tmp_path, 0.5, whole=0.25)


def test_a_less_close_one_holding_every_topic_term_still_is(tmp_path) -> None:
    # Its aside ("the largest of its kind by far") pulls its vector away, not its answer.
    assert "$700" in (evidence(tmp_path, 0.3, whole=0.25) or "")


def test_below_the_floor_nothing_is(tmp_path) -> None:
    assert evidence(tmp_path, 0.2, whole=0.25) is None
    assert evidence(tmp_path, 0.3, whole=0.35) is None  # the floor is the usual bar


def test_the_price_is_missing_when_no_quote_holds_one(tmp_path) -> None:
    units = pool(tmp_path, 0.5)
    hour = [u for u in units if "hour" in u.sentence.text]
    weights = {"cost": 0.6, "packag": 0.5}
    assert checks(0.25).missing(QUESTION, hour, weights, {"packag"}) == "price"
    assert checks(0.25).missing(QUESTION, units, weights, {"packag"}) is None


def test_the_price_of_the_treatment_itself_is_the_best_ranked_price(tmp_path) -> None:
    # "What does it cost?": nothing but the asking words, so no topic term to hold.
    found = checks(0.25).evidence(
        "What does it cost?",
        pool(tmp_path, 0.3),
        Signals(0.6, 1.0, None, weights={"cost": 1.0}),
        {"cost"},
    )
    assert found is not None and "$700" in found.sentence.text
    assert (
        checks(0.35).evidence(
            "What does it cost?",
            pool(tmp_path, 0.3),
            Signals(0.6, 1.0, None, weights={"cost": 1.0}),
            {"cost"},
        )
        is None
    )
