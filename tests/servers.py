"""The real servers the tests start on loopback, each always stopped: the app in a thread
of the test process (``running_app``) or as ``app.py`` in its own (``app_process``), and
``chroma run`` (``run_chroma``); and how a test calls a page's event as the browser does
(``queue_call``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from evals.bench.machine import free_port, stop_process
from tests.conftest import ROOT

CHROMA_START_S = 60.0


def stop(proc: subprocess.Popen[Any]) -> None:
    """SIGTERM, and SIGKILL if the process has not exited 20 s later."""
    stop_process(proc, 20.0)


# -- the app -----------------------------------------------------------------------------
def app_settings(built_settings: Any, tmp_path: Path, **extra: Any) -> Any:
    """The session's settings with a feedback file of the test's own, and ``extra``."""
    return built_settings.model_copy(update={"feedback_path": tmp_path / "feedback.jsonl", **extra})


@contextmanager
def running_app(bot: Any, settings: Any) -> Iterator[str]:
    """The real app on a free localhost port, in a background thread; yields its URL."""
    from assistant.web.app import launch

    served, base = launch(bot, settings, "127.0.0.1", free_port())
    try:
        yield base
    finally:
        served.close()


def app_env(**extra: str) -> dict[str, str]:
    """This environment without its SKINQA_* settings, offline, with ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SKINQA_")}
    return {**env, "HF_HUB_OFFLINE": "1", **extra}


@contextmanager
def app_process(
    args: list[str], env: dict[str, str], stderr: int = subprocess.PIPE
) -> Iterator[subprocess.Popen[str]]:
    """``python app.py ARGS`` in the project folder, its output as text; killed after 120 s
    (a hung start-up fails instead of hanging), stopped with SIGTERM on exit."""
    proc = subprocess.Popen(
        [sys.executable, "app.py", *args], cwd=ROOT, env=env,
        stdout=subprocess.PIPE, stderr=stderr, text=True,
    )  # fmt: skip
    watchdog = threading.Timer(120, proc.kill)
    watchdog.start()
    try:
        yield proc
    finally:
        watchdog.cancel()
        if proc.poll() is None:
            proc.terminate()
            proc.wait(30)


def queue_call(
    url: str, api_name: str, data: list[Any], headers: dict[str, str] | None = None
) -> dict[str, Any]:
    """Call an event the way the browser does (``fn_index`` + session), bypassing the UI,
    with extra request ``headers``; the output of its ``process_completed`` message.
    ``url`` is the page's: the staff page's events are under ``/staff``."""
    config = httpx.get(f"{url}/config", timeout=10).json()
    fn_index = next(d["id"] for d in config["dependencies"] if d["api_name"] == api_name)
    session = uuid.uuid4().hex[:12]
    body = {"data": data, "fn_index": fn_index, "session_hash": session}
    joined = httpx.post(f"{url}/gradio_api/queue/join", json=body, headers=headers, timeout=10)
    joined.raise_for_status()
    with httpx.stream(
        "GET", f"{url}/gradio_api/queue/data", params={"session_hash": session}, timeout=60
    ) as stream:
        for line in stream.iter_lines():
            if line.startswith("data:"):
                message = json.loads(line[5:])
                if message.get("msg") == "process_completed":
                    return message["output"]
    raise AssertionError("no process_completed message")


# -- chroma run --------------------------------------------------------------------------
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
    deadline = time.monotonic() + CHROMA_START_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"chroma run exited with {proc.returncode}:\n{server.log.read_text()}")
        try:
            server.client().heartbeat()
            return
        except Exception:  # not listening yet: connection refused, or not ready
            time.sleep(0.2)
    pytest.fail(f"chroma run did not answer within {CHROMA_START_S:.0f} s")


RUNNING: dict[int, subprocess.Popen[bytes]] = {}  # port -> the server process, for tests


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
    RUNNING[port] = proc
    try:
        wait_for_heartbeat(server, proc)
        yield server
    finally:
        stop(proc)
        RUNNING.pop(port, None)
