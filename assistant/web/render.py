"""Rendering for the web app: answers, the client's own messages and the staff details.

Text is text: a client's message, an article passage, a title or a section name is
HTML-escaped into a one-line HTML block, so the chat's Markdown renderer never reads
Markdown or HTML in it (a blank line would end the block; ``_html_text`` leaves none).
Only the page's own structure (callouts, the list of quotes, labels) is HTML we write.
Pure functions of a reply and the fixed wording; no Gradio here, so they are easy to
test on their own. The articles themselves are rendered in ``articles.py``.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from ..data import load_yaml
from ..schema import Reply

END_MARK = '<span class="sq-end"></span>'
# A line of quotes in the body the engine writes: "- quote [n]", nested ones indented.
BULLET = re.compile(r"^( *)[-*] (.*)$")


# -- wording ---------------------------------------------------------------------------
@lru_cache(maxsize=1)
def load_ui_text() -> dict[str, Any]:
    """The fixed wording of the app (assistant/data/ui.yaml), whitespace-normalised."""
    data = load_yaml("ui.yaml")
    return {k: " ".join(v.split()) if isinstance(v, str) else v for k, v in data.items()}


# -- text as HTML ----------------------------------------------------------------------
def html_text(text: str) -> str:
    """Escaped text on one line: a blank line would end the HTML block in Markdown and
    have the rest read as Markdown (e.g. "- item" as a list)."""
    return "<br>".join(html.escape(line) for line in text.splitlines())


def _callout(css_class: str, text: str) -> str:
    return f'<div class="{css_class}">{html_text(text)}</div>'


def user_message(text: str) -> str:
    """A client's own message for the chat: shown exactly as typed, never as markup.

    >>> user_message("<b>hi</b> *there*")
    '<div class="sq-user-text">&lt;b&gt;hi&lt;/b&gt; *there*</div>'
    """
    return _callout("sq-user-text", text)


def body_html(body: str) -> str:
    """The answer body as one HTML block: its lines of quotes as list items (nested as
    the engine indents them), every other line a paragraph, all of their text escaped.

    >>> body_html("Lead:\\n- <i> [1]\\n  - b [1]")
    '<div class="sq-body"><p>Lead:</p><ul><li>&lt;i&gt; [1]<ul><li>b [1]</li></ul></li></ul></div>'
    """
    out: list[str] = []
    depth = 0  # open <ul> levels, each with an open <li>
    for line in body.splitlines():
        bullet = BULLET.match(line)
        if bullet is None:
            out += ["</li></ul>"] * depth
            depth = 0
            if line.strip():
                out.append(f"<p>{html.escape(line.strip())}</p>")
            continue
        level = min(len(bullet.group(1)) // 2 + 1, depth + 1)
        if level > depth:
            out.append("<ul>")
            depth = level
        else:
            while depth > level:
                out.append("</li></ul>")
                depth -= 1
            out.append("</li>")
        out.append(f"<li>{html.escape(bullet.group(2))}")
    out += ["</li></ul>"] * depth
    return f'<div class="sq-body">{"".join(out)}</div>'


# -- rendering an answer ---------------------------------------------------------------
@dataclass(frozen=True)
class Rendered:
    """An answer for the staff chat: fixed HTML around the body."""

    head: str  # urgent / truncation notes, shown first
    body: str  # the answer text as the engine wrote it
    tail: str  # safety notes and the Sources block
    decline: bool  # the body is a decline, shown in its own callout

    def markdown(self, body: str | None = None) -> str:
        """The whole answer (``body=None``) or one with another body."""
        text = self.body if body is None else body
        text = _callout("sq-decline", text) if self.decline else body_html(text)
        out = "\n\n".join(part for part in (self.head, text, self.tail) if part)
        if body is None and out.endswith("</div>"):
            # An empty marker inside the last block: the page holds it only once the whole
            # answer is shown, so a reader (or a test) can tell a finished answer.
            out = out.removesuffix("</div>") + END_MARK + "</div>"
        return out


def sources_html(citations: list[dict[str, Any]], heading: str) -> str:
    """The Sources block: every citation's article, section and verbatim passage.

    Kept on one line: the chat renders single newlines as line breaks.
    """
    items = [
        '<div class="sq-source">'
        f'<span class="sq-source-ref">[{int(c["n"])}]</span>'
        f"<strong>{html.escape(c['title'])}</strong>"
        f' <span class="sq-source-section">— {html.escape(c["section"])}</span>'
        f'<blockquote class="sq-quote">“{html_text(c["text"])}”</blockquote>'
        "</div>"
        for c in citations
    ]
    return (
        f'<div class="sq-sources"><div class="sq-sources-title">{html.escape(heading)}</div>'
        + "".join(items)
        + "</div>"
    )


def render_reply(reply: Reply, text: dict[str, Any]) -> Rendered:
    """The reply's body, its notes as callouts by kind, and the sources."""
    head, tail = [], []
    for note in reply.notes:
        if note.kind == "urgent":
            head.append(_callout("sq-urgent", note.text))
        elif note.kind == "safety":
            tail.append(_callout("sq-safety", note.text))
        else:  # e.g. "your question was long, so only its start was used"
            head.append(_callout("sq-info", note.text))
    if reply.citations:
        tail.append(sources_html([c.to_dict() for c in reply.citations], text["sources_heading"]))
    return Rendered(
        head="\n\n".join(head),
        body=reply.body.strip(),
        tail="\n\n".join(tail),
        decline=reply.abstained,
    )


# -- staff details ---------------------------------------------------------------------
def details_markdown(reply: dict[str, Any]) -> str:
    """Everything about one answer except the retrieved chunks (shown as a table), as
    one HTML block: the client's question and the dropped sentences are text."""
    safety = ", ".join(reply["safety"]) or "none"
    timings = ", ".join(f"{k} {v:.0f} ms" for k, v in reply["timings_ms"].items()) or "—"
    rows = [
        ("Question", reply["question"]),
        ("Verdict", reply["outcome"]),
        ("Reason", reply["reason"]),
        ("Lead", f"[{reply['lead']}]" if reply.get("lead") else "none"),
        ("Retrieval query", reply["query"]),
        ("Safety flags", safety),
        ("Declined", "yes" if reply["abstained"] else "no"),
        ("Generator", reply["generator"]),
        ("Citations", str(len(reply["citations"]))),
        ("Timings", timings),
    ]
    if reply.get("gate"):  # the signals behind the verdict
        signals = [(k, v) for k, v in reply["gate"].items() if k not in ("outcome", "reason")]
        rows.append(("Signals", ", ".join(f"{k} {_fmt(v)}" for k, v in signals)))
    parts = [f"<p><strong>{label}:</strong> {html_text(str(value))}</p>" for label, value in rows]
    if reply["dropped"]:
        items = "".join(
            f"<li>{html.escape(json.dumps(d, ensure_ascii=False))}</li>" for d in reply["dropped"]
        )
        parts.append(
            "<p><strong>Dropped sentences (not supported by the sources):</strong></p>"
            f"<ul>{items}</ul>"
        )
    return f'<div class="sq-details">{"".join(parts)}</div>'


def _fmt(value: Any) -> str:
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def retrieved_rows(reply: dict[str, Any]) -> list[list[Any]]:
    def blank(value: Any) -> Any:
        return "" if value is None else value

    return [
        [
            i + 1,
            h["doc_id"],
            h["section"],
            h["score"],
            blank(h["dense_rank"]),
            blank(h["keyword_rank"]),
            blank(h["dense_similarity"]),
            blank(h.get("evidence")),
            "✔" if h["cited"] else "",
        ]
        for i, h in enumerate(reply["retrieved"])
    ]


def search_rows(hits: list[Any]) -> list[list[Any]]:
    """The staff search's table: each ranked passage, its ranks and its text."""
    return [
        [
            i + 1,
            h.chunk.doc_id,
            h.chunk.section,
            round(h.score, 5),
            "" if h.dense_rank is None else h.dense_rank,
            "" if h.keyword_rank is None else h.keyword_rank,
            "" if h.dense_similarity is None else round(h.dense_similarity, 4),
            h.chunk.text,
        ]
        for i, h in enumerate(hits)
    ]
