"""Incremental, safe ingest with the real model and a real Chroma in tmp_path."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from assistant.errors import IngestLockedError
from assistant.index import layout as store
from assistant.index.reader import LoadedIndex
from assistant.ingest import ingest

from ..conftest import CORPUS, make_settings


@pytest.fixture
def workspace(tmp_path: Path, embedder):
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    settings = make_settings(tmp_path / "data", corpus_dir=corpus)
    calls = {"n": 0}

    def factory():
        calls["n"] += 1
        return embedder

    def run(**kw):
        return ingest(settings, factory, model_id=embedder.model_id, **kw)

    return settings, corpus, run, calls


def stored_ids(settings, embedder) -> set[str]:
    index = LoadedIndex.open(settings, embedder.model_id)
    return set(index.collection.get(include=[])["ids"])


def test_first_ingest_then_nothing_to_do(workspace, embedder) -> None:
    settings, _, run, calls = workspace
    first = run()
    assert (len(first.added), first.chunks_added, first.total_chunks) == (5, 81, 81)
    assert first.embedded > first.total_chunks  # chunks and their sentences
    second = run()
    assert second.changed is False
    assert (second.embedded, len(second.unchanged), second.chunks_unchanged) == (0, 5, 81)
    assert calls["n"] == 1  # the model was not even loaded the second time
    assert second.build == first.build
    index = LoadedIndex.open(settings, embedder.model_id)
    assert index.collection.count() == 81
    assert index.collection.configuration_json["hnsw"]["space"] == "cosine"


def test_changed_file_is_rechunked_and_deleted_file_removed(workspace, embedder) -> None:
    settings, corpus, run, _ = workspace
    run()
    basics = corpus / "womens-health-microneedling-basics.md"
    basics.write_text(
        basics.read_text("utf-8") + "\n## Aftercare Line\n\nCall the clinic with questions.\n",
        "utf-8",
    )
    (corpus / "at-home-micro-needling-kerry-benjamin.md").unlink()
    summary = run()
    assert summary.updated == ["womens-health-microneedling-basics"]
    assert summary.removed == ["at-home-micro-needling-kerry-benjamin"]
    # Only the new chunk is embedded (it and its one sentence); the rest are reused.
    assert (summary.chunks_added, summary.embedded) == (1, 2)
    index = LoadedIndex.open(settings, embedder.model_id)
    assert {c.doc_id for c in index.chunks} == {
        "womens-health-microneedling-basics",
        "dermaroller-micro-needling-intro",
        "microneedling-benefits-guide",
        "microneedling-benefits-and-cautions",
    }
    assert any(c.section == "Aftercare Line" for c in index.chunks)
    assert stored_ids(settings, embedder) == {c.id for c in index.chunks}
    for chunk in index.chunks:
        on_disk = (corpus / f"{chunk.doc_id}.md").read_text("utf-8")
        assert on_disk[chunk.start : chunk.end] == chunk.text


def test_bad_files_are_skipped_with_a_message(workspace) -> None:
    _, corpus, run, _ = workspace
    (corpus / "empty.md").write_text("", "utf-8")
    (corpus / "latin1.txt").write_bytes(b"Microneedling caf\xe9")
    (corpus / "image.md").write_bytes(b"\x89PNG\r\n\x00\x00")
    summary = run()
    assert len(summary.added) == 5
    assert sorted(s.split(": ", 1)[1] for s in summary.skipped) == [
        "is empty",
        "is not valid UTF-8 (byte 17)",
        "looks like a binary file (contains NUL bytes)",
    ]


def test_rebuild_makes_a_new_build_and_prunes_old_ones(workspace) -> None:
    settings, _, run, _ = workspace
    builds = [run().build, run(rebuild=True).build, run(rebuild=True).build]
    assert len(set(builds)) == 3
    kept = sorted(p.name for p in store.builds_dir(settings.index_path).iterdir())
    assert kept == sorted(builds[1:])
    assert (settings.index_path / "CURRENT").read_text().strip() == builds[2]


def test_a_second_ingest_is_refused_while_one_runs(workspace) -> None:
    from filelock import FileLock

    settings, _, run, _ = workspace
    settings.index_path.mkdir(parents=True)
    with (
        FileLock(str(settings.index_path / "ingest.lock")),
        pytest.raises(IngestLockedError, match="Another ingest is already running"),
    ):
        run()


def test_manifest_records_model_and_chunker(workspace, embedder) -> None:
    settings, _, run, _ = workspace
    run()
    build = store.current_build(settings.index_path)
    manifest = json.loads((build / "manifest.json").read_text())
    assert manifest["model_id"] == embedder.model_id
    assert manifest["chunker_version"] == "2"
    assert manifest["documents"]["womens-health-microneedling-basics"]["chunks"] == 7


def test_an_index_of_the_previous_int8_model_is_refused_and_reembedded(workspace, embedder):
    """The int8 id carries a version: an index embedded by the old int8 recipe (id
    ``...@onnx-int8``) must not be served with, or topped up by, the new int8 vectors."""
    from assistant.embeddings import MODEL_NAME, model_id_for
    from assistant.errors import IndexMismatchError

    settings, _, run, _ = workspace
    first = run()
    manifest_path = store.current_build(settings.index_path) / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["model_id"] = f"{MODEL_NAME}@onnx-int8"
    manifest_path.write_text(json.dumps(manifest))

    assert model_id_for("onnx") == f"{MODEL_NAME}@onnx-int8-v2"
    with pytest.raises(IndexMismatchError, match="onnx-int8-v2"):
        LoadedIndex.open(settings, model_id_for("onnx"))
    again = ingest(settings, lambda: embedder, model_id=model_id_for("onnx"))
    assert again.chunks_unchanged == 0  # no vector of the old model is reused
    assert again.embedded == first.embedded


# -- the corpus boundary (issue 19) ----------------------------------------------------------
def test_only_regular_files_of_the_corpus_folder_are_read(tmp_path: Path) -> None:
    import os

    from assistant.ingest.corpus import load_corpus

    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    os.mkfifo(corpus / "pipe.md")  # opened plainly, a FIFO would block ingest for ever
    os.link(corpus / "microneedling-benefits-guide.md", tmp_path / "elsewhere.md")
    (corpus / "folder.md").mkdir()
    docs, errors = load_corpus(corpus)
    reasons = {Path(e.path).name: e.reason for e in errors}
    assert reasons == {
        "folder.md": "is a folder; only regular files are read",
        "pipe.md": "is a FIFO; only regular files are read",
        "microneedling-benefits-guide.md": "has 2 hard links, so it may be a file from outside "
        "the corpus folder; copy it in instead",
    }
    assert len(docs) == 4


def test_the_allowlist_admits_only_vetted_files(tmp_path: Path) -> None:
    import hashlib

    from assistant.ingest.allowlist import Allowlist
    from assistant.ingest.corpus import load_corpus

    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    (corpus / "stray.md").write_text("# Stray\n\nUnvetted text.\n", "utf-8")
    basics = "womens-health-microneedling-basics.md"
    digest = hashlib.sha256((corpus / basics).read_bytes()).hexdigest()
    listing = tmp_path / "vetted.sha256"
    listing.write_text(
        "# vetted by the medical lead\n"
        f"{digest}  {basics}\n"
        f"{'0' * 64} *at-home-micro-needling-kerry-benjamin.md\n"
        "dermaroller-micro-needling-intro.md\n"
        "gone.md\n",
        "utf-8",
    )
    docs, errors = load_corpus(corpus, allowlist=Allowlist.read(listing))
    assert {d.id for d in docs} == {"womens-health-microneedling-basics", DERMAROLLER}
    reasons = {Path(e.path).name: e.reason for e in errors}
    assert reasons["stray.md"] == "is not in the allow-list vetted.sha256"
    assert reasons["microneedling-benefits-guide.md"] == "is not in the allow-list vetted.sha256"
    assert reasons["at-home-micro-needling-kerry-benjamin.md"].startswith(
        "differs from the version vetted in vetted.sha256 (SHA-256 "
    )
    assert reasons["gone.md"] == "is listed in vetted.sha256 but absent"


@pytest.mark.parametrize(
    ("content", "detail"),
    [
        ("../outside.md\n", "line 1: '../outside.md' is not a file name in the corpus folder"),
        ("a.md\na.md\n", "line 2: 'a.md' is listed twice"),
        ("# nothing\n", "it lists no files"),
    ],
)
def test_a_malformed_allowlist_stops_ingest(workspace, tmp_path: Path, content, detail) -> None:
    from assistant.errors import CorpusAllowlistError

    settings, _, _, calls = workspace
    listing = tmp_path / "vetted.sha256"
    listing.write_text(content, "utf-8")
    settings = settings.model_copy(update={"corpus_allowlist": listing})
    with pytest.raises(CorpusAllowlistError, match=re.escape(detail)):
        ingest(settings, lambda: None, model_id="unused")  # type: ignore[arg-type, return-value]
    assert calls["n"] == 0 and not (settings.index_path / "builds").exists()


def test_ingest_reads_the_allowlist_setting(tmp_path: Path, embedder) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(CORPUS / f"{DERMAROLLER}.md", corpus)
    (corpus / "stray.md").write_text("# Stray\n\nUnvetted microneedling text.\n", "utf-8")
    listing = tmp_path / "vetted.sha256"
    listing.write_text(f"{DERMAROLLER}.md\n", "utf-8")
    settings = make_settings(tmp_path / "data", corpus_dir=corpus, corpus_allowlist=listing)
    summary = ingest(settings, lambda: embedder, model_id=embedder.model_id)
    assert summary.added == [DERMAROLLER]
    assert summary.skipped == [f"{corpus / 'stray.md'}: is not in the allow-list vetted.sha256"]


DERMAROLLER = "dermaroller-micro-needling-intro"
