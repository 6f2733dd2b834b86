"""The unit tier: no real model, no ingest of the real corpus; the toy embedder instead."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.toy import ToyEmbedder


@pytest.fixture(scope="session")
def embedder():
    """Shadows the real model of tests/conftest.py, so a unit test cannot load it by accident."""
    pytest.fail(
        "the unit tier never loads the real model: use the toy_embedder fixture "
        "(tests/toy.py), or move the test to tests/integration/"
    )


@pytest.fixture
def toy_embedder() -> ToyEmbedder:
    return ToyEmbedder()


@pytest.fixture(scope="module", autouse=True)
def _default_settings_only() -> Iterator[None]:
    """Settings come from their defaults and the test, whatever the shell exports.

    Module-scoped, so it also covers module-scoped fixtures, and is undone before the
    integration tier (which may need e.g. ``SKINQA_LLM_BASE_URL``) runs."""
    with pytest.MonkeyPatch.context() as patch:
        for name in [n for n in os.environ if n.startswith("SKINQA_")]:
            patch.delenv(name)
        yield
