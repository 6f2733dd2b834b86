"""One reply as the client chat shows it: an answer card of escaped HTML.

Rendered from the reply's fields (``Reply.to_dict()``), answer first:

* urgent and info notes, then the answer: the lead passage as a prominent paragraph, the
  supporting quotes as a short list (``body`` holds each quote once, with its ``[n]``);
* every ``[n]`` is a chip (a button) that opens its passage in place (``passages.py``);
* the safety, conflict and LLM notes; the "more from the articles" quotes folded;
* the clinic's contact route on a decline, an urgent note, a booking or price request;
* thumbs up/down with the comment form, and the suggested next questions.

All text from the articles, the client or the wording files is escaped here; Markdown
inside a quote (``*huge*``, a leading ``- ``) is rendered as emphasis or dropped, never
shown raw. Pure functions, no Gradio.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .clinic import Clinic
from .passages import Passage

MARKERS = re.compile(r"\s*((?:\[\d+(?:\s*,\s*\d+)*\])+)")
_NUMBER = re.compile(r"\d+")
_BULLET = re.compile(r"^\s*[-*•]\s+")
_STRONG = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*")
_EM = re.compile(r"(?<![\w*])\*(?=\S)([^*]+?)(?<=\S)\*(?![\w*])")
HEAD_NOTES = ("urgent", "info")


@dataclass(frozen=True)
class CardParts:
    """Everything besides the reply that goes on its card."""

    answer_id: str
    passages: Sequence[Passage]
    suggestions: Sequence[str]
    contact: str | None  # why the contact route shows: decline, urgent, booking, price
    clinic: Clinic


def inline(text: str) -> str:
    """A passage as inline HTML: escaped, ``**x**``/``*x*`` as emphasis, list markers and
    line breaks dropped.

    >>> inline("As a *huge* fan <3\\n- of it")
    'As a <em>huge</em> fan &lt;3 of it'
    """
    lines = [_BULLET.sub("", line).strip() for line in text.splitlines()]
    out = html.escape(" ".join(line for line in lines if line), quote=False)
    out = _STRONG.sub(r"<strong>\1</strong>", out)
    return _EM.sub(r"<em>\1</em>", out)


def plain(text: str) -> str:
    """A body line as plain text for a screen reader's announcement: no markers."""
    text = MARKERS.sub("", text)
    return " ".join(_BULLET.sub("", line).replace("*", "") for line in text.splitlines()).strip()


def _chip(answer_id: str, n: int, title: str, label: str) -> str:
    name = html.escape(label.format(n=n, title=title))
    return (
        f'<button type="button" class="sq-chip" data-n="{n}" aria-expanded="false" '
        f'aria-controls="{answer_id}-p{n}" aria-label="{name}">{n}</button>'
    )


def with_chips(text: str, parts: CardParts, t: dict[str, Any]) -> str:
    """A body line with its ``[n]`` markers as chips; a marker with no passage stays text."""
    titles = {p.n: p.title for p in parts.passages}
    out, last = [], 0
    for match in MARKERS.finditer(text):
        out.append(inline(text[last : match.start()]))
        chips = [
            _chip(parts.answer_id, int(n), titles[int(n)], t["chip_label"])
            if int(n) in titles
            else html.escape(f"[{n}]")
            for n in _NUMBER.findall(match.group(1))
        ]
        out.append(f'&nbsp;<span class="sq-chips">{"".join(chips)}</span>')
        last = match.end()
    rest = text[last:]
    if rest.strip():
        out.append((" " if rest[:1].isspace() else "") + inline(rest))
    return "".join(out)


def body_html(reply: dict[str, Any], parts: CardParts, t: dict[str, Any]) -> str:
    """The body's paragraphs and quote bullets; the first paragraph of an answer with a
    lead passage is the lead."""
    blocks: list[str] = []
    bullets: list[str] = []
    lead_done = reply.get("outcome") != "answer" or reply.get("lead") is None

    def flush() -> None:
        if bullets:
            blocks.append(f'<ul class="sq-support">{"".join(bullets)}</ul>')
            bullets.clear()

    for line in (reply.get("body") or "").splitlines():
        if not line.strip():
            continue
        if _BULLET.match(line):
            bullets.append(f"<li>{with_chips(_BULLET.sub('', line), parts, t)}</li>")
            continue
        flush()
        css = "sq-text" if lead_done else "sq-lead"
        lead_done = True
        blocks.append(f'<p class="{css}">{with_chips(line, parts, t)}</p>')
    flush()
    return "".join(blocks)


def _note(kind: str, text: str, extra: str = "") -> str:
    return f'<div class="sq-note sq-note-{kind}">{inline(text)}{extra}</div>'


def passage_html(p: Passage, answer_id: str, t: dict[str, Any]) -> str:
    before = f'<span class="sq-ctx">{inline(p.before)}</span> ' if p.before else ""
    after = f' <span class="sq-ctx">{inline(p.after)}</span>' if p.after else ""
    section = f'<span class="sq-passage-section">{html.escape(p.section)}</span>'
    return (
        f'<div class="sq-passage" id="{answer_id}-p{p.n}" data-n="{p.n}" hidden>'
        f'<div class="sq-passage-head"><span class="sq-passage-n" aria-hidden="true">{p.n}</span>'
        f'<div class="sq-passage-where"><strong>{html.escape(p.title)}</strong>{section}</div>'
        f'<button type="button" class="sq-passage-close" aria-label="'
        f'{html.escape(t["passage_close"].format(n=p.n))}">×</button></div>'
        f'<blockquote class="sq-passage-text">{before}<mark>{inline(p.quote)}</mark>{after}'
        "</blockquote>"
        f'<a class="sq-passage-link" href="{html.escape(p.href)}" target="_blank" '
        f'rel="noopener">{html.escape(t["passage_read"])}</a></div>'
    )


def more_html(parts: CardParts, t: dict[str, Any]) -> str:
    """The "more from the articles" quotes, folded: not in the body, each shown once."""
    more = [p for p in parts.passages if p.role == "more"]
    if not more:
        return ""
    items = "".join(
        f'<li>{inline(p.quote)}&nbsp;<span class="sq-chips">'
        f"{_chip(parts.answer_id, p.n, p.title, t['chip_label'])}</span></li>"
        for p in more
    )
    summary = html.escape(t["more_summary"].format(count=len(more)))
    return f'<details class="sq-more"><summary>{summary}</summary><ul>{items}</ul></details>'


def contact_html(reason: str, clinic: Clinic, t: dict[str, Any]) -> str:
    """The clinic's phone, e-mail and booking link, with a line saying why they show."""
    esc = html.escape
    intro = t[f"contact_{reason}"].format(clinic=clinic.name)
    hours = " · ".join(clinic.hours)
    sample = f' <span class="sq-sample">{esc(t["clinic_sample"])}</span>' if clinic.sample else ""
    return (
        f'<div class="sq-contact" role="group" aria-label="{esc(t["contact_group"])}">'
        f'<p class="sq-contact-intro">{esc(intro)}{sample}</p><div class="sq-contact-actions">'
        f'<a class="sq-action sq-action-primary" href="{esc(clinic.phone_href)}">'
        f"{esc(t['contact_call'].format(phone=clinic.phone))}</a>"
        f'<a class="sq-action" href="{esc(clinic.booking_url)}" target="_blank" rel="noopener">'
        f"{esc(t['contact_book'])}</a>"
        f'<a class="sq-action" href="{esc(clinic.email_href)}">{esc(t["contact_email"])}</a>'
        f"</div>"
        + (f'<p class="sq-hours">{esc(t["contact_hours"])} {esc(hours)}</p>' if hours else "")
        + "</div>"
    )


def feedback_html(answer_id: str, t: dict[str, Any]) -> str:
    esc = html.escape
    return (
        f'<div class="sq-feedback" data-id="{answer_id}">'
        '<div class="sq-feedback-row">'
        f'<span class="sq-feedback-q">{esc(t["feedback_question"])}</span>'
        f'<button type="button" class="sq-vote" data-vote="up" aria-pressed="false" '
        f'aria-label="{esc(t["vote_up"])}"><svg aria-hidden="true" viewBox="0 0 24 24">'
        '<path d="M7 11v9H4v-9h3zm3 9h7.3a2 2 0 0 0 2-1.6l1.3-6A2 2 0 0 0 18.6 10H14V6a2 2 '
        '0 0 0-2-2l-3 7v9z"/></svg></button>'
        f'<button type="button" class="sq-vote" data-vote="down" aria-pressed="false" '
        f'aria-label="{esc(t["vote_down"])}"><svg aria-hidden="true" viewBox="0 0 24 24">'
        '<path d="M17 13V4h3v9h-3zm-3-9H6.7a2 2 0 0 0-2 1.6l-1.3 6A2 2 0 0 0 5.4 14H10v4a2 2 '
        '0 0 0 2 2l3-7V4z"/></svg></button></div>'
        f'<form class="sq-comment" hidden><label for="{answer_id}-comment">'
        f"{esc(t['feedback_comment_label'])}</label>"
        f'<textarea id="{answer_id}-comment" rows="2" maxlength="2000" placeholder="'
        f'{esc(t["feedback_comment_placeholder"])}"></textarea><div class="sq-comment-actions">'
        f'<button type="submit" class="sq-action sq-action-primary">'
        f"{esc(t['feedback_comment_send'])}</button>"
        f'<button type="button" class="sq-action" data-action="skip">'
        f"{esc(t['feedback_comment_skip'])}</button></div></form>"
        '<p class="sq-feedback-status" role="status"></p></div>'
    )


def suggestions_html(answer_id: str, questions: Sequence[str], t: dict[str, Any]) -> str:
    if not questions:
        return ""
    items = "".join(
        f'<li><button type="button" class="sq-ask">{html.escape(q)}</button></li>'
        for q in questions
    )
    return (
        f'<div class="sq-suggest"><p class="sq-suggest-label" id="{answer_id}-next">'
        f"{html.escape(t['suggest_label'])}</p>"
        f'<ul aria-labelledby="{answer_id}-next">{items}</ul></div>'
    )


def card_html(reply: dict[str, Any], parts: CardParts, t: dict[str, Any]) -> str:
    """The whole answer card (one line of HTML)."""
    notes = reply.get("notes") or []
    head = [_note(n["kind"], n["text"]) for n in notes if n["kind"] in HEAD_NOTES]
    related = [n for n in notes if n["kind"] == "related"]
    tail = [_note(n["kind"], n["text"]) for n in notes if n["kind"] not in (*HEAD_NOTES, "related")]
    body = body_html(reply, parts, t)
    if related:
        body = f'<p class="sq-intro">{inline(related[0]["text"])}</p>{body}'
    if reply.get("outcome") == "declined":
        body = f'<div class="sq-decline">{body}</div>'
    contact = contact_html(parts.contact, parts.clinic, t) if parts.contact else ""
    # A booking request or an urgent note: the clinic first; otherwise after the answer.
    # A health question's caution comes before any booking box ("pregnant: can I keep my
    # appointment and book another?").
    first = parts.contact == "urgent" or (
        parts.contact == "booking" and reply.get("reason") != "caution"
    )
    passages = "".join(passage_html(p, parts.answer_id, t) for p in parts.passages)
    sections = [
        *head,
        contact if first else "",
        f'<div class="sq-body">{body}</div>',
        *tail,
        more_html(parts, t),
        "" if first else contact,
        f'<div class="sq-passages">{passages}</div>' if passages else "",
        "" if reply.get("outcome") == "small_talk" else feedback_html(parts.answer_id, t),
        suggestions_html(parts.answer_id, parts.suggestions, t),
    ]
    outcome = html.escape(str(reply.get("outcome", "")))
    return (
        f'<article class="sq-answer" id="{parts.answer_id}" data-outcome="{outcome}" '
        f'tabindex="-1" aria-label="{html.escape(t["answer_label"])}">'
        + "".join(s for s in sections if s)
        + "</article>"
    )


def announcement(reply: dict[str, Any], t: dict[str, Any]) -> str:
    """What the live region says once the answer is shown: its first paragraph."""
    first = next((ln for ln in (reply.get("body") or "").splitlines() if ln.strip()), "")
    text = plain(first)
    if len(text) > 300:
        text = text[:297].rsplit(" ", 1)[0] + "…"
    return t["announce"].format(text=text)
