"""Shared fixtures: one real index of the real corpus, built once per test session, and
the scripted OpenAI-compatible server LLM mode is tested on (tests/scripted_llm.py)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

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


@pytest.fixture(scope="module")
def fake() -> Iterator[Any]:
    """The scripted OpenAI-compatible server (tests/fake_openai.py), one per test module."""
    from tests.fake_openai import FakeOpenAI

    with FakeOpenAI() as server:
        yield server


@pytest.fixture
def fresh_script(fake) -> None:
    """Nothing left of an earlier test's script or requests; a module asks for it with
    ``pytestmark = pytest.mark.usefixtures("fresh_script")``."""
    fake.reset()


@pytest.fixture(scope="module")
def llm_bot(bot, fake):
    """LLM mode on the scripted server, sharing the session's real index and model."""
    from tests.scripted_llm import llm_assistant

    return llm_assistant(bot, fake.base_url)
