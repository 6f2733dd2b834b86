"""The assistant under test: the eval cases, its index (``ingest.py``), its settings and
bots per backend (``Context``), and ``app.py`` run in a subprocess."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from assistant.settings import PROJECT_ROOT, Settings

from ..cases import Case, load_cases
from .machine import log, stop_process, subprocess_env
from .plan import Plan


def eval_cases(limit: int | None = None) -> list[Case]:
    cases = load_cases()
    return cases[:limit] if limit else cases


def askable(case: Case, max_chars: int) -> bool:
    """Cases the app would answer rather than reject (empty or absurdly long input)."""
    return bool(case.question.strip()) and len(case.question) <= 20 * max_chars


def run_ingest(env: dict[str, str], attempts: int = 5) -> None:
    """``python ingest.py --quiet``; retried a few times because another ingest of the
    same index (a test run, the app's maintainer) holds the lock for a while."""
    for attempt in range(attempts):
        result = subprocess.run(
            [sys.executable, "ingest.py", "--quiet"],
            cwd=PROJECT_ROOT,
            env=env,
            capture_output=True,
            text=True,
        )
        if result.returncode == 0:
            return
        if "Another ingest is already running" not in result.stdout + result.stderr:
            break
        time.sleep(5 * (attempt + 1))
    raise RuntimeError(f"ingest.py failed ({result.returncode}): {result.stderr[-2000:]}")


class Context:
    """The real default settings, plus one index, embedder and bot per backend, made once."""

    def __init__(self, plan: Plan, case_files: Sequence[Path] = ()) -> None:
        self.plan = plan
        self.case_files = list(case_files)  # extra case sets for the llama-index section
        self.settings = Settings()
        self._embedders: dict[str, Any] = {}
        self._bots: dict[str, Any] = {}
        self._ready: set[str] = set()

    @property
    def model_cache(self) -> Path:
        return self.settings.data_dir / "models"

    def index_dir(self, backend: str) -> Path:
        """The default index for the default backend; a bench-owned one for the others,
        so benchmarking never rebuilds the index the app serves with another model."""
        if backend == self.settings.embed_backend:
            return self.settings.index_path
        return self.settings.data_dir / "bench" / f"index-{backend}"

    def env(self, backend: str, **extra: str) -> dict[str, str]:
        """Environment for a subprocess on ``backend``; builds its index first if needed."""
        env = subprocess_env(
            SKINQA_EMBED_BACKEND=backend, SKINQA_INDEX_DIR=str(self.index_dir(backend)), **extra
        )
        if backend not in self._ready:
            log(f"ingest.py for the {backend} index at {self.index_dir(backend)}")
            run_ingest(env)
            self._ready.add(backend)
        return env

    def embedder(self, backend: str) -> Any:
        if backend not in self._embedders:
            from assistant.embeddings import make_embedder

            s = self.settings
            self._embedders[backend] = make_embedder(
                backend, s.model_path, s.embed_batch_size, self.model_cache
            )
        return self._embedders[backend]

    def bot(self, backend: str) -> Any:
        """The assistant as the app loads it: its own embedder, with the answering
        thread count (``query_threads``), not the batch embedder of the throughput runs;
        no cache of question embeddings, since the timed passes repeat their questions and
        a client's question is new."""
        if backend not in self._bots:
            from assistant.answer.pipeline import Assistant

            self.env(backend)  # the index must exist
            settings = self.settings.model_copy(
                update={
                    "embed_backend": backend,
                    "index_dir": self.index_dir(backend),
                    "embed_cache_size": 0,
                }
            )
            self._bots[backend] = Assistant.load(settings)
        return self._bots[backend]


def isolated_settings(corpus_dir: Path, data_dir: Path, backend: str) -> Settings:
    """Settings that write only under ``data_dir``, whatever SKINQA_* variables are set:
    an index path or Chroma server from the environment must not receive a temp build."""
    return Settings(
        corpus_dir=corpus_dir,
        data_dir=data_dir,
        index_dir=data_dir / "index",
        feedback_path=data_dir / "feedback.jsonl",
        embed_backend=backend,  # type: ignore[arg-type]
        chroma_host=None,
    )


@contextlib.contextmanager
def running_app(env: dict[str, str], port: int) -> Iterator[subprocess.Popen[bytes]]:
    """``app.py`` in a subprocess; always stopped (SIGTERM, then SIGKILL) on exit."""
    proc = subprocess.Popen(
        [sys.executable, "app.py", "--port", str(port)],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield proc
    finally:
        stop_process(proc)


def wait_http_ok(url: str, proc: subprocess.Popen[bytes], timeout: float = 180.0) -> float:
    """Poll ``url`` until it answers 200; seconds from now. Fails if the process dies."""
    import httpx

    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        if proc.poll() is not None:
            raise RuntimeError(f"app.py exited with {proc.returncode} before it was ready")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=2).status_code == 200:
                return time.perf_counter() - start
        time.sleep(0.05)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f} s")
