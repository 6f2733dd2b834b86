"""The ``Assistant``: the stages wired together, from a raw question to a ``Reply``.

Clean-up (question.py), follow-up rewriting (followup.py), safety flags (safety.py),
hybrid retrieval (retrieval.py), then answering (answering.py: the gate, the quotes, the
checks and the cautions), and in LLM mode the verified generation (llm.py).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from importlib import resources
from typing import Any

import numpy as np
import yaml

from .answering import Answerer
from .embedding import Embedder, make_embedder, model_id_for
from .followup import clean_history, rewrite
from .gate import Vocabulary
from .index import LoadedIndex
from .keyword import Analyzer
from .live_index import LiveIndex
from .models import Reply
from .question import sanitize
from .retrieval import HybridRetriever
from .safety import SafetyRules, SafetyTopic
from .settings import Settings
from .support import SupportChecker

log = logging.getLogger(__name__)


def load_wording() -> dict[str, str]:
    text = resources.files("assistant.data").joinpath("wording.yaml").read_text("utf-8")
    return {k: " ".join(str(v).split()) for k, v in yaml.safe_load(text).items()}


class Assistant:
    """Answers microneedling questions from the indexed articles, with citations."""

    def __init__(
        self,
        settings: Settings,
        index: LoadedIndex,
        embedder: Embedder,
        generator: Any | None = None,
    ) -> None:
        self.settings = settings
        self.embedder = embedder
        self.analyzer = Analyzer.from_package()
        self.safety_rules = SafetyRules.from_package()
        self.wording = load_wording()
        self.generator = generator
        self.live_index = LiveIndex(settings, index, embedder, self.analyzer)
        self.answerer = Answerer(settings, embedder, self.analyzer, self.safety_rules, self.wording)

    # The current build's parts, for callers outside a question (the app, evals, tests).
    # A question itself takes one ``Snapshot`` and uses it from start to end.
    @property
    def index(self) -> LoadedIndex:
        return self.live_index.current.index

    @property
    def retriever(self) -> HybridRetriever:
        return self.live_index.current.retriever

    @property
    def vocabulary(self) -> Vocabulary:
        return self.live_index.current.vocabulary

    def refresh(self, min_interval: float = 1.0) -> bool:
        """Switch to a newer build if ingest published one (see ``LiveIndex.refresh``)."""
        return self.live_index.refresh(min_interval)

    @classmethod
    def load(cls, settings: Settings | None = None, embedder: Embedder | None = None) -> Assistant:
        """Open the index built by ``ingest.py``; raise a named error if it is unusable."""
        settings = settings or Settings()
        model_id = model_id_for(settings.embed_backend)
        index = LoadedIndex.open(settings, model_id)
        if embedder is None:
            embedder = make_embedder(
                settings.embed_backend,
                settings.model_path,
                settings.embed_batch_size,
                settings.data_dir / "models",
                # Answering embeds one short query at a time, several answers at once:
                # extra intra-op threads only spin and compete with the other answers.
                threads=settings.query_threads,
            )
        generator = None
        if settings.generator == "llm":
            from .llm import LLMGenerator

            generator = LLMGenerator.from_settings(settings)
        return cls(settings, index, embedder, generator)

    # -- the public call -------------------------------------------------------------
    def ask(self, question: str, history: Sequence[Any] | None = None) -> Reply:
        """Answer one question; raise ``ValueError`` only for an empty question."""
        reply: Reply | None = None
        for event in self.ask_stream(question, history):
            if isinstance(event, Reply):
                reply = event
        assert reply is not None
        return reply

    def ask_stream(
        self, question: str, history: Sequence[Any] | None = None
    ) -> Iterator[str | Reply]:
        """Yield text as it is produced (LLM mode), then the final verified ``Reply``.

        In the default extractive mode the answer is ready at once, so the only item is
        the ``Reply``; callers that display progressively stream its text themselves.
        """
        started = time.perf_counter()
        timings: dict[str, float] = {}
        text, truncated = sanitize(question, self.settings.max_question_chars)
        self.refresh()
        live = self.live_index.current
        query = self.rewrite_query(text, clean_history(history))
        topics = self.safety_rules.detect(query)

        t0 = time.perf_counter()
        weights = live.vocabulary.weights(query)
        vectors = self.query_vectors(query, weights)
        # A question with no topic word of its own ("how does microneedling actually
        # work?") gives BM25 nothing but the word every passage shares: dense only.
        retrieval = live.retriever.retrieve_vector(query, vectors[0], keyword=bool(weights))
        timings["retrieve"] = (time.perf_counter() - t0) * 1000

        t0 = time.perf_counter()
        reply = self.answerer.reply(live, text, query, retrieval.hits, vectors, weights, topics)
        timings["compose"] = (time.perf_counter() - t0) * 1000
        if self.generator is not None and not reply.abstained:
            t0 = time.perf_counter()
            final = None
            for event in self.generator.stream_reply(self, reply, reply.hits, topics):
                if isinstance(event, Reply):
                    final = event
                else:
                    yield event
            reply = final or reply
            timings["generate"] = (time.perf_counter() - t0) * 1000
        if truncated:
            note = self.wording["truncated"].format(limit=self.settings.max_question_chars)
            reply.notes.insert(0, note)
            reply.answer = f"{note}\n\n{reply.answer}"
        timings["total"] = (time.perf_counter() - started) * 1000
        reply.timings_ms = timings
        yield reply

    def rewrite_query(self, question: str, turns: list[dict[str, str]]) -> str:
        return rewrite(question, turns, self.analyzer)

    def query_vectors(self, query: str, weights: dict[str, float]) -> list[np.ndarray]:
        """The query's readings, embedded (see ``Answerer.readings``)."""
        return self.answerer.readings(query, weights)

    def support_checker(self) -> SupportChecker:
        """The offline citation-support check with this assistant's model and thresholds."""
        return SupportChecker(
            self.embedder,
            self.analyzer,
            min_similarity=self.settings.support_min_similarity,
            min_recall=self.settings.support_min_recall,
        )

    def notes_for(self, topics: list[SafetyTopic]) -> list[str]:
        return self.answerer.notes_for(topics)

    def add_notes(self, body: str, topics: list[SafetyTopic], notes: list[str]) -> str:
        return self.answerer.add_notes(body, topics, notes)
