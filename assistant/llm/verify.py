"""Verify LLM mode's answer a sentence at a time, as it streams in.

The model's text is cleaned first (``markup``: no HTML, no entities). Every sentence
must then cite a provided source, hold no link the sources lack, and be supported by a
sentence of the sources it cites, in the same sense (``SupportChecker``: meaning, not
only similarity), or it is removed and listed with the reason; a marker of a cited
source that does not support it is removed. ``sentences`` says which sentences of a
still-growing answer can no longer change, so each is checked once and only verified
text is ever streamed; the sentences that settle together are checked in one model
call. ``Draft`` collects the kept sentences and renumbers their citations [1]..[k] in
order of first use; the citations are rebuilt from the provided passages (verbatim file
spans), never from the model's text.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from dataclasses import dataclass

from ..answer.safety import SafetyTopic
from ..answer.support import SupportChecker, markers, strip_markers
from ..schema import Citation
from ..text import split_sentences
from .markup import clean, links

_MARKER_LIST = re.compile(r"\[(\d+(?:\s*[,;]\s*\d+)+)\]")  # "[1, 2]"
_MARKERS_AFTER_END = re.compile(r"([.!?]+[”\"’)]*)((?:\s*\[\d+\])+)")  # "claim. [1]"
_LIST_PREFIX = re.compile(r"^\s*(?:[-*+•]|\d+[.)])\s+")
_ENDS_CITED = re.compile(r"\[\d+\][.!?]+[”\"’)]*$")  # "claim [1]." as normalize writes it
_WORD = re.compile(r"\w")


# -- sentences of a (possibly still growing) answer ---------------------------------------
def normalize(text: str) -> str:
    """Clean the markup; write "[1, 2]" as "[1][2]"; pull "claim. [1]" inside the period.

    The last step matters: markers placed after the full stop belong to the sentence
    before them, not to the next one.
    """
    text = clean(text).text
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

    sentence: str  # as the model wrote it (cleaned and normalized)
    claim: str  # the sentence without its markers
    cites: tuple[int, ...]  # provided-source numbers that support it
    problem: str | None = None  # why it was removed; None means kept
    support: str = ""  # the source sentence that supports it


def _numbers(ns: Sequence[int]) -> str:
    return "".join(f"[{n}]" for n in ns)


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
        self.tags: set[str] = set()  # HTML tags removed from the model's text

    def feed(self, text: str, *, final: bool = False) -> list[Checked]:
        """Check the sentences that settled since the last call; return the kept ones."""
        self._note_markup(text)
        settled = sentences(text, final=final)
        fresh, self.done = settled[self.done :], len(settled)
        return self._check_all(fresh)

    def cut_off(self, text: str) -> list[Checked]:
        """The stream ended without its terminator: check only the sentences that are
        complete, a last one only when it ends with its citation and full stop."""
        self._note_markup(text)
        settled = sentences(text, final=False)
        tail = sentences(text, final=True)[len(settled) :]
        fresh = settled[self.done :]
        for sentence in tail:
            if _ENDS_CITED.search(sentence):
                fresh.append(sentence)
            elif _WORD.search(strip_markers(sentence)):
                self._drop(sentence, "cut off: the stream ended")
        self.done = len(settled) + len(tail)
        return self._check_all(fresh)

    def states(self, topic: SafetyTopic) -> bool:
        """A kept sentence states the topic's caution: it names the topic, carries a
        warning, and is supported by a caution sentence of the sources."""
        reader = self.checker.reader
        return any(
            topic.is_caution(c.support)
            and (topic.is_caution(c.claim) or topic.matches(c.claim))
            and reader.read(c.claim).warns()
            for c in self.kept
        )

    def _note_markup(self, text: str) -> None:
        tags = set(clean(text).tags) - self.tags
        if tags:
            self.tags |= tags
            names = ", ".join(f"<{t}>" for t in sorted(tags))
            self._drop("", f"HTML removed: {names}")

    def _check_all(self, fresh: list[str]) -> list[Checked]:
        pending: list[tuple[int, str, str, list[int], tuple[int, ...]]] = []
        results: dict[int, Checked] = {}
        for i, sentence in enumerate(fresh):
            claim = strip_markers(sentence)
            if not _WORD.search(claim):  # a stray "-" or "**": nothing to show or report
                continue
            cited = list(dict.fromkeys(markers(sentence)))
            known = tuple(n for n in cited if 1 <= n <= len(self.sources))
            problem = self._problem(claim, cited, known)
            if problem is not None:
                results[i] = Checked(sentence, claim, known, problem)
            else:
                pending.append((i, sentence, claim, cited, known))
        supports = self.checker.check_many(
            [(claim, [self.sources[n - 1].text for n in known]) for *_, claim, _, known in pending]
        )
        for (i, sentence, claim, cited, known), support in zip(pending, supports, strict=True):
            if not support.supported:
                why = f"not supported by {_numbers(known)}: {support.reason}"
                results[i] = Checked(sentence, claim, known, why)
                continue
            good = tuple(known[k] for k in support.sources)
            # The sentence stays, on the sources that support it; the other markers go.
            unknown = [n for n in cited if n not in known]
            if unknown:
                self._drop(
                    sentence,
                    f"citation {_numbers(unknown)} removed: only sources "
                    f"[1]-[{len(self.sources)}] were provided",
                )
            unrelated = [n for n in known if n not in good]
            if unrelated:
                self._drop(
                    sentence, f"citation {_numbers(unrelated)} removed: it does not support this"
                )
            results[i] = Checked(sentence, claim, good, None, support.best)
        kept = []
        for i in sorted(results):
            checked = results[i]
            if checked.problem is None:
                kept.append(checked)
            else:
                self._drop(checked.sentence, checked.problem)
        self.kept += kept
        return kept

    def _drop(self, sentence: str, reason: str) -> None:
        self.dropped.append({"sentence": sentence, "reason": reason})

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
        passages = " ".join(self.sources[n - 1].text for n in known).lower()
        strange = [link for link in links(claim) if link.lower() not in passages]
        if strange:
            return f"a link that is not in the cited sources: {strange[0]}"
        for topic, pattern in self.exclude:
            # The safety layer withholds such sentences for this topic (e.g. "this is
            # normal" when a complication is described); the model may not say them either.
            if pattern.search(claim):
                return f"withheld by the safety rules for {topic}"
        return None


# -- the verified answer ------------------------------------------------------------------
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
