"""``GET /articles/{doc_id}?start=&end=``: one article, with a cited passage highlighted.

A ``[n]`` chip's passage links here. The article is read from the corpus folder as
ingest read it (``read_document``), so the citation's file offsets mark the exact span;
its Markdown headings and list items become HTML, and every character of text is
escaped. A plain page with its own small stylesheet: no Gradio, nothing fetched.
"""

from __future__ import annotations

import html
import re
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse
from starlette.routing import BaseRoute

from ..answer.pipeline import Assistant
from ..errors import AssistantError
from ..ingest.corpus import parse_document, read_document
from .card import inline
from .passages import ARTICLE_PATH

_HEADING = re.compile(r"^(#{1,6})\s+")
_ITEM = re.compile(r"^( *)[-*]\s+")
STYLE = """
body{margin:0;font:17px/1.6 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1e293b;
background:#f8fafc}main{max-width:46rem;margin:0 auto;padding:1rem 1.25rem 4rem}
a{color:#0f766e}a:focus-visible{outline:3px solid #0f766e;outline-offset:2px}
.back{display:inline-block;padding:.6rem 0;min-height:44px}h1{font-size:1.6rem;line-height:1.25}
h2{font-size:1.25rem;margin-top:2rem}h3{font-size:1.08rem}.meta{color:#475569}
mark{background:#fde68a;color:inherit;padding:.1em 0;box-shadow:0 0 0 2px #fde68a}
ul{padding-left:1.4rem}li.l1{margin-left:1.4rem}
"""


def _segment(text: str, start: int, end: int, mark: tuple[int, int], first: list[bool]) -> str:
    """``text[start:end]`` escaped, with its overlap with ``mark`` in ``<mark>``."""
    a, b = max(start, mark[0]), min(end, mark[1])
    if a >= b:
        return inline(text[start:end])
    tag = '<mark id="passage">' if first[0] else "<mark>"
    first[0] = False
    pieces = [inline(text[start:a]), f"{tag}{inline(text[a:b])}</mark>", inline(text[b:end])]
    return " ".join(p for p in pieces if p)


def article_html(text: str, body_start: int, mark: tuple[int, int]) -> str:
    """The article body as HTML blocks; ``mark`` is the ``[start, end)`` to highlight."""
    out: list[str] = []
    in_list = False
    first = [True]
    offset = body_start
    for line in text[body_start:].splitlines(keepends=True):
        start, end = offset, offset + len(line.rstrip("\r\n"))
        offset += len(line)
        content = text[start:end]
        heading, item = _HEADING.match(content), _ITEM.match(content)
        if in_list and not item:
            out.append("</ul>")
            in_list = False
        if not content.strip():
            continue
        if heading:
            level = {1: 2, 2: 2, 3: 3}.get(len(heading.group(1)), 4)  # the page's h1 is the title
            body = _segment(text, start + heading.end(), end, mark, first)
            out.append(f"<h{level}>{body}</h{level}>")
        elif item:
            if not in_list:
                out.append("<ul>")
                in_list = True
            depth = min(len(item.group(1)) // 2, 1)
            body = _segment(text, start + item.end(), end, mark, first)
            out.append(f'<li class="l{depth}">{body}</li>')
        else:
            out.append(f"<p>{_segment(text, start, end, mark, first)}</p>")
    if in_list:
        out.append("</ul>")
    return "\n".join(out)


def page(title: str, meta: str, body: str, back: str) -> str:
    esc = html.escape
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)}</title><style>{STYLE}</style></head><body><main>"
        f'<a class="back" href="../">{esc(back)}</a><h1>{esc(title)}</h1>'
        + (f'<p class="meta">{esc(meta)}</p>' if meta else "")
        + f"{body}</main></body></html>"
    )


def article_routes(bot: Assistant, text: dict[str, Any]) -> list[BaseRoute]:
    router = APIRouter()

    @router.get(ARTICLE_PATH + "/{doc_id}", include_in_schema=False)
    def article(doc_id: str, start: int = -1, end: int = -1) -> HTMLResponse:
        index = bot.index
        doc = index.documents().get(doc_id)
        corpus = bot.settings.corpus_dir.resolve()
        path = (corpus / str(doc["file"])).resolve() if doc else None
        missing = page(text["article_not_found"], "", "", text["article_back"])
        # The manifest names files inside the corpus only; refuse anything else.
        if path is None or not path.is_relative_to(corpus):
            return HTMLResponse(missing, status_code=404)
        try:
            # On a Chroma server the build's own copy (a replica has no corpus folder).
            stored = index.article_text(doc_id)
            document = (
                read_document(path)
                if stored is None
                else parse_document(path, stored.encode("utf-8"))
            )
        except AssistantError:  # a damaged file, a changed stored text, a server down
            return HTMLResponse(missing, status_code=404)
        body = article_html(document.text, document.body_start, (start, end))
        meta = " · ".join(filter(None, (document.publisher, document.retrieved)))
        headers = {"Cache-Control": "no-cache"}
        return HTMLResponse(page(document.title, meta, body, text["article_back"]), headers=headers)

    return list(router.routes)
