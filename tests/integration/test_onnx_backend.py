"""ONNX int8 backend: real export of the bundled model, checked against sentence-transformers.

The export (~6 s) happens once per session into a temp dir; the real data dir is never
touched.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from assistant.embeddings import DIMENSION, model_id_for
from assistant.embeddings import onnx as onnx_backend
from assistant.embeddings.onnx import CACHE_NAME, OnnxEmbedder, load_embedder
from assistant.embeddings.onnx import cache as onnx_cache
from assistant.embeddings.onnx import export as onnx_export
from assistant.embeddings.sbert import TorchEmbedder

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "corpus"


def corpus_sentences(limit: int) -> list[str]:
    """Real sentences of the articles (front matter dropped), short and long mixed."""
    sentences: list[str] = []
    for path in sorted(CORPUS.glob("*.md")):
        body = path.read_text().split("---", 2)[-1]
        sentences += [s.strip() for s in " ".join(body.split()).split(". ") if len(s) > 30]
    step = max(1, len(sentences) // limit)
    return sentences[::step][:limit]


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("models")


@pytest.fixture(scope="session")
def onnx_embedder(cache_dir: Path) -> OnnxEmbedder:
    return load_embedder(None, 32, cache_dir)


@pytest.fixture(scope="session")
def torch_embedder(embedder) -> TorchEmbedder:
    """The shared torch embedder, unless the session was configured for ONNX."""
    return embedder if isinstance(embedder, TorchEmbedder) else TorchEmbedder()


@pytest.fixture(scope="session")
def sentences() -> list[str]:
    return corpus_sentences(12)


def test_vectors_have_model_shape_and_unit_norm(onnx_embedder: OnnxEmbedder, sentences):
    vectors = onnx_embedder.embed(sentences)
    assert vectors.shape == (len(sentences), DIMENSION)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert onnx_embedder.model_id == model_id_for("onnx")


def test_empty_input_gives_empty_matrix(onnx_embedder: OnnxEmbedder):
    vectors = onnx_embedder.embed([])
    assert vectors.shape == (0, DIMENSION)
    assert vectors.dtype == np.float32


def test_agrees_with_sentence_transformers(onnx_embedder, torch_embedder, sentences):
    cosines = np.sum(onnx_embedder.embed(sentences) * torch_embedder.embed(sentences), axis=1)
    assert cosines.min() >= 0.98, cosines


def test_fp32_export_matches_torch_exactly(cache_dir: Path, torch_embedder, sentences):
    """The fp32 graph isolates export/tokenization/pooling errors from int8 error."""
    fp32 = OnnxEmbedder(cache_dir / CACHE_NAME, model_file=onnx_backend.FP32_FILE)
    cosines = np.sum(fp32.embed(sentences) * torch_embedder.embed(sentences), axis=1)
    assert cosines.min() >= 0.9999, cosines
    assert fp32.model_id != model_id_for("onnx")


def test_long_text_is_truncated_like_sentence_transformers(onnx_embedder, torch_embedder):
    """Past 256 tokens both must ignore the tail (tokenizer.json alone says 128)."""
    long_text = " ".join(corpus_sentences(60))
    assert len(onnx_embedder.tokenizer.encode(long_text).ids) == 256
    cosine = np.sum(onnx_embedder.embed([long_text]) * torch_embedder.embed([long_text]))
    assert cosine >= 0.98


ORDER_TEXTS = ["Sunscreen.", *corpus_sentences(5), "Redness usually fades within a day or two."]


def test_order_is_restored_after_length_sorting(cache_dir: Path):
    """Batching sorts by length and pads; with fp32 weights the result must equal
    embedding each text alone, row for row."""
    fp32 = OnnxEmbedder(cache_dir / CACHE_NAME, batch_size=3, model_file=onnx_backend.FP32_FILE)
    one_by_one = np.vstack([fp32.embed([t]) for t in ORDER_TEXTS])
    np.testing.assert_allclose(fp32.embed(ORDER_TEXTS), one_by_one, atol=1e-5)
    assert fp32.merges_batches  # concurrent questions may share its calls


def test_torch_batches_longest_first_and_restores_the_order(torch_embedder, monkeypatch):
    """The torch backend sorts by length like the ONNX one (the benchmark compares them
    on equal padding); each row must still be its own text's vector."""
    monkeypatch.setattr(torch_embedder, "batch_size", 3)
    seen: list[int] = []
    batched = torch_embedder.embed(ORDER_TEXTS, progress=seen.append)
    one_by_one = np.vstack([torch_embedder.embed([t]) for t in ORDER_TEXTS])
    np.testing.assert_allclose(batched, one_by_one, atol=1e-5)
    assert seen == [3, 3, 1]
    assert torch_embedder.embed([]).shape == (0, DIMENSION)


def test_int8_rows_stay_with_their_texts(onnx_embedder: OnnxEmbedder):
    """int8 activations are quantized per batch tensor, so a text's vector shifts a
    little with its batch-mates (cosine ~0.96-1.0); it must stay nearest to itself."""
    batched = onnx_embedder.embed(ORDER_TEXTS)
    one_by_one = np.vstack([onnx_embedder.embed([t]) for t in ORDER_TEXTS])
    similarity = batched @ one_by_one.T
    assert list(similarity.argmax(axis=1)) == list(range(len(ORDER_TEXTS)))
    assert similarity.diagonal().min() >= 0.95
    assert not onnx_embedder.merges_batches  # so questions never share its calls


def test_progress_counts_every_text(cache_dir: Path):
    embedder = load_embedder(None, 4, cache_dir)
    seen: list[int] = []
    embedder.embed(corpus_sentences(10), progress=seen.append)
    assert sum(seen) == 10
    assert max(seen) <= 4


def test_second_load_reuses_cache(cache_dir: Path, onnx_embedder, monkeypatch):
    out_dir = cache_dir / CACHE_NAME
    before = {p.name: p.stat().st_mtime_ns for p in out_dir.iterdir()}

    def no_export(*args: object) -> Path:
        raise AssertionError("a current cache was exported again")

    monkeypatch.setattr(onnx_cache, "export_int8", no_export)
    load_embedder(None, 32, cache_dir)
    assert {p.name: p.stat().st_mtime_ns for p in out_dir.iterdir()} == before
    assert not list(cache_dir.glob(f".{CACHE_NAME}.*-*")), "temp dirs left behind"


def test_meta_records_source_and_recipe(cache_dir: Path, onnx_embedder):
    meta = json.loads((cache_dir / CACHE_NAME / onnx_backend.META_FILE).read_text())
    assert len(meta["source"]["weights_sha256"]) == 64
    assert meta["opset"] == onnx_backend.OPSET
    assert meta["quantization"] == onnx_backend.QUANTIZATION
    assert meta["max_seq_length"] == 256


def test_changed_recipe_or_source_makes_cache_stale(cache_dir: Path, onnx_embedder, tmp_path):
    """cache_is_current on a copy of meta.json with stand-in model files (no re-export)."""
    real = cache_dir / CACHE_NAME
    source = onnx_backend.bundled_model_path()
    fake = tmp_path / CACHE_NAME
    fake.mkdir()
    for name in (onnx_backend.INT8_FILE, onnx_backend.FP32_FILE, onnx_backend.TOKENIZER_FILE):
        (fake / name).write_bytes(b"")
    meta = json.loads((real / onnx_backend.META_FILE).read_text())

    def current_with(**changes: object) -> bool:
        (fake / onnx_backend.META_FILE).write_text(json.dumps({**meta, **changes}))
        return onnx_backend.cache_is_current(fake, source)

    assert current_with()
    assert not current_with(format=onnx_backend.FORMAT_VERSION + 1)
    assert not current_with(quantization={**meta["quantization"], "per_channel": False})
    assert not current_with(source={**meta["source"], "weights_size": 1})
    assert not current_with(source={**meta["source"], "tokenizer_sha256": "0" * 64})
    # Same size, different mtime: decided by the hash.
    touched = {**meta["source"], "weights_mtime_ns": 1}
    assert current_with(source=touched)
    assert not current_with(source={**touched, "weights_sha256": "0" * 64})


def test_a_cache_with_an_old_recipe_is_exported_again(
    cache_dir: Path, onnx_embedder, tmp_path, monkeypatch
):
    """ensure_export (what every load goes through) rebuilds a cache whose meta.json
    records another recipe, and leaves a current one alone."""
    real = cache_dir / CACHE_NAME
    cache = tmp_path / "models"
    fake = cache / CACHE_NAME
    fake.mkdir(parents=True)
    for name in (onnx_backend.INT8_FILE, onnx_backend.FP32_FILE, onnx_backend.TOKENIZER_FILE):
        (fake / name).write_bytes(b"")
    meta = json.loads((real / onnx_backend.META_FILE).read_text())
    exports: list[tuple[Path, Path]] = []
    monkeypatch.setattr(onnx_cache, "export_int8", lambda src, out: exports.append((src, out)))

    (fake / onnx_backend.META_FILE).write_text(json.dumps(meta))
    assert onnx_cache.ensure_export(None, cache) == fake
    assert exports == []
    (fake / onnx_backend.META_FILE).write_text(json.dumps({**meta, "format": 0}))
    onnx_cache.ensure_export(None, cache)
    assert exports == [(onnx_backend.bundled_model_path(), fake)]


def test_sessions_flush_denormals_and_int8_skips_the_skip_layernorm_fusion(
    cache_dir: Path, onnx_embedder, monkeypatch
):
    """The two measured speed-ups: denormal-as-zero for both models, and no
    SkipLayerNormalization fusion for the int8 one."""
    from assistant.embeddings.onnx import runtime as onnx_encoder

    for embedder in (onnx_embedder, OnnxEmbedder(cache_dir / CACHE_NAME, model_file="model.onnx")):
        options = embedder.session.get_session_options()
        assert options.get_session_config_entry("session.set_denormal_as_zero") == "1"
        assert options.intra_op_num_threads == (os.cpu_count() or 2)

    calls: list[tuple[str, tuple[str, ...]]] = []
    real_make_session = onnx_encoder.make_session

    def spy(model_file: Path, threads: int, disabled_optimizers=()):
        calls.append((Path(model_file).name, tuple(disabled_optimizers)))
        return real_make_session(model_file, threads, disabled_optimizers)

    monkeypatch.setattr(onnx_encoder, "make_session", spy)
    OnnxEmbedder(cache_dir / CACHE_NAME)
    OnnxEmbedder(cache_dir / CACHE_NAME, model_file=onnx_backend.FP32_FILE)
    assert calls == [
        (onnx_backend.INT8_FILE, ("SkipLayerNormFusion",)),
        (onnx_backend.FP32_FILE, ()),
    ]


def test_failed_export_leaves_no_cache(tmp_path: Path, monkeypatch):
    """A crash mid-export must not publish a half-written directory."""

    def crash(model_path: Path, tmp: Path, source: dict) -> None:
        (tmp / onnx_backend.INT8_FILE).write_bytes(b"half a model")
        raise RuntimeError("simulated crash")

    monkeypatch.setattr(onnx_export, "build", crash)
    with pytest.raises(RuntimeError, match="simulated crash"):
        onnx_backend.export_int8(onnx_backend.bundled_model_path(), tmp_path / CACHE_NAME)
    assert not (tmp_path / CACHE_NAME).exists()
    assert not list(tmp_path.glob(f".{CACHE_NAME}.*-*"))


def test_embedding_from_cache_imports_no_torch(cache_dir: Path, onnx_embedder):
    """Cold start: a fresh process using an existing cache never loads torch."""
    script = textwrap.dedent(
        f"""
        import json, sys
        from pathlib import Path
        from assistant.embeddings.onnx import load_embedder

        embedder = load_embedder(None, 32, Path({str(cache_dir)!r}))
        vectors = embedder.embed(["Does microneedling hurt?", "Aftercare tips."])
        heavy = ("torch", "transformers", "sentence_transformers")
        loaded = [m for m in heavy if m in sys.modules]
        print(json.dumps({{"shape": vectors.shape, "loaded": loaded}}))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report == {"shape": [2, DIMENSION], "loaded": []}
