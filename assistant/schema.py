"""Typed data that crosses stage boundaries: chunks, hits, queries, verdicts, replies."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any


@dataclass(frozen=True)
class Sentence:
    """A quotable unit inside a chunk: a sentence or a list item, with file offsets."""

    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Chunk:
    """A verbatim span of one source file, inside one section."""

    id: str
    doc_id: str
    title: str
    section: str  # heading path, e.g. "Post-Treatment Care > No Makeup (Initially)"
    start: int
    end: int
    text: str  # exactly source[start:end]
    content_hash: str
    sentences: tuple[Sentence, ...] = ()

    @property
    def embed_text(self) -> str:
        """What the model sees: a contextual header, then the verbatim text."""
        return f"{self.title} > {self.section}\n{self.text}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Chunk:
        # Positional: a replica reads 100k chunks and 486k sentences at start-up, and
        # keyword arguments cost a second more there. A missing key is a KeyError.
        sentences = tuple(Sentence(s["start"], s["end"], s["text"]) for s in data["sentences"])
        return cls(
            data["id"],
            data["doc_id"],
            data["title"],
            data["section"],
            data["start"],
            data["end"],
            data["text"],
            data["content_hash"],
            sentences,
        )


@dataclass
class Hit:
    """A retrieved chunk with its fused score and the ranks that produced it."""

    chunk: Chunk
    score: float
    dense_rank: int | None = None
    keyword_rank: int | None = None
    dense_similarity: float | None = None
    sentence_score: float | None = None  # score of the chunk's best quotable unit
    cited: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "chunk_id": self.chunk.id,
            "doc_id": self.chunk.doc_id,
            "section": self.chunk.section,
            "score": round(self.score, 5),
            "dense_rank": self.dense_rank,
            "keyword_rank": self.keyword_rank,
            "dense_similarity": None
            if self.dense_similarity is None
            else round(self.dense_similarity, 4),
            "sentence_score": None
            if self.sentence_score is None
            else round(self.sentence_score, 4),
            "cited": self.cited,
        }


CONTEXT_MARK = " (context: "


@dataclass(frozen=True)
class Query:
    """A message as the engine reads it: the question in it and, for a follow-up, the
    earlier question it leans on.

    >>> Query("and after?", context="is peeling normal?").text
    'and after? (context: is peeling normal?)'
    """

    question: str  # what is judged and retrieved: the sentences of the message that ask
    context: str | None = None  # the earlier question a follow-up borrows its topic from
    message: str = ""  # the whole message (the safety layer reads all of it)
    background: str = ""  # the rest of a long message: age, skin, what they tried
    small_talk: str | None = None  # "thanks", "greeting", ...: nothing to look up
    new_topic: bool = False  # announced as a new question ("unrelated, but ..."): no follow-up
    # Ends leaning on the conversation ("... tho") but has a topic of its own: read alone
    # first, and leaning on the conversation only if that finds no answer.
    leans: bool = False

    @property
    def text(self) -> str:
        """What retrieval reads: the question, then the borrowed context."""
        if self.context is None:
            return self.question
        return f"{self.question.strip()}{CONTEXT_MARK}{self.context})"

    @property
    def conversation(self) -> str | None:
        """A follow-up read as the client said it: the earlier turn, then the question."""
        return None if self.context is None else f"{self.context} {self.question.strip()}"


@dataclass(frozen=True)
class Note:
    """A vetted note shown with an answer; ``kind`` tells a UI how to show it.

    Kinds: ``urgent`` (a possible complication), ``safety`` (a health caution),
    ``info`` (e.g. the question was truncated), ``llm`` (how LLM mode went).
    """

    kind: str
    text: str

    def to_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "text": self.text}


class Outcome(StrEnum):
    """What kind of reply a message gets."""

    ANSWER = "answer"  # the articles answer it: the lead passage, then a little support
    RELATED = "related"  # on topic and passages found, but not confidently an answer
    DECLINED = "declined"  # outside the articles (or a safety referral): no quotes
    SMALL_TALK = "small_talk"  # greetings, thanks, "are you a bot?": a short fixed reply


class Reason(StrEnum):
    """Why a reply got its outcome (shown to staff, counted by the evals)."""

    ANSWERED = "answered"
    CAUTION = "caution"  # a safety question the articles' caution answers
    LOW_CONFIDENCE = "low_confidence"  # on topic, but no passage clearly answers
    UNCOVERED_SUBJECT = "uncovered_subject"  # its key subject is in no article
    OFF_TOPIC = "off_topic"  # not about microneedling or skin care
    MISSING_VALUE = "missing_value"  # asks for a price, say, and no passage gives one
    SAFETY_REFERRAL = "safety_referral"  # a situation the articles do not cover (a child)
    SMALL_TALK = "small_talk"


class Role(StrEnum):
    """What a citation is for in the reply."""

    LEAD = "lead"  # the passage that answers; shown first
    SUPPORT = "support"  # at most two more passages that add to it
    MORE = "more"  # "more from the articles", folded by a UI
    CAUTION = "caution"  # a safety caution the question called for
    RELATED = "related"  # a closest passage when the articles do not answer directly


@dataclass(frozen=True)
class Verdict:
    """The one decision on a message: its outcome, why, and the signals behind it.

    >>> Verdict(Outcome.RELATED, Reason.LOW_CONFIDENCE, similarity=0.41).answerable
    False
    """

    outcome: Outcome
    reason: Reason
    similarity: float = 0.0  # best cosine of the question with one quotable unit
    coverage: float = 0.0  # weighted share of the known topic terms one chunk holds
    key_term: str | None = None  # the term carrying most of the question's meaning
    key_known: bool = True
    other_subject: str | None = None  # another treatment the question is about
    heading_term: str | None = None  # the key term, in a top passage's own heading
    unknown_terms: tuple[str, ...] = ()
    unknown_share: float = 0.0  # the share of the meaning in words no article uses
    typed_evidence: str | None = None  # answered on a unit holding the asked-for value
    missing_answer_type: str | None = None  # asked for a price, say, and none was found
    # The topic terms' weights (IDF times meaning carried), for the answer checks.
    weights: dict[str, float] = field(default_factory=dict, repr=False, compare=False)

    @property
    def answerable(self) -> bool:
        return self.outcome is Outcome.ANSWER

    def to_dict(self) -> dict[str, object]:
        out = asdict(self)
        del out["weights"]
        out["outcome"], out["reason"] = self.outcome.value, self.reason.value
        out["unknown_terms"] = list(self.unknown_terms)
        return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in out.items()}


@dataclass(frozen=True)
class Citation:
    """One numbered source passage, found character-for-character in its file."""

    n: int
    doc_id: str
    title: str
    section: str
    text: str
    start: int
    end: int
    score: float
    role: Role = Role.SUPPORT

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "role": self.role.value}


def finite(value: Any) -> Any:
    """``value`` with every NaN or infinity replaced by None, so it is valid JSON.

    >>> finite({"score": float("nan"), "ranks": [1, float("inf"), 0.5]})
    {'score': None, 'ranks': [1, None, 0.5]}
    """
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [finite(v) for v in value]
    return value


# What a client of the assistant sees (the public API and the chat); everything else a
# reply carries (the retrieved chunks and their scores, the gate's signals, timings) is
# for staff.
PUBLIC_FIELDS = (
    "question",
    "answer",
    "body",
    "outcome",
    "reason",
    "lead",
    "citations",
    "notes",
    "safety",
    "context",
)


@dataclass
class Reply:
    """Everything the assistant says about one question.

    ``answer`` is the whole text as Markdown (the urgent note, ``body``, the other
    notes); a UI renders ``body``, ``notes`` and ``citations`` instead of parsing it.
    """

    answer: str
    citations: list[Citation]
    abstained: bool
    safety: list[str]
    query: str
    question: str = ""
    context: str | None = None  # the earlier user turn a follow-up leaned on
    hits: list[Hit] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)  # vetted notes, also in the answer
    dropped: list[dict[str, str]] = field(default_factory=list)  # LLM sentences removed
    generator: str = "extractive"
    gate: dict[str, Any] = field(default_factory=dict)  # answerability signals, for staff
    timings_ms: dict[str, float] = field(default_factory=dict)
    body: str = ""  # the answer without its notes
    outcome: Outcome = Outcome.ANSWER
    reason: Reason = Reason.ANSWERED
    lead: int | None = None  # the number of the lead citation, if any
    # For small talk, its kind ("greeting", "thanks", "goodbye", ...: data/conversation.yaml)
    small_talk: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Everything, for staff, the CLI and the evals; JSON-ready (no NaN)."""
        return finite(
            {
                "question": self.question,
                "outcome": self.outcome.value,
                "reason": self.reason.value,
                "lead": self.lead,
                "small_talk": self.small_talk,
                "answer": self.answer,
                "body": self.body,
                "citations": [c.to_dict() for c in self.citations],
                "abstained": self.abstained,
                "safety": list(self.safety),
                "query": self.query,
                "context": self.context,
                "notes": [n.to_dict() for n in self.notes],
                "retrieved": [h.to_dict() for h in self.hits],
                "dropped": list(self.dropped),
                "generator": self.generator,
                "gate": dict(self.gate),
                "timings_ms": {k: round(v, 2) for k, v in self.timings_ms.items()},
            }
        )

    def public_dict(self) -> dict[str, Any]:
        """What a client sees: ``PUBLIC_FIELDS``, without retrieval details; JSON-ready."""
        full = self.to_dict()
        return {key: full[key] for key in PUBLIC_FIELDS}
