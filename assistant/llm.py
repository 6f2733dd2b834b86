"""Optional language-model mode: the model rewrites the answer, the code verifies it.

The engine has already rewritten the follow-up, retrieved, gated and picked the
passages (the extractive reply); the model only turns them into a readable answer.
Nothing it writes reaches the reader unchecked: every sentence must cite a provided
source and be supported by it (``SupportChecker``), or it is removed and listed in
``reply.dropped``. Sentences are verified as the text streams in, so only verified
text is ever streamed. Citations are rebuilt from the source passages (verbatim file
spans), never from the model's text, and the safety notes are appended by code.

Any failure (server down, timeout, HTTP error, malformed or empty output) yields the
extractive reply with a short note from ``data/prompts.yaml``; the user never sees an
error. llama-index is imported only in ``from_settings``, so the default extractive
mode never loads it.
"""

from __future__ import annotations

import dataclasses
import logging
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING, Any

import yaml

from .chunking import split_sentences
from .errors import GeneratorError
from .followup import context_of
from .models import Citation, Hit, Reply
from .safety import SafetyTopic
from .support import Support, SupportChecker, markers, strip_markers

if TYPE_CHECKING:
    from .engine import Assistant
    from .settings import Settings

log = logging.getLogger(__name__)

# Passages given to the model: the extractive citations (always), then other retrieved
# chunks up to this many in all, so the model can draw on a little more context.
MAX_SOURCES = 8
# A failed call is not retried: the extractive answer is ready and is the better
# "retry" than making the reader wait for a second timeout.
MAX_RETRIES = 0
# OpenAI's client insists on a key; local servers (Ollama, vLLM, llama.cpp) ignore it.
# A placeholder also keeps an unrelated OPENAI_API_KEY from being sent to them.
NO_API_KEY = "not-needed"
NOTE_KEYS = ("unavailable", "unverified", "declined")

_MARKER_LIST = re.compile(r"\[(\d+(?:\s*[,;]\s*\d+)+)\]")  # "[1, 2]"
_MARKERS_AFTER_END = re.compile(r"([.!?]+[”\"’)]*)((?:\s*\[\d+\])+)")  # "claim. [1]"
_LIST_PREFIX = re.compile(r"^\s*(?:[-*+•]|\d+[.)])\s+")
_THINK = re.compile(r"<think>.*?(?:</think>|$)", re.DOTALL)  # reasoning models' scratchpad
_URL = re.compile(r"(?:https?://|www\.)[^\s)\]>]+", re.IGNORECASE)
_FENCE = re.compile(r"<(/?)(source|question)\b", re.IGNORECASE)
_WORD = re.compile(r"\w")
# The support check's negation words (assistant/support.py) ...
_NEGATED = re.compile(
    r"\b(no|not|never|none|nothing|without|cannot|avoid\w*)\b|n['’]t\b", re.IGNORECASE
)
# ... and the ways a faithful sentence can carry such a warning over in other words.
_CAUTIOUS = re.compile(
    r"\b(no|not|never|none|nothing|without|cannot|avoid\w*|against|caution\w*|precaution\w*|"
    r"risk\w*|contraindicat\w*|unless|stop\w*|refrain\w*|skip\w*|warn\w*|careful\w*)\b"
    r"|n['’]t\b",
    re.IGNORECASE,
)


# -- prompts as data -----------------------------------------------------------------------
@dataclass(frozen=True)
class Prompts:
    """The contents of ``data/prompts.yaml``."""

    system: str
    user: str
    source: str
    context: str
    cannot_answer: str
    answer_lead: str
    notes: dict[str, str]

    @classmethod
    def from_package(cls) -> Prompts:
        text = resources.files("assistant.data").joinpath("prompts.yaml").read_text("utf-8")
        data = yaml.safe_load(text)
        try:
            notes = {k: " ".join(str(data["notes"][k]).split()) for k in NOTE_KEYS}
            return cls(
                system=data["system"],
                user=data["user"],
                source=data["source"],
                context=data["context"],
                cannot_answer=" ".join(data["cannot_answer"].split()),
                answer_lead=data["answer_lead"],
                notes=notes,
            )
        except (KeyError, TypeError, AttributeError) as err:
            raise GeneratorError(f"assistant/data/prompts.yaml is incomplete: {err!r}") from err


def defang(text: str) -> str:
    """Stop quoted text from closing or opening the prompt's own fences."""
    return _FENCE.sub(lambda m: f"‹{m.group(1)}{m.group(2)}", text)


def build_prompt(prompts: Prompts, reply: Reply, sources: Sequence[Citation]) -> tuple[str, str]:
    """The system and user messages: rules, then fenced numbered sources and the question."""
    blocks = "\n".join(
        prompts.source.format(
            n=s.n,
            title=defang(s.title).replace('"', "'"),
            section=defang(s.section).replace('"', "'"),
            text=defang(s.text),
        )
        for s in sources
    )
    earlier = context_of(reply.query)
    context = prompts.context.format(earlier=defang(earlier)) + "\n" if earlier else ""
    system = prompts.system.format(cannot_answer=prompts.cannot_answer)
    user = prompts.user.format(sources=blocks, question=defang(reply.question), context=context)
    return system, user


# -- sentences of a (possibly still growing) answer ---------------------------------------
def normalize(text: str) -> str:
    """Drop reasoning blocks; write "[1, 2]" as "[1][2]"; pull "claim. [1]" inside the period.

    The last step matters: markers placed after the full stop belong to the sentence
    before them, not to the next one.
    """
    text = _THINK.sub("", text)
    text = _MARKER_LIST.sub(
        lambda m: "".join(f"[{n}]" for n in re.findall(r"\d+", m.group(1))), text
    )
    return _MARKERS_AFTER_END.sub(
        lambda m: " " + "".join(re.findall(r"\[\d+\]", m.group(2))) + m.group(1), text
    )


def sentences(text: str, *, final: bool) -> list[str]:
    """The sentences of ``text`` whose wording can no longer change.

    While the answer still streams (``final=False``) the last sentence may grow, and a
    sentence followed by a bare "[…" may still get that marker, so both wait.
    """
    lines = normalize(text).split("\n")
    out: list[str] = []
    for i, line in enumerate(lines):
        body = _LIST_PREFIX.sub("", line, count=1)
        pieces = split_sentences(body)
        if not final and i == len(lines) - 1:
            pieces = pieces[:-1]
            while pieces and body[pieces[-1].end :].lstrip().startswith("["):
                pieces.pop()
        out.extend(p.text for p in pieces)
    return out


# -- verification ------------------------------------------------------------------------
@dataclass(frozen=True)
class Checked:
    """One generated sentence and the verdict on it."""

    sentence: str  # as the model wrote it (normalized)
    claim: str  # the sentence without its markers
    cites: tuple[int, ...]  # provided-source numbers it cites, known ones only
    problem: str | None = None  # why it was removed; None means kept


def _numbers(ns: Sequence[int]) -> str:
    return "".join(f"[{n}]" for n in ns)


def _why(support: Support, checker: SupportChecker) -> str:
    reasons = []
    if support.similarity < checker.min_similarity:
        reasons.append(f"similarity {support.similarity:.2f} < {checker.min_similarity}")
    if support.recall < checker.min_recall:
        reasons.append(f"word overlap {support.recall:.2f} < {checker.min_recall}")
    if not support.numbers_ok:
        reasons.append("a number is not in the source")
    if not support.negation_ok:
        reasons.append("a negation is not in the source")
    return "; ".join(reasons) or "no matching sentence"


def _squash(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.lower()))


class Verifier:
    """Checks each settled sentence once, as the answer streams in."""

    def __init__(
        self,
        checker: SupportChecker,
        sources: Sequence[Citation],
        topics: Sequence[SafetyTopic],
        cannot_answer: str,
    ) -> None:
        self.checker = checker
        self.sources = list(sources)
        self.exclude = [(t.name, p) for t in topics for p in t.exclude]
        self.cannot_answer = _squash(cannot_answer)
        self.done = 0  # settled sentences already checked
        self.kept: list[Checked] = []
        self.dropped: list[dict[str, str]] = []
        self.declined = False

    def feed(self, text: str, *, final: bool = False) -> list[Checked]:
        """Check the sentences that settled since the last call; return the kept ones."""
        settled = sentences(text, final=final)
        fresh, self.done = settled[self.done :], len(settled)
        kept = []
        for sentence in fresh:
            checked = self.check(sentence)
            if checked is None:
                continue
            if checked.problem is None:
                kept.append(checked)
            else:
                self.dropped.append({"sentence": sentence, "reason": checked.problem})
        self.kept += kept
        return kept

    def check(self, sentence: str) -> Checked | None:
        claim = strip_markers(sentence)
        if not _WORD.search(claim):  # a stray "-" or "**": nothing to show or report
            return None
        cited = list(dict.fromkeys(markers(sentence)))
        known = tuple(n for n in cited if 1 <= n <= len(self.sources))
        problem = self._problem(claim, cited, known)
        unknown = [n for n in cited if n not in known]
        if problem is None and unknown:
            # The sentence stays, on the sources it cites correctly; the bad marker goes.
            self.dropped.append(
                {
                    "sentence": sentence,
                    "reason": f"citation {_numbers(unknown)} removed: only sources "
                    f"[1]-[{len(self.sources)}] were provided",
                }
            )
        return Checked(sentence, claim, known, problem)

    def _problem(self, claim: str, cited: list[int], known: tuple[int, ...]) -> str | None:
        if self.cannot_answer and self.cannot_answer in _squash(claim):
            self.declined = True
            return "the model said the sources do not answer the question"
        if not cited:
            return "no citation"
        if not known:
            return (
                f"cites {_numbers(cited)}, but only sources [1]-[{len(self.sources)}] were provided"
            )
        passages = [self.sources[n - 1].text for n in known]
        if any(url not in " ".join(passages) for url in _URL.findall(claim)):
            return "a link that is not in the cited sources"
        for topic, pattern in self.exclude:
            # The safety layer withholds such sentences for this topic (e.g. "this is
            # normal" when a complication is described); the model may not say them either.
            if pattern.search(claim):
                return f"withheld by the safety rules for {topic}"
        support = self.checker.check(claim, passages)
        if not support.supported:
            return f"not supported by {_numbers(known)}: {_why(support, self.checker)}"
        if _NEGATED.search(support.best) and not _CAUTIOUS.search(claim):
            # The support check only catches a negation the sources lack, not one the
            # sentence drops: "Pregnant women should avoid microneedling" must not come
            # back as "Microneedling is safe for pregnant women", however similar.
            return f"drops the warning in {_numbers(known)}: “{support.best}”"
        return None


class Draft:
    """The verified answer as it grows: one bullet per kept sentence, renumbered [1]..[k]."""

    def __init__(self, lead: str, sources: Sequence[Citation]) -> None:
        self.lead = lead
        self.sources = list(sources)
        self.order: list[int] = []  # provided-source numbers in order of first use
        self.lines: list[str] = []

    def add(self, claim: str, cites: Sequence[int]) -> str:
        """Add a bullet; return the text to stream for it."""
        numbers = [self._number(n) for n in cites]
        line = f"- {claim} {_numbers(numbers)}"
        head = f"{self.lead}\n\n" if not self.lines else ""
        self.lines.append(line)
        return f"{head}{line}\n"

    def _number(self, n: int) -> int:
        if n not in self.order:
            self.order.append(n)
        return self.order.index(n) + 1

    def used(self) -> list[Citation]:
        return [self.sources[n - 1] for n in self.order]

    def body(self) -> str:
        return "\n".join([self.lead, "", *self.lines])

    def citations(self) -> list[Citation]:
        # Text and offsets come from the provided passage, never from the model.
        return [dataclasses.replace(s, n=i) for i, s in enumerate(self.used(), start=1)]


# -- the generator ------------------------------------------------------------------------
class LLMGenerator:
    """Rewrites an extractive reply with an OpenAI-compatible chat model, verified."""

    def __init__(
        self, llm: Any, prompts: Prompts | None = None, *, max_sources: int = MAX_SOURCES
    ) -> None:
        self.llm = llm
        self.prompts = prompts or Prompts.from_package()
        self.max_sources = max_sources

    @classmethod
    def from_settings(cls, settings: Settings) -> LLMGenerator:
        """An explicitly configured ``OpenAILike``; llama-index's global Settings are untouched."""
        if not settings.llm_base_url:
            raise GeneratorError(
                "SKINQA_GENERATOR=llm needs SKINQA_LLM_BASE_URL, e.g. "
                "http://localhost:11434/v1 for Ollama (see docs/llm.md)."
            )
        if not settings.llm_base_url.rstrip("/").endswith("/v1"):
            # Ollama, vLLM, llama.cpp and OpenAI all serve the API under /v1; without it
            # every call 404s and every answer quietly falls back to the quotes.
            log.warning("SKINQA_LLM_BASE_URL=%s does not end in /v1", settings.llm_base_url)
        from llama_index.llms.openai_like import OpenAILike  # lazy: see the module docstring

        key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else NO_API_KEY
        llm = OpenAILike(
            model=settings.llm_model,
            api_base=settings.llm_base_url,
            api_key=key,
            is_chat_model=True,
            is_function_calling_model=False,
            temperature=settings.llm_temperature,
            max_tokens=settings.llm_max_tokens,
            timeout=settings.llm_timeout,
            max_retries=MAX_RETRIES,
        )
        return cls(llm)

    # -- what the model sees -------------------------------------------------------------
    def provided_sources(
        self, reply: Reply, hits: Sequence[Hit], topics: Sequence[SafetyTopic]
    ) -> list[Citation]:
        """The numbered sources: the extractive citations, then other retrieved chunks."""
        sources = [dataclasses.replace(c, n=i) for i, c in enumerate(reply.citations, start=1)]
        exclude = [p for t in topics for p in t.exclude]
        for hit in hits:
            if len(sources) >= self.max_sources:
                break
            chunk = hit.chunk
            overlaps = any(
                s.doc_id == chunk.doc_id and s.start < chunk.end and chunk.start < s.end
                for s in sources
            )
            # Chunks holding a sentence the safety layer withholds are not offered at all.
            if overlaps or any(p.search(chunk.text) for p in exclude):
                continue
            sources.append(
                Citation(
                    len(sources) + 1,
                    chunk.doc_id,
                    chunk.title,
                    chunk.section,
                    chunk.text,
                    chunk.start,
                    chunk.end,
                    round(float(hit.dense_similarity or 0.0), 4),
                )
            )
        return sources

    def messages(self, reply: Reply, sources: Sequence[Citation]) -> list[Any]:
        from llama_index.core.llms import ChatMessage, MessageRole

        system, user = build_prompt(self.prompts, reply, sources)
        return [
            ChatMessage(role=MessageRole.SYSTEM, content=system),
            ChatMessage(role=MessageRole.USER, content=user),
        ]

    # -- the call --------------------------------------------------------------------------
    def stream_reply(
        self, bot: Assistant, reply: Reply, hits: list[Hit], topics: list[SafetyTopic]
    ) -> Iterator[str | Reply]:
        """Yield verified answer text as it arrives, then the final ``Reply``."""
        checker = bot.support_checker()
        sources = self.provided_sources(reply, hits, topics)
        verifier = Verifier(checker, sources, topics, self.prompts.cannot_answer)
        draft = Draft(self.prompts.answer_lead, sources)
        try:
            yield from self._generate(self.messages(reply, sources), verifier, draft)
        except Exception as err:  # any backend failure degrades to the extractive answer
            log.warning(
                "LLM answer failed (%s: %s); showing the extractive answer",
                type(err).__name__,
                err,
                exc_info=log.isEnabledFor(logging.DEBUG),
            )
            yield self._fallback(reply, "unavailable", verifier.dropped)
            return
        yield self._finish(bot, reply, hits, topics, verifier, draft)

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
        bot: Assistant,
        reply: Reply,
        hits: list[Hit],
        topics: list[SafetyTopic],
        verifier: Verifier,
        draft: Draft,
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
        notes = bot.notes_for(topics)  # vetted notes come from code, never from the model
        return dataclasses.replace(
            reply,
            answer=bot.add_notes(draft.body(), topics, notes),
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
            notes=[*reply.notes, note],
            dropped=list(dropped),
            generator="extractive-fallback",
        )
