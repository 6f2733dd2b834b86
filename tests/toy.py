"""Stand-ins for the unit tier: a toy embedder and a tiny hand-written corpus.

The toy embedder satisfies ``assistant.embeddings.Embedder`` the way simonw/llm's
``EmbedDemo`` satisfies its model interface: deterministic vectors of the right shape,
computed in microseconds, with no model file. Texts that share words point the same way,
so retrieval plumbing (ingest, Chroma, fusion) can be tested; nothing about meaning can.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from assistant.embeddings import DIMENSION, normalize

_WORD = re.compile(r"[a-z0-9]+")


class ToyEmbedder:
    """Hashed bag of words: each word adds ±1 at one of ``DIMENSION`` positions, chosen by
    a stable hash (blake2b, so the same in every process); each row is then normalised.

    >>> a, b, c = ToyEmbedder().embed(["Sun care", "CARE, sun!", "needle depth"])
    >>> round(float(a @ b), 6), round(float(a @ c), 6)
    (1.0, 0.0)
    """

    model_id = f"toy-hashed-bag-of-words@{DIMENSION}"
    merges_batches = True  # each text's vector is its own words' alone

    def __init__(self) -> None:
        self.texts_embedded = 0  # how many texts this instance was asked to embed

    @staticmethod
    def slot(word: str) -> tuple[int, float]:
        """The position a word adds to and its sign."""
        digest = hashlib.blake2b(word.encode("utf-8"), digest_size=8).digest()
        return int.from_bytes(digest[:4], "little") % DIMENSION, 1.0 if digest[4] & 1 else -1.0

    def embed(
        self, texts: Sequence[str], progress: Callable[[int], None] | None = None
    ) -> np.ndarray:
        vectors = np.zeros((len(texts), DIMENSION), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in _WORD.findall(text.lower()):
                position, sign = self.slot(word)
                vectors[row, position] += sign
        self.texts_embedded += len(texts)
        if progress is not None and texts:
            progress(len(texts))
        return normalize(vectors)


# A corpus small enough to read in one go: two Markdown articles (front matter, headings,
# a labelled list item with sub-items) and one plain-text note. Facts are invented.
TOY_ARTICLES = {
    "sun-care.md": """---
id: sun-care
title: "Sun Care After Needling"
publisher: "Toy Clinic Journal"
retrieved: 2026-01-05
---
Fresh skin burns easily. Plan treatments for the darker months.

## Sunscreen

Apply a mineral sunscreen every morning for two weeks. Reapply it every 2 hours outdoors.

## Hats and Shade

A wide hat helps. Shade helps more than a hat.

- Beach Days: Skip the beach for one week.
  - Actionable Advice: Choose an indoor pool instead.
""",
    "needle-basics.md": """---
id: needle-basics
title: "Needle Basics"
---
## Depth

Home rollers use 0.25 mm needles. Clinic pens reach 1.5 mm.

## Cleaning

Soak the roller in alcohol for ten minutes after each use. Never share a roller.
""",
    "front-desk.txt": """Front desk notes

The clinic opens at nine. Parking is free behind the building.
""",
}


def write_toy_corpus(folder: Path) -> Path:
    """Write ``TOY_ARTICLES`` into ``folder`` (created) and return it."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in TOY_ARTICLES.items():
        (folder / name).write_text(text, "utf-8")
    return folder
