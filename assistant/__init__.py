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
from .models import Citation, Reply

if TYPE_CHECKING:
    from .engine import Assistant
    from .settings import Settings

__all__ = [
    "Assistant",
    "AssistantError",
    "Citation",
    "IndexCorruptError",
    "IndexMismatchError",
    "IndexMissingError",
    "IngestLockedError",
    "Reply",
    "Settings",
]


def __getattr__(name: str) -> Any:
    if name == "Assistant":
        from .engine import Assistant

        return Assistant
    if name == "Settings":
        from .settings import Settings

        return Settings
    raise AttributeError(name)
