"""Query stage: a message as it arrived, cleaned, and read as a ``Query``.

A follow-up ("and how often?") borrows the topic of the latest earlier user turn that
has one; a self-contained question stands alone.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from ..index.analyzer import Analyzer
from ..index.vocabulary import topic_tokens
from ..schema import Query


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


_ANAPHORA = re.compile(
    r"^\s*(and|but|also|so|what about|how about|and what about|what if|then|ok(ay)?,?|same)\b"
    r"|\b(it|its|it's|that|this|those|these|they|them|there|then|one|ones)\b",
    re.IGNORECASE,
)


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


def read_query(question: str, history: Sequence[dict[str, str]], analyzer: Analyzer) -> Query:
    """The question, with the earlier topic when it is a follow-up."""
    users = [t["content"] for t in history if t["role"] == "user"]
    if not users:
        return Query(question)
    own = topic_tokens(analyzer, question)
    is_follow_up = len(own) <= 2 or (len(own) <= 4 and _ANAPHORA.search(question) is not None)
    if not is_follow_up:
        return Query(question)
    # The latest earlier user turn with a topic of its own sets the context.
    earlier = next((u for u in reversed(users) if topic_tokens(analyzer, u)), users[-1])
    return Query(question, context=" ".join(earlier.split())[:300])
