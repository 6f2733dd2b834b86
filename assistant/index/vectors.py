"""The vector side of a build: its Chroma collection, embedded or on a Chroma server."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..schema import Chunk
from ..settings import Settings
from .layout import CHROMA_DIR


def chroma_target(settings: Settings) -> str:
    """Where a build's vectors live, as its manifest records it."""
    if settings.chroma_host:
        return f"http://{settings.chroma_host}:{settings.chroma_port}"
    return "embedded"


def collection_name(build: Path) -> str:
    return f"chunks-{build.name}"


def chroma_client(settings: Settings, build: Path):
    """Embedded Chroma inside the build folder, or the configured Chroma server."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if settings.chroma_host:
        return chromadb.HttpClient(
            host=settings.chroma_host, port=settings.chroma_port, settings=chroma_settings
        )
    return chromadb.PersistentClient(path=str(build / CHROMA_DIR), settings=chroma_settings)


def drop_collection(client: Any, name: str) -> None:
    with contextlib.suppress(Exception):
        client.delete_collection(name)


def write_collection(client: Any, name: str, chunks: Sequence[Chunk], vectors: np.ndarray) -> None:
    """Create the build's collection in cosine space and add every chunk in batches."""
    drop_collection(client, name)
    collection = client.create_collection(
        name, configuration={"hnsw": {"space": "cosine"}}, embedding_function=None
    )
    batch = max(1, min(client.get_max_batch_size(), 1000))
    for i in range(0, len(chunks), batch):
        part = chunks[i : i + batch]
        collection.add(
            ids=[c.id for c in part],
            embeddings=vectors[i : i + batch],
            metadatas=[
                {"doc_id": c.doc_id, "section": c.section, "row": i + j} for j, c in enumerate(part)
            ],
        )
