"""``python -m evals.bench_integrity``: what verifying a build costs when it is opened.

Verifies the 5-article index of ``SKINQA_DATA_DIR`` (``make index``) and, with
``--chunks N``, a synthetic index of N chunks built here in a temporary folder with the
stand-in embedder (random word vectors, no model: it measures storage and hashing, not
retrieval). For each it prints the size of the hashed files, the time to open the build
(eager verification included) and, apart, the time of each check: the file hashes, the
chunk-text hashes and the comparison of Chroma's vectors with ``vectors.npy``.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from assistant.embeddings import model_id_for
from assistant.index import integrity, layout, reader
from assistant.index.reader import LoadedIndex, check_collection
from assistant.settings import Settings


def _ms(run: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


@contextmanager
def checks_off() -> Iterator[None]:
    """The slow checks replaced by no-ops, to time an open without them."""
    saved = integrity.check_contents, integrity.check_chunk_texts, reader.check_collection
    integrity.check_contents = integrity.check_chunk_texts = reader.check_collection = (
        lambda *args: None
    )
    try:
        yield
    finally:
        integrity.check_contents, integrity.check_chunk_texts, reader.check_collection = saved


def measure(settings: Settings, label: str, repeat: int) -> None:
    model_id = model_id_for(settings.embed_backend)
    build = layout.current_build(settings.index_path)
    assert build is not None, f"no index at {settings.index_path}"
    manifest = layout.read_manifest(build)
    files = manifest["files"]
    size = integrity.build_bytes(files)
    limit = 1 << 62  # eager whatever the size, so the open time includes every check
    open_ms = _ms(lambda: LoadedIndex.open(settings, model_id, eager_verify_bytes=limit), repeat)
    with checks_off():
        bare_ms = _ms(lambda: LoadedIndex.open(settings, model_id), repeat)
    index = LoadedIndex.open(settings, model_id, eager_verify_bytes=limit)
    texts = [c.text for c in index.chunks]
    hashes_ms = _ms(lambda: integrity.check_contents(build, files), repeat)
    chunks_ms = _ms(
        lambda: integrity.check_chunk_texts(texts, manifest["chunk_text_sha256"]), repeat
    )
    chroma_ms = _ms(lambda: check_collection(index.collection, index.chunks, index.vectors), repeat)
    print(
        f"{label}: {len(texts)} chunks, {size / 2**20:.1f} MiB hashed in {len(files)} files; "
        f"open {open_ms:.0f} ms ({bare_ms:.0f} ms without the checks), of which file hashes "
        f"{hashes_ms:.1f} ms "
        f"({size / 2**20 / max(hashes_ms / 1000, 1e-9):.0f} MiB/s), "
        f"chunk texts {chunks_ms:.1f} ms, "
        f"Chroma vs vectors.npy {chroma_ms:.1f} ms (medians of {repeat})"
    )


def synthetic(chunks: int, root: Path) -> Settings:
    from assistant.ingest import ingest

    from .synthetic import StandInEmbedder, generate

    generate(root / "corpus", chunks)
    settings = Settings(corpus_dir=root / "corpus", data_dir=root / "data")
    model_id = model_id_for(settings.embed_backend)
    ingest(settings, lambda: StandInEmbedder(model_id), model_id=model_id)
    return settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.bench_integrity")
    parser.add_argument("--chunks", type=int, default=0, help="also a synthetic index")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    print(f"bench_integrity {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}")
    measure(Settings(), "corpus index", args.repeat)
    if args.chunks:
        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            settings = synthetic(args.chunks, Path(tmp))
            seconds = time.perf_counter() - start
            print(f"synthetic index of {args.chunks} chunks built in {seconds:.0f} s")
            measure(settings, "synthetic index", max(1, args.repeat // 2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
