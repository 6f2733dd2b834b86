"""LLM mode on the scripted server (tests/fake_openai.py): an LLM-mode assistant that
shares a real index and model, and how a script names the passages the engine provided
by a snippet of their text, so that a test does not depend on their order.

The server itself is the ``fake`` fixture of tests/conftest.py, an assistant on it the
``llm_bot`` fixture; ``fresh_script`` empties its queue before each test that asks.
"""

from __future__ import annotations

import re
from typing import Any

from assistant.answer.pipeline import Assistant

# A section path holds ">" ("Guide > Pain"), so the attributes run to the end of the line.
_SOURCE_BLOCK = re.compile(r'<source n="(\d+)"[^\n]*\n(.*?)\n</source>', re.DOTALL)


def llm_assistant(
    bot: Assistant, base_url: str, *, timeout: float = 5.0, **extra: Any
) -> Assistant:
    """An LLM-mode assistant on ``base_url``, sharing ``bot``'s real index and model."""
    from assistant.llm import LLMGenerator
    from tests.conftest import make_settings

    settings = make_settings(
        bot.settings.data_dir,
        generator="llm",
        llm_base_url=base_url,
        llm_model="scripted",
        llm_timeout=timeout,
        **extra,
    )
    return Assistant(settings, bot.index, bot.embedder, LLMGenerator.from_settings(settings))


def provided(request: dict[str, Any]) -> dict[int, str]:
    """The numbered source passages the scripted server received."""
    user = request["messages"][-1]["content"]
    return {int(n): text for n, text in _SOURCE_BLOCK.findall(user)}


def number_of(request: dict[str, Any], snippet: str) -> int:
    """The number of the provided source holding ``snippet`` (0: none does)."""
    return next((n for n, text in provided(request).items() if snippet in text), 0)
