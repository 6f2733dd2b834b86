"""The files of a local build folder, as ingest writes them (a replica copies these very
files from the Chroma store, ``transfer``, and checks them against the SHA-256s the
build's manifest records)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..schema import Chunk
from . import layout
from .analyzer import Analyzer
from .keyword import KeywordIndex


def keyword_text(chunk: Chunk) -> str:
    """What BM25 reads of a chunk: its title and heading path count as its words too."""
    return f"{chunk.title} {chunk.section} {chunk.text}"


def write_files(
    build: Path,
    chunks: Sequence[Chunk],
    tokens: Sequence[Sequence[str]],
    chunk_vectors: np.ndarray,
    sentence_vectors: np.ndarray | None,
) -> None:
    """chunks.jsonl, vectors.npy, sentences.npy (unless None: on a Chroma server they
    stay in the store) and bm25/ (from ``tokens``), fsynced."""
    build.mkdir(parents=True, exist_ok=True)
    layout.write_rows(build / layout.CHUNKS_FILE, [c.to_dict() for c in chunks])
    np.save(build / layout.VECTORS_FILE, np.ascontiguousarray(chunk_vectors, dtype=np.float32))
    if sentence_vectors is not None:
        matrix = np.ascontiguousarray(sentence_vectors, dtype=np.float32)
        np.save(build / layout.SENTENCES_FILE, matrix)
    keyword = KeywordIndex.from_tokens(Analyzer.from_package(), tokens)
    keyword.save(build / layout.BM25_DIR)
    fsync_tree(build)


def fsync_tree(folder: Path) -> None:
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            with path.open("rb") as handle:
                os.fsync(handle.fileno())
