"""The toy embedder of the unit tier keeps the promises the real one makes."""

from __future__ import annotations

import doctest
import json
import subprocess
import sys

import numpy as np
import pytest

import tests.toy
from assistant.embeddings import DIMENSION, Embedder
from tests.toy import ToyEmbedder

from ..conftest import ROOT


def test_docstring_example_holds() -> None:
    assert doctest.testmod(tests.toy).failed == 0


def test_it_has_the_real_models_shape_and_unit_rows() -> None:
    embedder: Embedder = ToyEmbedder()  # type-checks against the protocol
    vectors = embedder.embed(["Apply sunscreen daily.", "Rest tonight.", ""])
    assert vectors.shape == (3, DIMENSION) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors[:2], axis=1), 1.0, atol=1e-6)
    assert not vectors[2].any()  # no words, no direction
    assert embedder.embed([]).shape == (0, DIMENSION)
    assert embedder.model_id == "toy-hashed-bag-of-words@384"  # what an index records


def test_shared_words_mean_closer_vectors() -> None:
    a, b, c = ToyEmbedder().embed(["sunscreen every morning", "sunscreen at noon", "roller depth"])
    assert float(a @ b) > float(a @ c)


def test_order_case_and_punctuation_do_not_matter() -> None:
    a, b = ToyEmbedder().embed(["Sun, then shade!", "shade THEN sun"])
    assert float(a @ b) == pytest.approx(1.0)


def test_progress_is_told_how_many_texts_were_embedded() -> None:
    seen: list[int] = []
    embedder = ToyEmbedder()
    embedder.embed(["one", "two", "three"], progress=seen.append)
    assert seen == [3] and embedder.texts_embedded == 3


def test_vectors_are_the_same_in_another_process() -> None:
    """Python's own hash() of a string changes between processes; the toy's must not."""
    code = (
        "import json; from tests.toy import ToyEmbedder; "
        "print(json.dumps(ToyEmbedder().embed(['sun care'])[0].tolist()))"
    )
    other = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    here = ToyEmbedder().embed(["sun care"])[0]
    assert np.array_equal(np.array(json.loads(other.stdout), dtype=np.float32), here)
