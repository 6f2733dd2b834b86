"""ONNX Runtime backend: the bundled all-MiniLM-L6-v2, exported once and quantized to int8.

Three modules with very different dependencies; this one names what callers use:

* ``runtime``: ``OnnxEmbedder``, the runtime. numpy, onnxruntime and tokenizers only;
  never torch, transformers or sentence_transformers (the point of the backend).
* ``export``: the export recipe and ``build``, run once, offline; imports torch and
  transformers inside its functions only.
* ``cache``: where exports live, when one is current, and ``export_int8``, which
  rebuilds a stale one under a lock and publishes it atomically.
"""

from ..base import bundled_model_path
from .cache import CACHE_NAME, cache_is_current, ensure_export, export_int8, load_embedder
from .export import FORMAT_VERSION, OPSET, QUANTIZATION, recipe
from .runtime import FP32_FILE, INT8_FILE, META_FILE, TOKENIZER_FILE, OnnxEmbedder

__all__ = [
    "CACHE_NAME",
    "FORMAT_VERSION",
    "FP32_FILE",
    "INT8_FILE",
    "META_FILE",
    "OPSET",
    "QUANTIZATION",
    "TOKENIZER_FILE",
    "OnnxEmbedder",
    "bundled_model_path",
    "cache_is_current",
    "ensure_export",
    "export_int8",
    "load_embedder",
    "recipe",
]
