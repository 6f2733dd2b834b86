"""LLM mode's meaning checks and markup rules, read without any model: polarity and
opposites, amounts and units, typographic quotes, how a passage is read (lead-ins,
continuations), every tag and entity removed, links found."""

from __future__ import annotations

import pytest

from assistant.answer.meaning import MeaningReader
from assistant.answer.support import passage_units
from assistant.index.analyzer import Analyzer
from assistant.llm.markup import clean, links
from assistant.text import plain_quotes

READER = MeaningReader(Analyzer.from_package())


def agrees(claim: str, source: str) -> bool:
    return READER.disagreement(READER.read(claim), READER.read(source)) is None


# -- polarity -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("claim", "source", "same"),
    [
        # requires versus does not require
        (
            "It requires the same downtime as a peel.",
            "It does not require the downtime of a peel.",
            False,
        ),
        (
            "It doesn’t require the downtime of a peel.",
            "It does not require the downtime of a peel.",
            True,
        ),
        # two negations cancel; avoid / should not / not recommended / contraindicated
        ("Pregnant women should not avoid it.", "Pregnant women should avoid it.", False),
        ("It is not recommended for pregnant women.", "Pregnant women should avoid it.", True),
        ("It is contraindicated for pregnant women.", "Pregnant women should avoid it.", True),
        (
            "Pregnancy is not strictly contraindicated.",
            "Pregnancy: while not strictly contraindicated, many advise against it.",
            True,
        ),
        (
            "Pregnancy is strictly contraindicated.",
            "Pregnancy: while not strictly contraindicated, many advise against it.",
            False,
        ),
        # "without X", "X-free", "free of X" all deny X; leaving X out drops no negation
        (
            "The skin looks glowing and free of irritation after three days.",
            "The skin looks glowing and without irritation after three days.",
            True,
        ),
        (
            "The skin looks glowing after three days.",
            "The skin looks glowing and without irritation after three days.",
            True,
        ),
        (
            "The skin looks glowing and irritated after three days.",
            "The skin looks glowing and without irritation after three days.",
            False,
        ),
        # each clause keeps its own negation
        ("It doesn't hurt.", "It really doesn't hurt, and there is no waiting period.", True),
        (
            "There is a waiting period.",
            "It really doesn't hurt, and there is no waiting period.",
            False,
        ),
        ("Everyone can safely undergo it.", "Not everyone can safely undergo it.", False),
        # opposites
        (
            "Tanned skin is less susceptible to reactions.",
            "Tanned skin is more susceptible to reactions.",
            False,
        ),
        (
            "More sun exposure lowers the risk.",
            "Limiting exposure to sunlight reduces the risk.",
            False,
        ),
        (
            "Limiting sun exposure lowers the risk.",
            "Limiting exposure to sunlight reduces the risk.",
            True,
        ),
        (
            "Avoid sun for two weeks after your treatment.",
            "Avoid sun for two weeks before your treatment.",
            False,
        ),
        ("Keep using retinoids.", "Discontinue the use of retinoids.", False),
    ],
)
def test_polarity_and_opposites(claim: str, source: str, same: bool) -> None:
    assert agrees(claim, source) is same


def test_a_drop_is_explained() -> None:
    why = READER.disagreement(
        READER.read("It requires the same downtime as a peel."),
        READER.read("The treatment causes redness, but it does not require the downtime."),
    )
    assert why == (
        "negation differs: “It requires the same downtime as a peel” where the source says "
        "“but it does not require the downtime”"
    )


def test_typographic_apostrophes_and_quotes_are_made_plain() -> None:
    assert plain_quotes("doesn’t “hurt” ‘much’") == "doesn't \"hurt\" 'much'"
    assert agrees("It doesn’t hurt.", "It doesn't hurt.")
    assert not agrees("It hurts.", "It doesn’t hurt.")


# -- numbers and units ------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "amounts"),
    [
        ("needles less than .5 millimeters", [(0.5, 0.5, "mm")]),
        ("typically 0.2mm to 0.5mm", [(0.2, 0.5, "mm")]),
        ("typically 0.2 to 0.5 mm", [(0.2, 0.5, "mm")]),
        ("every two to four weeks", [(2, 4, "week")]),
        ("for 24–48 hours", [(24, 48, "hour")]),
        ("once or twice a week", [(1, 2, "times")]),
        ("up to five times per week", [(5, 5, "times")]),
        ("for at least a week", [(1, 1, "week")]),
        ("up to $700", [(700, 700, "dollar")]),
        ("more than 90%", [(90, 90, "percent")]),
        ("a series of six treatments", [(6, 6, "session")]),
        ("one of the most effective ways, and one could damage the skin", []),
        ("once your results are achieved", []),
        ("only half the battle", []),
        ("after one treatment", [(1, 1, "session")]),
    ],
)
def test_amounts_are_read_with_their_units(text: str, amounts: list[tuple]) -> None:
    assert [(a.low, a.high, a.unit) for a in READER.read(text).amounts] == amounts


@pytest.mark.parametrize(
    ("claim", "same"),
    [
        ("Needles shorter than 0.5 mm cause no pain.", True),
        ("Needles shorter than .5 millimeters cause no pain.", True),
        ("Needles shorter than 5 mm cause no pain.", False),
        ("Needles shorter than 0.5 cm cause no pain.", False),
    ],
)
def test_numbers_must_match_in_value_and_unit(claim: str, same: bool) -> None:
    assert agrees(claim, "There is no pain with needles less than .5 millimeters.") is same


def test_list_items_are_read_with_their_lead_in_and_continuations_with_their_sentence() -> None:
    units = passage_units(
        "Avoid it if you have:\n\n- Open wounds.\n- Cold sores.\nCream is applied. This is "
        "left on for 20-30 minutes."
    )
    assert "Avoid it if you have: Open wounds." in units
    assert "Cream is applied. This is left on for 20-30 minutes." in units


# -- markup and links ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("raw", "text"),
    [
        ("It helps. <script>alert('x')</script> [1]", "It helps. [1]"),
        ("It does <b>not</b> hurt [1].", "It does not hurt [1]."),
        ("<img src=x onerror=alert(1)>It heals [1].", "It heals [1]."),
        ("It heals.&lt;script&gt;alert(1)&lt;/script&gt; [1]", "It heals. [1]"),
        ("It heals &amp;lt;b&amp;gt;fast [1].", "It heals fast [1]."),
        ("Needles < 0.5 mm hurt less [1].", "Needles < 0.5 mm hurt less [1]."),
        ("It heals <scr", "It heals"),
    ],
)
def test_every_tag_and_entity_is_removed(raw: str, text: str) -> None:
    assert clean(raw).text == text


def test_bare_domains_and_email_addresses_are_links() -> None:
    assert links("Book at evil.example or write to me@evil.example today.") == [
        "me@evil.example",
        "evil.example",
    ]
    assert links("See [our guide](javascript:alert(1)).")[0].startswith("[our guide](javascript:")
    assert links("Use needles of 0.5mm, e.g. at home, says Dr. Lee, M.D.") == []
