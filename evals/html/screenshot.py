"""``python -m evals.html.screenshot REPORT PNG``: the top of a report as a 1280 px wide PNG.

Drives Debian's Chromium through Playwright (never a downloaded browser) and fails if the
page asks the network for anything or is wider than the window.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from ..browser import chromium

WIDTH = 1280

# The right edge of the widest table, chart or answer: past the window means a scroll bar.
WIDEST_JS = """Math.ceil(Math.max(...[...document.querySelectorAll('table, svg, .answer')]
  .map(e => e.getBoundingClientRect().right)))"""


def capture(report: Path, png: Path | None = None, height: int = 900) -> dict[str, Any]:
    """Open the report; return its scroll width and any non-file requests; save the top."""
    requests: list[str] = []
    with chromium() as browser:
        page = browser.new_page(viewport={"width": WIDTH, "height": height})
        page.on("request", lambda r: requests.append(r.url))
        page.goto(report.resolve().as_uri())
        page.wait_for_load_state("load")
        if png is not None:
            png.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(png))
        # Every case unfolded, so the tables inside them are laid out too.
        page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
        width = page.evaluate("document.documentElement.scrollWidth")
        widest = page.evaluate(WIDEST_JS)
    return {
        "scroll_width": width,
        "widest_element_right": widest,
        "external_requests": [u for u in requests if not u.startswith(("file:", "data:"))],
    }


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__.splitlines()[0], file=sys.stderr)
        return 2
    facts = capture(Path(argv[0]), Path(argv[1]))
    print(facts)
    ok = (
        facts["scroll_width"] <= WIDTH
        and facts["widest_element_right"] <= WIDTH
        and not facts["external_requests"]
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
