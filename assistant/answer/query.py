"""Clean-up stage: a question as it arrived, made safe and plain to work with."""

from __future__ import annotations


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
