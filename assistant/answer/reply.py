"""Building the reply the verdict calls for, from the quotes the respond stage picked.

An answer leads with its unit, then the support, the cautions and "more" (cited, not in
the body); a related reply says plainly that the articles do not answer directly; a
decline quotes nothing; small talk gets its fixed wording. ``answer`` is the whole text
as Markdown for API and CLI users; a UI renders ``body``, ``notes`` and ``citations``.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..schema import Hit, Note, Outcome, Query, Reason, Reply, Role, Verdict
from ..tuning import Tuning
from . import cite, compose
from .safety import SafetyTopic


def add_notes(body: str, notes: list[Note]) -> str:
    """The answer as text: the urgent note first (bold), framing notes, the body, then
    the other notes as quotes.

    >>> add_notes("Body.", [Note("safety", "See a doctor."), Note("urgent", "Call now.")])
    '**Call now.**\\n\\nBody.\\n\\n> See a doctor.'
    """
    urgent = [f"**{n.text}**" for n in notes if n.kind == "urgent"]
    framing = [n.text for n in notes if n.kind in ("info", "related")]
    rest = [f"> {n.text}" for n in notes if n.kind not in ("urgent", "info", "related")]
    return "\n\n".join(p for p in [*urgent, *framing, body, *rest] if p)


@dataclass(frozen=True)
class Quotes:
    """What a reply may quote: the selection (lead, support, more), the closest units
    (for a related reply) and the safety cautions."""

    selection: compose.Selection
    closest: list[compose.Candidate]
    cautions: list[compose.Candidate]


def build_reply(
    query: Query,
    verdict: Verdict,
    quotes: Quotes,
    topics: list[SafetyTopic],
    hits: list[Hit],
    notes: list[Note],
    wording: dict[str, str],
    tuning: Tuning,
) -> Reply:
    """The reply ``verdict`` calls for: an answer leads with its unit; a related reply
    says it is not a direct answer; a decline quotes nothing."""
    selection, closest, cautions = quotes.selection, quotes.closest, quotes.cautions
    notes = list(notes)
    parts: list[tuple[Role, list[compose.Candidate]]] = []
    if verdict.outcome is Outcome.ANSWER:
        shown = selection.picked
        # A caution the answer itself states is not quoted again.
        needed = [
            c
            for c in cautions
            if not any(topic.is_caution(p.sentence.text) for topic in topics for p in shown)
        ]
        parts = [
            (Role.LEAD, [selection.lead] if selection.lead else []),
            (Role.SUPPORT, selection.support),
            (Role.CAUTION, needed),
            (Role.MORE, selection.more),
        ]
        if selection.conflict:
            notes.append(Note("conflict", wording["conflict"]))
    elif verdict.outcome is Outcome.RELATED:
        # The closest passages, unless the cautions are what there is to show.
        parts = [
            (Role.RELATED, [] if cautions else closest[: tuning.support_units]),
            (Role.CAUTION, cautions),
        ]
        notes.insert(0, Note("related", wording["related"]))
    body, citations = cite.render(parts)
    if verdict.outcome is Outcome.DECLINED:
        body = wording["referral" if verdict.reason is Reason.SAFETY_REFERRAL else "decline"]
    for hit in hits:
        hit.cited = any(
            c.doc_id == hit.chunk.doc_id and hit.chunk.start <= c.start < hit.chunk.end
            for c in citations
        )
    more = cite.more_list(citations, wording["more"])
    return Reply(
        answer=add_notes("\n\n".join(p for p in (body, more) if p), notes),
        body=body,
        citations=citations,
        abstained=verdict.outcome is not Outcome.ANSWER,
        safety=[topic.name for topic in topics],
        query=query.text,
        question=query.message or query.question,
        context=query.context,
        hits=hits,
        notes=notes,
        gate=verdict.to_dict(),
        outcome=verdict.outcome,
        reason=verdict.reason,
        lead=next((c.n for c in citations if c.role is Role.LEAD), None),
    )


def small_talk_reply(query: Query, wording: dict[str, str]) -> Reply:
    """A short fixed reply to small talk: nothing looked up, nothing quoted."""
    body = wording[f"small_talk_{query.small_talk}"]
    verdict = Verdict(Outcome.SMALL_TALK, Reason.SMALL_TALK)
    return Reply(
        answer=body,
        body=body,
        citations=[],
        abstained=True,
        safety=[],
        query=query.question,
        question=query.message or query.question,
        gate=verdict.to_dict(),
        outcome=Outcome.SMALL_TALK,
        reason=Reason.SMALL_TALK,
        small_talk=query.small_talk,
    )
