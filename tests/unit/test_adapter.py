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
