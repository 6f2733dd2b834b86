"""Safety topics survive typos and phrasing; a number alone never makes a minor."""

from __future__ import annotations

import pytest

from assistant.answer.safety import SafetyRules
from assistant.text import edit_distance, typo_of


@pytest.fixture(scope="module")
def rules() -> SafetyRules:
    return SafetyRules.from_package()


def names(rules: SafetyRules, text: str) -> list[str]:
    return [t.name for t in rules.detect(text)]


@pytest.mark.parametrize(
    ("message", "topic"),
    [
        ("can i do it if im pregant", "pregnancy"),
        ("i'm expecting, 20 weeks", "pregnancy"),
        ("still breast feeding my son", "pregnancy"),
        ("stopped acutane in june", "isotretinoin"),
        ("on roacutane", "isotretinoin"),
        ("my excema flares in winter", "eczema_psoriasis"),
        ("I take eliquis for my heart", "blood_thinners"),
        ("on warferin", "blood_thinners"),
        ("my daughter wants it", "minors"),
        ("I'm 16, can I book?", "minors"),
        ("we're having a baby in june", "pregnancy"),
        ("my baby is due in may", "pregnancy"),
        ("just had my second baby", "pregnancy"),
        ("darkish marks showed up a week after my session", "pigmentation_after"),
        ("two sore red lumps came up on my forehead", "active_acne"),
        ("i was a bit spotty this week", "active_acne"),
        ("i got really burnt on holiday", "sun_exposure"),
        ("since rolling I've got brownish blotches on one cheek", "pigmentation_after"),
    ],
)
def test_a_topic_is_found_through_typos_and_phrasing(
    rules: SafetyRules, message: str, topic: str
) -> None:
    assert topic in names(rules, message)


@pytest.mark.parametrize(
    "message",
    [
        "im 14 weeks into my course of sessions",
        "it's been 12 days since my session",
        "I am 15 minutes from the clinic",
        "im aspiring to be an esthetician",
        "how long until the redness fades",
        "will it fade my dark spots",
        "i burnt my hand cooking",
    ],
)
def test_no_topic_from_a_number_or_a_look_alike_word(rules: SafetyRules, message: str) -> None:
    assert names(rules, message) == []


@pytest.mark.parametrize(
    "message",
    ["im kind of a baby about needles", "will my skin be baby soft", "my skin is baby smooth"],
)
def test_baby_as_a_word_for_something_else_is_no_pregnancy(
    rules: SafetyRules, message: str
) -> None:
    assert "pregnancy" not in names(rules, message)


def test_baby_aspirin_is_a_blood_thinner_not_a_pregnancy(rules: SafetyRules) -> None:
    assert names(rules, "i take a baby aspirin every day") == ["blood_thinners"]


def test_a_typo_keeps_the_first_letter_and_is_a_small_edit() -> None:
    spellings = frozenset({"pregnant", "eczema", "aspirin"})
    assert typo_of("pregant", spellings) == "pregnant"
    assert typo_of("excema", spellings) == "eczema"
    assert typo_of("aspiring", spellings) is None  # a longer word, not a typo
    assert typo_of("regnant", spellings) is None  # the first letter differs
    assert edit_distance("kitten", "sitting", 5) == 3
    assert edit_distance("kitten", "sitting", 1) == 2  # stops once past the limit
