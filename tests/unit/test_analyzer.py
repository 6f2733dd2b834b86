"""index.analyzer and index.vocabulary: text to terms, and term statistics over chunks."""

from __future__ import annotations

import math

import pytest

from assistant.index.analyzer import Analyzer, analyzer_version
from assistant.index.vocabulary import Vocabulary, topic_tokens
from assistant.schema import Chunk

GROUPS = [["sunscreen", "sun cream", "spf"], ["derma roller", "dermaroller", "micro-roller"]]


@pytest.fixture(scope="module")
def analyzer() -> Analyzer:
    return Analyzer(GROUPS)


def chunk(n: int, text: str) -> Chunk:
    return Chunk(f"doc:{n}", "doc", "Guide", "Care", 0, len(text), text, f"hash{n}")


@pytest.fixture(scope="module")
def vocabulary(analyzer: Analyzer) -> Vocabulary:
    return Vocabulary(
        analyzer,
        [
            chunk(0, "Apply sunscreen every morning."),
            chunk(1, "Sunscreen protects healing skin."),
            chunk(2, "Clean the derma roller with alcohol."),
        ],
    )


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        # Every spelling of a synonym group is one unstemmed term, named by its first entry.
        ("I use sun cream daily", ["sunscreen", "daili"]),
        ("SPF or sunscreens?", ["sunscreen", "sunscreen"]),
        ("My derma roller hurts", ["derma_roller", "hurt"]),
        ("Dermaroller's needles", ["derma_roller", "needl"]),
        ("micro-roller", ["derma_roller"]),
        # Stop-words go, digits stay, either apostrophe is read the same.
        ("the a an of", []),
        ("don’t stop 3 days", ["stop", "3", "day"]),
        ("don't stop 3 days", ["stop", "3", "day"]),
    ],
)
def test_tokens(analyzer: Analyzer, text: str, tokens: list[str]) -> None:
    assert analyzer.tokens(text) == tokens


def test_a_synonym_phrase_must_be_whole_words(analyzer: Analyzer) -> None:
    # "spf" inside "spfx" is not the synonym; a hyphenated "sun-cream" is not "sun cream".
    assert analyzer.tokens("spfx") == ["spfx"]
    assert analyzer.tokens("sun-cream") == ["sun", "cream"]


def test_phrase_spans_mark_synonyms_of_more_than_one_word(analyzer: Analyzer) -> None:
    text = "Is sun cream or SPF better than a derma roller?"
    assert [text[a:b].strip() for a, b in analyzer.phrase_spans(text)] == [
        "sun cream",
        "derma roller",
    ]


def test_passage_terms_are_the_token_set(analyzer: Analyzer) -> None:
    terms = analyzer.passage_terms("Sunscreen, then more sunscreen.")
    assert terms == frozenset({"sunscreen"})
    assert analyzer.passage_terms("Sunscreen, then more sunscreen.") is terms  # memoised


def test_the_package_analyzer_reads_the_data_files() -> None:
    version = analyzer_version()
    assert len(version) == 16 and int(version, 16) >= 0
    assert version == analyzer_version()  # a hash of the files, stable between calls
    # The group's first spelling, "dermaroller", names the term (and is stemmed).
    assert Analyzer.from_package().tokens("My derma roller hurts") == ["dermarol", "hurt"]


def test_document_frequencies_count_each_chunk_once(vocabulary: Vocabulary) -> None:
    assert vocabulary.n == 3
    assert vocabulary.df["sunscreen"] == 2
    assert vocabulary.df["derma_roller"] == 1
    assert vocabulary.df["guid"] == 3  # the title is part of every chunk's text


def test_the_keyword_index_holds_the_same_document_frequencies(
    analyzer: Analyzer, vocabulary: Vocabulary
) -> None:
    """A served build's vocabulary comes from its BM25 index, not a second analysis; a
    chunk without a single term (indexed under a placeholder) adds nothing."""
    from assistant.index.keyword import KeywordIndex
    from assistant.index.local import keyword_text

    chunks = [
        chunk(0, "Apply sunscreen every morning."),
        chunk(1, "Sunscreen protects healing skin."),
        chunk(2, "Clean the derma roller with alcohol."),
    ]
    tokens = [analyzer.tokens(keyword_text(c)) for c in chunks] + [[]]
    df = KeywordIndex.from_tokens(analyzer, tokens).document_frequencies()
    assert df == vocabulary.df
    again = Vocabulary.from_counts(analyzer, df, len(chunks))
    assert again.n == 3 and again.correct("alcohl") == "alcohol"
    assert again.weights("sunscreen roller") == vocabulary.weights("sunscreen roller")


def test_misspellings_are_corrected_to_an_article_term(vocabulary: Vocabulary) -> None:
    assert vocabulary.correct("alcohl") == "alcohol"
    assert vocabulary.correct("sunscren") == "sunscreen"
    assert vocabulary.correct("xyz") == "xyz"  # too short to guess
    assert vocabulary.correct("12345678") == "12345678"  # numbers are never corrected
    assert vocabulary.corrected("clean with alcohl") == "clean with alcohol"


def test_weights_are_idf_of_topic_terms_without_numbers(vocabulary: Vocabulary) -> None:
    weights = vocabulary.weights("does sunscreen help on day 3 of healing?")
    assert weights == pytest.approx(
        {
            "sunscreen": math.log(1 + 3 / 3),
            "day": math.log(1 + 3 / 1),  # in no chunk: the rarest
            "heal": math.log(1 + 3 / 2),
        }
    )


def test_generic_domain_words_are_not_topic_terms(analyzer: Analyzer) -> None:
    assert topic_tokens(analyzer, "microneedling skin session with sunscreen") == ["sunscreen"]


def test_unknown_words_are_those_no_chunk_uses(vocabulary: Vocabulary) -> None:
    # "derma" and "roller" are words of a known phrase, so neither is unknown.
    assert vocabulary.unknown_words("can I lend my derma roller to my roommate?") == [
        "lend",
        "roommate?",
    ]
    assert vocabulary.unknown_words("clean with alcohl") == []  # a correctable misspelling
