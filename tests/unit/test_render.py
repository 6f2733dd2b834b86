"""web.render: a hand-built ``Reply`` rendered from its fields (notes, body, citations)."""

from __future__ import annotations

from assistant.schema import Citation, Note, Reply, Role
from assistant.web.render import END_MARK, load_ui_text, render_reply, sources_html

TEXT = {"sources_heading": "Sources"}


def citation(n: int, text: str, title: str = "Sun Care", section: str = "Hats") -> Citation:
    return Citation(n, "sun-care", title, section, text, 10 * n, 10 * n + len(text), 0.5, Role.LEAD)


def reply(**fields) -> Reply:
    base = {
        "answer": "(the whole Markdown; a UI never reads it)",
        "citations": [citation(1, "A wide hat helps.")],
        "abstained": False,
        "safety": [],
        "query": "q",
        "body": "- A wide hat helps. [1]\n",
    }
    return Reply(**{**base, **fields})


def test_notes_go_where_their_kind_says() -> None:
    notes = [
        Note("safety", "Ask your doctor."),
        Note("urgent", "Call the clinic now."),
        Note("info", "Only the start was read."),
    ]
    rendered = render_reply(reply(notes=notes), TEXT)
    assert rendered.head == (
        '<div class="sq-urgent">Call the clinic now.</div>\n\n'
        '<div class="sq-info">Only the start was read.</div>'
    )
    assert rendered.tail.startswith('<div class="sq-safety">Ask your doctor.</div>\n\n')
    assert rendered.body == "- A wide hat helps. [1]"  # stripped, and no note inside it
    assert not rendered.decline


def test_the_sources_block_lists_every_citation() -> None:
    cited = [citation(1, "A wide hat helps."), citation(2, "Shade helps more.", section="Shade")]
    rendered = render_reply(reply(citations=cited), TEXT)
    assert rendered.tail == sources_html([c.to_dict() for c in cited], "Sources")
    assert rendered.tail.count('class="sq-source"') == 2
    assert '<span class="sq-source-ref">[2]</span><strong>Sun Care</strong>' in rendered.tail
    assert '<span class="sq-source-section">— Shade</span>' in rendered.tail
    assert '<blockquote class="sq-quote">“Shade helps more.”</blockquote>' in rendered.tail


def test_a_decline_is_one_callout_without_sources() -> None:
    decline = reply(
        abstained=True,
        citations=[],
        body="The articles don't cover that.\n\n- Ask about aftercare.",
    )
    markdown = render_reply(decline, TEXT).markdown()
    assert markdown == (
        '<div class="sq-decline">The articles don&#x27;t cover that.<br><br>- Ask about aftercare.'
        f"{END_MARK}</div>"
    )


def test_the_end_mark_is_only_in_the_finished_answer() -> None:
    rendered = render_reply(reply(), TEXT)
    assert rendered.markdown().endswith(f"{END_MARK}</div>")
    assert END_MARK not in rendered.markdown("- A wide")


def test_the_app_wording_has_the_sources_heading() -> None:
    assert load_ui_text()["sources_heading"] == "Sources"


def test_sources_block_escapes_html() -> None:
    block = sources_html(
        [{"n": 1, "title": "<b>T</b>", "section": "S & S", "text": "<script>x</script>"}],
        "Sources",
    )
    assert "<script>" not in block and "&lt;script&gt;" in block and "S &amp; S" in block
    # A passage with blank lines or list items stays one HTML block: nothing in it is
    # read as Markdown.
    multi = sources_html(
        [{"n": 1, "title": "T", "section": "S", "text": "One.\n\n- two\n- three"}], "Sources"
    )
    assert "\n" not in multi and "One.<br><br>- two<br>- three" in multi
