"""The lead adapter: which quotable unit *answers* a question, not only which is close.

The small model scores a sentence on the question's topic as highly as the one that
answers it ("how long is one appointment?" is as close to the session count as to "15-30
minutes"). A linear map of the query vector, learned from the development cases'
questions and the article units holding their required facts, moves the question towards
its answers: a unit's answer score is ``unit · normalize(W · query)``. The units'
vectors are the index's own; the map costs one 384 × 384 product per question.

``W`` is data (``data/lead_adapter.npz``, with how it was trained in
``data/lead_adapter.json``), built deterministically from the bundled model by
``python -m evals.lead_adapter``; ``W`` starts at the identity and is kept near it, so a
question unlike any it was trained on reads as the model reads it.

>>> import numpy as np
>>> LeadAdapter(np.eye(2, dtype=np.float32)).vector(np.array([3.0, 4.0]))
array([0.6, 0.8], dtype=float32)
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

import numpy as np

FILE = "lead_adapter.npz"


@dataclass(frozen=True)
class LeadAdapter:
    weights: np.ndarray  # (dim, dim): the learned map of a query vector

    @classmethod
    def from_package(cls, model_id: str) -> LeadAdapter | None:
        """The packaged map for the model behind ``model_id`` (any backend of it), or
        None when there is none for that model (a test's toy embedder, another model)."""
        path = resources.files("assistant.data") / FILE
        if not path.is_file():
            return None
        with path.open("rb") as f:
            data = np.load(f)
            model, weights = str(data["model"]), data["weights"].astype(np.float32)
        return cls(weights) if model == model_id.split("@")[0] else None

    def vector(self, query: np.ndarray) -> np.ndarray:
        """The query vector moved towards what answers it, unit length."""
        moved = self.weights @ np.asarray(query, dtype=np.float32)
        return moved / (np.linalg.norm(moved) or 1.0)
