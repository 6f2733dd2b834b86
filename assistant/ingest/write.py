"""Writing one build: its collections in Chroma (embedded, or the server;
``index.contents``), the local files made from the same data (on a server, also kept in
the store for replicas to copy, ``index.transfer``; the sentence vectors there stay in
the store only), the manifest that records every file's SHA-256 and marks the build
complete, and last the build's record in Chroma (``index.store``)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from ..index import contents, integrity, layout, local, store, transfer, vectors
from ..index.analyzer import Analyzer
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
    client: Any = None,
) -> dict[str, Any]:
    """Write ``build`` whole and return its manifest. ``client``: the Chroma server's
    client in server mode; None writes the embedded store inside the build folder."""
    analyzer = Analyzer.from_package()
    tokens = [analyzer.tokens(local.keyword_text(c)) for c in chunks]
    manifest: dict[str, Any] = {
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
    }
    articles = [contents.Article(doc.id, doc.text, manifest["documents"][doc.id]) for doc in docs]
    embedded = client is None
    chroma = vectors.chroma_client(settings, build) if embedded else client
    contents.write_build(
        chroma, manifest, chunks, tokens, chunk_vectors, sentence_vectors, articles
    )
    # The files a replica copies from the store (server mode), where the sentence
    # vectors are read per answer instead (``index.sentences``).
    local.write_files(build, chunks, tokens, chunk_vectors, sentence_vectors if embedded else None)
    manifest.update(integrity.record(build, [c.text for c in chunks]))
    if not embedded:
        transfer.put_files(chroma, build.name, build, manifest["files"])
    # The record is the build's manifest; in the embedded store too, so that store
    # describes itself to any Chroma client.
    store.write_record(chroma, manifest)
    if embedded:
        del chroma
        local.fsync_tree(build)
    layout.atomic_write_text(build / layout.MANIFEST, json.dumps(manifest, indent=2))
    return manifest
