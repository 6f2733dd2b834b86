"""A deterministic synthetic corpus for the scale benchmark (``python -m evals.bench``).

Only the generator is stored, never the data: the same seed always writes the same bytes.
The text is built from the real corpus so the vocabulary, sentence lengths and headings
look like the articles: a third of the sentences are real corpus sentences, a third splice
the first half of one real sentence onto the second half of another, and a third are word
salad drawn from the corpus vocabulary (frequency-weighted, because words are drawn from
the list of every word occurrence).

Each generated section is one heading plus one paragraph short enough for one chunk, so a
corpus of ``n`` sections ingests to exactly ``n`` chunks at the default chunk size. Files
are seeded independently (seed and file number), so a 1k corpus is a prefix of a 10k one.

``StandInEmbedder`` is the stand-in the benchmark may use to embed very large synthetic
corpora quickly; it is only ever used for synthetic data and labelled as such in reports.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from assistant.embeddings import DIMENSION
from assistant.ingest.chunking import chunk_document
from assistant.ingest.corpus import load_corpus
from assistant.settings import PROJECT_ROOT

SEED = 20261121
SECTIONS_PER_FILE = 50
# A paragraph stays under the 700-character chunk limit with room to spare, so every
# section is exactly one chunk; the target length is drawn per paragraph.
PARAGRAPH_MIN_CHARS = 350
PARAGRAPH_MAX_CHARS = 600
MAX_SENTENCE_CHARS = 250
_WORD = re.compile(r"[A-Za-z][A-Za-z’'-]*[A-Za-z]|[A-Za-z]")


@dataclass(frozen=True)
class Material:
    """What the generator recombines: real sentences and every word occurrence."""

    sentences: tuple[str, ...]
    words: tuple[str, ...]


def load_material(corpus_dir: Path = PROJECT_ROOT / "corpus") -> Material:
    """Sentences (as the chunker splits them) and words of the real corpus, in file order."""
    docs, _ = load_corpus(corpus_dir)
    sentences: list[str] = []
    words: list[str] = []
    for doc in docs:
        for chunk in chunk_document(doc):
            for sentence in chunk.sentences:
                text = " ".join(sentence.text.split())
                # Short fragments and over-long list items would make odd paragraphs.
                if 30 <= len(text) <= MAX_SENTENCE_CHARS and text[0].isalnum():
                    sentences.append(text)
        words += _WORD.findall(doc.text[doc.body_start :])
    if not sentences or not words:
        raise ValueError(f"no usable text in {corpus_dir}")
    return Material(tuple(sentences), tuple(w.lower() for w in words))


def _salad(rng: random.Random, material: Material) -> str:
    words = [rng.choice(material.words) for _ in range(rng.randint(8, 22))]
    return (" ".join(words).capitalize() + ".")[:MAX_SENTENCE_CHARS]


def _splice(rng: random.Random, material: Material) -> str:
    first, second = rng.choice(material.sentences).split(), rng.choice(material.sentences).split()
    head = first[: max(1, len(first) // 2)]
    tail = second[len(second) // 2 :]
    text = " ".join(head + tail)
    return text if text.endswith((".", "!", "?")) else text + "."


def sentence(rng: random.Random, material: Material) -> str:
    """One sentence: real, spliced from two real ones, or word salad (equal odds)."""
    kind = rng.randrange(3)
    if kind == 0:
        return rng.choice(material.sentences)
    return _splice(rng, material) if kind == 1 else _salad(rng, material)


def paragraph(rng: random.Random, material: Material) -> str:
    target = rng.randint(PARAGRAPH_MIN_CHARS, PARAGRAPH_MAX_CHARS)
    parts: list[str] = []
    length = 0
    while length < target:
        text = sentence(rng, material)
        if parts and length + 1 + len(text) > PARAGRAPH_MAX_CHARS:
            break
        parts.append(text)
        length += len(text) + (1 if len(parts) > 1 else 0)
    return " ".join(parts)


def heading(rng: random.Random, material: Material) -> str:
    return " ".join(rng.choice(material.words) for _ in range(rng.randint(2, 5))).title()


def document(number: int, sections: int, seed: int, material: Material) -> str:
    """One Markdown file with front matter and ``sections`` one-paragraph sections."""
    # A str seed is hashed with SHA-512 by ``random``: stable across runs and machines,
    # unlike ``hash()``, which PYTHONHASHSEED randomises.
    rng = random.Random(f"{seed}:{number}")
    title = f"Synthetic article {number}: {heading(rng, material)}"
    lines = [
        "---",
        f"id: synthetic-{number:06d}",
        f"title: {json.dumps(title, ensure_ascii=False)}",
        "publisher: synthetic benchmark corpus",
        "---",
        paragraph(rng, material),
    ]
    for _ in range(sections - 1):
        lines += ["", f"## {heading(rng, material)}", "", paragraph(rng, material)]
    return "\n".join(lines) + "\n"


def generate(
    out_dir: Path,
    chunks: int,
    *,
    seed: int = SEED,
    material: Material | None = None,
    sections_per_file: int = SECTIONS_PER_FILE,
) -> list[Path]:
    """Write a corpus of ``chunks`` sections (= chunks) into ``out_dir``; return the files."""
    if chunks < 1:
        raise ValueError("chunks must be at least 1")
    material = material or load_material()
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for number, start in enumerate(range(0, chunks, sections_per_file)):
        sections = min(sections_per_file, chunks - start)
        path = out_dir / f"synthetic-{number:06d}.md"
        path.write_text(document(number, sections, seed, material), encoding="utf-8")
        paths.append(path)
    return paths


class StandInEmbedder:
    """A fast deterministic stand-in for the model, for very large synthetic corpora.

    * A text that is one of the ``known`` sentences, or ends with one after a ``"...: "``
      prefix (ingest embeds a sentence as ``"<section leaf>: <sentence>"``), gets that
      sentence's vector from ``model``. The synthetic corpus quotes real sentences
      verbatim, so these vectors are the model's own, and a real query finds them as
      similar as it would in the real corpus.
    * Any other text gets the normalised sum of its word vectors. A word's vector comes
      from ``model`` (each distinct word embedded once) or, without a model, from a random
      vector seeded by the word's CRC32. Texts sharing words get similar vectors, so the
      vector index has realistic neighbourhoods, but a bag of words is not a sentence
      embedding: the stand-in is for measuring storage and query *cost*, never quality.
    """

    def __init__(
        self,
        model_id: str,
        model: Callable[[list[str]], np.ndarray] | None = None,
        known: Sequence[str] = (),
        dimension: int = DIMENSION,
    ) -> None:
        self.model_id = model_id  # the real model's id, so the index loads with it
        self.model = model
        self.dimension = dimension
        self._words: dict[str, np.ndarray] = {}
        self._known: dict[str, np.ndarray] = {}
        if model is not None and known:
            texts = sorted(set(known))
            self._known = dict(zip(texts, self._vectors(texts), strict=True))

    def _vectors(self, texts: list[str]) -> np.ndarray:
        assert self.model is not None
        return np.asarray(self.model(texts), dtype=np.float32)

    def _learn(self, words: set[str]) -> None:
        missing = sorted(words - self._words.keys())  # sorted: the same batches every run
        if not missing:
            return
        if self.model is not None:
            vectors = self._vectors(missing)
        else:
            vectors = np.stack([self._random(w) for w in missing])
        self._words.update(zip(missing, vectors, strict=True))

    def _random(self, word: str) -> np.ndarray:
        rng = np.random.default_rng(zlib.crc32(word.encode("utf-8")))
        return rng.standard_normal(self.dimension).astype(np.float32)

    def _known_vector(self, text: str) -> np.ndarray | None:
        start = 0
        while True:
            vector = self._known.get(text[start:])
            if vector is not None:
                return vector
            cut = text.find(": ", start)
            if cut < 0:
                return None
            start = cut + 2

    def embed(
        self, texts: Sequence[str], progress: Callable[[int], None] | None = None
    ) -> np.ndarray:
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        bags: dict[int, list[str]] = {}
        for row, text in enumerate(texts):
            vector = self._known_vector(text) if self._known else None
            if vector is None:
                bags[row] = _WORD.findall(text.lower())
            else:
                out[row] = vector
        self._learn({word for words in bags.values() for word in words})
        for row, words in bags.items():
            if words:
                out[row] = np.sum([self._words[w] for w in words], axis=0)
        if progress:
            progress(len(texts))
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.clip(norms, 1e-12, None)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m evals.synthetic", description="Write a synthetic benchmark corpus."
    )
    parser.add_argument("out", type=Path, help="folder to write the .md files into")
    parser.add_argument("--chunks", type=int, default=1000, help="sections (= chunks)")
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)
    paths = generate(args.out, args.chunks, seed=args.seed)
    print(f"wrote {len(paths)} files, {args.chunks} sections, into {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
