"""Verify LLM mode's answer a sentence at a time, as it streams in.

Every sentence the model writes must cite a provided source and be supported by it
(``SupportChecker``), or it is removed and listed with the reason. ``sentences`` says
which sentences of a still-growing answer can no longer change, so each is checked
once and only verified text is ever streamed. ``Draft`` collects the kept sentences
and renumbers their citations [1]..[k] in order of first use; the citations are rebuilt
from the provided passages (verbatim file spans), never from the model's text.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from dataclasses import dataclass

from ..answer.safety import SafetyTopic
from ..answer.support import Support, SupportChecker, markers, strip_markers
from ..schema import Citation
from ..text import CAUTION, NEGATION, split_sentences

_MARKER_LIST = re.compile(r"\[(\d+(?:\s*[,;]\s*\d+)+)\]")  # "[1, 2]"
_MARKERS_AFTER_END = re.compile(r"([.!?]+[”\"’)]*)((?:\s*\[\d+\])+)")  # "claim. [1]"
_LIST_PREFIX = re.compile(r"^\s*(?:[-*+•]|\d+[.)])\s+")
_THINK = re.compile(r"<think>.*?(?:</think>|$)", re.DOTALL)  # reasoning models' scratchpad
_URL = re.compile(r"(?:https?://|www\.)[^\s)\]>]+", re.IGNORECASE)
_WORD = re.compile(r"\w")


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
        if NEGATION.search(support.best) and not CAUTION.search(claim):
            # The support check only catches a negation the sources lack, not one the
            # sentence drops: "Pregnant women should avoid microneedling" must not come
            # back as "Microneedling is safe for pregnant women", however similar.
            return f"drops the warning in {_numbers(known)}: “{support.best}”"
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
