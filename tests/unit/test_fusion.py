"""answer.retrieve: weighted reciprocal rank fusion, and the rerank by best quotable unit."""

from __future__ import annotations

import doctest
from dataclasses import dataclass

import pytest

import assistant.answer.retrieve
from assistant.answer.retrieve import fuse, rerank
from assistant.schema import Chunk, Hit


def test_docstring_example_holds() -> None:
    assert doctest.testmod(assistant.answer.retrieve).failed == 0


def test_each_item_scores_its_weight_over_k_plus_rank_summed_over_rankings() -> None:
    fused = fuse([(1.0, ["a", "b", "c"]), (0.5, ["c", "a"])], k=60)
    assert fused == pytest.approx({"a": 1 / 61 + 0.5 / 62, "b": 1 / 62, "c": 1 / 63 + 0.5 / 61})


def test_a_larger_k_flattens_the_difference_between_ranks() -> None:
    sharp, flat = fuse([(1.0, ["a", "b"])], k=0), fuse([(1.0, ["a", "b"])], k=100)
    assert sharp["a"] / sharp["b"] == pytest.approx(2.0)
    assert flat["a"] / flat["b"] == pytest.approx(102 / 101)


def test_weights_decide_which_ranking_wins_a_disagreement() -> None:
    # Dense says x, keyword says y: the heavier vote wins.
    dense, keyword = ["x", "y"], ["y", "x"]
    fused = fuse([(0.7, dense), (1.0, keyword)], k=60)
    assert max(fused, key=fused.__getitem__) == "y"
    fused = fuse([(1.0, dense), (0.7, keyword)], k=60)
    assert max(fused, key=fused.__getitem__) == "x"


def test_empty_rankings_fuse_to_nothing() -> None:
    assert fuse([], k=60) == {}
    assert fuse([(1.0, []), (1.0, ["a"])], k=0) == {"a": 1.0}


@dataclass
class Unit:
    """A quotable unit: what ``rerank`` needs of one (its hit and its score)."""

    hit: Hit
    score: float


def hits(n: int) -> list[Hit]:
    return [
        Hit(Chunk(f"d:{i}", "d", "T", "S", 0, 1, "x", f"h{i}"), score=1.0 - i / 10)
        for i in range(n)
    ]


def test_rerank_fuses_retrieval_rank_with_best_unit_rank() -> None:
    a, b, c = hits(3)
    # Retrieval ranks a, b, c; best units rank b (0.9), c (0.5), a (0.2).
    # Reciprocal ranks (k = 0): a 1/1 + 1/3, b 1/2 + 1/1, c 1/3 + 1/2.
    units = [Unit(a, 0.2), Unit(b, 0.9), Unit(b, 0.1), Unit(c, 0.5)]
    assert rerank([a, b, c], units) == [b, a, c]
    assert (a.sentence_score, b.sentence_score, c.sentence_score) == (0.2, 0.9, 0.5)


def test_hits_without_units_go_to_the_end_of_the_unit_ranking() -> None:
    a, b, c = hits(3)
    # Units rank c, then a and b (no units) in retrieval order.
    # Reciprocal ranks (k = 0): a 1/1 + 1/2, b 1/2 + 1/3, c 1/3 + 1/1.
    assert rerank([a, b, c], [Unit(c, 0.4)]) == [a, c, b]
    assert (a.sentence_score, b.sentence_score, c.sentence_score) == (None, None, 0.4)


def test_ties_keep_the_retrieval_order() -> None:
    a, b = hits(2)
    # a 1/1 + 1/2, b 1/2 + 1/1.
    assert rerank([a, b], [Unit(b, 0.4)]) == [a, b]


def test_rerank_keeps_order_when_both_rankings_agree() -> None:
    a, b, c = hits(3)
    assert rerank([a, b, c], [Unit(a, 0.9), Unit(b, 0.5), Unit(c, 0.1)]) == [a, b, c]
