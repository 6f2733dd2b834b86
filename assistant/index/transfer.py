"""A build's local files kept in the Chroma store, so a replica copies them in large reads.

A replica could rebuild its local files from the build's collections (``store``), but
reading 100k chunk records and their vectors through Chroma's JSON API took about three
minutes and 6 GiB on two cores (2026-12-02): every vector travels as decimal text. So in
server mode ingest also keeps the files it wrote (``chunks.jsonl``, ``vectors.npy``,
``bm25/``) in the build's ``files-<id>`` collection, in parts of ``PART_BYTES``: one record
per part, its bytes base64-encoded (zlib-compressed when that pays, as for JSON text) in
the metadata field ``data``. Metadata, not ``documents``: Chroma indexes documents for
full-text search, which is pointless and slow for encoded bytes.

A replica writes each file part by part and checks it against the size and SHA-256 the
build's record holds (``integrity``), so a changed or truncated copy is never served.

>>> # put_files(client, "20261202T0500-ab12cd", build_folder, ["chunks.jsonl", ...])
>>> # get_files(client, "20261202T0500-ab12cd", manifest["files"], empty_folder)
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import zlib
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from itertools import islice
from pathlib import Path
from typing import Any

from ..errors import IndexCorruptError
from .store import PLACEHOLDER, files_name

PART_BYTES = 4 << 20  # a few MiB per record: large reads, modest requests
_PARTS_PER_READ = 4
_READS_IN_FLIGHT = 2
# Compress a file when its first part shrinks below this share (text does, to about a
# quarter; float32 vectors do not, and compressing them would only cost ingest time).
_WORTH_COMPRESSING = 0.8


def part_id(name: str, part: int) -> str:
    return f"{name}#{part}"


def _parts(path: Path) -> Iterator[bytes]:
    with path.open("rb") as handle:
        while block := handle.read(PART_BYTES):
            yield block


def put_files(client: Any, build_id: str, build: Path, names: Iterable[str]) -> None:
    """Write the files ``names`` of the folder ``build`` into the build's files collection
    (replacing one a dead run left behind)."""
    with contextlib.suppress(Exception):  # nothing to replace
        client.delete_collection(files_name(build_id))
    collection = client.create_collection(files_name(build_id), embedding_function=None)
    for name in names:
        path = build / name
        size = path.stat().st_size
        parts = max(1, -(-size // PART_BYTES))
        compress = False
        blocks = _parts(path) if size else iter([b""])  # an empty file is one empty part
        for n, raw in enumerate(blocks):
            if n == 0:
                compress = len(zlib.compress(raw, 1)) < _WORTH_COMPRESSING * max(1, len(raw))
            data = zlib.compress(raw, 1) if compress else raw
            collection.add(
                ids=[part_id(name, n)],
                embeddings=[PLACEHOLDER],
                metadatas=[
                    {
                        "file": name,
                        "part": n,
                        "parts": parts,
                        "encoding": "zlib" if compress else "raw",
                        "data": base64.b64encode(data).decode("ascii"),
                    }
                ],
            )


def _decode(name: str, metadata: dict[str, Any]) -> bytes:
    try:
        data = base64.b64decode(str(metadata["data"]), validate=True)
        return zlib.decompress(data) if metadata.get("encoding") == "zlib" else data
    except (KeyError, ValueError, zlib.error) as exc:  # binascii.Error is a ValueError
        raise IndexCorruptError(f"the Chroma store's copy of {name} is unreadable") from exc


def get_files(client: Any, build_id: str, files: dict[str, dict[str, Any]], dest: Path) -> None:
    """Write every file of ``files`` (the manifest's ``files``: name -> sha256, bytes)
    into ``dest`` from the build's files collection. Raises ``IndexCorruptError`` for a
    file whose copy is missing parts or does not match its record; Chroma's errors (a
    missing collection: the build was pruned) as they come."""
    collection = client.get_collection(files_name(build_id))
    for name, entry in files.items():
        path = dest / name
        path.parent.mkdir(parents=True, exist_ok=True)
        digest, size = hashlib.sha256(), 0
        with path.open("wb") as out:
            for block in _file_parts(collection, name):
                out.write(block)
                digest.update(block)
                size += len(block)
        if size != entry["bytes"] or digest.hexdigest() != entry["sha256"]:
            raise IndexCorruptError(
                f"the Chroma store's copy of {name} does not match the build's record"
            )


def _file_parts(collection: Any, name: str) -> Iterator[bytes]:
    """The decoded parts of one file, in order. Two reads are in flight while the parts
    before them are written: the server prepares one answer while this process decodes
    the last (1.5 s instead of 2 s for the 300 MB of a 100k-chunk build)."""
    first = collection.get(ids=[part_id(name, 0)], include=["metadatas"])
    if not first["ids"]:
        raise IndexCorruptError(f"the Chroma store holds no copy of {name}")
    meta = first["metadatas"][0]
    try:
        parts = int(meta["parts"])
    except (KeyError, TypeError, ValueError):
        raise IndexCorruptError(f"the Chroma store's copy of {name} is unreadable") from None
    yield _decode(name, meta)

    def read(start: int) -> list[bytes]:
        ids = [part_id(name, n) for n in range(start, min(parts, start + _PARTS_PER_READ))]
        got = collection.get(ids=ids, include=["metadatas"])
        by_id = dict(zip(got["ids"], got["metadatas"], strict=True))
        missing = [part for part in ids if part not in by_id]
        if missing:
            raise IndexCorruptError(f"the Chroma store's copy of {name} lacks part {missing[0]}")
        return [_decode(name, by_id[part]) for part in ids]

    starts = iter(range(1, parts, _PARTS_PER_READ))
    with ThreadPoolExecutor(_READS_IN_FLIGHT) as pool:
        pending = deque(pool.submit(read, start) for start in islice(starts, _READS_IN_FLIGHT))
        while pending:
            blocks = pending.popleft().result()
            pending.extend(pool.submit(read, start) for start in islice(starts, 1))
            yield from blocks
