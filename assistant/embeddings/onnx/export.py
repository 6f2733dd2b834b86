"""The ONNX export half: trace the bundled model to ONNX once, offline, and quantize it.

Runs only when the cache (cache.py) is missing or stale. It may import torch and
transformers, but only inside functions, so importing this module for its recipe
constants stays cheap.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from tokenizers import Tokenizer

from ..base import DIMENSION, MODEL_NAME, normalize
from .runtime import (
    DEFAULT_MAX_SEQ_LENGTH,
    FP32_FILE,
    INT8_FILE,
    META_FILE,
    OUTPUT_NAME,
    TOKENIZER_FILE,
    OnnxEmbedder,
    load_tokenizer,
    mean_pool,
    pad_batch,
)

# Bump when the export recipe changes in a way that changes the produced model, so old
# caches are rebuilt instead of silently reused.
FORMAT_VERSION = 1
OPSET = 17
INPUT_NAMES = ("input_ids", "attention_mask", "token_type_ids")

# Chosen by measuring agreement with sentence-transformers on 200 corpus sentences and
# throughput on 450-character chunks (2-core Xeon with VNNI):
# * per-tensor weight scales lose too much (mean cosine 0.957); per-channel: 0.9925.
# * reduce_range (7-bit weights) exists to avoid int16 saturation on AVX2 CPUs without
#   VNNI; here it only lowered agreement (0.9912) at the same speed, so it stays off.
# * Gather quantizes the embedding tables: 22 MB instead of 58 MB, no measurable loss.
# * Keeping the FFN output projections fp32 raised agreement to 0.9957 but cost ~25%
#   throughput; a pre-fused graph (onnxruntime.transformers optimizer, QAttention) was
#   slower than letting the session fuse the plain export. Neither is worth it.
#   (Re-measured with interleaved runs: pre-fused Attention/QAttention/MultiHeadAttention
#   graphs 0.6-0.9x, FFN output projections in fp32 0.77x, MatMulNBits 8-bit no faster
#   than fp32.) The session-side choices (fusions, denormals) are in runtime.py.
# Activation x activation MatMuls (attention scores) stay fp32 (MatMulConstBOnly default):
# quantizing them too was slower and less accurate.
QUANTIZATION: dict[str, Any] = {
    "method": "onnxruntime.quantization.quantize_dynamic",
    "weight_type": "QInt8",
    "per_channel": True,
    "reduce_range": False,
    "op_types_to_quantize": ["MatMul", "Gather"],
}

# Export refuses to cache a model whose pooled vectors disagree more than this with the
# torch model on a few fixed sentences (a broken trace or a bad quantization recipe).
SANITY_MIN_COSINE = 0.97
SANITY_TEXTS = (
    "Microneedling creates tiny punctures that prompt the skin to make collagen.",
    "Avoid sun exposure after treatment.",
    "Is it safe to use a dermaroller at home on active acne, and how often should I do it?",
)


def recipe() -> dict[str, Any]:
    """The recipe part of meta.json; a cache recorded with any other recipe is stale."""
    return {"format": FORMAT_VERSION, "opset": OPSET, "quantization": QUANTIZATION}


def read_max_seq_length(model_path: Path) -> int:
    """sentence-transformers truncates at ``max_seq_length`` (256 here), not at the
    tokenizer's own 128 or the model's 512; the ONNX runtime must do the same."""
    try:
        config = json.loads((model_path / "sentence_bert_config.json").read_text())
    except OSError:
        return DEFAULT_MAX_SEQ_LENGTH
    return int(config.get("max_seq_length") or DEFAULT_MAX_SEQ_LENGTH)


def check_pipeline_is_mean_pooling(model_path: Path) -> None:
    """The runtime hard-codes mean pooling + normalize; refuse a model that differs."""
    pooling_file = model_path / "1_Pooling" / "config.json"
    if not pooling_file.is_file():
        return
    pooling = json.loads(pooling_file.read_text())
    others = [k for k, v in pooling.items() if k.startswith("pooling_mode_") and v]
    if others != ["pooling_mode_mean_tokens"]:
        raise ValueError(f"{model_path} uses {others}; the ONNX backend only does mean pooling")


def _load_torch_model(model_path: Path) -> Any:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    from transformers import AutoModel
    from transformers.utils import logging as hf_logging

    # Eager attention traces to plain MatMul/Softmax ops that ONNX Runtime fuses and
    # quantizes well; SDPA's tracing takes shape-dependent branches.
    bar_was_enabled = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()  # a "Loading weights" bar in the middle of ingest
    try:
        model = AutoModel.from_pretrained(
            str(model_path), local_files_only=True, attn_implementation="eager"
        )
    finally:
        if bar_was_enabled:
            hf_logging.enable_progress_bar()
    return model.eval()


def _dummy_inputs(torch: Any) -> tuple[Any, Any, Any]:
    """A padded batch of two lengths, so the trace keeps the attention-mask path."""
    input_ids = torch.tensor([[101, 7367, 2003, 1037, 3231, 102], [101, 7367, 102, 0, 0, 0]])
    attention_mask = (input_ids != 0).long()
    return input_ids, attention_mask, torch.zeros_like(input_ids)


def _export_fp32(model: Any, path: Path) -> None:
    """Trace the transformer to ONNX with dynamic batch and sequence axes."""
    import torch

    class HiddenStates(torch.nn.Module):
        """Positional inputs and a single tensor output: a clean ONNX signature."""

        def __init__(self, inner: torch.nn.Module) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            out = self.inner(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            )
            return out.last_hidden_state

    axes = {name: {0: "batch", 1: "sequence"} for name in (*INPUT_NAMES, OUTPUT_NAME)}
    with torch.no_grad(), warnings.catch_warnings():
        # The tracer warns about shape-derived Python values; they are all constant-safe
        # for an encoder (checked against torch on other shapes in _check_export).
        warnings.simplefilter("ignore")
        # eval(): a new wrapper is in training mode, and the exporter restores that mode
        # on the wrapped model afterwards, which would leave its dropout switched on.
        torch.onnx.export(
            HiddenStates(model).eval(),
            _dummy_inputs(torch),
            str(path),
            input_names=list(INPUT_NAMES),
            output_names=[OUTPUT_NAME],
            dynamic_axes=axes,
            opset_version=OPSET,
            # The torch.export-based exporter (default since torch 2.9) needs onnxscript,
            # which is not installed; the TorchScript exporter handles BERT fine.
            dynamo=False,
        )


@contextlib.contextmanager
def _without_preprocess_hint() -> Iterator[None]:
    """quantize_dynamic logs "Please consider to run pre-processing" on the root logger.
    Pre-processing (quant_pre_process) was measured: same vectors, same speed here."""

    def drop_hint(record: logging.LogRecord) -> bool:
        return "pre-processing" not in record.getMessage()

    root = logging.getLogger()
    root.addFilter(drop_hint)
    try:
        yield
    finally:
        root.removeFilter(drop_hint)


def _quantize(fp32_path: Path, int8_path: Path) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    with _without_preprocess_hint():
        quantize_dynamic(
            str(fp32_path),
            str(int8_path),
            weight_type=QuantType.QInt8,
            per_channel=QUANTIZATION["per_channel"],
            reduce_range=QUANTIZATION["reduce_range"],
            op_types_to_quantize=QUANTIZATION["op_types_to_quantize"],
        )


def _torch_reference(model: Any, tokenizer: Tokenizer, texts: Sequence[str]) -> np.ndarray:
    import torch

    ids, mask = pad_batch(tokenizer.encode_batch(list(texts)))
    with torch.no_grad():
        hidden = model(
            input_ids=torch.from_numpy(ids),
            attention_mask=torch.from_numpy(mask),
            token_type_ids=torch.zeros_like(torch.from_numpy(ids)),
        ).last_hidden_state.numpy()
    return normalize(mean_pool(hidden, mask))


def _check_export(tmp: Path, reference: np.ndarray, max_seq_length: int) -> dict[str, float]:
    """Compare both ONNX models with torch before the cache is published."""
    agreement = {}
    for name in (FP32_FILE, INT8_FILE):
        embedder = OnnxEmbedder(tmp, model_file=name, max_seq_length=max_seq_length)
        vectors = embedder.embed(SANITY_TEXTS)
        cosine = float(np.min(np.sum(vectors * reference, axis=1)))
        if cosine < SANITY_MIN_COSINE:
            raise RuntimeError(f"ONNX export {name} disagrees with torch (cosine {cosine:.4f})")
        agreement[name] = round(cosine, 6)
    return agreement


def build(model_path: Path, tmp: Path, source: dict[str, Any]) -> None:
    """Write every file of an export into ``tmp``; meta.json last, as the completion mark.

    ``source`` identifies the weights (cache.py's fingerprint) and is recorded as is.
    """
    import onnx
    import onnxruntime as ort
    import torch
    import transformers

    check_pipeline_is_mean_pooling(model_path)
    max_seq_length = read_max_seq_length(model_path)
    model = _load_torch_model(model_path)
    shutil.copyfile(model_path / TOKENIZER_FILE, tmp / TOKENIZER_FILE)
    # The reference must be computed before tracing: after torch.onnx.export the same
    # BertModel object returned different (wrong) eager outputs in transformers 5.
    tokenizer = load_tokenizer(tmp / TOKENIZER_FILE, max_seq_length)
    reference = _torch_reference(model, tokenizer, SANITY_TEXTS)
    _export_fp32(model, tmp / FP32_FILE)
    onnx.checker.check_model(str(tmp / FP32_FILE))
    _quantize(tmp / FP32_FILE, tmp / INT8_FILE)
    agreement = _check_export(tmp, reference, max_seq_length)
    meta = {
        **recipe(),
        "model_name": MODEL_NAME,
        "source": source,
        "max_seq_length": max_seq_length,
        "dimension": DIMENSION,
        "exporter": "torch.onnx.export (TorchScript, dynamo=False)",
        "versions": {
            "torch": torch.__version__,
            "transformers": transformers.__version__,
            "onnx": onnx.__version__,
            "onnxruntime": ort.__version__,
        },
        "sanity_min_cosine_vs_torch": agreement,
    }
    (tmp / META_FILE).write_text(json.dumps(meta, indent=2) + "\n")
