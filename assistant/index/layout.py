"""Store stage: the on-disk layout of an index build and its Chroma collection.

An index folder holds numbered builds and a ``CURRENT`` file naming the live one::

    index/CURRENT                  build id, replaced atomically when a build completes
    index/builds/<id>/manifest.json   written last: a build without it is incomplete
    index/builds/<id>/chunks.jsonl     chunk texts, offsets, sections, sentences
    index/builds/<id>/vectors.npy      chunk embeddings (reused by the next ingest)
    index/builds/<id>/sentences.npy    sentence embeddings, in chunk order
    index/builds/<id>/bm25/            keyword index
    index/builds/<id>/chroma/          embedded Chroma (absent in server mode)

Readers only ever open the build that ``CURRENT`` names, and a build is never changed
after it is named, so a reader never sees a half-written index.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .models import Chunk
from .settings import Settings

MANIFEST = "manifest.json"
CURRENT = "CURRENT"
KEEP_BUILDS = 2  # the live build and the one before it, which open readers may still use


def builds_dir(index_dir: Path) -> Path:
    return index_dir / "builds"


def current_build(index_dir: Path) -> Path | None:
    try:
        build_id = (index_dir / CURRENT).read_text("utf-8").strip()
    except (FileNotFoundError, NotADirectoryError):
        return None
    return builds_dir(index_dir) / build_id if build_id else None


def atomic_write_text(path: Path, text: str) -> None:
    """Write via a temp file and ``os.replace`` so readers see old or new, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def publish(index_dir: Path, build: Path) -> None:
    atomic_write_text(index_dir / CURRENT, build.name + "\n")


def prune(index_dir: Path, client_factory: Any = None) -> None:
    """Delete old and abandoned builds, keeping the live one and its predecessor."""
    root = builds_dir(index_dir)
    live = current_build(index_dir)
    builds = sorted(p for p in root.iterdir() if p.is_dir()) if root.is_dir() else []
    complete = [b for b in builds if (b / MANIFEST).exists()]
    keep = set(complete[-KEEP_BUILDS:]) | ({live} if live else set())
    for build in builds:
        if build in keep:
            continue
        if client_factory is not None and (build / MANIFEST).exists():
            drop_collection(client_factory(build), collection_name(build))
        shutil.rmtree(build, ignore_errors=True)


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
    return chromadb.PersistentClient(path=str(build / "chroma"), settings=chroma_settings)


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


def write_rows(path: Path, rows: Sequence[dict[str, Any]]) -> None:
    with path.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")


def read_manifest(build: Path) -> dict[str, Any]:
    return json.loads((build / MANIFEST).read_text("utf-8"))
