"""``python -m evals.bench_sessions``: the app's memory under many Gradio ``/ask`` calls.

Starts ``app.py`` in a subprocess on the index of ``SKINQA_DATA_DIR`` (``make index``
builds it), makes ``--calls`` calls of Gradio's ``/ask`` as plain HTTP clients do (each
call is a new Gradio session) from ``--clients`` threads, and prints the server's RSS
after a warm-up, after the calls, and after ``--idle`` seconds without traffic. Issue 19
measured 372 -> 717 MiB over 3,000 such calls before sessions were bounded.
"""

from __future__ import annotations

import argparse
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from .bench.context import running_app, wait_http_ok
from .bench.load import call_gradio
from .bench.machine import free_port, proc_status, subprocess_env

QUESTION = "Does it hurt?"


def _calls(url: str, n: int) -> list[str]:
    import httpx

    errors = []
    with httpx.Client(timeout=120) as client:
        for _ in range(n):
            error = call_gradio(client, url, QUESTION, [])
            if error:
                errors.append(error)
    return errors


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.bench_sessions")
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--clients", type=int, default=6)
    parser.add_argument("--idle", type=float, default=60.0)
    parser.add_argument("--step", type=int, default=1000, help="RSS sampled every STEP calls")
    args = parser.parse_args(argv)

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    # The rate limit would refuse most calls from one address; it is not what is measured.
    env = subprocess_env(SKINQA_RATE_LIMIT_PER_MINUTE="10000000")
    with running_app(env, port) as proc:
        wait_http_ok(url, proc)
        started = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        errors = _calls(url, args.warmup)
        warm = proc_status("VmRSS", proc.pid)
        samples = []
        clock = time.perf_counter()
        done = 0
        while done < args.calls:
            step = min(args.step, args.calls - done)
            per_client = [step // args.clients] * args.clients
            per_client[0] += step - sum(per_client)
            with ThreadPoolExecutor(args.clients) as pool:
                for part in pool.map(lambda n: _calls(url, n), per_client):
                    errors += part
            done += step
            samples.append(f"{done}: {proc_status('VmRSS', proc.pid):.0f}")
        seconds = time.perf_counter() - clock
        after = proc_status("VmRSS", proc.pid)
        peak = proc_status("VmHWM", proc.pid)
        time.sleep(args.idle)
        idle = proc_status("VmRSS", proc.pid)
    print(f"bench_sessions {started}: {args.calls} Gradio /ask calls ({args.clients} clients, "
          f"{args.warmup} warm-up) in {seconds:.0f} s, {len(errors)} errors")  # fmt: skip
    print(
        f"app RSS after warm-up {warm:.0f} MiB -> after the calls {after:.0f} MiB "
        f"({after - warm:+.0f} MiB, {(after - warm) * 1024 / max(args.calls, 1):.1f} KiB/call), "
        f"peak {peak:.0f} MiB, after {args.idle:.0f} s idle {idle:.0f} MiB"
    )
    print(f"app RSS (MiB) after each {args.step} calls: {', '.join(samples)}")
    for error in errors[:5]:
        print(f"error: {error}")
    return 1 if errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
