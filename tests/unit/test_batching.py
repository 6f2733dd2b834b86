"""``BatchingEmbedder``: concurrent calls share model calls, repeated texts cost none, and
the vectors are the ones the wrapped model gives."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

import numpy as np
import pytest

from assistant.embeddings import BatchingEmbedder

from ..toy import ToyEmbedder


class CountingModel:
    """The toy model, recording each call's texts (and optionally failing). ``merges``:
    what the model says of itself (``merges_batches``)."""

    def __init__(self, fail: bool = False, merges: bool = True) -> None:
        self.toy = ToyEmbedder()
        self.model_id = self.toy.model_id
        self.calls: list[list[str]] = []
        self.fail = fail
        self.merges_batches = merges

    def embed(
        self, texts: Sequence[str], progress: Callable[[int], None] | None = None
    ) -> np.ndarray:
        self.calls.append(list(texts))
        if self.fail:
            raise RuntimeError("model crashed")
        return self.toy.embed(texts, progress)


def test_vectors_are_the_models_and_repeats_cost_no_model_call() -> None:
    model = CountingModel()
    batching = BatchingEmbedder(model, window_s=0, cache_size=8)
    texts = ["needle depth", "redness after", "needle depth"]
    got = batching.embed(texts)
    assert np.array_equal(got, ToyEmbedder().embed(texts))
    assert model.calls == [["needle depth", "redness after"]]  # each text once
    again = batching.embed(["redness after"])
    assert np.array_equal(again[0], got[1]) and len(model.calls) == 1
    assert batching.cache_hits == 1 and batching.model_id == model.model_id


def test_the_cache_is_bounded_and_drops_the_least_recently_used() -> None:
    model = CountingModel()
    batching = BatchingEmbedder(model, window_s=0, cache_size=2)
    for text in ["a one", "b two", "a one", "c three"]:  # "b two" is the oldest unused
        batching.embed([text])
    batching.embed(["a one"])
    assert len(model.calls) == 3
    batching.embed(["b two"])
    assert len(model.calls) == 4


def test_concurrent_callers_share_one_model_call() -> None:
    model = CountingModel()
    batching = BatchingEmbedder(model, window_s=0.2, cache_size=0)
    questions = [f"question number {n}" for n in range(6)]
    results: dict[str, np.ndarray] = {}
    barrier = threading.Barrier(len(questions))

    def ask(text: str) -> None:
        barrier.wait()
        results[text] = batching.embed([text, "shared reading"])

    threads = [threading.Thread(target=ask, args=(q,)) for q in questions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert len(model.calls) == 1  # all six arrived within the window
    assert sorted(model.calls[0]) == sorted([*questions, "shared reading"])
    for text in questions:
        assert np.array_equal(results[text], ToyEmbedder().embed([text, "shared reading"]))


def test_a_batch_stops_at_its_size_limit() -> None:
    model = CountingModel()
    batching = BatchingEmbedder(model, window_s=0.2, max_texts=2, cache_size=0)
    barrier = threading.Barrier(3)

    def ask(text: str) -> None:
        barrier.wait()
        batching.embed([text])

    threads = [threading.Thread(target=ask, args=(f"text {n}",)) for n in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert sorted(len(call) for call in model.calls) == [1, 2]


def test_every_waiting_caller_gets_the_models_error() -> None:
    batching = BatchingEmbedder(CountingModel(fail=True), window_s=0.05)
    errors: list[str] = []

    def ask(text: str) -> None:
        try:
            batching.embed([text])
        except RuntimeError as err:
            errors.append(str(err))

    threads = [threading.Thread(target=ask, args=(f"q {n}",)) for n in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert errors == ["model crashed"] * 3


def test_ingest_sized_calls_go_straight_to_the_model() -> None:
    model = CountingModel()
    batching = BatchingEmbedder(model, window_s=1.0, max_texts=4)
    ticks: list[int] = []
    batching.embed([f"passage {n}" for n in range(3)], progress=ticks.append)
    batching.embed([f"passage {n}" for n in range(5)])
    assert len(model.calls) == 2 and ticks and batching.cache_hits == 0


@pytest.mark.parametrize("texts", [[]])
def test_no_texts_no_call(texts: list[str]) -> None:
    model = CountingModel()
    assert BatchingEmbedder(model).embed(texts).shape == (0, 384)
    assert model.calls == []


def test_a_model_whose_vectors_depend_on_the_batch_gets_each_call_as_it_is() -> None:
    """int8-style models: concurrent calls are not merged, and the cache keeps whole calls
    (a text asked with other readings is embedded again, with them)."""
    model = CountingModel(merges=False)
    batching = BatchingEmbedder(model, window_s=0.2, cache_size=8)
    assert not batching.merge
    barrier = threading.Barrier(3)

    def ask(text: str) -> None:
        barrier.wait()
        batching.embed([text, "shared reading"])

    threads = [threading.Thread(target=ask, args=(f"question {n}",)) for n in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert sorted(model.calls) == [[f"question {n}", "shared reading"] for n in range(3)]
    again = batching.embed(["question 1", "shared reading"])
    assert len(model.calls) == 3 and batching.cache_hits == 2
    assert np.array_equal(again, ToyEmbedder().embed(["question 1", "shared reading"]))
    batching.embed(["shared reading"])  # the same text in another call: the model again
    assert model.calls[-1] == ["shared reading"] and len(model.calls) == 4


def test_a_model_that_says_nothing_is_not_merged() -> None:
    class Plain:
        model_id = "plain"

        def embed(self, texts, progress=None):  # type: ignore[no-untyped-def]
            return ToyEmbedder().embed(texts, progress)

    assert not BatchingEmbedder(Plain()).merge
    assert BatchingEmbedder(ToyEmbedder()).merge
