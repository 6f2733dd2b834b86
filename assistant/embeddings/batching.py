"""Question-time embedding under load: concurrent callers share model calls, and the
vectors of recent texts are kept.

The model is most of an answer's CPU. Answering embeds a few short texts per question;
one model call over the texts of several concurrent questions costs much less than one
call each (one pass of the graph, one thread hand-off). ``BatchingEmbedder`` wraps any
``Embedder``: the first caller opens a short collection window, callers arriving within
it add their texts, and one model call serves them all. A bounded LRU keyed by the text
(the cleaned question and its readings) makes a popular question cost no model time.

Whether texts of different callers may share a model call is the model's to say
(``merges_batches``). With fp32 weights each text is padded and masked on its own: a text's
vector in a shared call equals its vector alone to float rounding (measured 2026-12-02,
onnx-fp32, 60 questions each batched with 5 others: 34 bit-identical, the rest at cosine
≥ 1 − 2e-7), far below any score difference a reply turns on. The int8 model quantizes
activations per batch tensor, so a text's vector moves with its batch-mates (cosine down
to 0.99): merging would make a reply depend on who else asked at that moment. For such a
model each call goes to the model as it is, and the cache keeps whole calls (a repeated
question, asked with the same readings, still costs no model time).

>>> # BatchingEmbedder(make_embedder(...), window_s=0.003, cache_size=4096)
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence

import numpy as np

from .base import DIMENSION, Embedder


class _Batch:
    """The texts collected in one window, and (once computed) their vectors."""

    def __init__(self) -> None:
        self.texts: dict[str, int] = {}  # text -> row, in arrival order
        self.vectors: np.ndarray | None = None
        self.error: BaseException | None = None
        self.done = threading.Event()

    def add(self, texts: Sequence[str]) -> None:
        for text in texts:
            self.texts.setdefault(text, len(self.texts))


class BatchingEmbedder:
    """An ``Embedder`` that merges concurrent calls within ``window_s`` (at most
    ``max_texts`` texts per model call) and keeps ``cache_size`` vectors (LRU).

    Calls with a progress callback, or more texts than ``max_texts`` (ingest), go
    straight to the model. ``merge`` (default: the model's ``merges_batches``, False if
    it does not say) allows texts of different calls in one model call; without it the
    cache is keyed by the whole call.
    """

    def __init__(
        self,
        model: Embedder,
        window_s: float = 0.003,
        max_texts: int = 64,
        cache_size: int = 4096,
        merge: bool | None = None,
    ) -> None:
        self.model = model
        self.model_id = model.model_id
        self.window_s = window_s
        self.max_texts = max_texts
        self.cache_size = cache_size
        self.merge = bool(getattr(model, "merges_batches", False)) if merge is None else merge
        # Keys: a text (merging) or a whole call's texts (not merging).
        self._cache: OrderedDict[str | tuple[str, ...], np.ndarray] = OrderedDict()
        self._lock = threading.Lock()
        self._open: _Batch | None = None  # the batch still collecting texts
        self.model_calls = 0  # for the benchmark and tests
        self.cache_hits = 0

    def __getattr__(self, name: str) -> object:
        # Anything else the wrapped model offers (e.g. its tokenizer's limits).
        return getattr(self.model, name)

    def embed(
        self, texts: Sequence[str], progress: Callable[[int], None] | None = None
    ) -> np.ndarray:
        if progress is not None or len(texts) > self.max_texts:
            return self.model.embed(texts, progress)
        if not texts:
            return np.zeros((0, DIMENSION), dtype=np.float32)
        if not self.merge:
            return self._whole_call(tuple(texts))
        found = self._cached(texts)
        missing = list(dict.fromkeys(t for t in texts if t not in found))
        if missing:
            found.update(self._compute(missing))
        return np.vstack([found[t] for t in texts])

    def _whole_call(self, texts: tuple[str, ...]) -> np.ndarray:
        """The model's vectors for exactly this call, cached as a whole."""
        with self._lock:
            vectors = self._cache.get(texts)
            if vectors is not None:
                self._cache.move_to_end(texts)
                self.cache_hits += len(texts)
                return vectors.copy()
        vectors = self.model.embed(texts)
        with self._lock:
            self.model_calls += 1
            if self.cache_size:
                self._keep(texts, vectors.copy())
        return vectors

    def _keep(self, key: str | tuple[str, ...], vector: np.ndarray) -> None:
        """Into the LRU (the caller holds the lock)."""
        self._cache[key] = vector
        self._cache.move_to_end(key)
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)

    def _cached(self, texts: Sequence[str]) -> dict[str, np.ndarray]:
        found = {}
        with self._lock:
            for text in texts:
                vector = self._cache.get(text)
                if vector is not None:
                    self._cache.move_to_end(text)
                    found[text] = vector
            self.cache_hits += len(found)
        return found

    def _compute(self, texts: list[str]) -> dict[str, np.ndarray]:
        with self._lock:
            batch = self._open
            leader = batch is None or len(batch.texts) + len(texts) > self.max_texts
            if leader:
                batch = self._open = _Batch()
            assert batch is not None
            batch.add(texts)
        if leader:
            self._run(batch)
        batch.done.wait()
        if batch.error is not None:
            raise batch.error
        assert batch.vectors is not None
        return {t: batch.vectors[batch.texts[t]] for t in texts}

    def _run(self, batch: _Batch) -> None:
        """Collect for one window, close the batch, and embed it in one model call."""
        if self.window_s > 0:
            time.sleep(self.window_s)
        with self._lock:
            if self._open is batch:
                self._open = None
            texts = list(batch.texts)  # closed: no one adds to it any more
        try:
            batch.vectors = self.model.embed(texts)
        except BaseException as exc:  # every waiting caller gets the model's error
            batch.error = exc
        finally:
            batch.done.set()
        if batch.vectors is not None:
            with self._lock:
                self.model_calls += 1
                if self.cache_size:
                    for text, row in batch.texts.items():
                        self._keep(text, batch.vectors[row].copy())
