"""The machine and small helpers: progress log, /proc figures, package versions, ports,
subprocess environment, timing and percentiles."""

from __future__ import annotations

import contextlib
import os
import platform
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

from ..metrics import percentile

PACKAGES = (
    "chromadb",
    "llama-index-core",
    "sentence-transformers",
    "torch",
    "onnxruntime",
    "gradio",
    "gradio_client",
    "numpy",
    "bm25s",
)


def log(message: str) -> None:
    """Progress on stderr, so stdout stays the report."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def proc_status(field_name: str, pid: int | str = "self") -> float:
    """A memory figure of /proc/<pid>/status in MiB (VmHWM = peak RSS, VmRSS = now)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field_name + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def mem_total_gib() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) / 1024 / 1024
    return float("nan")


def cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown CPU"


def load_average() -> str:
    with contextlib.suppress(OSError):
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    return "n/a"


def versions() -> str:
    found = []
    for name in PACKAGES:
        try:
            found.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            found.append(f"{name} (not installed)")
    return ", ".join(found)


def disk_usage_mib(path: Path) -> float:
    """Space the files really take (allocated blocks), like ``du``."""
    total = sum(p.lstat().st_blocks * 512 for p in path.rglob("*") if p.is_file())
    return total / 1024 / 1024


def stop_process(proc: subprocess.Popen[Any], timeout: float = 30.0) -> None:
    """SIGTERM, and SIGKILL if the process has not exited ``timeout`` seconds later."""
    proc.terminate()
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def subprocess_env(**extra: str) -> dict[str, str]:
    """The caller's environment (so SKINQA_* settings apply), offline, plus ``extra``."""
    env = dict(os.environ)
    env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", GRADIO_ANALYTICS_ENABLED="False")
    env.update(extra)
    return env


def git_commit() -> str:
    """The checked-out commit, marked "+changes" when tracked files other than the
    Markdown documents (which a run may be about to update) differ from it."""
    root = Path(__file__).resolve().parents[2]

    def git(*args: str) -> str:
        result = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True)
        return result.stdout.strip() if result.returncode == 0 else ""

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    changed = git("status", "--porcelain", "--untracked-files=no", "--", ".", ":(exclude)*.md")
    return commit + ("+changes" if changed else "")


def ms_since(start: float) -> float:
    return (time.perf_counter() - start) * 1000


def pass_percentiles(passes: Sequence[Sequence[float]]) -> tuple[float, float]:
    """Median over passes of each pass's p50 and p95."""
    p50 = statistics.median(percentile(p, 0.5) for p in passes)
    p95 = statistics.median(percentile(p, 0.95) for p in passes)
    return p50, p95
