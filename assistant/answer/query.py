"""Query stage: a message as it arrived, cleaned, and read in its conversation.

A message is read as one of three things (word lists in ``data/conversation.yaml``):

* **small talk** ("hi", "thanks!", "are you a bot?"): nothing to look up;
* a **follow-up** ("and how often?", "is that normal?"): it cannot stand alone, so it
  borrows the topic of the latest earlier question;
* a **self-contained question**, never rewritten however long the conversation. In a
  long message, the sentences that ask are the question; the rest is background.

>>> reader = QueryReader.from_package(Analyzer([["microneedling", "micro-needling"]]))
>>> reader.read("is that normal?", [{"role": "user", "content": "my skin is peeling"}]).context
'my skin is peeling'
>>> reader.read("thanks!", []).small_talk
'thanks'
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any

from ..data import load_yaml
from ..index.analyzer import STOPWORDS, Analyzer
from ..index.vocabulary import topic_tokens
from ..schema import Query

MAX_CONTEXT_CHARS = 300
# Small talk that may open a message without being its point ("ok so ...", "thanks! and").
_OPENERS = ("acknowledgement", "thanks", "greeting")
# ... and of those, the ones after which what follows is read as a question when it asks
# ("ok and when do i start again?"); "hi, how are you?" stays a greeting.
_BEFORE_A_QUESTION = ("acknowledgement", "thanks")
_WORDS = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
# Sentence ends in chat text: punctuation, or a line break.
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")


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


def clean_history(history: Sequence[Any] | None) -> list[dict[str, str]]:
    """Keep well-formed turns only; anything odd in a history is ignored, not fatal."""
    turns: list[dict[str, str]] = []
    for turn in history or ():
        if not isinstance(turn, dict):
            continue
        role, content = turn.get("role"), turn.get("content")
        if role in ("user", "assistant") and isinstance(content, str) and content.strip():
            turns.append({"role": role, "content": content[:4000]})
    return turns


def words_of(text: str) -> list[str]:
    """Lower-case words, typographic apostrophes made plain ("Don’t" -> "don't")."""
    return _WORDS.findall(text.lower().replace("’", "'"))


def _phrases(items: Sequence[str]) -> tuple[tuple[str, ...], ...]:
    """Phrases as word tuples, longest first (so "thank you" wins over "thank")."""
    return tuple(sorted({tuple(words_of(p)) for p in items}, key=len, reverse=True))


def _starts_with(words: list[str], phrases: tuple[tuple[str, ...], ...]) -> bool:
    return any(tuple(words[: len(p)]) == p for p in phrases)


def _marker_pattern(
    markers: Sequence[str], spellings: dict[str, list[str]] | None = None
) -> re.Pattern[str]:
    """A message's start that announces a new question: a marker, after an "ok" or "oh",
    with the "but" or punctuation that follows it.

    >>> _marker_pattern(["unrelated"]).sub("", "ok unrelated but, how long?")
    'how long?'
    """

    def word(w: str) -> str:  # a marker's word, or any of its chat spellings
        return "(?:" + "|".join(map(re.escape, [w, *(spellings or {}).get(w, [])])) + ")"

    words = sorted((r"\s+".join(map(word, m.split())) for m in markers), key=len)
    return re.compile(
        r"^\W*(?:(?:ok|okay|oh|so|and|also|hi|hey)\b\W*)*(?:"
        + "|".join(reversed(words))
        + r")\b[\s,:;.!?-]*(?:(?:but|though|tho)\b[\s,:;.!?-]*)?",
        re.IGNORECASE,
    )


@dataclass(frozen=True)
class QueryReader:
    """Reads messages in their conversation (see the module docstring)."""

    analyzer: Analyzer
    continuations: tuple[tuple[str, ...], ...]
    continuation_ends: tuple[tuple[str, ...], ...]
    back_references: tuple[tuple[str, ...], ...]
    max_follow_up_terms: int
    asking_starts: tuple[tuple[str, ...], ...]
    inversions: frozenset[tuple[str, str]]
    core_min_words: int
    small_talk_kinds: tuple[tuple[str, tuple[tuple[str, ...], ...]], ...]
    small_talk_fillers: frozenset[str] = frozenset()
    counted_units: frozenset[str] = frozenset()
    weak_references: frozenset[str] = frozenset()
    existential_before: frozenset[str] = frozenset()
    # "different question, ...", as one pattern over the message's start
    topic_marker: re.Pattern[str] = re.compile(r"(?!)")

    @classmethod
    def from_package(cls, analyzer: Analyzer) -> QueryReader:
        data = load_yaml("conversation.yaml")
        return cls(
            analyzer=analyzer,
            continuations=_phrases(data["continuations"]),
            continuation_ends=_phrases(data["continuation_ends"]),
            back_references=_phrases(data["back_references"]),
            max_follow_up_terms=int(data["max_follow_up_terms"]),
            asking_starts=_phrases(data["asking_starts"]),
            inversions=frozenset(
                (str(v), str(s)) for v in data["inverted_verbs"] for s in data["inverted_subjects"]
            ),
            core_min_words=int(data["core_min_words"]),
            small_talk_kinds=tuple(
                (kind, _phrases(items)) for kind, items in data["small_talk"].items()
            ),
            small_talk_fillers=frozenset(words_of(" ".join(data["small_talk_fillers"]))),
            topic_marker=_marker_pattern(data["topic_markers"], data["chat_spellings"]),
            counted_units=frozenset(data["counted_units"]),
            weak_references=frozenset(data["weak_references"]),
            existential_before=frozenset(data["existential_before"]),
        )

    # -- small talk ----------------------------------------------------------------
    def small_talk(self, message: str) -> str | None:
        """The kind of small talk a message is ("thanks", "greeting", ...), or None when
        it holds anything else ("hi! does it hurt?" is a question)."""
        words = [self._unstretched(w) for w in words_of(message)]
        found: list[str] = []
        # Longest phrases first, whatever their kind: "have a lovely evening" is a goodbye
        # before "lovely" is thanks.
        every = [(p, kind) for kind, phrases in self.small_talk_kinds for p in phrases]
        for phrase, kind in sorted(every, key=lambda pk: len(pk[0]), reverse=True):
            n = len(phrase)
            i = 0
            while i + n <= len(words):
                if tuple(words[i : i + n]) == phrase:
                    found.append(kind)
                    del words[i : i + n]
                else:
                    i += 1
        rest = [
            w
            for w in words
            if w.replace("'", "") not in STOPWORDS
            and w not in self.small_talk_fillers
            and not w.isdigit()
        ]
        if not found or rest:
            return None
        # What follows an "ok" or a "thanks" may still ask, in words too common to count
        # ("ok and when do i start again?", "ok but does it work as well").
        left = " ".join(words)
        opener_only = all(kind in _BEFORE_A_QUESTION for kind in found)
        if opener_only and left and self.asks(left + ("?" if "?" in message else "")):
            return None
        order = [kind for kind, _ in self.small_talk_kinds]
        return min(found, key=order.index)

    def _unstretched(self, word: str) -> str:
        """A small-talk word typed with its last letter held down ("byeee", "thankss",
        "helloooo") as the word it stretches; any other word as it is."""
        known = self._small_talk_words
        if word in known:
            return word
        last = len(word.rstrip(word[-1:])) if word else 0
        for keep in (1, 2):
            short = word[:last] + word[-1:] * keep
            if short != word and short in known:
                return short
        return word

    @cached_property
    def _small_talk_words(self) -> frozenset[str]:
        return frozenset(w for _, phrases in self.small_talk_kinds for p in phrases for w in p)

    # -- the question's core -----------------------------------------------------------
    def asks(self, sentence: str) -> bool:
        """Whether a sentence asks something: a "?" or an asking first word."""
        if "?" in sentence:
            return True
        # A greeting or "so" before the question ("hi so can i ...") is not its start.
        words = self._without_pleasantries(words_of(sentence))
        while words and _starts_with(words, self.continuations) and words[0] == "so":
            words = words[1:]
        if _starts_with(words, self.asking_starts):
            return True
        return any(pair in self.inversions for pair in itertools.pairwise(words))

    def core(self, message: str) -> tuple[str, str]:
        """(the sentences that ask, the background) of a message.

        Sentences that are only small talk ("ok noted.", "hi!") are never the question.
        A short message, or one in which no sentence asks, is all question. An asking
        sentence that cannot stand alone ("is that enough time?") keeps the sentence
        before it, which it leans on.
        """
        sentences = [s.strip() for s in _SENTENCE_END.split(message) if s.strip()]
        talk = [s for s in sentences if self.small_talk(s) is not None]
        if talk and len(talk) < len(sentences):
            sentences = [s for s in sentences if s not in talk]
            message = " ".join(sentences)
        if len(message.split()) < self.core_min_words:
            return message, " ".join(talk)
        asking = [i for i, s in enumerate(sentences) if self.asks(s)]
        if not asking or len(asking) == len(sentences):
            return message, ""
        keep = set(asking)
        for i in asking:
            if i > 0 and self.is_follow_up(sentences[i]):
                keep.add(i - 1)
        core = " ".join(s for i, s in enumerate(sentences) if i in keep)
        background = " ".join([*talk, *(s for i, s in enumerate(sentences) if i not in keep)])
        return core, background

    # -- follow-ups --------------------------------------------------------------------
    def topic_terms(self, text: str) -> list[str]:
        """Terms of a text beyond the domain's generic words ("skin", "session")."""
        return [t for t in topic_tokens(self.analyzer, text) if not t.isdigit()]

    def is_follow_up(self, question: str) -> bool:
        """Whether a question cannot stand alone: it continues the previous one ("and
        at home?", "won't I be red though?"), has no word of its own ("how long?"), or
        points back with little of its own ("is that normal?")."""
        words = self._without_pleasantries(words_of(question))
        terms = [t for t in self.analyzer.tokens(question) if not t.isdigit()]
        if not terms or _starts_with(words, self.continuations):
            return True
        # A trailing "though" makes a follow-up when the message has little topic of its
        # own beyond the domain's generic words ("won't my face be blotchy though"); with
        # more, it is read alone first (``leans``).
        if self._ends_leaning(words):
            return not self.leans(question)
        return self.refers_back(words) and len(terms) <= self.max_follow_up_terms

    def refers_back(self, words: list[str], weak: bool = False) -> bool:
        """Whether words point back to something said earlier ("is that normal?", "the
        home one"); with ``weak``, "it" and "this" count too. "one" before a counted unit
        is a number ("is one session enough?"), "there" after "is" is no place.

        >>> reader = QueryReader.from_package(Analyzer([]))
        >>> reader.refers_back("is one session enough".split())
        False
        >>> reader.refers_back("is the home one cheaper".split())
        True
        """
        for i in range(len(words)):
            if weak and words[i] in self.weak_references:
                return True
            for p in self.back_references:
                if tuple(words[i : i + len(p)]) != p:
                    continue
                after = words[i + len(p) : i + len(p) + 1]
                if p in (("one",), ("ones",)) and after and after[0] in self.counted_units:
                    continue
                if p == ("there",) and i > 0 and words[i - 1] in self.existential_before:
                    continue  # "is there parking?" points nowhere
                return True
        return False

    def _ends_leaning(self, words: list[str]) -> tuple[str, ...] | None:
        """The continuation a message ends with ("tho", "instead"), if any."""
        ends = tuple(reversed(words))
        return next((p for p in self.continuation_ends if ends[: len(p)] == p[::-1]), None)

    def leans(self, question: str) -> bool:
        """Whether a question ends leaning on the conversation ("... tho") yet has more
        than ``max_follow_up_terms`` topic terms of its own: "will it help my acne scars
        tho" asks about acne scars, "how far apart tho" may or may not stand alone. Such
        a question is read alone first (``Query.leans``)."""
        words = self._without_pleasantries(words_of(question))
        end = self._ends_leaning(words)
        if end is None:
            return False
        own = " ".join(words[: len(words) - len(end)])  # "instead" is no topic
        return len(self.topic_terms(own)) > self.max_follow_up_terms

    def _without_pleasantries(self, words: list[str]) -> list[str]:
        """The words after a leading "ok", "cool, thanks", "got it" ...: "cool, and how
        often?" continues the conversation as "and how often?" does."""
        phrases = [p for kind, ps in self.small_talk_kinds if kind in _OPENERS for p in ps]
        stripped = True
        while stripped:
            stripped = False
            for p in phrases:
                if len(p) < len(words) and tuple(words[: len(p)]) == p:
                    words, stripped = words[len(p) :], True
                    break
        return words

    def read(self, message: str, history: Sequence[dict[str, str]]) -> Query:
        """The message as a ``Query``: small talk, a follow-up with its context, or a
        self-contained question (with the background of a long message kept apart)."""
        kind = self.small_talk(message)
        if kind is not None:
            return Query(message, message=message, small_talk=kind)
        announced = self.topic_marker.sub("", message)
        if announced != message and announced.strip():
            # A new question, announced as one: never a follow-up.
            question, background = self.core(announced)
            return Query(question, message=message, background=background, new_topic=True)
        question, background = self.core(message)
        context = None
        if self.is_follow_up(question):
            # What it leans on: the conversation, or the rest of its own long message.
            context = self._context(history) or background[-MAX_CONTEXT_CHARS:] or None
        return Query(
            question,
            context=context,
            message=message,
            background=background,
            leans=context is None and self.leans(question),
        )

    def points_back(self, question: str) -> bool:
        """Whether a question may point back to the conversation, "it" included."""
        return self.refers_back(words_of(question), weak=True)

    def leaning(self, query: Query, history: Sequence[dict[str, str]]) -> Query | None:
        """A question read as a follow-up after all ("how soon would I notice?" after a
        question about scars), or None when there is nothing earlier to lean on."""
        context = self._context(history)
        if context is None or query.new_topic:
            return None
        return replace(query, context=context)

    def _context(self, history: Sequence[dict[str, str]]) -> str | None:
        """The topic a follow-up borrows: the latest earlier question that was not small
        talk, read with its own context when it was a follow-up too."""
        context: str | None = None
        for turn in history:
            if turn["role"] != "user":
                continue
            earlier = self.read(turn["content"], [])
            if earlier.small_talk is not None:
                continue
            own = " ".join(earlier.question.split())[:MAX_CONTEXT_CHARS]
            if self.is_follow_up(earlier.question) and context:
                # A chain of follow-ups keeps its latest words.
                own = f"{context} {own}"[-MAX_CONTEXT_CHARS:]
            context = own
        return context
