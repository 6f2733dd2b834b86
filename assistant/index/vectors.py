"""The Chroma side of a build: the client (embedded or a Chroma server) and its target."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..errors import AssistantError, BuildGoneError, ChromaUnavailableError
from ..settings import Settings
from .layout import CHROMA_DIR

EMBEDDED = "embedded"


def server_address(settings: Settings) -> str:
    """``host:port`` of the configured Chroma server, for messages."""
    return f"{settings.chroma_host}:{settings.chroma_port}"


def chroma_target(identity: str | None) -> str:
    """Where a build's Chroma data lives, as its manifest records it: ``embedded``, or
    the server's store by its identity record (so ``127.0.0.1`` and ``localhost`` are
    one server, and a server holding other data is another)."""
    return f"chroma-store:{identity}" if identity else EMBEDDED


def collection_name(build: Path) -> str:
    return f"chunks-{build.name}"


def chroma_client(settings: Settings, build: Path | None = None) -> Any:
    """The configured Chroma server, or the embedded Chroma inside ``build``."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if settings.chroma_host:
        return chromadb.HttpClient(
            host=settings.chroma_host, port=settings.chroma_port, settings=chroma_settings
        )
    assert build is not None, "embedded Chroma lives inside a build folder"
    return chromadb.PersistentClient(path=str(build / CHROMA_DIR), settings=chroma_settings)


def connect(settings: Settings) -> Any:
    """A client of the configured Chroma server that has answered a heartbeat; else
    ``ChromaUnavailableError`` naming the address."""
    try:
        client = chroma_client(settings)
        client.heartbeat()
    except Exception as exc:
        raise ChromaUnavailableError(server_address(settings), type(exc).__name__) from exc
    return client


def is_not_found(exc: BaseException) -> bool:
    """Chroma's answer for a collection that does not exist (deleted by a prune)."""
    from chromadb.errors import NotFoundError

    return isinstance(exc, NotFoundError) or "does not exist" in str(exc)


def is_unreachable(exc: BaseException) -> bool:
    """The server did not answer (refused, reset, timed out), as opposed to an error it
    sent back."""
    import httpx

    return isinstance(exc, httpx.TransportError | ConnectionError | TimeoutError)


@contextmanager
def reading(server: str | None, build_id: str) -> Iterator[None]:
    """Name what went wrong reading a build's collections while answering: the build
    deleted from the store (``BuildGoneError``: reload the live one), or the server not
    answering (``ChromaUnavailableError``, server mode); anything else as it came."""
    try:
        yield
    except AssistantError:
        raise
    except Exception as exc:
        if is_not_found(exc):
            raise BuildGoneError(build_id) from exc
        if server is not None and is_unreachable(exc):
            raise ChromaUnavailableError(server, type(exc).__name__) from exc
        raise
