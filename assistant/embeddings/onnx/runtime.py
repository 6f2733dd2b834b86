"""The ONNX runtime half: embed texts with an exported all-MiniLM-L6-v2, no torch.

This module must not import torch, transformers or sentence_transformers, at import time
or while embedding: avoiding them is the whole point of the ONNX backend (cold start of
the app and of ingest). It needs only numpy, onnxruntime and tokenizers.

It reproduces the sentence-transformers pipeline of this model
(Transformer(max_seq_length=256) -> Pooling(mean) -> Normalize) by hand.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
from tokenizers import Encoding, Tokenizer

from ..base import DIMENSION, model_id_for, normalize

# The files of an export directory (written by export.py, published by cache.py).
FP32_FILE = "model.onnx"
INT8_FILE = "model_int8.onnx"
TOKENIZER_FILE = "tokenizer.json"
META_FILE = "meta.json"
OUTPUT_NAME = "last_hidden_state"

# Used when meta.json or sentence_bert_config.json says nothing; it is 256 for this model.
DEFAULT_MAX_SEQ_LENGTH = 256


def read_meta(model_dir: Path) -> dict[str, Any] | None:
    """meta.json of an export, or None when it is missing or unreadable (= no export)."""
    try:
        return json.loads((Path(model_dir) / META_FILE).read_text())
    except (OSError, ValueError):
        return None


def load_tokenizer(path: Path, max_seq_length: int) -> Tokenizer:
    """tokenizer.json ships with fixed padding/truncation at 128; padding is done per
    batch here (to the longest text) and truncation follows sentence-transformers."""
    tokenizer = Tokenizer.from_file(str(path))
    tokenizer.no_padding()
    tokenizer.enable_truncation(max_length=max_seq_length)
    return tokenizer


def pad_batch(encodings: Sequence[Encoding]) -> tuple[np.ndarray, np.ndarray]:
    """input_ids and attention_mask padded with zeros to the batch's longest text."""
    width = max(len(e.ids) for e in encodings)
    ids = np.zeros((len(encodings), width), dtype=np.int64)
    mask = np.zeros((len(encodings), width), dtype=np.int64)
    for row, encoding in enumerate(encodings):
        ids[row, : len(encoding.ids)] = encoding.ids
        mask[row, : len(encoding.attention_mask)] = encoding.attention_mask
    return ids, mask


def mean_pool(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """sentence-transformers' mean pooling: average of non-padding token vectors.

    The masked sum is one batched matrix product, (batch, 1, seq) @ (batch, seq, dim):
    about 4x faster than multiplying and summing the (batch, seq, dim) array.
    """
    weights = mask.astype(np.float32)
    summed = np.matmul(weights[:, None, :], hidden)[:, 0, :]
    counts = np.clip(weights.sum(axis=1, keepdims=True), 1e-9, None)
    return summed / counts


# ORT's SkipLayerNormalization kernel was slower than the Add + LayerNormalization it
# replaces in the int8 graph (measured: 1.1-1.2x throughput without it); in the fp32 graph
# it made no difference, so that graph is left alone. Same maths, different float rounding,
# which dynamic int8 quantization amplifies: the int8 vectors moved (mean cosine 0.9988 to
# the old ones, min 0.9956), hence a new int8 model id (embedding.BACKEND_IDS).
INT8_DISABLED_OPTIMIZERS = ("SkipLayerNormFusion",)


def make_session(
    model_file: Path, threads: int, disabled_optimizers: Sequence[str] = ()
) -> ort.InferenceSession:
    """A CPU session with every graph optimization but ``disabled_optimizers``;
    ``threads`` workers for one batch."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    # One batch at a time: parallelism comes from inside each operator, not between them.
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3  # warnings about unused initializers are noise here
    # Softmax over attention scores underflows to denormal floats, which x86 CPUs compute
    # ~100x slower; flushing them to zero made int8 1.05-1.15x faster and changed no
    # vector (bit-identical output for 549 corpus texts, int8 and fp32). ORT applies it to
    # its worker threads, and to the calling thread only for the first session a process
    # creates; it then stays on for that thread: results below 1e-38 become 0, which
    # nothing in this project can tell apart.
    options.add_session_config_entry("session.set_denormal_as_zero", "1")
    return ort.InferenceSession(
        str(model_file),
        options,
        providers=["CPUExecutionProvider"],
        disabled_optimizers=list(disabled_optimizers),
    )


class OnnxEmbedder:
    """all-MiniLM-L6-v2 on ONNX Runtime (CPU), int8 weights by default."""

    def __init__(
        self,
        model_dir: Path,
        batch_size: int = 32,
        model_file: str = INT8_FILE,
        threads: int | None = None,
        max_seq_length: int | None = None,
    ) -> None:
        model_dir = Path(model_dir)
        if max_seq_length is None:
            meta = read_meta(model_dir) or {}
            max_seq_length = int(meta.get("max_seq_length") or DEFAULT_MAX_SEQ_LENGTH)
        self.tokenizer = load_tokenizer(model_dir / TOKENIZER_FILE, max_seq_length)
        # The fp32 file is kept for comparisons; it must not masquerade as the int8 index.
        quantized = model_file == INT8_FILE
        self.session = make_session(
            model_dir / model_file,
            threads or os.cpu_count() or 2,
            INT8_DISABLED_OPTIMIZERS if quantized else (),
        )
        self.batch_size = batch_size
        self.model_id = model_id_for("onnx" if quantized else "onnx-fp32")
        # int8 quantizes activations per batch tensor: a text's vector depends on its
        # batch-mates, so texts of different questions must not share a call
        # (``BatchingEmbedder``); fp32 pads and masks each text on its own.
        self.merges_batches = not quantized
        self._needs_token_types = "token_type_ids" in {i.name for i in self.session.get_inputs()}

    def embed(
        self, texts: Sequence[str], progress: Callable[[int], None] | None = None
    ) -> np.ndarray:
        """L2-normalised float32 vectors, one row per text, in the order given."""
        if len(texts) == 0:
            return np.zeros((0, DIMENSION), dtype=np.float32)
        encodings = self.tokenizer.encode_batch(list(texts))
        # Longest first: batches of similar length waste little on padding, and the
        # largest (slowest, most memory-hungry) batch shows up first.
        order = np.argsort([-len(e.ids) for e in encodings], kind="stable")
        out = np.empty((len(texts), DIMENSION), dtype=np.float32)
        for start in range(0, len(order), self.batch_size):
            rows = order[start : start + self.batch_size]
            out[rows] = self._embed_batch([encodings[i] for i in rows])
            if progress:
                progress(len(rows))
        return out

    def _embed_batch(self, encodings: Sequence[Encoding]) -> np.ndarray:
        ids, mask = pad_batch(encodings)
        feeds = {"input_ids": ids, "attention_mask": mask}
        if self._needs_token_types:
            feeds["token_type_ids"] = np.zeros_like(ids)
        (hidden,) = self.session.run([OUTPUT_NAME], feeds)
        return normalize(mean_pool(hidden, mask))
