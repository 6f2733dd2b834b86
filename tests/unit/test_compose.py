"""Quotable units, quote spans and the answer-first body, on a hand-written article."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from assistant.answer import cite, compose
from assistant.ingest.chunking import chunk_document
from assistant.ingest.corpus import read_document
from assistant.schema import Hit, Role

ARTICLE = """---
id: toy
title: Toy Guide
---
## Aftercare

Healing is quick. This is normal for most people.

- Redness: Expect some redness for a day. It fades.
  - Actionable Advice: Apply a cool compress. Do not pick.
- Sun: Wear sunscreen daily.

Avoid these if you have:
- Keloid scars
"""


def chunks(tmp_path: Path):
    path = tmp_path / "toy.md"
    path.write_text(ARTICLE, "utf-8")
    doc = read_document(path)
    return doc, chunk_document(doc, max_chars=2000)


def units(tmp_path: Path):
    """The article's text, and each unit's text -> (its chunk, the unit)."""
    doc, cs = chunks(tmp_path)
    return doc, {u.text: (c, u) for c in cs for u, _ in compose.units(c)}


def cand(c, unit, score: float) -> compose.Candidate:
    return compose.Candidate(c, unit, np.ones(3) / np.sqrt(3), 0.8, score, Hit(c, 1.0))


def test_units_are_list_lines_and_paragraph_sentences(tmp_path: Path) -> None:
    _, by_text = units(tmp_path)
    assert list(by_text) == [
        "Healing is quick.",
        "This is normal for most people.",
        "Redness: Expect some redness for a day. It fades.",
        "Actionable Advice: Apply a cool compress. Do not pick.",
        "Sun: Wear sunscreen daily.",
        "Avoid these if you have:",
        "Keloid scars",
    ]


def test_a_scaffolding_label_is_cut_and_the_offsets_move(tmp_path: Path) -> None:
    doc, by_text = units(tmp_path)
    _, unit = by_text["Actionable Advice: Apply a cool compress. Do not pick."]
    quoted = compose.quoting().unlabelled(unit)
    assert quoted.text == "Apply a cool compress. Do not pick."
    assert doc.text[quoted.start : quoted.end] == quoted.text


def test_a_sub_item_is_nested_and_a_top_level_item_is_not(tmp_path: Path) -> None:
    _, by_text = units(tmp_path)
    assert compose.nested(*by_text["Actionable Advice: Apply a cool compress. Do not pick."])
    assert not compose.nested(*by_text["Redness: Expect some redness for a day. It fades."])


def test_a_quote_brings_the_sentence_it_leans_on_and_a_list_its_lead_in(tmp_path: Path) -> None:
    doc, by_text = units(tmp_path)
    leaning = cite.quote_span(cand(*by_text["This is normal for most people."], 1.0))
    assert leaning.text == "Healing is quick. This is normal for most people."
    item = cite.quote_span(cand(*by_text["Keloid scars"], 1.0))
    assert item.text == "Avoid these if you have:\n- Keloid scars"
    assert doc.text[item.start : item.end] == item.text


def test_the_body_leads_with_one_quote_then_bullets_and_folds_the_rest(tmp_path: Path) -> None:
    doc, by_text = units(tmp_path)
    short = {text[:7]: pair for text, pair in by_text.items()}
    lead, support, more = (cand(*short[k], 1.0) for k in ("Redness", "Sun: We", "Healing"))
    body, citations = cite.render(
        [(Role.LEAD, [lead]), (Role.SUPPORT, [support, lead]), (Role.MORE, [more])]
    )
    assert body == (
        "Redness: Expect some redness for a day. It fades. [1]\n\n- Sun: Wear sunscreen daily. [2]"
    )
    assert [(c.n, c.role) for c in citations] == [(1, Role.LEAD), (2, Role.SUPPORT), (3, Role.MORE)]
    assert all(doc.text[c.start : c.end] == c.text for c in citations)
    assert cite.more_list(citations, "More:") == "More:\n- Healing is quick. [3]"


def test_selection_leads_with_the_given_unit_and_keeps_support_close(tmp_path: Path) -> None:
    from assistant.tuning import DEFAULT

    _, by_text = units(tmp_path)
    pool = [cand(c, u, 1.0 - i * 0.05) for i, (c, u) in enumerate(by_text.values())]
    for i, p in enumerate(pool):  # distinct directions: no unit repeats another
        p.vector = np.eye(len(pool))[i]
    selection = compose.select(pool, DEFAULT, lead=pool[2])
    assert selection.lead is pool[2]
    # The lead item's own advice comes first, whatever its score; the rest are close.
    advice, *others = selection.support
    assert advice.sentence.text.endswith("Apply a cool compress. Do not pick.")
    assert all(p.score >= 1.0 - DEFAULT.support_window for p in others)
    assert len(selection.support) <= DEFAULT.support_units


def test_a_paragraph_lead_comes_with_its_next_sentence_when_about_as_relevant(
    tmp_path: Path,
) -> None:
    from assistant.tuning import DEFAULT

    doc, by_text = units(tmp_path)
    first, second = by_text["Healing is quick."], by_text["This is normal for most people."]
    close = compose.paired(cand(*first, 1.0), [cand(*second, 0.9)], DEFAULT)
    # One verbatim span from the first sentence's start to the second's end.
    assert close.sentence.text == "Healing is quick. This is normal for most people."
    assert doc.text[close.sentence.start : close.sentence.end] == close.sentence.text
    lead = cand(*first, 1.0)
    far = 1.0 - DEFAULT.lead_pair_window - 0.01
    no_opener = dataclasses.replace(DEFAULT, off=frozenset({"opener"}))
    assert compose.paired(lead, [cand(*second, far)], no_opener) is lead
    # A list line is its own unit: never paired with the next line.
    item = cand(*by_text["Sun: Wear sunscreen daily."], 1.0)
    assert compose.paired(item, [cand(*by_text["Avoid these if you have:"], 1.0)], DEFAULT) is item


def test_a_lead_that_only_opens_its_paragraph_comes_with_the_next_sentence(
    tmp_path: Path,
) -> None:
    from assistant.tuning import DEFAULT

    _, by_text = units(tmp_path)
    opener = cand(*by_text["Healing is quick."], 1.0)  # 3 words: announces, says little
    follower = cand(*by_text["This is normal for most people."], 0.1)
    follower.similarity = 0.0  # however far below the lead and the quoting bar
    pair = compose.paired(opener, [follower], DEFAULT)
    assert pair.sentence.text == "Healing is quick. This is normal for most people."
    short_bar = dataclasses.replace(DEFAULT, opener_max_words=2)
    assert compose.paired(opener, [follower], short_bar) is opener


def test_the_paired_sentence_is_not_quoted_again_as_support(tmp_path: Path) -> None:
    from assistant.tuning import DEFAULT

    _, by_text = units(tmp_path)
    pool = [cand(c, u, 1.0 - i * 0.01) for i, (c, u) in enumerate(by_text.values())]
    for i, p in enumerate(pool):
        p.vector = np.eye(len(pool))[i]
    selection = compose.select(pool, DEFAULT)
    assert selection.lead is not None
    assert selection.lead.sentence.text == "Healing is quick. This is normal for most people."
    quoted = [c.sentence.text for c in selection.support + selection.more]
    assert "This is normal for most people." not in quoted


def test_the_lead_is_the_unit_that_answers_when_answer_scores_are_known(tmp_path: Path) -> None:
    from assistant.tuning import DEFAULT

    _, by_text = units(tmp_path)
    closest = cand(*by_text["Sun: Wear sunscreen daily."], 1.0)
    answering = cand(*by_text["Redness: Expect some redness for a day. It fades."], 0.9)
    closest.answers, answering.answers = 0.2, 0.7
    assert compose.select([closest, answering], DEFAULT).lead is answering
    off = dataclasses.replace(DEFAULT, off=frozenset({"lead_adapter"}))
    assert compose.select([closest, answering], off).lead is closest
    # A lead given by the caller (a unit holding an asked-for value) is kept.
    assert compose.select([closest, answering], DEFAULT, lead=closest).lead is closest
