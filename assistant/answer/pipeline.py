"""The ``Assistant``: the stages wired together, from a raw question to a ``Reply``.

Clean-up and follow-ups (query.py), safety flags (safety.py), hybrid retrieval
(retrieve.py), then the respond stage (respond.py: the gate, the quotes, the checks and
the cautions), and in LLM mode a verified generator handed in by the caller.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from collections.abc import Generator as Gen
from typing import Any, Protocol

from ..data import load_wording
from ..embeddings import (
    BatchingEmbedder,
    Embedder,
    bundled_model_path,
    make_embedder,
    model_id_for,
)
from ..errors import BuildGoneError
from ..index.analyzer import Analyzer
from ..index.reader import LoadedIndex
from ..index.vocabulary import Vocabulary
from ..schema import Hit, Note, Outcome, Query, Reply
from ..settings import Settings
from ..tuning import DEFAULT, Tuning
from .adapter import LeadAdapter
from .live import LiveIndex, Snapshot
from .query import QueryReader, clean_history, sanitize
from .respond import Responder
from .retrieve import HybridRetriever
from .safety import SafetyRules, SafetyTopic
from .spelling import english_words, model_words
from .support import SupportChecker

log = logging.getLogger(__name__)


class Generator(Protocol):
    """LLM mode: rewrites an extractive reply, verified (see ``assistant.llm``)."""

    def stream_reply(
        self,
        reply: Reply,
        hits: list[Hit],
        topics: list[SafetyTopic],
        checker: SupportChecker,
        notes: Callable[[list[SafetyTopic]], list[Note]],
    ) -> Iterator[str | Reply]: ...


class Assistant:
    """Answers microneedling questions from the indexed articles, with citations."""

    def __init__(
        self,
        settings: Settings,
        index: LoadedIndex,
        embedder: Embedder,
        generator: Generator | None = None,
        tuning: Tuning = DEFAULT,
    ) -> None:
        self.settings = settings
        if generator is not None and tuning.on("lead_pair"):
            # The model writes from the extractive reply's citations and each sentence it
            # writes is checked against the one it cites: a lead paired with the next
            # sentence would let a statement lean on the wrong one of the two.
            tuning = dataclasses.replace(tuning, off=tuning.off | {"lead_pair"})
        self.tuning = tuning
        self.embedder = embedder
        self.analyzer = Analyzer.from_package()
        self.safety_rules = SafetyRules.from_package()
        self.wording = load_wording()
        self.generator = generator
        self._checker: SupportChecker | None = None
        # Whole English words the model knows: a client's word among them is no typo.
        common = english_words() | model_words(settings.model_path or bundled_model_path())
        self.live_index = LiveIndex(settings, tuning, index, embedder, self.analyzer, common)
        self.reader = QueryReader.from_package(self.analyzer)
        self.responder = Responder(
            tuning,
            embedder,
            self.analyzer,
            self.safety_rules,
            self.wording,
            adapter=LeadAdapter.from_package(embedder.model_id),
        )

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

    def refresh(self, min_interval: float | None = None) -> bool:
        """Switch to a newer build if ingest published one (see ``LiveIndex.refresh``)."""
        return self.live_index.refresh(min_interval)

    @classmethod
    def load(
        cls,
        settings: Settings | None = None,
        embedder: Embedder | None = None,
        generator: Generator | None = None,
        tuning: Tuning = DEFAULT,
    ) -> Assistant:
        """Open the index built by ``ingest.py``; raise a named error if it is unusable.

        ``assistant.load`` also adds the LLM generator when the settings ask for one.
        """
        settings = settings or Settings()
        # The index must match the embedder that will read queries: the given one, or the
        # settings' backend (known without loading the model, so a mismatch fails fast).
        model_id = (
            embedder.model_id if embedder is not None else model_id_for(settings.embed_backend)
        )
        index = LoadedIndex.open(settings, model_id, tuning)
        if embedder is None:
            model = make_embedder(
                settings.embed_backend,
                settings.model_path,
                settings.embed_batch_size,
                settings.model_cache,
                # Answering embeds one short query at a time, several answers at once:
                # extra intra-op threads only spin and compete with the other answers.
                threads=settings.query_threads,
            )
            # Concurrent answers share model calls; repeated questions cost none.
            embedder = BatchingEmbedder(
                model,
                window_s=settings.embed_window_ms / 1000,
                cache_size=settings.embed_cache_size,
            )
        return cls(settings, index, embedder, generator, tuning)

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
        the ``Reply``.
        """
        started = time.perf_counter()
        timings: dict[str, float] = {}
        text, truncated = sanitize(question, self.settings.max_question_chars)
        self.refresh()
        live = self.live_index.current
        turns = clean_history(history)
        if self.tuning.on("spelling"):
            # Read as the articles spell it; the reply still shows what the client wrote.
            spelled = live.speller.fix(text)
            turns = [{**t, "content": live.speller.fix(t["content"])} for t in turns]
            query = dataclasses.replace(self.reader.read(spelled, turns), message=text)
        else:
            query = self.reader.read(text, turns)
        if query.small_talk is not None:
            reply = self.responder.small_talk(query)
        else:
            try:
                reply = yield from self._answer(live, query, timings)
            except BuildGoneError as err:
                # Pruned on the server under this replica: answer from the live build.
                log.warning("%s; reloading", err)
                live = self.live_index.reload()
                reply = yield from self._answer(live, query, timings)
            leaning = self._second_reading(query, reply, turns)
            if leaning is not None:
                again = yield from self._answer(live, leaning, timings)
                if again.outcome is Outcome.ANSWER or (
                    # A message that points back, declined alone: its closest passages
                    # read with the earlier question help more than a bare decline.
                    again.outcome is Outcome.RELATED
                    and reply.outcome is Outcome.DECLINED
                    and self.reader.points_back(query.question)
                ):
                    reply = again
        if truncated:
            note = self.wording["truncated"].format(limit=self.settings.max_question_chars)
            reply = dataclasses.replace(
                reply, notes=[Note("info", note), *reply.notes], answer=f"{note}\n\n{reply.answer}"
            )
        timings["total"] = (time.perf_counter() - started) * 1000
        reply.timings_ms = timings
        yield reply

    def _second_reading(
        self, query: Query, reply: Reply, turns: list[dict[str, str]]
    ) -> Query | None:
        """A self-contained reading that found nothing close, read again as leaning on the
        conversation ("how soon would I notice?" after a question about scars), or one
        that ended leaning on it ("... tho") and found no answer: the reading to try, or
        None."""
        gate = reply.gate
        if query.leans and reply.outcome is not Outcome.ANSWER and not gate.get("other_subject"):
            # "how far apart tho": read alone, it found no answer; it leans on the
            # conversation after all.
            return self.reader.leaning(query, turns)
        # A word no article uses is given the earlier topic only when the message points
        # back to it ("anything i can do to calm it down" after a question on swelling);
        # "is it covered by insurance" still finds no answer leaning on a cost question.
        unknown_key = not gate.get("key_known", True)
        if (
            query.context is not None
            or reply.outcome is Outcome.ANSWER
            or not turns
            or (unknown_key and not self.reader.points_back(query.question))
            or gate.get("other_subject")
            or gate.get("similarity", 1.0) >= self.tuning.off_topic_similarity
        ):
            return None
        return self.reader.leaning(query, turns)

    def _answer(
        self, live: Snapshot, query: Query, timings: dict[str, float]
    ) -> Gen[str, None, Reply]:
        """Retrieve, respond and (LLM mode) generate; yields streamed text, returns the reply."""
        # The whole message raises safety topics (background included); a follow-up also
        # carries those of the question it leans on, unless it brought a topic of its own
        # ("would it help my pores though" after a question about ibuprofen).
        borrowed = None if query.leans else query.context
        topics = self.safety_rules.detect(" ".join(filter(None, (query.message, borrowed))))
        t0 = time.perf_counter()
        readings = self.responder.readings(query, live.vocabulary)
        # A question with no topic word of its own ("how does microneedling actually
        # work?") gives BM25 nothing but the word every passage shares: dense only.
        retrieval = live.retriever.retrieve_vector(
            query.text, readings.query, keyword=bool(live.vocabulary.weights(query.text))
        )
        timings["retrieve"] = (time.perf_counter() - t0) * 1000

        t0 = time.perf_counter()
        reply = self.responder.reply(live, query, retrieval.hits, readings, topics)
        timings["compose"] = (time.perf_counter() - t0) * 1000
        # An answer, or a related reply a verified model answer may promote (see
        # ``assistant.llm.generator``); a decline or small talk is never sent.
        if self.generator is not None and reply.outcome in (Outcome.ANSWER, Outcome.RELATED):
            t0 = time.perf_counter()
            final = None
            stream = self.generator.stream_reply(
                reply, reply.hits, topics, self.support_checker(), self.responder.notes_for
            )
            for event in stream:
                if isinstance(event, Reply):
                    final = event
                else:
                    yield event
            reply = final or reply
            timings["generate"] = (time.perf_counter() - t0) * 1000
        return reply

    def support_checker(self) -> SupportChecker:
        """The offline citation-support check with this assistant's model and tuning;
        one per assistant, so the vectors of the cited sentences it keeps are reused."""
        if self._checker is None:
            self._checker = SupportChecker(
                self.embedder,
                self.analyzer,
                min_similarity=self.tuning.support_min_similarity,
                min_recall=self.tuning.support_min_recall,
                min_similarity_all_words=self.tuning.support_min_similarity_all_words,
            )
        return self._checker
