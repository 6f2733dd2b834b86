"""Server mode: a real ``chroma run`` process on a free localhost port, used through
``SKINQA_CHROMA_HOST``/``SKINQA_CHROMA_PORT`` by the real ingest and the real assistant."""

from __future__ import annotations

import base64
import json
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ..conftest import CORPUS, make_settings
from ..servers import ChromaServer, free_port, run_chroma

# Hand-written (not an eval case's wording); the small article answers it with its price.
COST_QUESTION = "What is the cost of microneedling?"
SMALL_ARTICLE = "womens-health-microneedling-basics.md"


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChromaServer]:
    """One server for the module, killed when the module ends (pass or fail)."""
    with run_chroma(tmp_path_factory.mktemp("chroma-server"), free_port()) as server:
        yield server


def settings_on(server: ChromaServer, tmp_path: Path, articles: str = "*.md") -> Any:
    """Settings on ``server`` with their own copy of (some of) the corpus, to edit freely."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for article in CORPUS.glob(articles):
        shutil.copy(article, corpus)
    return make_settings(
        tmp_path / "data", corpus_dir=corpus, chroma_host=server.host, chroma_port=server.port
    )


@pytest.fixture
def server_settings(chroma_server: ChromaServer, tmp_path: Path) -> Any:
    return settings_on(chroma_server, tmp_path)


@pytest.fixture
def small_settings(chroma_server: ChromaServer, tmp_path: Path) -> Any:
    """One article (the one with the price): enough where the corpus size does not matter,
    and much less to embed on a 2-core machine."""
    return settings_on(chroma_server, tmp_path, SMALL_ARTICLE)


def test_ingest_and_ask_through_a_chroma_server(chroma_server, server_settings, embedder) -> None:
    from assistant import Assistant
    from assistant.index import store
    from assistant.index.layout import current_build, read_manifest
    from assistant.ingest import ingest

    first = ingest(server_settings, lambda: embedder, model_id=embedder.model_id)
    assert len(first.added) == 5 and first.total_chunks > 0

    build = current_build(server_settings.index_path)
    assert build is not None
    manifest = read_manifest(build)
    client = chroma_server.client()
    # The build names the store by its identity record, not by the address.
    assert manifest["chroma"] == f"chroma-store:{store.identity(client)}"
    assert not (build / "chroma").exists()  # vectors live on the server, not in the build
    assert not (build / "sentences.npy").exists()  # read from the server per answer
    assert store.live_build(client) == build.name
    assert store.build_record(client, build.name) == manifest

    collection = client.get_collection(manifest["collection"])
    assert collection.count() == first.total_chunks

    bot = Assistant.load(server_settings, embedder=embedder)
    reply = bot.ask(COST_QUESTION)
    assert any("$700" in c.text for c in reply.citations), reply.answer

    second = ingest(server_settings, lambda: embedder, model_id=embedder.model_id)
    assert not second.changed
    assert len(second.unchanged) == 5 and second.embedded == 0
    assert second.build == first.build


def test_the_store_describes_each_build_to_any_chroma_client(
    chroma_server, small_settings, embedder
) -> None:
    """Chroma's own client reads texts, metadata, tokens, sentences and articles."""
    from assistant.index import store
    from assistant.index.layout import current_build, read_manifest
    from assistant.ingest import ingest

    ingest(small_settings, lambda: embedder, model_id=embedder.model_id)
    build = current_build(small_settings.index_path)
    assert build is not None
    client = chroma_server.client()
    chunks = client.get_collection(f"chunks-{build.name}").get(include=["documents", "metadatas"])
    article = (small_settings.corpus_dir / SMALL_ARTICLE).read_text("utf-8")
    for text, meta in zip(chunks["documents"], chunks["metadatas"], strict=True):
        assert article[meta["start"] : meta["end"]] == text  # verbatim, with its offsets
        assert meta["tokens"] and meta["doc_id"] and meta["section"]
    sentences = client.get_collection(f"sentences-{build.name}")
    assert sentences.count() == read_manifest(build)["total_sentences"]
    one = sentences.get(limit=1, include=["documents", "metadatas"])
    assert article[one["metadatas"][0]["start"] : one["metadatas"][0]["end"]].startswith(
        one["documents"][0][:10]
    )
    # The chunk vectors bit for bit as the model made them (the cosine collection
    # normalises its copy again).
    exact = client.get_collection(f"vectors-{build.name}").get(include=["embeddings"])
    rows = {chunk_id: row for row, chunk_id in enumerate(exact["ids"])}
    stored = np.asarray(exact["embeddings"], dtype=np.float32)
    local = np.load(build / "vectors.npy")
    ids = [c["id"] for c in map(json.loads, (build / "chunks.jsonl").read_text().splitlines())]
    assert np.array_equal(stored[[rows[i] for i in ids]], local)
    articles = client.get_collection(f"articles-{build.name}").get(include=["documents"])
    assert articles["documents"] == [article]
    assert store.live_build(client) == build.name


def test_retired_builds_stay_for_the_grace_period(chroma_server, small_settings, embedder) -> None:
    """A build replaced by a newer one stays on the server for the grace period (replicas
    may still serve it), and is dropped by the first ingest after it."""
    from assistant.index import store
    from assistant.ingest import ingest

    client = chroma_server.client()

    def build_once(grace_minutes: float) -> str:
        settings = small_settings.model_copy(update={"build_grace_minutes": grace_minutes})
        summary = ingest(settings, lambda: embedder, model_id=embedder.model_id)
        assert summary.build is not None
        return summary.build

    article = next(small_settings.corpus_dir.glob("*.md"))

    def edit(n: int) -> None:
        with article.open("a", encoding="utf-8") as handle:
            handle.write(f"\nAn added closing line number {n} for this test.\n")
        time.sleep(1.1)  # build ids carry the second; keep them distinct and ordered

    builds = [build_once(10)]
    edit(0)
    builds.append(build_once(10))
    on_server = {c.name for c in client.list_collections()}
    assert {f"chunks-{b}" for b in builds} <= on_server  # the retired one is kept
    assert store.build_records(client)[builds[0]].get("retired")
    edit(1)
    builds.append(build_once(0))  # no grace: every retired build goes
    on_server = {c.name for c in client.list_collections()}
    assert f"chunks-{builds[2]}" in on_server
    assert (
        not {
            f"{kind}-{b}"
            for b in builds[:2]
            for kind in ("chunks", "vectors", "sentences", "articles")
        }
        & on_server
    )
    assert set(store.build_records(client)) >= {builds[2]}
    assert not set(store.build_records(client)) & set(builds[:2])


def test_a_replica_needs_only_the_address_however_it_is_spelt(
    chroma_server, small_settings, embedder, tmp_path
) -> None:
    from assistant import Assistant
    from assistant.errors import IndexMissingError
    from assistant.ingest import ingest

    ingest(small_settings, lambda: embedder, model_id=embedder.model_id)
    empty = tmp_path / "replica"
    replica = make_settings(
        empty, corpus_dir=tmp_path / "no-corpus", chroma_host="localhost",
        chroma_port=chroma_server.port,
    )  # fmt: skip
    bot = Assistant.load(replica, embedder=embedder)
    reply = bot.ask(COST_QUESTION)
    assert any("$700" in c.text for c in reply.citations), reply.answer
    # Its cache holds the very files ingest wrote (copied from the store's files
    # collection); the sentence vectors it quoted from were read from the store.
    built = small_settings.index_path / "builds" / bot.index.build.name
    for name in bot.index.manifest["files"]:
        assert (bot.index.build / name).read_bytes() == (built / name).read_bytes()
    assert bot.index.sentences.reads >= 1  # type: ignore[attr-defined]
    assert reply.to_dict() | {"timings_ms": None} == Assistant.load(
        small_settings, embedder=embedder
    ).ask(COST_QUESTION).to_dict() | {"timings_ms": None}
    # The staff Sources page's text comes from the store, not a corpus folder.
    [doc_id] = bot.index.documents()
    article = (small_settings.corpus_dir / SMALL_ARTICLE).read_text("utf-8")
    assert bot.index.article_text(doc_id) == article
    # Another (empty) Chroma server is another store: its missing build is named, and
    # the cache of the first server's build is not served from it.
    (tmp_path / "other").mkdir()
    with run_chroma(tmp_path / "other", free_port()) as other:
        elsewhere = replica.model_copy(update={"chroma_port": other.port})
        with pytest.raises(IndexMissingError, match="Chroma server"):
            Assistant.load(elsewhere, embedder=embedder)


def test_a_replica_refuses_a_copy_that_does_not_match_the_record(
    chroma_server, small_settings, embedder, tmp_path
) -> None:
    from assistant import Assistant
    from assistant.errors import IndexCorruptError
    from assistant.index import store, transfer
    from assistant.ingest import ingest

    summary = ingest(small_settings, lambda: embedder, model_id=embedder.model_id)
    assert summary.build is not None
    parts = chroma_server.client().get_collection(store.files_name(summary.build))
    first = transfer.part_id("vectors.npy", 0)
    meta = parts.get(ids=[first], include=["metadatas"])["metadatas"][0]
    raw = bytearray(base64.b64decode(meta["data"]))
    raw[-1] ^= 0x01  # one bit of one vector
    parts.update(ids=[first], metadatas=[{**meta, "data": base64.b64encode(raw).decode()}])
    replica = make_settings(
        tmp_path / "replica", chroma_host=chroma_server.host, chroma_port=chroma_server.port
    )
    with pytest.raises(IndexCorruptError, match=r"copy of vectors\.npy does not match"):
        Assistant.load(replica, embedder=embedder)
    assert not list((tmp_path / "replica" / "index" / "builds").iterdir())  # nothing kept


def test_a_build_pruned_under_a_replica_is_replaced_by_the_live_one(
    chroma_server, small_settings, embedder
) -> None:
    from assistant import Assistant
    from assistant.index import store
    from assistant.ingest import ingest

    ingest(small_settings, lambda: embedder, model_id=embedder.model_id)
    bot = Assistant.load(small_settings, embedder=embedder)
    old = bot.index.build.name
    article = next(small_settings.corpus_dir.glob("*.md"))
    article.write_text(article.read_text("utf-8").replace("$700", "$725"), "utf-8")
    time.sleep(1.1)
    ingest(small_settings, lambda: embedder, model_id=embedder.model_id)
    store.drop_build(chroma_server.client(), old)  # as an ingest elsewhere with no grace
    reply = bot.ask(COST_QUESTION)  # no poll in between: the build vanishes mid-question
    assert bot.index.build.name != old
    assert any("$725" in c.text for c in reply.citations), reply.answer


def test_server_down_is_a_named_error_and_a_restart_serves_again(tmp_path, embedder) -> None:
    """The data is persisted under ``--path``: a restarted server serves the same index."""
    from assistant import Assistant
    from assistant.errors import ChromaUnavailableError
    from assistant.ingest import ingest

    port = free_port()
    with run_chroma(tmp_path, port) as server:
        settings = settings_on(server, tmp_path, SMALL_ARTICLE)
        ingest(settings, lambda: embedder, model_id=embedder.model_id)
    with pytest.raises(ChromaUnavailableError, match="does not answer") as info:
        Assistant.load(settings, embedder=embedder)
    assert "chroma run" in str(info.value) and "--rebuild" not in str(info.value)
    with run_chroma(tmp_path, port):
        reply = Assistant.load(settings, embedder=embedder).ask(COST_QUESTION)
    assert any("$700" in c.text for c in reply.citations), reply.answer


def test_a_held_lease_refuses_a_second_ingest_naming_its_holder(
    chroma_server, small_settings, embedder
) -> None:
    from assistant.errors import IngestLockedError
    from assistant.index.lease import Lease
    from assistant.ingest import ingest

    client = chroma_server.client()
    with (
        Lease(client, "clinic-b pid 4242", ttl_s=60),
        pytest.raises(IngestLockedError, match="clinic-b pid 4242"),
    ):
        ingest(small_settings, lambda: embedder, model_id=embedder.model_id)
    # Released: the next ingest runs. An expired lease (its holder died) is taken over.
    dead = Lease(client, "crashed pid 1", ttl_s=10)
    dead.acquire()
    dead._stop.set()  # the holder died: no renewal, no release
    client.get_collection("skinqa-ingest-lease").modify(
        metadata={"holder": "crashed pid 1", "token": dead.token, "expires": time.time() - 1}
    )
    summary = ingest(small_settings, lambda: embedder, model_id=embedder.model_id)
    assert summary.build is not None
