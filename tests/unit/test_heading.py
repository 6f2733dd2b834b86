"""A question's key term in the own heading of a top passage (``gate.heading_term``)."""

from __future__ import annotations

from assistant.answer.gate import heading_term
from assistant.index.analyzer import Analyzer
from assistant.schema import Chunk, Hit

ANALYZER = Analyzer.from_package()


def hit(section: str) -> Hit:
    return Hit(Chunk(f"d:{section}", "d", "Guide", section, 0, 10, "Some text.", "h"), 1.0)


def test_the_key_term_in_a_top_passages_own_heading_is_found() -> None:
    hits = [hit("Aftercare"), hit("Aftercare > Avoid Strenuous Exercise and Saunas")]
    assert heading_term("exercis", hits, ANALYZER, top=3) == "exercis"
    # Only the first ``top`` passages count.
    assert heading_term("exercis", hits, ANALYZER, top=1) is None


def test_a_parent_heading_is_too_broad_to_count() -> None:
    hits = [hit("Exercise and Recovery > Redness")]
    assert heading_term("exercis", hits, ANALYZER, top=3) is None


def test_a_word_naming_the_kind_of_question_is_no_topic() -> None:
    hits = [hit("How Often Do You Need Treatments?")]
    key = ANALYZER.tokens("often")[0]
    assert heading_term(key, hits, ANALYZER, top=3) is None
    assert heading_term(None, hits, ANALYZER, top=3) is None
