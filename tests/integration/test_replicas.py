"""Stateless replicas behind one Chroma server, as real processes on loopback.

A real ``chroma run`` server; three ``app.py`` processes, each with its own empty data
folder and nothing but the server's address (one spells it ``localhost``); ingest runs
as a fourth process. Shown: the three give identical replies; an ingest of a changed
article is picked up by all three within the poll interval while clients keep asking,
with no failed request; a second ingest started while one runs is refused, naming the
holder; the server stopped, every replica answers with a clear error, and answers again
once it is back. ``python -m assistant ask`` needs the same settings only.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from ..conftest import CORPUS, ROOT
from ..servers import ChromaServer, free_port, run_chroma, stop

ARTICLE = "womens-health-microneedling-basics.md"
POLL_S = 1.0
# Written for this test (not an eval set's wording): a price, a topic no article covers,
# a greeting, a question about what to avoid, and one with a typo.
QUESTIONS = [
    "What is the cost of microneedling?",
    "Which football club won the league in 1998?",
    "good morning!",
    "What should be avoided right after a microneedling appointment?",
    "does microneedling help with acne scarring",
]
COST = QUESTIONS[0]
START_S = 180.0


@dataclass
class Replica:
    name: str
    proc: subprocess.Popen[str]
    url: str
    data: Path
    lines: list[str] = field(default_factory=list)

    def ask(self, question: str, timeout: float = 60) -> httpx.Response:
        return httpx.post(
            f"{self.url}/api/ask", json={"question": question, "history": []}, timeout=timeout
        )


def replica_env(server: ChromaServer, data: Path, host: str | None = None) -> dict[str, str]:
    from assistant.settings import Settings

    return {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "SKINQA_DATA_DIR": str(data),
        # The model export is not the index: a deployment ships it with the image.
        "SKINQA_MODEL_CACHE_DIR": str(Settings().model_cache),
        "SKINQA_CHROMA_HOST": host or server.host,
        "SKINQA_CHROMA_PORT": str(server.port),
        "SKINQA_CHROMA_POLL_SECONDS": str(POLL_S),
        "SKINQA_RATE_LIMIT_PER_MINUTE": "100000",
    }


def run_ingest(server: ChromaServer, data: Path, corpus: Path, *args: str) -> subprocess.Popen[str]:
    env = {**replica_env(server, data), "SKINQA_CORPUS_DIR": str(corpus)}
    return subprocess.Popen(
        [sys.executable, "ingest.py", "--quiet", *args],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip


def ask_cli(server: ChromaServer, data: Path) -> subprocess.CompletedProcess[str]:
    """``python -m assistant ask --json`` with only the server's address."""
    return subprocess.run(
        [sys.executable, "-m", "assistant", "ask", "--json", COST],
        cwd=ROOT, env=replica_env(server, data), capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def start_replica(name: str, server: ChromaServer, data: Path, host: str) -> Replica:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "app.py", "--port", str(port)],
        cwd=ROOT, env=replica_env(server, data, host), text=True,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    replica = Replica(name, proc, f"http://127.0.0.1:{port}", data)
    # Every line is kept (and the pipe drained) so a failure can show the replica's log.
    threading.Thread(target=_drain, args=(replica,), daemon=True).start()
    return replica


def _drain(replica: Replica) -> None:
    assert replica.proc.stdout is not None
    for line in replica.proc.stdout:
        replica.lines.append(line.rstrip())


def wait_ready(replicas: list[Replica]) -> None:
    deadline = time.monotonic() + START_S
    for replica in replicas:
        while not any("Running on" in line for line in replica.lines):
            if replica.proc.poll() is not None or time.monotonic() > deadline:
                log = "\n".join(replica.lines[-30:])
                pytest.fail(f"{replica.name} did not start:\n{log}")
            time.sleep(0.2)


def essentials(response: httpx.Response) -> tuple[Any, ...]:
    """What must agree between replicas: answer, outcome and citations."""
    assert response.status_code == 200, response.text
    body = response.json()
    return body["answer"], body["outcome"], repr(body["citations"])


def cites(response: httpx.Response, text: str) -> bool:
    return any(text in c["text"] for c in response.json()["citations"])


@pytest.fixture
def deployment(tmp_path: Path, embedder) -> Iterator[tuple[ChromaServer, list[Replica], Path]]:
    """A server holding one ingested article and three replicas serving it."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(CORPUS / ARTICLE, corpus)
    with run_chroma(tmp_path, free_port()) as server:
        first = run_ingest(server, tmp_path / "ingester", corpus)
        output = first.communicate(timeout=600)[0]
        assert first.returncode == 0, output
        hosts = ["127.0.0.1", "localhost", "127.0.0.1"]
        replicas = [
            start_replica(f"replica-{n}", server, tmp_path / f"replica-{n}", host)
            for n, host in enumerate(hosts, start=1)
        ]
        try:
            wait_ready(replicas)
            yield server, replicas, corpus
        finally:
            for replica in replicas:
                stop(replica.proc)


def test_three_replicas_one_chroma_server(deployment, tmp_path: Path) -> None:
    from assistant.index import store

    server, replicas, corpus = deployment
    # Each replica started from an empty folder: what it holds now is its cache.
    for replica in replicas:
        assert (replica.data / "index" / "CURRENT").is_file()

    # 1. Identical replies on every question.
    replies = {r.name: [essentials(r.ask(q)) for q in QUESTIONS] for r in replicas}
    first = replies[replicas[0].name]
    assert all(got == first for got in replies.values())
    assert cites(replicas[0].ask(COST), "$700")
    # `python -m assistant ask` too: an empty folder and the address, the same reply.
    cli = ask_cli(server, tmp_path / "cli")
    assert cli.returncode == 0, cli.stderr
    api = replicas[0].ask(COST).json()
    reply = json.loads(cli.stdout)
    assert (reply["answer"], reply["outcome"]) == (api["answer"], api["outcome"])
    assert [c["text"] for c in reply["citations"]] == [c["text"] for c in api["citations"]]

    # 2. A changed article, ingested by a fourth process under concurrent load.
    article = corpus / ARTICLE
    article.write_text(article.read_text("utf-8").replace("$700", "$750"), "utf-8")
    failures: list[str] = []
    served = [0]
    switched: dict[str, float] = {}
    stop_at = [time.monotonic() + 600]
    lock = threading.Lock()

    def client(n: int) -> None:
        i = n
        while time.monotonic() < stop_at[0]:
            replica = replicas[i % len(replicas)]
            question = QUESTIONS[i % len(QUESTIONS)]
            i += 1
            try:
                response = replica.ask(question)
                ok = response.status_code == 200
            except httpx.HTTPError as exc:
                ok, response = False, None
                failures.append(f"{replica.name}: {exc!r}")
            with lock:
                served[0] += 1
                if not ok and response is not None:
                    failures.append(f"{replica.name}: {response.status_code} {response.text}")
                if ok and question == COST and cites(response, "$750"):
                    switched.setdefault(replica.name, time.time())

    clients = [threading.Thread(target=client, args=(n,)) for n in range(5)]
    for thread in clients:
        thread.start()
    try:
        ingest = run_ingest(server, tmp_path / "ingester-2", corpus)
        output = ingest.communicate(timeout=600)[0]
        assert ingest.returncode == 0, output
        deadline = time.monotonic() + 60
        while len(switched) < len(replicas) and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        stop_at[0] = 0
        for thread in clients:
            thread.join(120)
    assert not failures, failures[:5]
    assert served[0] > 0
    assert set(switched) == {r.name for r in replicas}, (switched, served)
    published = store.live_since(server.client())
    assert published is not None
    lags = {name: round(at - published, 2) for name, at in switched.items()}
    print(
        f"\nfirst reply from the new build, after it was published (s): {lags}; "
        f"requests served: {served[0]}"
    )
    # The poll interval, plus copying the new build (a few hundred ms here) on a shared
    # 2-core machine that is also running the clients.
    assert max(lags.values()) <= POLL_S + 10, lags
    after = {r.name: [essentials(r.ask(q)) for q in QUESTIONS] for r in replicas}
    assert all(got == after[replicas[0].name] for got in after.values())
    # The client's article page shows the live build's own text (the replicas' corpus
    # folder still says $700).
    page = httpx.get(f"{replicas[1].url}/articles/{ARTICLE.removesuffix('.md')}", timeout=60)
    assert page.status_code == 200 and "$750" in page.text and "$700" not in page.text

    # 3. One ingest at a time: the second is refused, naming the first's holder.
    holder = run_ingest(server, tmp_path / "ingester-3", corpus, "--rebuild")
    try:
        lease_seen = time.monotonic() + 120
        while not _lease_held(server):
            assert holder.poll() is None, holder.communicate()[0]
            assert time.monotonic() < lease_seen, "the first ingest never took the lease"
            time.sleep(0.05)
        second = run_ingest(server, tmp_path / "ingester-4", corpus)
        refused = second.communicate(timeout=300)[0]
        assert second.returncode != 0, refused
        assert "Another ingest is already running" in refused, refused
        assert f"pid {holder.pid}" in refused, refused
    finally:
        holder_output = holder.communicate(timeout=600)[0]
    assert holder.returncode == 0, holder_output

    # 4. The server stopped: a clear error from every replica; back: answers again.
    good = {r.name: essentials(r.ask(COST)) for r in replicas}
    server_proc = _server_process(server)
    stop(server_proc)
    for replica in replicas:
        response = replica.ask(COST)
        assert response.status_code == 503, response.text
        assert "article store is not reachable" in response.json()["error"]
    down = ask_cli(server, tmp_path / "cli")  # its cache does not stand in for the server
    assert down.returncode == 2 and "does not answer" in down.stderr, down.stderr
    assert "Traceback" not in down.stderr
    with run_chroma(tmp_path, server.port):
        for replica in replicas:
            assert essentials(replica.ask(COST)) == good[replica.name]


def _lease_held(server: ChromaServer) -> bool:
    from assistant.index.lease import LEASE

    try:
        server.client().get_collection(LEASE)
    except Exception:
        return False
    return True


def _server_process(server: ChromaServer) -> subprocess.Popen[bytes]:
    from ..servers import RUNNING

    return RUNNING[server.port]
