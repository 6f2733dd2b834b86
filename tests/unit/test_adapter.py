"""The lead adapter's packaged map: for which model, trained on what, and its arithmetic."""

from __future__ import annotations

import json
from importlib import resources

import numpy as np

from assistant.answer.adapter import LeadAdapter
from evals.sets import Registry

MODEL = "sentence-transformers/all-MiniLM-L6-v2"


def test_the_map_is_for_the_bundled_model_whatever_its_backend() -> None:
    for backend in ("onnx-fp32", "torch", "onnx-int8-v2"):
        adapter = LeadAdapter.from_package(f"{MODEL}@{backend}")
        assert adapter is not None and adapter.weights.shape == (384, 384)
    assert LeadAdapter.from_package("toy-hash-embedder@1") is None


def test_the_map_stays_near_the_identity() -> None:
    adapter = LeadAdapter.from_package(f"{MODEL}@onnx-fp32")
    assert adapter is not None
    # Kept near the identity: a question unlike any it was trained on reads much as the
    # model reads it.
    assert float(np.diag(adapter.weights).mean()) > 0.8
    vector = adapter.vector(np.ones(384, dtype=np.float32))
    assert abs(float(np.linalg.norm(vector)) - 1.0) < 1e-5


def test_it_was_trained_only_on_sets_whose_failures_have_been_read() -> None:
    meta = json.loads((resources.files("assistant.data") / "lead_adapter.json").read_text())
    registry = Registry.load()
    for name in meta["sets"]:
        assert not registry.get(name).awaiting_first_run, name
    assert meta["model"] == MODEL and meta["questions"] > 1000


def test_training_moves_questions_towards_the_sentences_that_answer_them() -> None:
    from evals.lead_adapter import Example, train

    # Four sentences on two topics; each question sits between the sentence that answers
    # it and the one that only shares its topic, a little closer to the latter.
    units = np.eye(4, dtype=np.float32)
    answer_of = {0: 1, 2: 3}  # topic 0 is answered by sentence 1, topic 2 by 3
    queries, data = [], []
    for near, answer in answer_of.items():
        for _ in range(300):  # about as many questions as the real training has
            q = 0.75 * units[near] + 0.66 * units[answer]
            queries.append(q / np.linalg.norm(q))
            data.append(Example("q", positives=[answer], negatives=[near]))
    weights = train(np.stack(queries).astype(np.float32), data, units)
    adapter = LeadAdapter(weights)
    for q, example in zip(queries, data, strict=True):
        assert int(np.argmax(units @ q)) == example.negatives[0]  # the plain model's pick
        assert int(np.argmax(units @ adapter.vector(q))) == example.positives[0]
