"""What one ingest run did: documents and chunks added, updated, removed or unchanged,
how many texts it embedded, what it skipped and the build it left live."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class IngestSummary:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    chunks_added: int = 0
    chunks_removed: int = 0
    chunks_unchanged: int = 0
    embedded: int = 0  # texts sent to the model (chunks + sentences)
    total_chunks: int = 0
    skipped: list[str] = field(default_factory=list)  # "file: reason"
    notices: list[str] = field(default_factory=list)  # about the previous build
    build: str | None = None
    seconds: float = 0.0

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def lines(self) -> list[str]:
        out = [
            f"documents: {len(self.added)} added, {len(self.updated)} updated, "
            f"{len(self.removed)} removed, {len(self.unchanged)} unchanged",
            f"chunks:    {self.chunks_added} added, {self.chunks_removed} removed, "
            f"{self.chunks_unchanged} unchanged ({self.total_chunks} in index)",
            f"embedded:  {self.embedded} texts in {self.seconds:.2f} s"
            + ("" if self.changed else " (index already up to date)"),
        ]
        out += [f"skipped:   {reason}" for reason in self.skipped]
        out += [f"note:      {notice}" for notice in self.notices]
        return out
