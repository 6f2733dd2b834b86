"""A replica's local copy of the live build on a Chroma server.

In server mode the Chroma store is the one source of truth: its ``live`` record names
the build, its collections hold all of it (``store``). The local index folder is only
a cache: a build is copied into ``builds/<id>/`` the first time it is served here (the
files ingest wrote, from the build's files collection, ``transfer``; each checked
against the SHA-256 of the build's record), and used again while the store's record of
that build is unchanged. The sentence vectors stay in the store (``sentences``). A
replica therefore needs nothing but ``SKINQA_CHROMA_HOST``/``PORT`` and an empty data
folder.
"""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
from pathlib import Path
from typing import Any

from ..errors import IndexCorruptError, IndexMissingError
from ..settings import Settings
from . import layout, local, store, transfer
from .vectors import is_not_found, server_address

log = logging.getLogger(__name__)


def live_record(settings: Settings, client: Any) -> tuple[str, dict[str, Any]]:
    """The live build's id and record; ``IndexMissingError`` if the store has none."""
    build_id = store.live_build(client)
    record = store.build_record(client, build_id) if build_id else None
    if build_id is None or record is None:
        raise IndexMissingError(f"the Chroma server at {server_address(settings)}")
    if not layout.BUILD_ID.fullmatch(build_id) or record.get("build_id") != build_id:
        raise IndexCorruptError(f"the store's live record names no usable build ({build_id!r:.40})")
    return build_id, record


def cached(build: Path, record: dict[str, Any]) -> bool:
    """The local folder holds this very build (its manifest equals the store's record)."""
    try:
        return layout.read_manifest(build) == record
    except IndexCorruptError:
        return False


def sync_live(settings: Settings, client: Any) -> Path:
    """The local folder of the store's live build, copied from the store if needed, and
    named by the local ``CURRENT`` (the cache's pointer)."""
    index_dir = settings.index_path
    for attempt in range(3):
        build_id, record = live_record(settings, client)
        build = layout.builds_dir(index_dir) / build_id
        if cached(build, record):
            break
        try:
            copy_build(client, record, build)
            break
        except Exception as exc:
            # Pruned between reading the live record and copying: read it again.
            if not is_not_found(exc) or attempt == 2:
                raise
            log.info("build %s went away while copying it; reading the live record again", build_id)
    layout.publish(index_dir, build)
    layout.prune(index_dir)
    return build


def copy_build(client: Any, record: dict[str, Any], build: Path) -> None:
    """Write ``build`` from the store: into a temporary folder, then renamed into place,
    so a half-copied build is never mistaken for a whole one."""
    files = record.get("files")
    if not isinstance(files, dict) or not files:
        raise IndexCorruptError(f"the store's record of build {build.name} lists no files")
    root = build.parent
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=root, prefix=f".copy-{build.name}-"))
    try:
        transfer.get_files(client, build.name, files, tmp)
        local.fsync_tree(tmp)
        layout.atomic_write_text(tmp / layout.MANIFEST, json.dumps(record, indent=2))
        if build.exists():
            shutil.rmtree(build)  # a stale or damaged copy: the store's record decides
        tmp.rename(build)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    chunks = record.get("total_chunks")
    log.info("copied build %s from the Chroma store (%s chunks)", build.name, chunks)
