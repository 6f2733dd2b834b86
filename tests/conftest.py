"""Shared fixtures: one real index of the real corpus, built once per test session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
OUTPUT = ROOT / "test-output"


def make_settings(data_dir: Path, corpus_dir: Path = CORPUS, **extra: object):
    from assistant.settings import Settings

    return Settings(corpus_dir=corpus_dir, data_dir=data_dir, **extra)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def embedder():
    """The real bundled model, loaded once (it is the slow part)."""
    from assistant.embeddings import make_embedder
    from assistant.settings import Settings

    s = Settings()
    return make_embedder(s.embed_backend, s.model_path, s.embed_batch_size, s.data_dir / "models")


@pytest.fixture(scope="session")
def built_settings(tmp_path_factory: pytest.TempPathFactory, embedder):
    """Settings whose index holds the real corpus, built by the real pipeline."""
    from assistant.ingest import ingest

    settings = make_settings(tmp_path_factory.mktemp("data"))
    ingest(settings, lambda: embedder, model_id=embedder.model_id)
    return settings


@pytest.fixture(scope="session")
def bot(built_settings, embedder):
    from assistant import Assistant

    return Assistant.load(built_settings, embedder=embedder)


@pytest.fixture(scope="session")
def output_dir() -> Path:
    OUTPUT.mkdir(exist_ok=True)
    return OUTPUT
