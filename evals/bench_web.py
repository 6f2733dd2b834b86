"""``python -m evals.bench_web``: the client page as a browser sees it (figures only).

Starts the real app on a free localhost port with the index in ``data/`` and drives
Debian's Chromium (Playwright, ``/usr/bin/chromium``) on it:

* **first load**, cold cache: requests, bytes transferred (bodies as sent, headers
  included) and the time until the chat is ready;
* **send → answer fully visible**, for every question the page offers (examples and
  suggested questions), asked one after the other in one conversation: from the Enter
  key to the first painted frame in which the new answer card is in the DOM and its top
  is in view. Desktop 1280×900 and phone 390×844; p50, p90 and max.

Target (issue 15): p50 ≤ 300 ms in extractive mode.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .bench.machine import free_port
from .browser import VIEWPORTS, chromium

ROOT = Path(__file__).resolve().parent.parent
# Set on the Enter key; resolved on the first frame painted with the new answer in view.
MEASURE_JS = """(question) => new Promise((resolve) => {
  const input = document.querySelector('#sq-input');
  const count = document.querySelectorAll('.sq-answer').length;
  input.value = question;
  const start = performance.now();
  input.dispatchEvent(new KeyboardEvent('keydown', {key: 'Enter', bubbles: true}));
  const check = () => {
    const cards = document.querySelectorAll('.sq-answer');
    if (cards.length > count) {
      const top = cards[cards.length - 1].getBoundingClientRect().top;
      if (top >= 0 && top < window.innerHeight) {
        requestAnimationFrame(() => resolve(performance.now() - start));
        return;
      }
    }
    requestAnimationFrame(check);
  };
  requestAnimationFrame(check);
})"""


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _size(request: Any) -> int:
    sizes = request.sizes()
    return int(sizes["responseBodySize"] + sizes["responseHeadersSize"])


def _commit() -> str:
    result = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    )
    return result.stdout.strip() or "unknown"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.bench_web")
    parser.add_argument("--rounds", type=int, default=1, help="passes over the questions")
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    import assistant
    from assistant.settings import Settings
    from assistant.web.app import launch
    from assistant.web.render import load_ui_text
    from assistant.web.suggest import Suggester

    settings = Settings()
    settings = settings.model_copy(update={"rate_limit_per_minute": 10_000})
    bot = assistant.load(settings)
    questions = [*load_ui_text()["examples"], *Suggester.from_package().questions()]
    served, url = launch(bot, settings, "127.0.0.1", free_port())
    print(f"# Client page benchmark, {datetime.now(UTC):%Y-%m-%d}, commit {_commit()}")
    print(f"generator: {settings.generator}; {len(questions)} questions × {args.rounds} round(s)")
    try:
        with chromium() as browser:
            for device, options in VIEWPORTS.items():
                size = options["viewport"]
                name = f"{device} {size['width']}×{size['height']}"
                context = browser.new_context(**options)
                page = context.new_page()
                sizes: list[int] = []
                finished: list[Any] = []
                page.on("requestfinished", lambda r, sizes=sizes: sizes.append(_size(r)))
                page.on("requestfinished", lambda r, finished=finished: finished.append(r))
                page.goto(url)
                page.wait_for_selector(".sq-app[data-ready='1']", state="attached")
                page.wait_for_load_state("networkidle")
                ready = page.evaluate("performance.now()")
                decoded = sum(len(r.response().body()) for r in finished if r.response())
                print(
                    f"\n## {name}\nfirst load: {len(sizes)} requests, "
                    f"{sum(sizes) / 1024:.0f} KiB transferred ({decoded / 1024:.0f} KiB "
                    f"uncompressed), chat ready at {ready:.0f} ms"
                )
                page.evaluate(MEASURE_JS, "hello")  # warm-up, not counted
                times = [
                    float(page.evaluate(MEASURE_JS, q))
                    for _ in range(args.rounds)
                    for q in questions
                ]
                print(
                    f"send → answer visible: p50 {statistics.median(times):.0f} ms, "
                    f"p90 {_percentile(times, 0.9):.0f} ms, max {max(times):.0f} ms "
                    f"(n={len(times)})"
                )
                context.close()
    finally:
        served.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
