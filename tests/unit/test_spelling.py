"""Misspelled words read as the article words they are typos of; real words left alone."""

from __future__ import annotations

from assistant.answer.spelling import Speller, article_words, english_words
from assistant.schema import Chunk

ARTICLE = frozenset({"sessions", "difference", "before", "microneedling", "grease", "redness"})


def test_typos_of_article_words_are_read_as_them() -> None:
    speller = Speller(ARTICLE, frozenset())
    assert speller.fix("How many sesions befor a diffrence?") == (
        "How many sessions before a difference?"
    )
    assert speller.fix("microneedlign") == "microneedling"  # two letters swapped
    assert speller.fix("Redeness") == "redness"


def test_a_known_word_is_no_typo_even_when_it_is_close() -> None:
    speller = Speller(ARTICLE, frozenset({"greece"}))
    assert speller.fix("going to greece") == "going to greece"
    assert Speller(ARTICLE, frozenset()).fix("going to greece") == "going to grease"


def test_a_word_closer_to_a_common_word_than_to_any_article_word_is_left_alone() -> None:
    articles = frozenset({"ranging", "sessions"})
    # "runing": two edits from the article word "ranging", one from the common "running".
    assert Speller(articles, frozenset({"running"})).fix("off from runing") == "off from runing"
    assert Speller(articles, frozenset()).fix("off from runing") == "off from ranging"
    # One edit from an article word: corrected even when a common word is one edit off too.
    assert Speller(articles, frozenset({"lesions"})).fix("sesions") == "sessions"


def test_short_words_and_ties_are_left_as_written() -> None:
    speller = Speller(frozenset({"shed", "should", "paste", "pasta"}), frozenset())
    assert speller.fix("shud") == "shud"  # four letters: shorthand, not a typo
    assert speller.fix("pastx") == "pastx"  # last letter kept by neither
    assert Speller(frozenset({"bland", "blend"}), frozenset()).fix("blxnd") == "blxnd"  # a tie


def test_the_english_list_knows_everyday_words_the_articles_do_not_use() -> None:
    words = english_words()
    assert {"overkill", "dents", "tummy", "greece"} <= words
    assert not {"sesions", "diffrence", "befor"} & words


def test_article_words_come_from_titles_sections_texts_and_synonyms() -> None:
    chunk = Chunk("d:0", "d", "Title Word", "Section Word", 0, 15, "Body Word here.", "h")
    assert {"title", "section", "body", "sunscreen"} <= article_words([chunk], ["sunscreen"])


def test_chat_shorthand_is_read_as_the_word_it_stands_for() -> None:
    speller = Speller(frozenset({"appointment"}), frozenset(), {"appt": "appointment", "hw": "how"})
    assert speller.fix("Hw soon after my appt?") == "how soon after my appointment?"
    # Only whole words: "happt" or "hwy" are no shorthand.
    assert speller.fix("hwy happt") == "hwy happt"


def test_the_shorthand_list_expands_to_words_not_typos() -> None:
    from assistant.answer.spelling import shorthand

    table = shorthand()
    assert table["wks"] == "weeks" and table["n"] == "and"
    assert all(short.isalpha() and short == short.lower() for short in table)
