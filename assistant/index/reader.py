"""Open the live index build for reading, and refuse anything broken or mismatched."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import (
    ChromaUnavailableError,
    IndexCorruptError,
    IndexMismatchError,
    IndexMissingError,
)
from ..schema import Chunk
from ..settings import Settings
from ..tuning import DEFAULT, Tuning
from . import layout, vectors
from .analyzer import Analyzer, analyzer_version
from .keyword import KeywordIndex


@dataclass
class LoadedIndex:
    build: Path
    manifest: dict[str, Any]
    chunks: list[Chunk]
    vectors: np.ndarray  # chunk vectors, row = chunk position
    sentence_vectors: np.ndarray
    sentence_rows: list[int]  # first sentence row of each chunk
    keyword: KeywordIndex
    collection: Any  # chromadb Collection

    @classmethod
    def open(cls, settings: Settings, model_id: str, tuning: Tuning = DEFAULT) -> LoadedIndex:
        index_dir = settings.index_path
        build = layout.current_build(index_dir)
        if build is None:
            raise IndexMissingError(str(index_dir))
        try:
            manifest = layout.read_manifest(build)
        except FileNotFoundError as exc:
            raise IndexCorruptError(f"build {build.name} has no manifest") from exc
        except (OSError, ValueError) as exc:
            raise IndexCorruptError(f"unreadable manifest in {build.name}: {exc}") from exc
        expected = layout.fingerprint(
            tuning, model_id, analyzer_version(), vectors.chroma_target(settings)
        )
        problem = layout.mismatch(manifest, expected)
        if problem is not None:
            raise IndexMismatchError(problem)
        try:
            with (build / layout.CHUNKS_FILE).open(encoding="utf-8") as handle:
                chunks = [Chunk.from_dict(json.loads(line)) for line in handle]
            chunk_vectors = np.load(build / layout.VECTORS_FILE)
            sentence_vectors = np.load(build / layout.SENTENCES_FILE)
            keyword = KeywordIndex.load(build / layout.BM25_DIR, Analyzer.from_package())
        except FileNotFoundError as exc:
            raise IndexCorruptError(f"missing file {Path(exc.filename).name}") from exc
        except (OSError, ValueError, KeyError, TypeError, EOFError) as exc:
            raise IndexCorruptError(f"unreadable index file: {exc}") from exc
        sentence_rows = np.cumsum([0] + [len(c.sentences) for c in chunks]).tolist()
        if (
            len(chunks) != manifest.get("total_chunks")
            or chunk_vectors.shape[0] != len(chunks)
            or sentence_vectors.shape[0] != sentence_rows[-1]
        ):
            raise IndexCorruptError("chunk, vector and sentence counts disagree")
        collection = _open_collection(settings, build, manifest, len(chunks))
        return cls(
            build,
            manifest,
            chunks,
            chunk_vectors,
            sentence_vectors,
            sentence_rows[:-1],
            keyword,
            collection,
        )

    def sentence_matrix(self, row: int) -> np.ndarray:
        start = self.sentence_rows[row]
        return self.sentence_vectors[start : start + len(self.chunks[row].sentences)]

    def documents(self) -> dict[str, dict[str, Any]]:
        return dict(self.manifest.get("documents", {}))


def _open_collection(settings: Settings, build: Path, manifest: dict[str, Any], count: int) -> Any:
    if not settings.chroma_host and not (build / layout.CHROMA_DIR).is_dir():
        raise IndexCorruptError("the Chroma store folder is missing")
    if settings.chroma_host:
        where = f"{settings.chroma_host}:{settings.chroma_port}"
        try:
            vectors.chroma_client(settings, build).heartbeat()
        except Exception as exc:
            raise ChromaUnavailableError(where, type(exc).__name__) from exc
    try:
        client = vectors.chroma_client(settings, build)
        collection = client.get_collection(manifest["collection"])
        stored = collection.count()
    except Exception as exc:
        raise IndexCorruptError(f"Chroma collection unusable: {exc}") from exc
    if stored != count:
        raise IndexCorruptError(f"Chroma holds {stored} chunks, expected {count}")
    return collection
