"""assistant.text: sentence splitting, quantities, numbers and the negation lexicon."""

from __future__ import annotations

import doctest

import pytest

import assistant.text
from assistant.schema import Sentence
from assistant.text import CAUTION, NEGATION, NUMBER, quantities, split_sentences


def texts(text: str) -> list[str]:
    return [s.text for s in split_sentences(text)]


def test_docstring_examples_hold() -> None:
    assert doctest.testmod(assistant.text).failed == 0


def test_sentences_carry_offsets_shifted_by_base_and_trimmed() -> None:
    text = "  Rest today.   Walk tomorrow.  "
    assert split_sentences(text, base=100) == [
        Sentence(102, 113, "Rest today."),
        Sentence(116, 130, "Walk tomorrow."),
    ]
    for s in split_sentences(text, base=100):
        assert text[s.start - 100 : s.end - 100] == s.text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Abbreviations and decimals are not sentence ends.
        ("Ask Dr. Lee first. Then book.", ["Ask Dr. Lee first.", "Then book."]),
        ("Use 0.5 mm needles. Done", ["Use 0.5 mm needles.", "Done"]),
        ("Oils (e.g. argan) help. Water too.", ["Oils (e.g. argan) help.", "Water too."]),
        # A closing quote stays with its sentence.
        ('He said "stop." Then he left.', ['He said "stop."', "Then he left."]),
        # ! and ? end sentences; a lower-case word after a full stop does not start one.
        ("It works! Really? yes it does.", ["It works!", "Really? yes it does."]),
        ("Wait 2 wks. then go.", ["Wait 2 wks. then go."]),
        ("", []),
        ("   ", []),
    ],
)
def test_sentence_boundaries(text: str, expected: list[str]) -> None:
    assert texts(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("two to four weeks", {("week", 2.0, 4.0)}),
        ("24-48 hours", {("hour", 24.0, 48.0)}),
        ("3–5 days", {("day", 3.0, 5.0)}),  # an en dash
        ("twelve weeks", {("week", 12.0, 12.0)}),
        ("1.5 hours and 6 months", {("hour", 1.5, 1.5), ("month", 6.0, 6.0)}),
        ("2 to 4 weeks or 4 to 6 weeks", {("week", 2.0, 4.0), ("week", 4.0, 6.0)}),
        ("a few days", set()),  # no number, no quantity
        ("10 mm", set()),  # not a span of time
    ],
)
def test_quantities_are_normalised_ranges_of_time(text: str, expected: set) -> None:
    assert quantities(text) == expected


def test_number_finds_digits_prices_percentages_and_number_words() -> None:
    found = NUMBER.findall("It costs $700, or 50% less, twice a year, 3.5 mm, a dozen.")
    assert found == ["$700", "50%", "twice", "3.5", "dozen"]


@pytest.mark.parametrize(
    "word",
    [
        *("not", "no", "never", "nothing", "without", "cannot", "avoid", "Avoided"),
        *("unless", "contraindicated", "pain-free", "painless"),
    ],
)
def test_negation_words(word: str) -> None:
    assert NEGATION.search(f"you should {word} do that")


@pytest.mark.parametrize("text", ["don't", "doesn’t", "isn't", "can’t"])
def test_negation_contractions_with_either_apostrophe(text: str) -> None:
    assert NEGATION.search(text)


@pytest.mark.parametrize("text", ["a note", "a knot", "Notably", "nonetheless it heals"])
def test_negation_needs_a_whole_word(text: str) -> None:
    assert not NEGATION.search(text)


@pytest.mark.parametrize("word", ["precautions", "careful", "risks", "consult"])
def test_caution_words_carry_a_warning_without_negating(word: str) -> None:
    assert CAUTION.search(word)
    assert not NEGATION.search(word)
