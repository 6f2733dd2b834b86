"""Server mode: a real ``chroma run`` process on a free localhost port, used through
``SKINQA_CHROMA_HOST``/``SKINQA_CHROMA_PORT`` by the real ingest and the real assistant."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ..conftest import CORPUS, make_settings

# Hand-written (not an eval case's wording); the small article answers it with its price.
COST_QUESTION = "What is the cost of microneedling?"
START_TIMEOUT_S = 60.0
SMALL_ARTICLE = "womens-health-microneedling-basics.md"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def chroma_cli() -> Path:
    """The ``chroma`` command installed by the chromadb package, next to this Python."""
    path = Path(sys.executable).parent / "chroma"
    if not path.exists():
        pytest.fail(f"the chroma CLI is missing ({path}); reinstall chromadb")
    return path


@dataclass(frozen=True)
class ChromaServer:
    host: str
    port: int
    path: Path
    log: Path

    def client(self) -> Any:
        """A fresh HTTP client (``chromadb.api.ClientAPI``) for this server."""
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        return chromadb.HttpClient(
            host=self.host, port=self.port, settings=ChromaSettings(anonymized_telemetry=False)
        )


def wait_for_heartbeat(server: ChromaServer, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"chroma run exited with {proc.returncode}:\n{server.log.read_text()}")
        try:
            server.client().heartbeat()
            return
        except Exception:  # not listening yet: connection refused, or not ready
            time.sleep(0.2)
    pytest.fail(f"chroma run did not answer within {START_TIMEOUT_S:.0f} s")


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(15)


@contextmanager
def run_chroma(root: Path, port: int) -> Iterator[ChromaServer]:
    """A real ``chroma run --path ROOT/db --host 127.0.0.1 --port PORT``, always stopped."""
    server = ChromaServer("127.0.0.1", port, root / "db", root / f"chroma-{port}.log")
    with server.log.open("ab") as log:
        proc = subprocess.Popen(
            [chroma_cli(), "run", "--path", str(server.path), "--host", server.host,
             "--port", str(port)],
            stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        wait_for_heartbeat(server, proc)
        yield server
    finally:
        stop(proc)


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
    from assistant.index.layout import current_build, read_manifest
    from assistant.ingest import ingest

    first = ingest(server_settings, lambda: embedder, model_id=embedder.model_id)
    assert len(first.added) == 5 and first.total_chunks > 0

    build = current_build(server_settings.index_path)
    assert build is not None
    manifest = read_manifest(build)
    assert manifest["chroma"] == f"http://{chroma_server.host}:{chroma_server.port}"
    assert not (build / "chroma").exists()  # vectors live on the server, not in the build

    collection = chroma_server.client().get_collection(manifest["collection"])
    assert collection.count() == first.total_chunks
    names = [c.name for c in chroma_server.client().list_collections()]
    assert manifest["collection"] in names

    bot = Assistant.load(server_settings, embedder=embedder)
    reply = bot.ask(COST_QUESTION)
    assert any("$700" in c.text for c in reply.citations), reply.answer

    second = ingest(server_settings, lambda: embedder, model_id=embedder.model_id)
    assert not second.changed
    assert len(second.unchanged) == 5 and second.embedded == 0
    assert second.build == first.build


def test_old_builds_are_dropped_from_the_server(chroma_server, small_settings, embedder) -> None:
    """Pruning an old build must delete its collection on the server too."""
    from assistant.index.layout import current_build, read_manifest
    from assistant.ingest import ingest

    def build_once() -> str:
        ingest(small_settings, lambda: embedder, model_id=embedder.model_id)
        build = current_build(small_settings.index_path)
        assert build is not None
        return read_manifest(build)["collection"]

    article = next(small_settings.corpus_dir.glob("*.md"))
    names = [build_once()]
    for n in range(2):
        with article.open("a", encoding="utf-8") as handle:
            handle.write(f"\nAn added closing line number {n} for this test.\n")
        time.sleep(1.1)  # build ids carry the second; keep them distinct and ordered
        names.append(build_once())
    on_server = {c.name for c in chroma_server.client().list_collections()}
    assert names[0] not in on_server  # the live build and the one before it are kept
    assert {names[1], names[2]} <= on_server


def test_another_server_address_is_refused(small_settings, embedder) -> None:
    from assistant import Assistant
    from assistant.errors import IndexMismatchError
    from assistant.ingest import ingest

    ingest(small_settings, lambda: embedder, model_id=embedder.model_id)
    elsewhere = small_settings.model_copy(update={"chroma_port": free_port()})
    with pytest.raises(IndexMismatchError, match="Chroma"):
        Assistant.load(elsewhere, embedder=embedder)


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
