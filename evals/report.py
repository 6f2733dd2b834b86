"""Write summary.json, results.jsonl and a self-contained report.html."""

from __future__ import annotations

import base64
import html
import io
import json
from pathlib import Path
from typing import Any

from .metrics import HIGHER_IS_BETTER

# Every gated quality metric, in the order the tables show them.
SHOWN = (*HIGHER_IS_BETTER[:-1], "false_refusals", HIGHER_IS_BETTER[-1])


def _png(fig: Any) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def charts(categories: dict[str, dict[str, float]], latencies: list[float]) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    metrics = (
        "hit@5",
        "mrr",
        "fact_recall",
        "citation_precision",
        "citation_support",
        "abstention_accuracy",
        "safety_recall",
    )
    fig, ax = plt.subplots(figsize=(10, 4))
    width = 0.8 / max(1, len(metrics))
    for i, metric in enumerate(metrics):
        xs = [j + i * width for j in range(len(categories))]
        ax.bar(xs, [categories[c].get(metric) or 0.0 for c in categories], width, label=metric)
    ax.set_xticks([j + 0.4 - width / 2 for j in range(len(categories))], list(categories))
    ax.set_ylim(0, 1.05)
    ax.set_title("Metrics by category")
    ax.legend(fontsize=8, ncol=3, loc="lower right")
    bars = _png(fig)
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(6, 3))
    ax.hist(latencies, bins=30, color="#4a7")
    ax.set_xlabel("ask latency (ms)")
    ax.set_ylabel("cases")
    ax.set_title("Latency")
    hist = _png(fig)
    plt.close(fig)
    return [bars, hist]


def _fmt(value: float | None) -> str:
    return "–" if value is None else f"{value:.3g}"


def _table(rows: dict[str, dict[str, float]]) -> str:
    head = "".join(f"<th>{html.escape(m)}</th>" for m in ("", "cases", *SHOWN))
    body = "".join(
        "<tr><td>"
        + html.escape(name)
        + "</td>"
        + "".join(f"<td>{_fmt(vals.get(m))}</td>" for m in ("cases", *SHOWN))
        + "</tr>"
        for name, vals in rows.items()
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def _failure(result: dict[str, Any]) -> str:
    case, reply = result["case"], result["reply"]
    cites = "".join(
        f"<li>[{c['n']}] <b>{html.escape(c['title'])}</b> — {html.escape(c['section'])}"
        f"<blockquote>{html.escape(c['text'])}</blockquote></li>"
        for c in reply["citations"]
    )
    reasons = "".join(f"<li>{html.escape(r)}</li>" for r in result["reasons"])
    return (
        f"<details><summary><code>{html.escape(case['id'])}</code> "
        f"({html.escape(case['category'])}): {html.escape(case['question'][:120])}</summary>"
        f"<ul class=reasons>{reasons}</ul><p><b>Query:</b> {html.escape(reply['query'])}</p>"
        f"<pre>{html.escape(reply['answer'])}</pre><ol>{cites}</ol></details>"
    )


def write(
    out: Path,
    summary: dict[str, float],
    categories: dict[str, dict[str, float]],
    results: list[dict[str, Any]],
    failures: list[str],
) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "summary.json").write_text(
        json.dumps(
            {"overall": summary, "categories": categories, "gate_failures": failures}, indent=2
        ),
        "utf-8",
    )
    with (out / "results.jsonl").open("w", encoding="utf-8") as handle:
        for r in results:
            handle.write(json.dumps(r, ensure_ascii=False) + "\n")
    images = "".join(
        f'<img src="data:image/png;base64,{png}">'
        for png in charts(categories, [r["latency_ms"] for r in results])
    )
    gate = (
        "<p class=ok>Gate passed.</p>"
        if not failures
        else "<ul class=bad>" + "".join(f"<li>{html.escape(f)}</li>" for f in failures) + "</ul>"
    )
    failing = [r for r in results if not r["passed"]]
    page = f"""<!doctype html><html><head><meta charset="utf-8"><title>Eval report</title>
<style>body{{font-family:system-ui,sans-serif;margin:2em;max-width:1200px}}
table{{border-collapse:collapse;font-size:13px}}td,th{{border:1px solid #ccc;padding:3px 6px}}
.ok{{color:#070}}.bad{{color:#b00}}pre{{white-space:pre-wrap;background:#f6f6f6;padding:8px}}
blockquote{{margin:4px 0 8px 16px;color:#444}}img{{max-width:100%;margin:8px 0}}</style>
</head><body><h1>Eval report</h1>{gate}
<h2>Headline</h2>{_table({"all": summary})}
<p>Latency p50 {summary["latency_p50_ms"]} ms, p95 {summary["latency_p95_ms"]} ms;
{int(summary["passed"])} of {int(summary["cases"])} cases passed.</p>
<h2>By category</h2>{_table(categories)}{images}
<h2>Failing cases ({len(failing)})</h2>{"".join(_failure(r) for r in failing)}
</body></html>"""
    (out / "report.html").write_text(page, "utf-8")
