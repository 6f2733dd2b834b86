"""Optional language-model mode: the model rewrites the answer, the code verifies it.

The engine has already rewritten the follow-up, retrieved, gated and picked the
passages (the extractive reply); the model only turns them into a readable answer.
``LLMGenerator`` ties the stages of this mode together:

- ``prompt``: which passages the model sees, and the prompt around them;
- ``client``: the OpenAI-compatible chat model (the only user of llama-index);
- ``verify``: each sentence checked against the sources it cites as the text
  streams in, and the kept ones renumbered into the answer.

Nothing the model writes reaches the reader unchecked, only verified text is ever
streamed, and the safety notes are appended by code. Any failure (server down,
timeout, HTTP error, malformed or empty output) yields the extractive reply with a
short note from ``data/prompts.yaml``; the user never sees an error.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from ..answer.reply import add_notes
from ..answer.safety import SafetyTopic
from ..answer.support import SupportChecker
from ..errors import GeneratorError
from ..schema import Hit, Note, Reply
from ..settings import Settings
from .client import chat_messages, chat_model
from .prompt import MAX_SOURCES, Prompts, build_prompt, provided_sources
from .verify import Draft, Verifier, normalize, sentences

Notes = Callable[[list[SafetyTopic]], list[Note]]

log = logging.getLogger(__name__)


class LLMGenerator:
    """Rewrites an extractive reply with an OpenAI-compatible chat model, verified."""

    def __init__(
        self, llm: Any, prompts: Prompts | None = None, *, max_sources: int = MAX_SOURCES
    ) -> None:
        self.llm = llm  # anything with llama-index's ``stream_chat``
        self.prompts = prompts or Prompts.from_package()
        self.max_sources = max_sources

    @classmethod
    def from_settings(cls, settings: Settings) -> LLMGenerator:
        """A generator on the chat model the settings describe (see ``client``)."""
        return cls(chat_model(settings))

    def stream_reply(
        self,
        reply: Reply,
        hits: list[Hit],
        topics: list[SafetyTopic],
        checker: SupportChecker,
        notes: Notes,
    ) -> Iterator[str | Reply]:
        """Yield verified answer text as it arrives, then the final ``Reply``.

        ``checker`` verifies each sentence; ``notes`` gives the vetted notes of the
        safety topics (the engine's, so they match the extractive answer's).
        """
        sources = provided_sources(reply, hits, topics, self.max_sources)
        verifier = Verifier(checker, sources, topics, self.prompts.cannot_answer)
        draft = Draft(self.prompts.answer_lead, sources)
        try:
            messages = chat_messages(*build_prompt(self.prompts, reply, sources))
            yield from self._generate(messages, verifier, draft)
        except Exception as err:  # any backend failure degrades to the extractive answer
            log.warning(
                "LLM answer failed (%s: %s); showing the extractive answer",
                type(err).__name__,
                err,
                exc_info=log.isEnabledFor(logging.DEBUG),
            )
            yield self._fallback(reply, "unavailable", verifier.dropped)
            return
        yield self._finish(reply, hits, topics, verifier, draft, notes)

    def _generate(self, messages: list[Any], verifier: Verifier, draft: Draft) -> Iterator[str]:
        text = ""
        for response in self.llm.stream_chat(messages):
            text += response.delta or ""
            for checked in verifier.feed(text):
                yield draft.add(checked.claim, checked.cites)
        if not normalize(text).strip():
            raise GeneratorError("the model returned an empty answer")
        for checked in verifier.feed(text, final=True):
            yield draft.add(checked.claim, checked.cites)
        log.debug("LLM answer: %r; dropped: %s", text, verifier.dropped)

    def _finish(
        self,
        reply: Reply,
        hits: list[Hit],
        topics: list[SafetyTopic],
        verifier: Verifier,
        draft: Draft,
        notes_for: Notes,
    ) -> Reply:
        if not verifier.kept:
            note = "declined" if verifier.declined else "unverified"
            log.info("LLM answer not used (%s): %s", note, verifier.dropped)
            return self._fallback(reply, note, verifier.dropped)
        self._keep_cautions(draft, reply, topics)
        citations = draft.citations()
        for hit in hits:
            hit.cited = any(
                c.doc_id == hit.chunk.doc_id and hit.chunk.start <= c.start < hit.chunk.end
                for c in citations
            )
        notes = notes_for(topics)  # vetted notes come from code, never from the model
        return dataclasses.replace(
            reply,
            answer=add_notes(draft.body(), notes),
            body=draft.body(),
            citations=citations,
            notes=notes,
            dropped=list(verifier.dropped),
            generator="llm",
        )

    @staticmethod
    def _keep_cautions(draft: Draft, reply: Reply, topics: Sequence[SafetyTopic]) -> None:
        """A caution the extractive answer quoted stays quoted, even if the model left it out."""
        for topic in topics:
            if any(topic.is_caution(s.text) for s in draft.used()):
                continue
            for n, citation in enumerate(reply.citations, start=1):
                if topic.is_caution(citation.text):
                    for quote in sentences(citation.text, final=True):
                        draft.add(quote, [n])  # sources [1]..[k] are these citations

    def _fallback(self, reply: Reply, key: str, dropped: list[dict[str, str]]) -> Reply:
        note = self.prompts.notes[key]
        return dataclasses.replace(
            reply,
            answer=f"{reply.answer}\n\n> {note}",
            notes=[*reply.notes, Note("llm", note)],
            dropped=list(dropped),
            generator="extractive-fallback",
        )
