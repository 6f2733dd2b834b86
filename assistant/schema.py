"""Typed results that cross module boundaries: chunks, hits, citations, replies."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
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
        sentences = tuple(Sentence(**s) for s in data.get("sentences", ()))
        return cls(**{**data, "sentences": sentences})


@dataclass
class Hit:
    """A retrieved chunk with its fused score and the ranks that produced it."""

    chunk: Chunk
    score: float
    dense_rank: int | None = None
    keyword_rank: int | None = None
    dense_similarity: float | None = None
    evidence: float | None = None  # score of the chunk's best quotable sentence
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
            "evidence": None if self.evidence is None else round(self.evidence, 4),
            "cited": self.cited,
        }


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

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Reply:
    """Everything the assistant says about one question."""

    answer: str
    citations: list[Citation]
    abstained: bool
    safety: list[str]
    query: str
    question: str = ""
    hits: list[Hit] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # vetted notes appended to the answer
    dropped: list[dict[str, str]] = field(default_factory=list)  # LLM sentences removed
    generator: str = "extractive"
    gate: dict[str, Any] = field(default_factory=dict)  # answerability signals, for staff
    timings_ms: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "answer": self.answer,
            "citations": [c.to_dict() for c in self.citations],
            "abstained": self.abstained,
            "safety": list(self.safety),
            "query": self.query,
            "notes": list(self.notes),
            "retrieved": [h.to_dict() for h in self.hits],
            "dropped": list(self.dropped),
            "generator": self.generator,
            "gate": dict(self.gate),
            "timings_ms": {k: round(v, 2) for k, v in self.timings_ms.items()},
        }
