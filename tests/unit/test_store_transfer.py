"""A build's files and sentence vectors as a replica reads them from the Chroma store
(``index.transfer``, ``index.sentences``), against an embedded Chroma in tmp_path: the
same client API a ``chroma run`` server answers."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from assistant.errors import IndexCorruptError
from assistant.index import store, transfer
from assistant.index.sentences import StoreSentences, sentence_ids
from assistant.schema import Chunk, Sentence
from tests.toy import ToyEmbedder

BUILD = "20261202T120000-abcdef"


@pytest.fixture
def client(tmp_path: Path) -> Any:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    return chromadb.PersistentClient(
        path=str(tmp_path / "chroma"), settings=ChromaSettings(anonymized_telemetry=False)
    )


def entry(path: Path) -> dict[str, Any]:
    data = path.read_bytes()
    return {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Files of every kind a build has: text that compresses, binary that does not, a
    file in a subfolder, an empty one; parts of 1 KiB so each spans several."""
    monkeypatch.setattr(transfer, "PART_BYTES", 1024)
    build = tmp_path / "build"
    (build / "bm25").mkdir(parents=True)
    (build / "chunks.jsonl").write_text('{"id": "a", "text": "sunscreen"}\n' * 300)
    (build / "vectors.npy").write_bytes(np.random.default_rng(1).random(900).tobytes())
    (build / "bm25" / "params.index.json").write_text("{}")
    (build / "empty.txt").write_bytes(b"")
    return build


def files_of(build: Path) -> dict[str, dict[str, Any]]:
    names = ["chunks.jsonl", "vectors.npy", "bm25/params.index.json", "empty.txt"]
    return {name: entry(build / name) for name in names}


def test_files_come_back_byte_for_byte(client: Any, folder: Path, tmp_path: Path) -> None:
    files = files_of(folder)
    transfer.put_files(client, BUILD, folder, files)
    parts = client.get_collection(store.files_name(BUILD)).get(include=["metadatas"])
    encodings = {m["file"]: m["encoding"] for m in parts["metadatas"]}
    assert encodings["chunks.jsonl"] == "zlib" and encodings["vectors.npy"] == "raw"
    # 9,900 bytes of text and 7,200 of vectors in 1 KiB parts; an empty file is one part.
    assert len(parts["ids"]) == 10 + 8 + 1 + 1
    copy = tmp_path / "copy"
    transfer.get_files(client, BUILD, files, copy)
    for name in files:
        assert (copy / name).read_bytes() == (folder / name).read_bytes()


def test_a_changed_or_missing_part_is_refused(client: Any, folder: Path, tmp_path: Path) -> None:
    files = files_of(folder)
    transfer.put_files(client, BUILD, folder, files)
    collection = client.get_collection(store.files_name(BUILD))
    wrong = {**files, "vectors.npy": {**files["vectors.npy"], "sha256": "0" * 64}}
    with pytest.raises(IndexCorruptError, match=r"copy of vectors\.npy does not match"):
        transfer.get_files(client, BUILD, wrong, tmp_path / "a")
    collection.delete(ids=[transfer.part_id("vectors.npy", 3)])
    with pytest.raises(IndexCorruptError, match=r"lacks part vectors\.npy#3"):
        transfer.get_files(client, BUILD, files, tmp_path / "b")
    collection.update(ids=[transfer.part_id("empty.txt", 0)], metadatas=[{"data": "%%"}])
    with pytest.raises(IndexCorruptError, match=r"copy of empty\.txt is unreadable"):
        transfer.get_files(client, BUILD, {"empty.txt": files["empty.txt"]}, tmp_path / "c")


def chunk(n: int, sentences: int) -> Chunk:
    texts = [f"Sentence {k} of chunk {n} about sunscreen." for k in range(sentences)]
    text = " ".join(texts)
    spans, start = [], 0
    for t in texts:
        spans.append(Sentence(start, start + len(t), t))
        start += len(t) + 1
    return Chunk(f"doc:{n}", "doc", "Guide", "Care", 0, len(text), text, f"h{n}", tuple(spans))


@pytest.fixture
def chunks() -> list[Chunk]:
    return [chunk(0, 3), chunk(1, 0), chunk(2, 2)]


@pytest.fixture
def sentence_collection(client: Any, chunks: list[Chunk]) -> tuple[Any, np.ndarray]:
    """The build's sentence collection as ingest writes it (l2: vectors kept bit for bit)."""
    texts = [s.text for c in chunks for s in c.sentences]
    matrix = ToyEmbedder().embed(texts)
    collection = client.create_collection(
        store.sentences_name(BUILD), configuration={"hnsw": {"space": "l2"}}
    )
    ids = [sid for c in chunks for sid in sentence_ids(c.id, len(c.sentences))]
    collection.add(ids=ids, embeddings=matrix, documents=texts)
    return collection, matrix


def test_sentence_vectors_are_read_per_answer_and_kept(
    sentence_collection: tuple[Any, np.ndarray], chunks: list[Chunk]
) -> None:
    collection, matrix = sentence_collection
    sentences = StoreSentences(collection, chunks, "127.0.0.1:1", BUILD, cache_rows=2)
    got = sentences.matrices([2, 0, 1, 2])
    assert np.array_equal(got[0], matrix[3:5]) and np.array_equal(got[1], matrix[0:3])
    assert got[2].shape == (0, 384) and np.array_equal(got[3], got[0])
    assert sentences.reads == 1  # every row of one answer in one request
    sentences.matrices([0, 1])  # the two most recent rows are kept
    assert sentences.reads == 1
    sentences.matrices([2])  # dropped from the cache of two: read again
    assert sentences.reads == 2


def test_a_sentence_the_store_lacks_or_changed_is_refused(
    sentence_collection: tuple[Any, np.ndarray], chunks: list[Chunk]
) -> None:
    collection, matrix = sentence_collection
    collection.delete(ids=["doc:0#1"])
    with pytest.raises(IndexCorruptError, match="lacks sentence 'doc:0#1'"):
        StoreSentences(collection, chunks, "127.0.0.1:1", BUILD).matrices([0])
    collection.update(ids=["doc:2#0"], embeddings=[matrix[3] * 3])
    with pytest.raises(IndexCorruptError, match="not unit length"):
        StoreSentences(collection, chunks, "127.0.0.1:1", BUILD).matrices([2])
