"""What LLM mode shows the model: the numbered sources and the prompt around them.

The wording lives in ``data/prompts.yaml`` (reviewed by clinic staff, like
``wording.yaml``); this module only picks the passages and fills the placeholders.
Quoted text is defanged so a document cannot close or open the prompt's own fences.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from dataclasses import dataclass

from ..answer.safety import SafetyTopic
from ..data import load_yaml
from ..errors import GeneratorError
from ..schema import Citation, Hit, Reply

# Passages given to the model: the extractive citations (always), then other retrieved
# chunks up to this many in all, so the model can draw on a little more context.
MAX_SOURCES = 8
NOTE_KEYS = ("unavailable", "unverified", "declined", "incomplete", "cut_off", "off_subject")

_FENCE = re.compile(r"<(/?)(source|question)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Prompts:
    """The contents of ``data/prompts.yaml``."""

    system: str
    user: str
    source: str
    context: str
    cannot_answer: str
    answer_lead: str
    notes: dict[str, str]

    @classmethod
    def from_package(cls) -> Prompts:
        data = load_yaml("prompts.yaml")
        try:
            notes = {k: " ".join(str(data["notes"][k]).split()) for k in NOTE_KEYS}
            return cls(
                system=data["system"],
                user=data["user"],
                source=data["source"],
                context=data["context"],
                cannot_answer=" ".join(data["cannot_answer"].split()),
                answer_lead=data["answer_lead"],
                notes=notes,
            )
        except (KeyError, TypeError, AttributeError) as err:
            raise GeneratorError(f"assistant/data/prompts.yaml is incomplete: {err!r}") from err


def provided_sources(
    reply: Reply, hits: Sequence[Hit], topics: Sequence[SafetyTopic], max_sources: int
) -> list[Citation]:
    """The numbered sources: the extractive citations, then other retrieved chunks."""
    sources = [dataclasses.replace(c, n=i) for i, c in enumerate(reply.citations, start=1)]
    exclude = [p for t in topics for p in t.exclude]
    for hit in hits:
        if len(sources) >= max_sources:
            break
        chunk = hit.chunk
        overlaps = any(
            s.doc_id == chunk.doc_id and s.start < chunk.end and chunk.start < s.end
            for s in sources
        )
        # Chunks holding a sentence the safety layer withholds are not offered at all.
        if overlaps or any(p.search(chunk.text) for p in exclude):
            continue
        sources.append(
            Citation(
                len(sources) + 1,
                chunk.doc_id,
                chunk.title,
                chunk.section,
                chunk.text,
                chunk.start,
                chunk.end,
                round(float(hit.dense_similarity or 0.0), 4),
            )
        )
    return sources


def defang(text: str) -> str:
    """Stop quoted text from closing or opening the prompt's own fences."""
    return _FENCE.sub(lambda m: f"‹{m.group(1)}{m.group(2)}", text)


def build_prompt(prompts: Prompts, reply: Reply, sources: Sequence[Citation]) -> tuple[str, str]:
    """The system and user messages: rules, then fenced numbered sources and the question."""
    blocks = "\n".join(
        prompts.source.format(
            n=s.n,
            title=defang(s.title).replace('"', "'"),
            section=defang(s.section).replace('"', "'"),
            text=defang(s.text),
        )
        for s in sources
    )
    earlier = reply.context
    context = prompts.context.format(earlier=defang(earlier)) + "\n" if earlier else ""
    system = prompts.system.format(cannot_answer=prompts.cannot_answer)
    user = prompts.user.format(sources=blocks, question=defang(reply.question), context=context)
    return system, user
