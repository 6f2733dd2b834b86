"""Model text is text: no HTML, no entities, no links the sources do not hold.

The answer is shown as Markdown in a chat, returned as JSON by the API and printed by
the CLI; any of them may end up in a browser. So before a sentence is verified, every
HTML tag goes (``<script>``, ``<style>`` and ``<iframe>`` with what they hold), every
entity is decoded and what it decoded to is cleaned again, and a stray ``<`` that could
open a tag is dropped. Links are judged per sentence: a URL, a bare domain
("evil.example") or an e-mail address is kept only when a cited source holds it word
for word.

>>> clean("It helps.<script>alert(1)</script> &lt;b&gt;Really&lt;/b&gt; [1]")
Cleaned(text='It helps. Really [1]', tags=('b', 'script'))
>>> links("Book at evil.example or mail me@evil.example [1].")
['me@evil.example', 'evil.example']
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

_THINK = re.compile(r"<think>.*?(?:</think>|$)", re.DOTALL | re.IGNORECASE)  # a scratchpad
# Elements whose content is code, never text; an unclosed one hides the rest.
_CODE = re.compile(
    r"<(script|style|iframe|object|embed|svg|math|template)\b.*?(?:</\1\s*>|$)",
    re.DOTALL | re.IGNORECASE,
)
_TAG = re.compile(r"</?([A-Za-z][\w:-]*)\b[^>]*(?:>|$)|<!--.*?(?:-->|$)|<![^>]*(?:>|$)", re.DOTALL)
_TAG_START = re.compile(r"<(?=[A-Za-z/!?])")  # what is left of a tag that never closed
_ENTITY = re.compile(r"&(?:#\d+|#x[0-9a-f]+|[a-z][a-z0-9]*);", re.IGNORECASE)  # undecodable
_SPACES = re.compile(r"[ \t]{2,}")

_URL = re.compile(r"(?:https?|ftp)://[^\s)\]>\"']+|www\.[^\s)\]>\"']+", re.IGNORECASE)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# A bare domain: labels and a top-level domain of letters ("evil.example", "Realself.com"),
# not "e.g." (one letter) nor "0.5mm" (digits).
_DOMAIN = re.compile(
    r"(?<![\w@./-])(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,24}(?:/[^\s)\]]*)?(?![\w@-])",
    re.IGNORECASE,
)
_MD_LINK = re.compile(r"!?\[[^\]]*\]\([^)]*\)")  # [text](target), ![alt](src)


@dataclass(frozen=True)
class Cleaned:
    text: str
    tags: tuple[str, ...]  # names of the tags removed (for staff)


def clean(text: str) -> Cleaned:
    """``text`` without reasoning blocks, tags and entities; see the module docstring."""
    tags: set[str] = set()
    text = _THINK.sub("", text)
    for _ in range(3):  # "&amp;lt;script&amp;gt;" decodes twice before it is a tag
        before = text
        text = _CODE.sub(lambda m: tags.add(m.group(1).lower()) or " ", text)
        text = _TAG.sub(lambda m: tags.add((m.group(1) or "comment").lower()) or " ", text)
        text = html.unescape(text)
        if text == before:
            break
    text = _CODE.sub(" ", text)
    text = _TAG.sub(" ", text)
    text = _TAG_START.sub("", _ENTITY.sub(" ", text))
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return Cleaned("\n".join(lines), tuple(sorted(tags)))


def links(text: str) -> list[str]:
    """The URLs, Markdown links, e-mail addresses and bare domains in a sentence."""
    found = _MD_LINK.findall(text) + _URL.findall(text)
    rest = _URL.sub(" ", _MD_LINK.sub(" ", text))
    found += _EMAIL.findall(rest)
    found += _DOMAIN.findall(_EMAIL.sub(" ", rest))
    return found
