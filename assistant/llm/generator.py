"""Optional language-model mode: the model rewrites the answer, the code verifies it.

The engine has already rewritten the follow-up, retrieved, gated and picked the
passages (the extractive reply); the model only turns them into a readable answer.
``LLMGenerator`` ties the stages of this mode together:

- ``prompt``: which passages the model sees, and the prompt around them;
- ``client``: the OpenAI-compatible chat model (the only user of llama-index);
- ``verify``: each sentence cleaned of markup and checked against the sources it cites
  as the text streams in, and the kept ones renumbered into the answer.

Nothing the model writes reaches the reader unchecked, only verified text is ever
streamed, and the safety notes are appended by code. A flagged topic's caution is
stated in what is shown: by a kept sentence, or else by the verbatim quote. A stream
cut off before its end shows only its complete, verified sentences, with a note. Any
other failure (server down, timeout, HTTP error, malformed or empty output) yields the
extractive reply with a short note from ``data/prompts.yaml``; the user never sees an
error.

A reply the engine could only call ``related`` (on topic, but no passage clearly
answers) goes to the model too, with the same sources: if at least one sentence of its
answer passes verification and the answer names what the question is about (the gate's
key term), the verified answer is shown as an ``answer``, marked
``generator="llm-promoted"`` for staff (``reason`` keeps why the engine was unsure);
otherwise the related reply stands. A reply related because the value asked for (a
price, a length) is in no passage is not sent: nothing the sources say can supply it.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Generator, Iterator, Sequence
from typing import Any

from ..answer.reply import add_notes
from ..answer.safety import SafetyTopic
from ..answer.support import SupportChecker
from ..errors import GeneratorError
from ..schema import Citation, Hit, Note, Outcome, Reason, Reply, Role
from ..settings import Settings
from .client import chat_messages, chat_model
from .prompt import MAX_SOURCES, Prompts, build_prompt, provided_sources
from .verify import Draft, Verifier, normalize, sentences

Notes = Callable[[list[SafetyTopic]], list[Note]]

log = logging.getLogger(__name__)

PROMOTED = "llm-promoted"
# Why a stream stopped, as OpenAI-compatible servers say it; "length" = the token limit.
CUT_SHORT = frozenset({"length"})


def promotable(reply: Reply) -> bool:
    """A related reply a verified answer may turn into an answer (see the docstring)."""
    return reply.outcome is Outcome.RELATED and reply.reason is Reason.LOW_CONFIDENCE


class LLMGenerator:
    """Rewrites an extractive reply with an OpenAI-compatible chat model, verified."""

    def __init__(
        self,
        llm: Any,
        prompts: Prompts | None = None,
        *,
        max_sources: int = MAX_SOURCES,
        promote_needs_subject: bool = True,
    ) -> None:
        self.llm = llm  # anything with llama-index's ``stream_chat``
        self.prompts = prompts or Prompts.from_package()
        self.max_sources = max_sources
        # A promoted answer must name the question's key term (see ``_names_the_subject``);
        # evals.llm_promotion measures both ways.
        self.promote_needs_subject = promote_needs_subject

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
        if reply.outcome is not Outcome.ANSWER and not promotable(reply):
            yield reply
            return
        sources = provided_sources(reply, hits, topics, self.max_sources)
        verifier = Verifier(checker, sources, topics, self.prompts.cannot_answer)
        draft = Draft(self.prompts.answer_lead, sources)
        try:
            messages = chat_messages(*build_prompt(self.prompts, reply, sources))
            generated = self._generate(messages, verifier, draft)
            if reply.outcome is Outcome.RELATED:
                # Whether it becomes an answer is known only at the end: nothing streams.
                cut_off = _drain(generated)
            else:
                cut_off = yield from generated
        except Exception as err:  # any backend failure degrades to the extractive answer
            log.warning(
                "LLM answer failed (%s: %s); showing the extractive answer",
                type(err).__name__,
                err,
                exc_info=log.isEnabledFor(logging.DEBUG),
            )
            yield self._fallback(reply, "unavailable", verifier.dropped)
            return
        yield self._finish(reply, hits, topics, verifier, draft, notes, cut_off=cut_off)

    def _generate(
        self, messages: list[Any], verifier: Verifier, draft: Draft
    ) -> Generator[str, None, bool]:
        """Stream, verify and draft; return whether the stream was cut off."""
        text, stopped = "", None
        try:
            for response in self.llm.stream_chat(messages):
                text += response.delta or ""
                stopped = _finish_reason(response) or stopped
                for checked in verifier.feed(text):
                    yield draft.add(checked.claim, checked.cites)
        except Exception as err:
            if not normalize(text).strip():
                raise
            # Part of the answer arrived: its complete, verified sentences still count.
            log.warning("LLM stream cut off (%s: %s)", type(err).__name__, err)
            stopped = "cut off"
        if not normalize(text).strip():
            raise GeneratorError("the model returned an empty answer")
        cut_off = stopped == "cut off" or stopped in CUT_SHORT
        checked_now = verifier.cut_off(text) if cut_off else verifier.feed(text, final=True)
        for checked in checked_now:
            yield draft.add(checked.claim, checked.cites)
        log.debug("LLM answer: %r; dropped: %s", text, verifier.dropped)
        return cut_off

    def _finish(
        self,
        reply: Reply,
        hits: list[Hit],
        topics: list[SafetyTopic],
        verifier: Verifier,
        draft: Draft,
        notes_for: Notes,
        *,
        cut_off: bool,
    ) -> Reply:
        if not verifier.kept:
            key = "declined" if verifier.declined else "cut_off" if cut_off else "unverified"
            log.info("LLM answer not used (%s): %s", key, verifier.dropped)
            return self._fallback(reply, key, verifier.dropped)
        promoted = reply.outcome is Outcome.RELATED
        if promoted and self.promote_needs_subject and not self._names_the_subject(reply, verifier):
            log.info("LLM answer not promoted: it never names %r", reply.gate.get("key_term"))
            return self._fallback(reply, "off_subject", verifier.dropped)
        self._keep_cautions(draft, reply, topics, verifier)
        citations = _with_roles(draft.citations())
        for hit in hits:
            hit.cited = any(
                c.doc_id == hit.chunk.doc_id and hit.chunk.start <= c.start < hit.chunk.end
                for c in citations
            )
        notes = notes_for(topics)  # vetted notes come from code, never from the model
        if cut_off:
            notes.append(Note("llm", self.prompts.notes["incomplete"]))
        return dataclasses.replace(
            reply,
            answer=add_notes(draft.body(), notes),
            body=draft.body(),
            citations=citations,
            abstained=False,
            notes=notes,
            dropped=list(verifier.dropped),
            generator=PROMOTED if promoted else "llm",
            outcome=Outcome.ANSWER,
            lead=1,
        )

    @staticmethod
    def _names_the_subject(reply: Reply, verifier: Verifier) -> bool:
        """A verified answer to an unsure question must name what the question is about
        (the gate's key term): true sentences about something else answer nothing."""
        key = reply.gate.get("key_term")
        if not key:
            return True
        analyzer = verifier.checker.analyzer
        return any(key in analyzer.tokens(c.claim) for c in verifier.kept)

    @staticmethod
    def _keep_cautions(
        draft: Draft, reply: Reply, topics: Sequence[SafetyTopic], verifier: Verifier
    ) -> None:
        """A flagged topic's caution is stated by a kept sentence, or quoted verbatim:
        from the extractive reply's own caution passages ([1]..[k] are its citations),
        or else from the first other provided source that states it."""
        quoted: set[str] = set()
        for topic in topics:
            if not topic.caution or verifier.states(topic):
                continue
            holding = [
                (n, [s for s in sentences(source.text, final=True) if topic.is_caution(s)])
                for n, source in enumerate(draft.sources, start=1)
            ]
            holding = [(n, found) for n, found in holding if found]
            own = [(n, found) for n, found in holding if n <= len(reply.citations)]
            for n, found in own or holding[:1]:
                for quote in found:
                    if quote not in quoted:
                        draft.add(quote, [n])
                        quoted.add(quote)

    def _fallback(self, reply: Reply, key: str, dropped: list[dict[str, str]]) -> Reply:
        note = self.prompts.notes[key]
        return dataclasses.replace(
            reply,
            answer=f"{reply.answer}\n\n> {note}",
            notes=[*reply.notes, Note("llm", note)],
            dropped=list(dropped),
            generator="extractive-fallback",
        )


def _drain(generated: Generator[str, None, bool]) -> bool:
    """Run a generator to its end, dropping what it yields; return what it returns."""
    while True:
        try:
            next(generated)
        except StopIteration as stop:
            return stop.value


def _finish_reason(response: Any) -> str | None:
    """Why the server stopped, from a streamed chunk (None until the last one)."""
    choices = getattr(getattr(response, "raw", None), "choices", None) or []
    return getattr(choices[0], "finish_reason", None) if choices else None


def _with_roles(citations: list[Citation]) -> list[Citation]:
    """The first cited passage leads; cautions stay cautions; the rest support."""
    return [
        dataclasses.replace(
            c,
            role=Role.LEAD if i == 0 else Role.CAUTION if c.role is Role.CAUTION else Role.SUPPORT,
        )
        for i, c in enumerate(citations)
    ]
