"""Soak: 16 loopback clients ask the real app for 5 minutes (``make soak``; excluded by default).

Prints requests served, errors and the app's memory growth after warm-up; fails on any
error or on growth of 10% or more. ``SKINQA_SOAK_SECONDS`` shortens it for a dry run.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.servers import free_port

ROOT = Path(__file__).resolve().parents[2]
QUESTIONS = [
    "Does microneedling hurt?",
    "How much does microneedling cost?",
    "Can I wear makeup after?",
    "I'm pregnant, can I get microneedling?",
    "What's the weather in Paris?",
    "How often should I get treatments?",
    "<script>alert(1)</script>",
    "and makeup?",
]


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


@pytest.mark.slow
def test_soak(built_settings) -> None:
    from gradio_client import Client

    duration = float(os.environ.get("SKINQA_SOAK_SECONDS", "300"))
    clients, warmup = 16, min(30.0, duration / 5)
    port = free_port()
    env = {
        **os.environ,
        "SKINQA_DATA_DIR": str(built_settings.data_dir),
        "SKINQA_RATE_LIMIT_PER_MINUTE": "100000",
        "SKINQA_CONCURRENCY": "4",
    }
    proc = subprocess.Popen(
        [sys.executable, "app.py", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None and "Running on" in proc.stdout.readline()
        url = f"http://127.0.0.1:{port}"
        served, errors, lock = [0], [], threading.Lock()
        start = time.monotonic()
        stop_at = start + warmup + duration
        baseline: list[int] = []

        def client(n: int) -> None:
            api = Client(url, verbose=False)
            i = n
            while time.monotonic() < stop_at:
                try:
                    reply = api.predict(QUESTIONS[i % len(QUESTIONS)], "[]", api_name="/ask")
                    assert isinstance(reply, dict) and reply["answer"]
                    with lock:
                        served[0] += 1
                except Exception as err:
                    with lock:
                        errors.append(repr(err)[:200])
                i += 1

        threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
        for t in threads:
            t.start()
        time.sleep(warmup)
        baseline.append(rss_kib(proc.pid))
        peak = baseline[0]
        while time.monotonic() < stop_at:
            time.sleep(5)
            peak = max(peak, rss_kib(proc.pid))
        for t in threads:
            t.join(120)
        end_rss = rss_kib(proc.pid)
        growth = (end_rss - baseline[0]) / baseline[0]
        elapsed = time.monotonic() - start
        print(
            f"\nsoak: {clients} clients, {duration:.0f} s after {warmup:.0f} s warm-up: "
            f"{served[0]} requests served ({served[0] / elapsed:.1f}/s), {len(errors)} errors; "
            f"app RSS {baseline[0] / 1024:.0f} MiB after warm-up -> {end_rss / 1024:.0f} MiB "
            f"at the end (peak {peak / 1024:.0f} MiB, growth {growth:+.1%})"
        )
        assert errors == [], errors[:5]
        assert growth < 0.10
    finally:
        proc.terminate()
        proc.wait(30)
