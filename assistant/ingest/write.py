"""Writing one build: its chunk and vector files, keyword index, Chroma collection and,
last, the manifest that records every file's SHA-256 and marks the build complete."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import numpy as np

from ..index import integrity, layout, vectors
from ..index.analyzer import Analyzer
from ..index.keyword import KeywordIndex
from ..schema import Chunk
from ..settings import Settings
from .corpus import Document


def write_build(
    settings: Settings,
    build: Path,
    docs: list[Document],
    chunks_by_doc: dict[str, list[Chunk]],
    chunks: list[Chunk],
    chunk_vectors: np.ndarray,
    sentence_vectors: np.ndarray,
    fingerprint: dict[str, Any],
) -> None:
    layout.write_rows(build / layout.CHUNKS_FILE, [c.to_dict() for c in chunks])
    np.save(build / layout.VECTORS_FILE, chunk_vectors)
    np.save(build / layout.SENTENCES_FILE, sentence_vectors)
    keyword = KeywordIndex(Analyzer.from_package())
    keyword.build([f"{c.title} {c.section} {c.text}" for c in chunks])
    keyword.save(build / layout.BM25_DIR)
    client = vectors.chroma_client(settings, build)
    vectors.write_collection(client, vectors.collection_name(build), chunks, chunk_vectors)
    del client
    # Everything else is on disk before it is hashed and the manifest names it complete.
    for path in sorted(build.rglob("*")):
        if path.is_file():
            with path.open("rb") as handle:
                os.fsync(handle.fileno())
    manifest = {
        **fingerprint,
        "build_id": build.name,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "collection": vectors.collection_name(build),
        "total_chunks": len(chunks),
        "total_sentences": int(sentence_vectors.shape[0]),
        "documents": {
            doc.id: {
                "file": doc.path.name,
                "hash": doc.content_hash,
                "title": doc.title,
                "publisher": doc.publisher,
                "retrieved": doc.retrieved,
                "chunks": len(chunks_by_doc[doc.id]),
            }
            for doc in docs
        },
        **integrity.record(build, [c.text for c in chunks]),
    }
    layout.atomic_write_text(build / layout.MANIFEST, json.dumps(manifest, indent=2))
