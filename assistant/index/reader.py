"""Open the live index build for reading, and refuse anything broken, tampered or
mismatched (see ``integrity.py`` for what is verified and when)."""

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
from . import contents, integrity, layout, replica, store, vectors
from .analyzer import Analyzer, analyzer_version
from .keyword import KeywordIndex
from .sentences import LocalSentences, SentenceVectors, StoreSentences, check_vectors


@dataclass
class LoadedIndex:
    build: Path
    manifest: dict[str, Any]
    chunks: list[Chunk]
    vectors: np.ndarray  # chunk vectors, row = chunk position
    sentences: SentenceVectors  # the local file, or (server mode) the store
    keyword: KeywordIndex
    collection: Any  # chromadb Collection
    verification: integrity.Verification
    server: str | None = None  # the Chroma server's address in server mode
    client: Any = None  # the chromadb client the collection belongs to

    @classmethod
    def open(
        cls,
        settings: Settings,
        model_id: str,
        tuning: Tuning = DEFAULT,
        eager_verify_bytes: int = integrity.EAGER_VERIFY_BYTES,
    ) -> LoadedIndex:
        """The live build, verified; a named ``AssistantError`` if it cannot be served.

        Every file is checked against the manifest (present, its size, nothing extra),
        every chunk text against its SHA-256 and every vector for being finite and unit
        length. File contents are hashed, and the vectors Chroma serves compared with the
        hashed ``vectors.npy``, before the first answer, or in the background for a
        build over ``eager_verify_bytes`` (and, on a Chroma server, the comparison
        always). On a server the sentence vectors are read per answer from the store
        (``sentences``), each checked for being finite and unit length.
        """
        index_dir = settings.index_path
        identity = None
        if settings.chroma_host:
            # Server mode: the store's live build, copied into the local cache if needed.
            client = vectors.connect(settings)
            try:
                build = replica.sync_live(settings, client)
                identity = store.identity(client)
            except Exception as exc:
                if vectors.is_unreachable(exc):
                    where = vectors.server_address(settings)
                    raise ChromaUnavailableError(where, type(exc).__name__) from exc
                raise
        else:
            found = layout.current_build(index_dir)
            if found is None:
                raise IndexMissingError(str(index_dir))
            build = found
        if not build.is_dir():
            raise IndexCorruptError(f"the {layout.CURRENT} pointer names a missing build")
        manifest = layout.read_manifest(build)
        expected = layout.fingerprint(
            tuning, model_id, analyzer_version(), vectors.chroma_target(identity)
        )
        problem = layout.mismatch(manifest, expected)
        if problem is not None:
            raise IndexMismatchError(problem)
        integrity.check_manifest(manifest, build)
        files = manifest["files"]
        integrity.check_listing(build, files)
        background = integrity.build_bytes(files) > eager_verify_bytes
        if not background:
            integrity.check_contents(build, files)
        # Embedded, the sentence vectors are a file of the build; on a server they stay
        # in the store (``sentences``) and are read per answer.
        local_sentences = not settings.chroma_host
        try:
            with (build / layout.CHUNKS_FILE).open(encoding="utf-8") as handle:
                chunks = [Chunk.from_dict(json.loads(line)) for line in handle]
            chunk_vectors = np.load(build / layout.VECTORS_FILE, allow_pickle=False)
            sentence_vectors = (
                np.load(build / layout.SENTENCES_FILE, allow_pickle=False)
                if local_sentences
                else None
            )
            keyword = KeywordIndex.load(build / layout.BM25_DIR, Analyzer.from_package())
        except FileNotFoundError as exc:
            raise IndexCorruptError(f"missing file {Path(exc.filename).name}") from exc
        except (OSError, ValueError, KeyError, TypeError, EOFError, AttributeError) as exc:
            raise IndexCorruptError(f"unreadable index file: {exc}") from exc
        if len(chunks) != manifest["total_chunks"]:
            raise IndexCorruptError("chunk, vector and sentence counts disagree")
        total_sentences = sum(len(c.sentences) for c in chunks)
        if total_sentences != manifest["total_sentences"]:
            raise IndexCorruptError("chunk, vector and sentence counts disagree")
        integrity.check_chunk_texts([c.text for c in chunks], manifest["chunk_text_sha256"])
        check_vectors(chunk_vectors, len(chunks), layout.VECTORS_FILE)
        client, collection = _open_collection(settings, build, manifest, len(chunks))
        server = vectors.server_address(settings) if settings.chroma_host else None
        sentences: SentenceVectors
        if sentence_vectors is not None:
            check_vectors(sentence_vectors, total_sentences, layout.SENTENCES_FILE)
            sentences = LocalSentences(sentence_vectors, chunks)
        else:
            assert server is not None
            sentences = StoreSentences(
                _sentence_collection(client, build.name, total_sentences),
                chunks,
                server,
                build.name,
            )
        checks = [lambda: check_collection(collection, chunks, chunk_vectors)]
        if background:
            checks.insert(0, lambda: integrity.check_contents(build, files))
        # On a server the collection is read over the network (about 10 s at 100k
        # chunks): it is compared in the background, as a large build's files are.
        verification = integrity.Verification.run(build, checks, background or bool(server))
        return cls(
            build,
            manifest,
            chunks,
            chunk_vectors,
            sentences,
            keyword,
            collection,
            verification,
            server,
            client,
        )

    def query(self, vector: np.ndarray, k: int) -> list[str]:
        """Ids of the ``k`` chunks nearest ``vector`` (Chroma, cosine), nearest first.

        Raises ``BuildGoneError`` if the build's collection was deleted (pruned by an
        ingest elsewhere) and ``ChromaUnavailableError`` if the server does not answer.
        """
        with vectors.reading(self.server, self.build.name):
            result = self.collection.query(
                query_embeddings=[vector.tolist()], n_results=k, include=["distances"]
            )
        return list(result["ids"][0])

    def article_text(self, doc_id: str) -> str | None:
        """An article's whole text from the Chroma store (server mode), checked against
        the SHA-256 its build recorded; None in embedded mode (read the corpus file) or
        for an unknown article."""
        doc = self.manifest.get("documents", {}).get(doc_id)
        if self.server is None or not isinstance(doc, dict):
            return None
        with vectors.reading(self.server, self.build.name):
            text = contents.read_article(self.client, self.build.name, doc_id)
        if text is None or integrity.text_sha256(text) != doc.get("hash"):
            raise IndexCorruptError(f"the store's text of article {doc_id!r:.60} was changed")
        return text

    def sentence_matrices(self, rows: list[int]) -> list[np.ndarray]:
        """The sentence vectors of each chunk row (one read from the store in server
        mode). Every answer reads its candidate sentences through here: a build the
        background check found changed stops answering at once."""
        self.verification.raise_if_failed()
        return self.sentences.matrices(rows)

    def sentence_matrix(self, row: int) -> np.ndarray:
        return self.sentence_matrices([row])[0]

    def documents(self) -> dict[str, dict[str, Any]]:
        return dict(self.manifest.get("documents", {}))


def _sentence_collection(client: Any, build_id: str, total: int) -> Any:
    """The build's sentence collection on the server, holding every sentence."""
    try:
        collection = client.get_collection(store.sentences_name(build_id))
        stored = collection.count()
    except Exception as exc:
        raise IndexCorruptError(f"Chroma collection unusable: {exc}") from exc
    if stored != total:
        raise IndexCorruptError(f"Chroma holds {stored} sentences, expected {total}")
    return collection


def check_collection(collection: Any, chunks: list[Chunk], chunk_vectors: np.ndarray) -> None:
    """Chroma serves each chunk's vector from ``vectors.npy`` (whose hash was checked)."""
    batch = 1000
    for start in range(0, len(chunks), batch):
        ids = [c.id for c in chunks[start : start + batch]]
        try:
            got = collection.get(ids=ids, include=["embeddings"])
            rows = {chunk_id: r for r, chunk_id in enumerate(got["ids"])}
            order = [rows[i] for i in ids]
            stored = np.asarray(got["embeddings"], dtype=np.float32)[order]
        except KeyError as exc:
            raise IndexCorruptError(f"Chroma lacks chunk {exc.args[0]!r:.60}") from None
        except Exception as exc:
            raise IndexCorruptError(f"Chroma collection unusable: {exc}") from exc
        if not np.allclose(stored, chunk_vectors[start : start + batch], atol=1e-4):
            raise IndexCorruptError(f"the vectors Chroma holds differ from {layout.VECTORS_FILE}")


def _open_collection(
    settings: Settings, build: Path, manifest: dict[str, Any], count: int
) -> tuple[Any, Any]:
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
    return client, collection
