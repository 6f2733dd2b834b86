"""Microneedling Q&A assistant: grounded, cited answers from a vetted corpus.

Heavy modules load lazily so ``import assistant`` stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import (
    AssistantError,
    IndexCorruptError,
    IndexMismatchError,
    IndexMissingError,
    IngestLockedError,
)
from .schema import Citation, Note, Query, Reply, Verdict
from .tuning import DEFAULT, Tuning

if TYPE_CHECKING:
    from .answer.pipeline import Assistant
    from .embeddings import Embedder
    from .settings import Settings

__all__ = [
    "Assistant",
    "AssistantError",
    "Citation",
    "IndexCorruptError",
    "IndexMismatchError",
    "IndexMissingError",
    "IngestLockedError",
    "Note",
    "Query",
    "Reply",
    "Settings",
    "Tuning",
    "Verdict",
    "load",
]


def load(
    settings: Settings | None = None,
    *,
    embedder: Embedder | None = None,
    tuning: Tuning = DEFAULT,
) -> Assistant:
    """The assistant the settings describe, with the LLM generator when they ask for it.

    Raises a named ``AssistantError`` when the index is missing or unusable.
    """
    from .answer.pipeline import Assistant
    from .settings import Settings

    settings = settings or Settings()
    generator = None
    if settings.generator == "llm":
        from .llm import LLMGenerator

        generator = LLMGenerator.from_settings(settings)
    return Assistant.load(settings, embedder, generator, tuning)


def __getattr__(name: str) -> Any:
    if name == "Assistant":
        from .answer.pipeline import Assistant

        return Assistant
    if name == "Settings":
        from .settings import Settings

        return Settings
    raise AttributeError(name)
