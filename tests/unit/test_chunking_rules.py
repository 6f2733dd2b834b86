"""Chunking and corpus loading on small hand-written documents: each rule on its own."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.ingest.chunking import INTRO_SECTION, chunk_document
from assistant.ingest.corpus import load_corpus, read_document
from assistant.schema import Chunk


def chunks_of(tmp_path: Path, name: str, text: str, max_chars: int = 700) -> list[Chunk]:
    path = tmp_path / name
    path.write_text(text, "utf-8", newline="")
    doc = read_document(path)
    chunks = chunk_document(doc, max_chars)
    for chunk in chunks:  # whatever the rule, every chunk and sentence is verbatim
        assert doc.text[chunk.start : chunk.end] == chunk.text
        for s in chunk.sentences:
            assert doc.text[s.start : s.end] == s.text
    return chunks


def layout(chunks: list[Chunk]) -> list[tuple[str, str]]:
    return [(c.section, c.text) for c in chunks]


def test_headings_make_a_section_path_and_text_before_them_is_the_introduction(tmp_path):
    text = (
        "---\ntitle: Toy\n---\nOpening line.\n\n# Care\nTop text.\n\n## Morning\nWash gently.\n\n"
        "### Detail\nPat dry.\n\n## Evening\nMoisturise.\n"
    )
    assert layout(chunks_of(tmp_path, "care.md", text)) == [
        (INTRO_SECTION, "Opening line."),
        ("Care", "Top text."),
        ("Care > Morning", "Wash gently."),
        ("Care > Morning > Detail", "Pat dry."),
        ("Care > Evening", "Moisturise."),  # a level-2 heading closes the level-3 one
    ]


def test_without_front_matter_the_first_line_is_the_title_not_a_section(tmp_path):
    [chunk] = chunks_of(tmp_path, "Night Routine.md", "# Night Routine\n\nSleep on silk.\n")
    assert (chunk.doc_id, chunk.title, chunk.section) == (
        "night-routine",
        "Night Routine",
        "Introduction",
    )
    assert chunk.embed_text == "Night Routine > Introduction\nSleep on silk."


def test_paragraphs_of_one_section_are_packed_up_to_the_size_limit(tmp_path):
    text = "---\ntitle: T\n---\nFirst paragraph here.\n\nSecond paragraph here.\n"
    [packed] = chunks_of(tmp_path, "a.md", text)
    assert packed.text == "First paragraph here.\n\nSecond paragraph here."
    apart = chunks_of(tmp_path, "b.md", text, max_chars=30)
    assert [c.text for c in apart] == ["First paragraph here.", "Second paragraph here."]


def test_a_long_paragraph_is_split_between_sentences(tmp_path):
    text = (
        "---\ntitle: T\n---\nOne two three four. Five six seven eight. Nine ten eleven. The end.\n"
    )
    chunks = chunks_of(tmp_path, "long.md", text, max_chars=45)
    assert [c.text for c in chunks] == [
        "One two three four. Five six seven eight.",
        "Nine ten eleven. The end.",
    ]
    assert all(len(c.text) <= 45 for c in chunks)


def test_a_sentence_longer_than_the_limit_is_kept_whole(tmp_path):
    sentence = "This single sentence is much longer than the tiny limit allows."
    [chunk] = chunks_of(tmp_path, "one.md", f"---\ntitle: T\n---\n{sentence}\n", max_chars=20)
    assert chunk.text == sentence


def test_a_chunk_never_spans_two_sections(tmp_path):
    text = "---\ntitle: T\n---\n# A\nShort.\n\n# B\nAlso short.\n"
    assert layout(chunks_of(tmp_path, "ab.md", text)) == [("A", "Short."), ("B", "Also short.")]


def test_a_labelled_item_with_sub_items_is_a_sub_section(tmp_path):
    text = (
        "---\ntitle: T\n---\n# Aftercare\n\n- Sleep: Use a clean pillowcase.\n"
        "- Makeup: Wait a day.\n  - Tip: Use mineral powder.\n- Water: Drink plenty.\n"
    )
    chunks = chunks_of(tmp_path, "items.md", text)
    assert layout(chunks) == [
        ("Aftercare", "- Sleep: Use a clean pillowcase."),
        ("Aftercare > Makeup", "- Makeup: Wait a day.\n  - Tip: Use mineral powder."),
        ("Aftercare", "- Water: Drink plenty."),
    ]
    # The chunk keeps the item's "- " (the composer reads it); its sentences do not.
    assert [s.text for s in chunks[1].sentences] == [
        "Makeup: Wait a day.",
        "Tip: Use mineral powder.",
    ]


def test_numbered_items_are_list_items(tmp_path):
    text = "---\ntitle: T\n---\n# Steps\n\n1. Cleanse the skin.\n2. Apply serum.\n"
    [chunk] = chunks_of(tmp_path, "steps.md", text)
    assert [s.text for s in chunk.sentences] == ["Cleanse the skin.", "Apply serum."]


def test_windows_line_endings_keep_offsets_exact(tmp_path):
    text = "---\r\ntitle: T\r\n---\r\n# Crlf\r\n\r\nLine one. Line two.\r\n\r\nNext para.\r\n"
    [chunk] = chunks_of(tmp_path, "crlf.md", text)
    assert [s.text for s in chunk.sentences] == ["Line one.", "Line two.", "Next para."]


def test_a_plain_text_file_has_no_headings(tmp_path):
    [chunk] = chunks_of(tmp_path, "note.txt", "Plain title\n\n# not a heading\nJust text.\n")
    assert (chunk.title, chunk.section) == ("Plain title", INTRO_SECTION)
    assert chunk.text == "# not a heading\nJust text."


def test_a_byte_order_mark_is_not_article_text(tmp_path):
    path = tmp_path / "bom.md"
    path.write_bytes("\ufeff---\ntitle: T\n---\nText here.\n".encode())
    doc = read_document(path)
    assert not doc.text.startswith("\ufeff")
    assert [c.text for c in chunk_document(doc)] == ["Text here."]


def test_editing_one_section_changes_only_its_chunk(tmp_path):
    before = "---\ntitle: T\n---\n# A\nKeep me.\n\n# B\nOld words.\n"
    after = before.replace("Old words.", "New words.")
    old, new = chunks_of(tmp_path, "v1.md", before), chunks_of(tmp_path, "v1.md", after)
    assert old[0].id == new[0].id and old[0].content_hash == new[0].content_hash
    assert old[1].id != new[1].id and old[1].content_hash != new[1].content_hash
    assert chunks_of(tmp_path, "v1.md", after) == new  # deterministic


def test_corpus_loading_skips_hidden_other_and_duplicate_files(tmp_path):
    (tmp_path / "a.md").write_text("---\nid: same\ntitle: A\n---\nText A.\n", "utf-8")
    (tmp_path / "b.md").write_text("---\nid: same\ntitle: B\n---\nText B.\n", "utf-8")
    (tmp_path / ".draft.md").write_text("Hidden\n\nNot loaded.\n", "utf-8")
    (tmp_path / "image.png").write_bytes(b"\x89PNG")
    (tmp_path / "c.txt").write_text("Title C\n\nText C.\n", "utf-8")
    docs, errors = load_corpus(tmp_path)
    assert [d.id for d in docs] == ["same", "c"]
    assert [str(e) for e in errors] == [
        f"{tmp_path / 'b.md'}: duplicate id 'same': already used by a.md, which keeps it; "
        "give this file its own id in its front matter or rename it"
    ]


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("---\ntitle: T\n---\n   \n", "has front matter but no article text"),
        ("---\n- a\n- b\n---\nText.\n", "front matter must be a mapping of fields"),
    ],
)
def test_more_unusable_files_get_a_specific_reason(tmp_path, content: str, reason: str):
    from assistant.errors import CorpusFileError

    path = tmp_path / "bad.md"
    path.write_text(content, "utf-8")
    with pytest.raises(CorpusFileError, match=reason):
        read_document(path)
