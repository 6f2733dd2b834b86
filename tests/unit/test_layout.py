"""index.layout: the fingerprint a build must match, and publishing and pruning builds."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from assistant.index import layout
from assistant.tuning import DEFAULT


def expected() -> dict:
    return layout.fingerprint(DEFAULT, "model@backend", "analyzer-v1", "embedded")


def test_the_fingerprint_names_everything_a_build_depends_on() -> None:
    assert expected() == {
        "format": layout.INDEX_FORMAT,
        "model_id": "model@backend",
        "chunker_version": layout.CHUNKER_VERSION,
        "chunk_max_chars": DEFAULT.chunk_max_chars,
        "analyzer": "analyzer-v1",
        "chroma": "embedded",
    }
    smaller = dataclasses.replace(DEFAULT, chunk_max_chars=300)
    assert layout.fingerprint(smaller, "m", "a", "embedded")["chunk_max_chars"] == 300


def test_a_matching_manifest_has_no_mismatch() -> None:
    manifest = {**expected(), "build_id": "b1", "documents": {}}  # extra keys are fine
    assert layout.mismatch(manifest, expected()) is None


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("format", 0, f"index format: the index has 0, this assistant uses {layout.INDEX_FORMAT}"),
        ("model_id", "other@torch", "embedding model: the index has 'other@torch'"),
        ("chunker_version", "1", "chunker version: the index has '1'"),
        ("chunk_max_chars", 300, "chunk size: the index has 300, this assistant uses 700"),
        ("analyzer", "old", "synonym or stop-word lists: the index has 'old'"),
        ("chroma", "http://h:1", "Chroma target: the index has 'http://h:1'"),
    ],
)
def test_each_mismatch_says_what_differs(key: str, value: object, message: str) -> None:
    assert layout.mismatch({**expected(), key: value}, expected()).startswith(message)


def test_a_manifest_missing_a_key_is_a_mismatch() -> None:
    manifest = {k: v for k, v in expected().items() if k != "analyzer"}
    assert "the index has None" in layout.mismatch(manifest, expected())


def make_build(index: Path, name: str, complete: bool = True) -> Path:
    build = layout.builds_dir(index) / name
    build.mkdir(parents=True)
    if complete:
        (build / layout.MANIFEST).write_text("{}", "utf-8")
    return build


def test_publish_names_the_live_build(tmp_path: Path) -> None:
    assert layout.current_build(tmp_path) is None
    build = make_build(tmp_path, "20260101T000000-aaaaaa")
    layout.publish(tmp_path, build)
    assert (tmp_path / layout.CURRENT).read_text("utf-8") == "20260101T000000-aaaaaa\n"
    assert layout.current_build(tmp_path) == build
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temp file


def test_an_empty_pointer_is_a_named_error_and_no_pointer_no_build(tmp_path: Path) -> None:
    from assistant.errors import IndexCorruptError

    (tmp_path / layout.CURRENT).write_text("\n", "utf-8")
    with pytest.raises(IndexCorruptError, match="does not name a build"):
        layout.current_build(tmp_path)
    assert layout.current_build(tmp_path / "no-such-folder") is None


def test_prune_keeps_the_live_build_and_the_one_before(tmp_path: Path) -> None:
    names = ["b1", "b2", "b3", "b4"]
    builds = [make_build(tmp_path, n) for n in names]
    half_written = make_build(tmp_path, "b5", complete=False)
    layout.publish(tmp_path, builds[-1])
    dropped: list[str] = []
    layout.prune(tmp_path, lambda build: dropped.append(build.name))
    assert sorted(p.name for p in layout.builds_dir(tmp_path).iterdir()) == ["b3", "b4"]
    assert dropped == ["b1", "b2"]  # only complete builds have a collection to drop
    assert not half_written.exists()


def test_prune_never_removes_the_live_build_even_if_older(tmp_path: Path) -> None:
    builds = [make_build(tmp_path, n) for n in ["b1", "b2", "b3", "b4"]]
    layout.publish(tmp_path, builds[0])  # rolled back to the oldest
    layout.prune(tmp_path)
    assert sorted(p.name for p in layout.builds_dir(tmp_path).iterdir()) == ["b1", "b3", "b4"]


def test_prune_of_an_empty_index_does_nothing(tmp_path: Path) -> None:
    layout.prune(tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_rows_and_manifest_round_trip(tmp_path: Path) -> None:
    rows = [{"id": 1, "text": "Crème"}, {"id": 2, "text": "line\nbreak"}]
    layout.write_rows(tmp_path / layout.CHUNKS_FILE, rows)
    lines = (tmp_path / layout.CHUNKS_FILE).read_text("utf-8").splitlines()
    assert [json.loads(line) for line in lines] == rows
    assert "Crème" in lines[0]  # written as UTF-8, not \\u escapes
    layout.atomic_write_text(tmp_path / layout.MANIFEST, json.dumps(expected()))
    assert layout.read_manifest(tmp_path) == expected()
