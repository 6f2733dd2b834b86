"""Open the live index build for reading, and refuse anything broken or mismatched."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from . import store
from .chunking import CHUNKER_VERSION
from .errors import (
    ChromaUnavailableError,
    IndexCorruptError,
    IndexMismatchError,
    IndexMissingError,
)
from .ingestion import INDEX_FORMAT
from .keyword import Analyzer, KeywordIndex, analyzer_version
from .models import Chunk
from .settings import Settings


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
    def open(cls, settings: Settings, model_id: str) -> LoadedIndex:
        index_dir = settings.index_path
        build = store.current_build(index_dir)
        if build is None:
            raise IndexMissingError(str(index_dir))
        try:
            manifest = store.read_manifest(build)
        except FileNotFoundError as exc:
            raise IndexCorruptError(f"build {build.name} has no manifest") from exc
        except (OSError, ValueError) as exc:
            raise IndexCorruptError(f"unreadable manifest in {build.name}: {exc}") from exc
        _check_fingerprint(manifest, settings, model_id)
        try:
            rows = [json.loads(line) for line in (build / "chunks.jsonl").open(encoding="utf-8")]
            chunks = [Chunk.from_dict(r) for r in rows]
            vectors = np.load(build / "vectors.npy")
            sentence_vectors = np.load(build / "sentences.npy")
            keyword = KeywordIndex.load(build / "bm25", Analyzer.from_package())
        except FileNotFoundError as exc:
            raise IndexCorruptError(f"missing file {Path(exc.filename).name}") from exc
        except (OSError, ValueError, KeyError, TypeError, EOFError) as exc:
            raise IndexCorruptError(f"unreadable index file: {exc}") from exc
        sentence_rows = np.cumsum([0] + [len(c.sentences) for c in chunks]).tolist()
        if (
            len(chunks) != manifest.get("total_chunks")
            or vectors.shape[0] != len(chunks)
            or sentence_vectors.shape[0] != sentence_rows[-1]
        ):
            raise IndexCorruptError("chunk, vector and sentence counts disagree")
        collection = _open_collection(settings, build, manifest, len(chunks))
        return cls(
            build,
            manifest,
            chunks,
            vectors,
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


def _check_fingerprint(manifest: dict[str, Any], settings: Settings, model_id: str) -> None:
    if manifest.get("format") != INDEX_FORMAT:
        raise IndexMismatchError(f"index format {manifest.get('format')}, expected {INDEX_FORMAT}")
    if manifest.get("model_id") != model_id:
        raise IndexMismatchError(
            f"built with embedding model {manifest.get('model_id')!r}, "
            f"but this assistant embeds queries with {model_id!r}"
        )
    if manifest.get("chunker_version") != CHUNKER_VERSION:
        raise IndexMismatchError(
            f"chunker version {manifest.get('chunker_version')}, expected {CHUNKER_VERSION}"
        )
    if manifest.get("analyzer") != analyzer_version():
        raise IndexMismatchError("the synonym or stop-word lists changed since it was built")
    expected = (
        f"http://{settings.chroma_host}:{settings.chroma_port}"
        if settings.chroma_host
        else "embedded"
    )
    if manifest.get("chroma") != expected:
        raise IndexMismatchError(
            f"built for Chroma at {manifest.get('chroma')}, settings say {expected}"
        )


def _open_collection(settings: Settings, build: Path, manifest: dict[str, Any], count: int) -> Any:
    if not settings.chroma_host and not (build / "chroma").is_dir():
        raise IndexCorruptError("the Chroma store folder is missing")
    if settings.chroma_host:
        where = f"{settings.chroma_host}:{settings.chroma_port}"
        try:
            store.chroma_client(settings, build).heartbeat()
        except Exception as exc:
            raise ChromaUnavailableError(where, type(exc).__name__) from exc
    try:
        client = store.chroma_client(settings, build)
        collection = client.get_collection(manifest["collection"])
        stored = collection.count()
    except Exception as exc:
        raise IndexCorruptError(f"Chroma collection unusable: {exc}") from exc
    if stored != count:
        raise IndexCorruptError(f"Chroma holds {stored} chunks, expected {count}")
    return collection
