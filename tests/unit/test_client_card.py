"""The client chat's pure parts, without a model or a server: the clinic file and the
booking/price patterns, the suggested questions, the answer card's HTML, section names."""

from __future__ import annotations

import pytest


def test_clinic_file_setting_and_its_errors(tmp_path) -> None:
    from assistant.settings import Settings
    from assistant.web.clinic import Clinic, ClinicFileError

    own = tmp_path / "clinic.yaml"
    own.write_text(
        "name: Real Clinic\nphone: '+44 20 7946 0000'\nemail: hi@real.example\n"
        "booking_url: https://real.example/book\nhours: [Mon-Fri 9-5]\n",
        "utf-8",
    )
    settings = Settings(clinic_file=own)
    clinic = Clinic.load(settings.clinic_file)
    assert (clinic.name, clinic.phone_href, clinic.sample) == (
        "Real Clinic",
        "tel:+442079460000",
        False,
    )
    assert Clinic.load().sample  # the shipped values say they are samples
    own.write_text("name: X\nphone: call us\nemail: a@b.c\nbooking_url: https://x\n", "utf-8")
    with pytest.raises(ClinicFileError, match="'phone' is not valid"):
        Clinic.load(own)
    own.write_text("name: X\nphone: '1234'\nemail: a@b.c\nbooking_url: javascript:x\n", "utf-8")
    with pytest.raises(ClinicFileError, match="booking_url"):
        Clinic.load(own)
    with pytest.raises(ClinicFileError, match="cannot read"):
        Clinic.load(tmp_path / "missing.yaml")


def test_handoff_kinds() -> None:
    from assistant.web.clinic import Handoff

    handoff = Handoff.from_package()
    assert handoff.kind("Can I book a consultation next week?") == "booking"
    assert handoff.kind("what are your prices") == "price"
    assert handoff.kind("is it $200?") == "price"
    assert handoff.kind("Does it hurt?") is None
    assert handoff.kind("how many days will the redness stay") is None


def test_suggestions_follow_the_lead_section() -> None:
    from assistant.web.suggest import Suggester

    s = Suggester.from_package()
    assert s.topic_of("microneedling-benefits-guide", "Navigating the Microneedling Process: "
                      "A Practical Guide > 4. Post-Treatment Care: Optimizing Healing and "
                      "Results > No Makeup (Initially)") == "aftercare"  # fmt: skip
    assert s.topic_of("at-home-micro-needling-kerry-benjamin", "Introduction") == "at_home"
    declined = {"outcome": "declined", "citations": []}
    assert s.for_reply(declined, []) == []
    small_talk = s.for_reply({"outcome": "small_talk", "citations": []}, [])
    assert len(small_talk) == 3
    # A question asked in other words is not suggested again; ones shown come last.
    assert "Does microneedling hurt?" not in s.suggest(None, ["does it hurt much?"])
    first = s.suggest("sessions", [])
    again = s.suggest("sessions", [], shown=first)
    assert again[0] not in first
    asked = s.suggest("pain", [])
    assert len(asked) == 3 and len(set(asked)) == 3
    assert s.suggest("pain", asked)[0] not in asked


def test_no_suggestions_after_small_talk_that_ends_the_conversation() -> None:
    from assistant.web.suggest import Suggester

    s = Suggester.from_package()

    def chips(kind: str) -> list[str]:
        return s.for_reply({"outcome": "small_talk", "small_talk": kind, "citations": []}, [])

    assert chips("goodbye") == [] and chips("thanks") == []
    assert len(chips("greeting")) == 3 and len(chips("acknowledgement")) == 3


def test_a_question_asked_in_other_words_is_not_suggested(toy_embedder) -> None:
    from assistant.index.analyzer import Analyzer
    from assistant.tuning import DEFAULT
    from assistant.web.repeats import Repeats
    from assistant.web.suggest import Suggester

    repeats = Repeats(Analyzer.from_package(), toy_embedder, DEFAULT.suggestion_repeat_cosine)
    questions = Suggester.from_package().questions()
    # The same terms once synonyms are folded ("sore" is the articles' "hurt") ...
    assert repeats.repeated(questions, ["is it sore?"]) == {"Does microneedling hurt?"}
    # ... or nearly the same words once "microneedling" and the words every passage
    # shares ("treatments", "sessions") are left out (the embedder's cosine).
    many = "How many microneedling sessions will I need?"
    assert repeats.repeated(questions, ["how many treatments would I need?"]) == {many}
    assert repeats.repeated(questions, ["opening hours on saturdays?"]) == set()
    # In the chips: the sessions topic offers it first, unless it was asked in other words.
    words_only = Suggester.from_package()
    assert words_only.suggest("sessions", ["how many treatments would I need?"])[0] == many
    meaning = Suggester.from_package(repeats)
    chips = meaning.suggest("sessions", ["hi", "how many treatments would I need?"])
    assert many not in chips and len(chips) == 3


def test_card_escapes_text_and_renders_markdown_in_quotes() -> None:
    from assistant.web.card import CardParts, card_html, inline
    from assistant.web.clinic import Clinic
    from assistant.web.passages import Passage
    from assistant.web.render import load_ui_text

    assert inline("a *huge* fan of **it**") == "a <em>huge</em> fan of <strong>it</strong>"
    assert inline("- first\n- second") == "first second"
    assert inline("2 * 3 * 4") == "2 * 3 * 4"
    passage = Passage(1, "lead", "<T>", "S", "before", "<script>x</script> *y*", "", "/a?x=1&y=2")
    reply = {
        "outcome": "answer", "lead": 1, "notes": [{"kind": "safety", "text": "<b>care</b>"}],
        "body": "<img src=x> quote [1]\n\n- second [2]",
    }  # fmt: skip
    parts = CardParts("a1", [passage], [], None, Clinic.load())
    html = card_html(reply, parts, load_ui_text())
    assert "<script>" not in html and "<img" not in html and "<b>care" not in html
    assert "&lt;script&gt;x&lt;/script&gt; <em>y</em>" in html
    assert "&lt;img src=x&gt; quote" in html
    assert "[2]" in html  # a marker with no passage stays visible text, not a dead chip
    assert 'href="/a?x=1&amp;y=2"' in html


def test_short_section_names() -> None:
    from assistant.web.passages import short_section

    assert short_section("What’s the Pain Like?") == "What’s the Pain Like?"
    assert (
        short_section(
            "Mastering the Benefits: How Microneedling Transforms Your Complexion > "
            "2. Improving the Appearance of Scars (Acne, Surgical, Stretch Marks)"
        )
        == "Improving the Appearance of Scars (Acne, Surgical, Stretch Marks)"
    )
    assert (
        short_section(
            "Navigating the Microneedling Process: A Practical Guide > 4. Post-Treatment Care: "
            "Optimizing Healing and Results > No Makeup (Initially)"
        )
        == "Post-Treatment Care › No Makeup (Initially)"
    )


def test_a_visit_only_mentioned_is_no_booking_request() -> None:
    from assistant.web.clinic import Handoff

    handoff = Handoff.from_package()
    assert handoff.kind("I'm on antibiotics, is it ok to keep my appointment next week?") is None
    assert handoff.kind("what should I do the night before my appointment") is None
    assert handoff.kind("can I make an appointment for a consultation?") == "booking"
    assert handoff.kind("any appointments available on saturday") == "booking"


def test_a_caution_comes_before_the_booking_box() -> None:
    from assistant.web.card import CardParts, card_html
    from assistant.web.clinic import Clinic
    from assistant.web.render import load_ui_text

    clinic = Clinic.load()
    parts = CardParts("a1", [], [], "booking", clinic)

    def order(reason: str) -> bool:
        reply = {"outcome": "answer", "reason": reason, "lead": None, "body": "THE ANSWER"}
        html = card_html(reply, parts, load_ui_text())
        return html.index(clinic.phone) < html.index("THE ANSWER")

    assert order("answered")  # "can I book for Thursday?": the clinic first
    assert not order("caution")  # a health question: its caution first, then the clinic
