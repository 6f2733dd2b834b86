"""Rendering for the web app: answers as chat Markdown, staff details, articles.

Pure functions of a reply (or the corpus) and the fixed wording; no Gradio here, so they
are easy to test on their own.
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
from ..settings import Settings

END_MARK = '<span class="sq-end"></span>'


# -- wording ---------------------------------------------------------------------------
@lru_cache(maxsize=1)
def load_ui_text() -> dict[str, Any]:
    """The fixed wording of the app (assistant/data/ui.yaml), whitespace-normalised."""
    data = load_yaml("ui.yaml")
    return {k: " ".join(v.split()) if isinstance(v, str) else v for k, v in data.items()}


# -- rendering an answer ---------------------------------------------------------------
@dataclass(frozen=True)
class Rendered:
    """An answer as the staff chat's Markdown: fixed HTML around the body."""

    head: str  # urgent / truncation notes, shown first
    body: str  # the answer text (Markdown)
    tail: str  # safety notes and the Sources block
    decline: bool  # the body is a decline, shown in its own callout

    def markdown(self, body: str | None = None) -> str:
        """The whole answer (``body=None``) or one with another body."""
        text = self.body if body is None else body
        if self.decline:
            text = f'<div class="sq-decline">{_html_text(text)}</div>'
        out = "\n\n".join(part for part in (self.head, text, self.tail) if part)
        if body is None and out.endswith("</div>"):
            # An empty marker inside the last block: the page holds it only once the whole
            # answer is shown, so a reader (or a test) can tell a finished answer.
            out = out.removesuffix("</div>") + END_MARK + "</div>"
        return out


def _html_text(text: str) -> str:
    """Escaped text on one line: a blank line would end the HTML block in Markdown and
    have the rest of the quote read as Markdown (e.g. "- item" as a list)."""
    return "<br>".join(html.escape(line) for line in text.splitlines())


def _callout(css_class: str, text: str) -> str:
    return f'<div class="{css_class}">{_html_text(text)}</div>'


def sources_html(citations: list[dict[str, Any]], heading: str) -> str:
    """The Sources block: every citation's article, section and verbatim passage.

    Kept on one line: the chat renders single newlines as line breaks.
    """
    items = [
        '<div class="sq-source">'
        f'<span class="sq-source-ref">[{int(c["n"])}]</span>'
        f"<strong>{html.escape(c['title'])}</strong>"
        f' <span class="sq-source-section">— {html.escape(c["section"])}</span>'
        f'<blockquote class="sq-quote">“{_html_text(c["text"])}”</blockquote>'
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
    """Everything about one answer except the retrieved chunks (shown as a table)."""
    safety = ", ".join(reply["safety"]) or "none"
    timings = ", ".join(f"{k} {v:.0f} ms" for k, v in reply["timings_ms"].items()) or "—"
    query = reply["query"].replace("`", "'")
    lines = [
        f"**Question:** {_md_escape(reply['question'])}",
        f"**Verdict:** {reply['outcome']} · **Reason:** {reply['reason']}"
        + (f" · **Lead:** [{reply['lead']}]" if reply.get("lead") else ""),
        f"**Retrieval query:** `{query}`",
        f"**Safety flags:** {safety}",
        f"**Declined:** {'yes' if reply['abstained'] else 'no'}"
        f" · **Generator:** {reply['generator']} · **Citations:** {len(reply['citations'])}",
        f"**Timings:** {timings}",
    ]
    if reply.get("gate"):  # the signals behind the verdict
        signals = [(k, v) for k, v in reply["gate"].items() if k not in ("outcome", "reason")]
        lines.append("**Signals:** " + ", ".join(f"{k} {_fmt(v)}" for k, v in signals))
    if reply["dropped"]:
        lines.append("**Dropped sentences (not supported by the sources):**")
        lines += [f"- {_md_escape(json.dumps(d, ensure_ascii=False))}" for d in reply["dropped"]]
    return "\n\n".join(lines)


def _fmt(value: Any) -> str:
    return f"{value:.3f}" if isinstance(value, float) else _md_escape(str(value))


def _md_escape(text: str) -> str:
    return html.escape(text).replace("*", r"\*").replace("_", r"\_")


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


def article_markdown(settings: Settings, doc: dict[str, Any]) -> str:
    """One corpus article as Markdown: its front matter as a header, then the text.
    Raises ``ValueError`` (shown to staff as is) for a file outside the corpus or unreadable."""
    corpus = settings.corpus_dir.resolve()
    path = (corpus / str(doc["file"])).resolve()
    if not path.is_relative_to(corpus):  # the manifest names files inside the corpus only
        raise ValueError("That article is not in the corpus folder.")
    try:
        text = path.read_text("utf-8")
    except OSError as exc:
        raise ValueError(f"Cannot read {doc['file']}: {exc.strerror}") from exc
    text = re.sub(r"\A---\n.*?\n---\n", "", text, count=1, flags=re.DOTALL)
    headings = re.findall(r"^(#{1,6})\s+(.+)$", text, flags=re.MULTILINE)
    outline = "\n".join(f"{'  ' * (len(h) - 2)}- {t.strip()}" for h, t in headings if len(h) >= 2)
    meta = " · ".join(
        str(v) for v in (doc.get("publisher"), doc.get("retrieved"), doc.get("file")) if v
    )
    parts = [f"# {doc['title']}", f"*{meta}*"]
    if outline:
        parts.append("**Sections**\n\n" + outline)
    parts += ["---", text.strip()]
    return "\n\n".join(parts)


def article_rows(documents: dict[str, dict[str, Any]]) -> list[list[Any]]:
    return [
        [d.get("title") or doc_id, d.get("publisher") or "—", d.get("chunks", 0),
         d.get("retrieved") or ""]
        for doc_id, d in sorted(documents.items())
    ]  # fmt: skip


def article_list_markdown(documents: dict[str, dict[str, Any]]) -> str:
    """The public list of articles: titles and publishers (the citations show them anyway)."""
    lines = []
    for doc_id, d in sorted(documents.items()):
        publisher = f" — {_md_escape(d['publisher'])}" if d.get("publisher") else ""
        lines.append(f"- **{_md_escape(d.get('title') or doc_id)}**{publisher}")
    return "\n".join(lines)
