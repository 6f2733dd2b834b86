"""Chunk boundaries, heading paths and offsets on the real corpus."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.errors import CorpusFileError
from assistant.ingest.chunking import INTRO_SECTION, chunk_document, split_sentences
from assistant.ingest.corpus import load_corpus, read_document

from ..conftest import CORPUS

GUIDE = "microneedling-benefits-guide"
POST_CARE = (
    "Navigating the Microneedling Process: A Practical Guide > "
    "4. Post-Treatment Care: Optimizing Healing and Results"
)


@pytest.fixture(scope="module")
def corpus():
    docs, errors = load_corpus(CORPUS)
    assert errors == []
    return {d.id: (d, chunk_document(d)) for d in docs}


def test_corpus_has_the_five_articles_with_front_matter(corpus) -> None:
    assert sorted(corpus) == [
        "at-home-micro-needling-kerry-benjamin",
        "dermaroller-micro-needling-intro",
        "microneedling-benefits-and-cautions",
        GUIDE,
        "womens-health-microneedling-basics",
    ]
    doc, _ = corpus["womens-health-microneedling-basics"]
    assert doc.publisher == "Women's Health (Womenshealthmag.com)"
    assert doc.retrieved == "2026-11-21"
    assert "Screen Shot" not in corpus["dermaroller-micro-needling-intro"][0].text


def test_every_chunk_and_sentence_is_verbatim_at_its_offsets(corpus) -> None:
    for doc, chunks in corpus.values():
        on_disk = doc.path.read_text("utf-8")
        for chunk in chunks:
            assert on_disk[chunk.start : chunk.end] == chunk.text
            for sentence in chunk.sentences:
                assert on_disk[sentence.start : sentence.end] == sentence.text
                assert chunk.start <= sentence.start < sentence.end <= chunk.end


def test_labelled_list_items_become_sub_sections(corpus) -> None:
    _, chunks = corpus[GUIDE]
    makeup = [c for c in chunks if c.section == f"{POST_CARE} > No Makeup (Initially)"]
    assert len(makeup) == 1
    # The chunk opens with the item's "- " (the composer reads it); its first sentence
    # does not.
    assert makeup[0].text.startswith("- No Makeup (Initially): Avoid applying makeup")
    assert makeup[0].sentences[0].text.startswith("No Makeup (Initially): Avoid")
    assert makeup[0].text.endswith("opt for mineral-based formulations.")
    assert [s.text for s in makeup[0].sentences][-1] == (
        "Actionable Advice: If you must wear makeup, opt for mineral-based formulations."
    )


def test_heading_paths_and_intro(corpus) -> None:
    _, chunks = corpus["womens-health-microneedling-basics"]
    assert [c.section for c in chunks][:1] == [INTRO_SECTION]
    assert "What’s the Pain Like?" in {c.section for c in chunks}
    _, chunks = corpus["dermaroller-micro-needling-intro"]
    assert {c.section for c in chunks} == {INTRO_SECTION}


def test_chunks_stay_in_one_section_and_under_the_size_limit(corpus) -> None:
    for doc, chunks in corpus.values():
        for chunk in chunks:
            assert len(chunk.text) <= 700 or len(chunk.sentences) == 1
            # A chunk never crosses a Markdown heading.
            assert "\n#" not in chunk.text
            assert chunk.embed_text.startswith(f"{doc.title} > {chunk.section}\n")


def test_sentences_do_not_split_abbreviations_or_decimals() -> None:
    text = "Engelman, M.D., a dermatologist. Use .25 millimeter needles (e.g., a roller). Done?"
    assert [s.text for s in split_sentences(text)] == [
        "Engelman, M.D., a dermatologist.",
        "Use .25 millimeter needles (e.g., a roller).",
        "Done?",
    ]


def test_plain_text_file_takes_title_from_first_line(tmp_path: Path) -> None:
    path = tmp_path / "Aftercare Notes.txt"
    path.write_text("Aftercare notes\n\nKeep the skin clean. Use SPF 30 daily.\n", "utf-8")
    doc = read_document(path)
    assert (doc.id, doc.title) == ("aftercare-notes", "Aftercare notes")
    [chunk] = chunk_document(doc)
    assert chunk.text == "Keep the skin clean. Use SPF 30 daily."


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "is empty"),
        (b"   \n\n", "is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "binary"),
        (b"caf\xe9 au lait", "not valid UTF-8"),
        (b"---\ntitle: [unclosed\n---\nText.", "invalid YAML"),
    ],
)
def test_unusable_files_get_a_specific_reason(tmp_path: Path, content: bytes, reason: str) -> None:
    path = tmp_path / "bad.md"
    path.write_bytes(content)
    with pytest.raises(CorpusFileError, match=reason):
        read_document(path)
