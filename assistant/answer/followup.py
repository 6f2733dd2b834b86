"""Follow-up handling: make a question like "Does it hurt?" stand on its own."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from .keyword import Analyzer

_ANAPHORA = re.compile(
    r"^\s*(and|but|also|so|what about|how about|and what about|what if|then|ok(ay)?,?|same)\b"
    r"|\b(it|its|it's|that|this|those|these|they|them|there|then|one|ones)\b",
    re.IGNORECASE,
)
CONTEXT_MARK = " (context: "
# Words that carry no topic of their own in this domain.
_GENERIC = {"microneedl", "dermarol", "skin", "session", "face", "do", "get", "make", "use"}


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


def topic_tokens(analyzer: Analyzer, text: str) -> list[str]:
    return [t for t in analyzer.tokens(text) if t not in _GENERIC]


def rewrite(question: str, history: Sequence[dict[str, str]], analyzer: Analyzer) -> str:
    """The retrieval query: the question, plus the earlier topic when it is a follow-up."""
    users = [t["content"] for t in history if t["role"] == "user"]
    if not users:
        return question
    own = topic_tokens(analyzer, question)
    is_follow_up = len(own) <= 2 or (len(own) <= 4 and _ANAPHORA.search(question) is not None)
    if not is_follow_up:
        return question
    # The latest earlier user turn with a topic of its own sets the context.
    earlier = next((u for u in reversed(users) if topic_tokens(analyzer, u)), users[-1])
    return f"{question.strip()}{CONTEXT_MARK}{' '.join(earlier.split())[:300]})"


def context_of(query: str) -> str | None:
    """The earlier turn a rewritten query borrowed, or None for a stand-alone question."""
    _, mark, context = query.partition(CONTEXT_MARK)
    return context.removesuffix(")") if mark else None


def as_conversation(query: str) -> str | None:
    """A rewritten follow-up read as the client said it: the earlier turn, then the
    question ("is peeling normal? when does it stop?"); None for a stand-alone question."""
    context = context_of(query)
    return None if context is None else f"{context} {query.partition(CONTEXT_MARK)[0]}"
