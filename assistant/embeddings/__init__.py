"""Embed stage: the bundled all-MiniLM-L6-v2, on ONNX Runtime (default) or torch.

Heavy imports happen inside the constructors, never at module import, so a process
that only needs the ONNX backend never pays for importing torch.
"""

from __future__ import annotations

from pathlib import Path

from .base import (
    BACKENDS,
    DIMENSION,
    MODEL_NAME,
    Embedder,
    bundled_model_path,
    model_id_for,
    normalize,
)
from .batching import BatchingEmbedder

__all__ = [
    "BACKENDS",
    "DIMENSION",
    "MODEL_NAME",
    "BatchingEmbedder",
    "Embedder",
    "bundled_model_path",
    "make_embedder",
    "model_id_for",
    "normalize",
]


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
        from .sbert import TorchEmbedder

        return TorchEmbedder(model_path, batch_size)
    if backend in ("onnx", "onnx-fp32"):
        from .onnx import load_embedder

        return load_embedder(
            model_path, batch_size, cache_dir, quantized=backend == "onnx", threads=threads
        )
    raise ValueError(f"Unknown embedding backend: {backend!r} (use {', '.join(BACKENDS)})")
