"""The articles as the app shows them: the public list, the staff table and reader.

An article is corpus text: it is shown as text. The reader keeps an article's shape
(headings, paragraphs, list items, found by the same line rules the chunker uses) but
escapes all of its text, so markup written inside an article shows as written, and it
opens a file only as ingest would (a regular file inside the corpus folder).
"""

from __future__ import annotations

import html
import re
from typing import Any

from ..errors import CorpusFileError
from ..ingest.corpus import read_regular_file
from ..settings import Settings
from .render import BULLET

_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_FRONT_MATTER = re.compile(r"\A---\r?\n.*?\r?\n---\r?\n", re.DOTALL)


def article_list_markdown(documents: dict[str, dict[str, Any]]) -> str:
    """The public list of articles: titles and publishers (the citations show them
    anyway), as one HTML block of escaped text."""
    items = []
    for doc_id, d in sorted(documents.items()):
        title = html.escape(d.get("title") or doc_id)
        publisher = f" — {html.escape(d['publisher'])}" if d.get("publisher") else ""
        items.append(f"<li><strong>{title}</strong>{publisher}</li>")
    return f'<ul class="sq-articles">{"".join(items)}</ul>'


def article_rows(documents: dict[str, dict[str, Any]]) -> list[list[Any]]:
    return [
        [d.get("title") or doc_id, d.get("publisher") or "—", d.get("chunks", 0),
         d.get("retrieved") or ""]
        for doc_id, d in sorted(documents.items())
    ]  # fmt: skip


def corpus_text(settings: Settings, doc: dict[str, Any]) -> str:
    """An article's text from the corpus folder (embedded mode).

    Raises ``ValueError`` (shown to staff as is) for a file outside the corpus folder, a
    link, or a file that cannot be read.
    """
    corpus = settings.corpus_dir.resolve()
    name = str(doc["file"])
    path = corpus / name
    if "/" in name or "\\" in name or path.resolve().parent != corpus:
        raise ValueError("That article is not in the corpus folder.")
    try:
        return read_regular_file(path).decode("utf-8")
    except CorpusFileError as err:
        raise ValueError(f"Cannot show {name}: it {err.reason}.") from err
    except UnicodeDecodeError as err:
        raise ValueError(f"Cannot show {name}: it is not valid UTF-8.") from err


def article_markdown(doc: dict[str, Any], text: str) -> str:
    """One article for staff, as one HTML block: its metadata, an outline of its
    sections, then its ``text`` (the whole file, front matter included)."""
    text = _FRONT_MATTER.sub("", text.lstrip("\ufeff"), count=1)
    headings = [
        (len(m.group(1)), m.group(2))
        for m in map(_HEADING.match, text.splitlines())
        if m and len(m.group(1)) >= 2
    ]
    meta = " · ".join(
        str(v) for v in (doc.get("publisher"), doc.get("retrieved"), doc.get("file")) if v
    )
    parts = [f"<h1>{html.escape(str(doc['title']))}</h1>", f"<p><em>{html.escape(meta)}</em></p>"]
    if headings:
        outline = "".join(
            f'<li class="sq-outline-{level}">{html.escape(title)}</li>' for level, title in headings
        )
        parts.append(f"<p><strong>Sections</strong></p><ul>{outline}</ul>")
    parts += ["<hr>", article_body_html(text)]
    return f'<div class="sq-article">{"".join(parts)}</div>'


def article_body_html(text: str) -> str:
    """An article's text as HTML: heading lines as headings, runs of ``- `` items as a
    list, other lines as paragraphs (blank lines between them), all text escaped.

    >>> article_body_html("## Care\\nKeep <b>it</b>.\\n\\n- sun\\n- dirt")
    '<h2>Care</h2><p>Keep &lt;b&gt;it&lt;/b&gt;.</p><ul><li>sun</li><li>dirt</li></ul>'
    """
    out: list[str] = []
    items: list[str] = []
    paragraph: list[str] = []

    def flush() -> None:
        if items:
            out.append("<ul>" + "".join(f"<li>{item}</li>" for item in items) + "</ul>")
            items.clear()
        if paragraph:
            out.append("<p>" + "<br>".join(paragraph) + "</p>")
            paragraph.clear()

    for line in text.strip().splitlines():
        heading, bullet = _HEADING.match(line), BULLET.match(line)
        if not line.strip():
            flush()
        elif heading:
            flush()
            level = len(heading.group(1))
            out.append(f"<h{level}>{html.escape(heading.group(2))}</h{level}>")
        elif bullet:
            if paragraph:
                flush()
            items.append(html.escape(bullet.group(2).strip()))
        else:
            if items:
                flush()
            paragraph.append(html.escape(line.strip()))
    flush()
    return "".join(out)
