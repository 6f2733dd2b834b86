"""The ``Assistant``: wires retrieval, follow-ups, the gate, safety and composition."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator, Sequence
from importlib import resources
from typing import Any

import numpy as np
import yaml

from . import compose, gate
from .answer_types import AnswerTypes
from .cautions import add_cautions
from .embedding import Embedder, make_embedder, model_id_for
from .followup import clean_history, context_of, rewrite
from .gate import Vocabulary
from .index import LoadedIndex
from .keyword import Analyzer
from .live_index import LiveIndex, Snapshot
from .models import Hit, Reply
from .retrieval import HybridRetriever, rerank
from .safety import SafetyRules, SafetyTopic
from .settings import Settings
from .support import SupportChecker

log = logging.getLogger(__name__)
_SUBJECT = "microneedling"
_DOMAIN_WORDS = re.compile(
    r"\b(micro[- ]?needl\w*|derma[- ]?roll\w*|micro[- ]?roll\w*|treatments?|procedure)\b",
    re.IGNORECASE,
)
_QUANTITY_QUESTION = (
    "how often",
    "how long",
    "how many",
    "how soon",
    "how frequently",
    "when",
    "frequency",
    "interval",
    "weeks",
    "months",
    "apart",
    "days",
)


def load_wording() -> dict[str, str]:
    text = resources.files("assistant.data").joinpath("wording.yaml").read_text("utf-8")
    return {k: " ".join(str(v).split()) for k, v in yaml.safe_load(text).items()}


def collapse_repeats(words: list[str], longest: int = 30) -> list[str]:
    """Keep one copy of a run of words repeated back to back ("blah blah", a pasted
    sentence twenty times): repetition adds no meaning, only noise for retrieval."""
    out: list[str] = []
    for word in words:
        out.append(word)
        for n in range(1, min(longest, len(out) // 2) + 1):
            if [w.lower() for w in out[-n:]] == [w.lower() for w in out[-2 * n : -n]]:
                del out[-n:]
                break
    return out


def sanitize(question: str, limit: int) -> tuple[str, bool]:
    """Drop control characters, repeats and excess length; raise on an empty question."""
    if not isinstance(question, str):
        raise ValueError("The question must be text.")
    cleaned = "".join(ch if ch.isprintable() or ch in "\n\t" else " " for ch in question)
    cleaned = " ".join(collapse_repeats(cleaned.split()))
    if not cleaned:
        raise ValueError("The question is empty. Please type a question about microneedling.")
    truncated = len(cleaned) > limit
    return cleaned[:limit], truncated


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
        self.answer_types = AnswerTypes.from_package()
        self.wording = load_wording()
        self.generator = generator
        self.live_index = LiveIndex(settings, index, embedder, self.analyzer)
        # Embeddings of fixed texts from the data files (the safety topics' queries),
        # computed on first use: they depend only on the model, never on a question.
        self._fixed_vectors: dict[str, np.ndarray] = {}

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
        reply = self._compose(live, text, query, retrieval.hits, vectors, weights, topics)
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

    # -- internals ---------------------------------------------------------------------
    def query_vectors(self, query: str, weights: dict[str, float]) -> list[Any]:
        """The query's vector, its focus's, and (when it differs) its folded focus's.

        The focus is the question without the domain words every passage shares (the
        query's own vector again when that changes nothing). The folded focus spells the
        client's words the articles' way, by the synonym list ("swap out my roller" ->
        "replace my dermaroller"): one more reading for the similarity the gate and the
        composer read, since the small model scores casual wording low.

        All are embedded in one call: one model run (shorter texts are padded, and
        padding is masked out, so the vectors are the same).
        """
        focus = _DOMAIN_WORDS.sub(" ", query)
        if not weights or focus.split() == query.split():
            focus = query
        folded = " ".join(self.analyzer.fold(focus).replace("_", " ").split())
        changed = re.findall(r"\w+", folded) != re.findall(r"\w+", focus.lower())
        readings = [query, focus] + ([folded] if changed else [])
        texts = list(dict.fromkeys(readings))
        vectors = dict(zip(texts, self.embedder.embed(texts), strict=True))
        return [vectors[t] for t in readings]

    def anchored_vector(self, query: str) -> Any:
        """The question embedded as explicitly about the assistant's one subject."""
        return self.embedder.embed([f"{query} ({_SUBJECT})"])[0]

    def _judge(
        self,
        live: Snapshot,
        question: str,
        query: str,
        hits: list[Hit],
        rows: list[int],
        vectors: list[Any],
        weights: dict[str, float],
    ) -> tuple[list[compose.Candidate], gate.GateResult]:
        """Quotable candidates scored against ``vectors``, and the gate's verdict on them."""
        s = self.settings
        # vectors[1] is the focus: the question without the words every passage shares.
        pool = compose.candidates(
            live.index, hits, rows, np.vstack(vectors), self.analyzer, weights, rank_by=1
        )
        verdict = gate.assess(
            question,
            hits,
            max((c.similarity for c in pool), default=0.0),
            live.vocabulary,
            self.embedder,
            min_similarity=s.gate_min_similarity,
            min_coverage=s.gate_min_coverage,
            noise_similarity=s.gate_noise_similarity,
            follow_up=context_of(query),
            # vectors[0] is the query's; it is the question's too unless a follow-up was
            # rewritten.
            question_vector=vectors[0] if query == question else None,
        )
        return pool, verdict

    def _compose(
        self,
        live: Snapshot,
        question: str,
        query: str,
        hits: list[Hit],
        vectors: list[Any],
        weights: dict[str, float],
        topics: list[SafetyTopic],
    ) -> Reply:
        s = self.settings
        rows = [live.retriever.row_of(h) for h in hits]
        pool, verdict = self._judge(live, question, query, hits, rows, vectors, weights)
        if not verdict.answerable and verdict.coverage >= 1.0 and not _DOMAIN_WORDS.search(query):
            # Every topic term is in one passage and the question names no subject
            # ("How much does it cost?"): read it as the question about microneedling it is.
            # A stricter bar: the anchored reading makes every passage look a bit closer.
            anchored = [*vectors, self.anchored_vector(query)]
            pool2, verdict2 = self._judge(live, question, query, hits, rows, anchored, weights)
            if verdict2.similarity >= s.gate_anchored_similarity:
                pool, verdict = pool2, verdict2
        # The chunk whose own sentence answers the question goes first (staff read the
        # list as "where the answer is"); the gate above judged the retrieval order.
        hits = rerank(hits, pool)
        uncovered = any(t.decline for t in topics)
        answerable = verdict.answerable and not uncovered

        picked: list[compose.Candidate] = []
        conflict = False
        if answerable:
            exclude = [p for t in topics for p in t.exclude]
            pool = [c for c in pool if not any(p.search(c.sentence.text) for p in exclude)]
            quantity_q = any(w in query.lower() for w in _QUANTITY_QUESTION)
            selection = compose.select(
                pool,
                max_sentences=s.max_sentences,
                min_similarity=s.sentence_min_similarity,
                quantity_question=quantity_q,
            )
            picked, conflict = selection.picked, selection.conflict
            missing = self.missing_answer(live, question, picked)
            if missing is not None:
                picked, verdict.answerable, verdict.missing_answer_type = [], False, missing
        if not uncovered:
            picked = add_cautions(live, picked, topics, self.analyzer, self._fixed_vectors)

        if not picked:
            # Safety notes (the urgent one above all) stand even when nothing is quoted.
            return Reply(
                answer=self.add_notes(self.wording["decline"], topics, self.notes_for(topics)),
                citations=[],
                abstained=True,
                safety=[t.name for t in topics],
                query=query,
                question=question,
                hits=hits,
                notes=self.notes_for(topics),
                gate=verdict.to_dict(),
            )
        body, citations = compose.render(picked, self.wording["answer_lead"])
        notes = self.notes_for(topics)
        if conflict:
            body = f"{body}\n\n{self.wording['conflict']}"
        for hit in hits:
            hit.cited = any(p.chunk.id == hit.chunk.id for p in picked)
        return Reply(
            answer=self.add_notes(body, topics, notes),
            citations=citations,
            abstained=False,
            safety=[t.name for t in topics],
            query=query,
            question=question,
            hits=hits,
            notes=notes,
            gate=verdict.to_dict(),
        )

    def missing_answer(
        self, live: Snapshot, question: str, picked: list[compose.Candidate]
    ) -> str | None:
        """What the question asks for that no quote holds ("price", "effect"), if anything.

        Asked for a price and no quote has one, or whether it gets rid of something and no
        quote says it does: near the topic is not an answer. The question's own words decide,
        not a follow-up's borrowed context.
        """
        quotes = [f"{p.chunk.section} {p.sentence.text}" for p in picked]
        missing = self.answer_types.missing(question, [p.sentence.text for p in picked])
        effect = self.answer_types.effect
        if missing is None and effect is not None:
            df = live.vocabulary.df
            if effect.missing(question, quotes, lambda t: set(self.analyzer.tokens(t)) & df.keys()):
                missing = "effect"
        return missing

    def support_checker(self) -> SupportChecker:
        """The offline citation-support check with this assistant's model and thresholds."""
        return SupportChecker(
            self.embedder,
            self.analyzer,
            min_similarity=self.settings.support_min_similarity,
            min_recall=self.settings.support_min_recall,
        )

    def notes_for(self, topics: list[SafetyTopic]) -> list[str]:
        return [self.wording[k] for k in self.safety_rules.notes_for(topics)]

    def add_notes(self, body: str, topics: list[SafetyTopic], notes: list[str]) -> str:
        urgent = [self.wording["urgent"]] if any(t.urgent for t in topics) else []
        rest = [n for n in notes if n not in urgent]
        parts = [f"**{n}**" for n in urgent] + [body] + [f"> {n}" for n in rest]
        return "\n\n".join(parts)
