"""How a message is read in its conversation: small talk, follow-up, self-contained, and
the question's core in a long message. Hand-written examples, no model."""

from __future__ import annotations

import pytest

from assistant.answer.query import QueryReader
from assistant.index.analyzer import Analyzer


@pytest.fixture(scope="module")
def reader() -> QueryReader:
    return QueryReader.from_package(Analyzer.from_package())


def turns(*questions: str) -> list[dict[str, str]]:
    history = []
    for q in questions:
        history += [{"role": "user", "content": q}, {"role": "assistant", "content": "..."}]
    return history


@pytest.mark.parametrize(
    ("message", "kind"),
    [
        ("hi", "greeting"),
        ("Hello there!", "greeting"),
        ("thanks so much!!", "thanks"),
        ("ok", "acknowledgement"),
        ("bye", "goodbye"),
        ("are you a real person?", "identity"),
        ("that's not what i asked", "complaint"),
        ("what can you do?", "capability"),
        ("ok thanks, bye", "thanks"),
        ("👍 ok", "acknowledgement"),
        ("cheers for that xx", "thanks"),  # a sign-off kiss asks nothing
        ("hmm, is this a bot", "identity"),
        ("have a lovely evening", "goodbye"),  # the longest phrase wins: not "lovely"
        ("morning! hope ur well", "greeting"),
        ("byeee", "goodbye"),  # a last letter held down
        ("thankss x", "thanks"),
    ],
)
def test_small_talk_is_recognised(reader: QueryReader, message: str, kind: str) -> None:
    assert reader.read(message, []).small_talk == kind


@pytest.mark.parametrize(
    "message",
    [
        "hi! does microneedling hurt?",
        "thanks, and how often do people go?",
        "what is it",
        "is it safe for humans",
        "ok so can I wear sunscreen after?",
        "wait, does it hurt?",
        "x",
        # ... even in words too common to count as a topic.
        "ok and when would i do that again?",
        "thanks, and is that the same for everyone",
    ],
)
def test_a_message_with_a_question_is_not_small_talk(reader: QueryReader, message: str) -> None:
    assert reader.read(message, []).small_talk is None


@pytest.mark.parametrize(
    "message",
    [
        "and how often?",
        "what about at home?",
        "is that normal?",
        "how long?",
        "cool, and how many times a week can I do it",
        "won't my face be blotchy though",
        "could i do it at home instead",
        "why?",
    ],
)
def test_a_message_that_cannot_stand_alone_is_a_follow_up(
    reader: QueryReader, message: str
) -> None:
    query = reader.read(message, turns("my face started peeling after the treatment"))
    assert query.context == "my face started peeling after the treatment"
    assert query.text.startswith(message.strip())


@pytest.mark.parametrize(
    "message",
    [
        "Who should avoid microneedling?",
        "how long would a single session last",
        "is this safe during pregnancy",
        "can I use retinol the week before my appointment?",
        "what does a dermaroller cost",
        # A trailing "though" with a topic of its own asks about that topic.
        "would it fade pigmentation and enlarged pores though",
    ],
)
def test_a_self_contained_question_is_never_rewritten(reader: QueryReader, message: str) -> None:
    query = reader.read(message, turns("does it help with stretch marks", "how many sessions?"))
    assert query.context is None
    assert query.text == message


def test_small_talk_is_never_the_context_of_a_follow_up(reader: QueryReader) -> None:
    history = turns("can microneedling improve old acne scars", "thanks!")
    assert (
        reader.read("and how often?", history).context == "can microneedling improve old acne scars"
    )


def test_a_chain_of_follow_ups_keeps_the_topic(reader: QueryReader) -> None:
    history = turns("can microneedling improve old acne scars", "what about deep ones")
    context = reader.read("how many sessions for those", history).context
    assert context == "can microneedling improve old acne scars what about deep ones"


def test_the_core_of_a_long_message_is_its_asking_sentences(reader: QueryReader) -> None:
    message = (
        "Hi! I'm 41 with combination skin and I've used a vitamin C serum for years. "
        "Last spring I had a peel that left me red for a week. "
        "My sister swears by her dermatologist. "
        "How long will I be red after microneedling?"
    )
    query = reader.read(message, [])
    assert query.question == "How long will I be red after microneedling?"
    assert "vitamin C serum" in query.background and "Hi!" in query.background
    assert query.message == message


def test_a_short_asking_sentence_keeps_the_sentence_it_leans_on(reader: QueryReader) -> None:
    message = (
        "So I work as a teacher and I have parents evening coming up at school soon. "
        "My appointment is booked for the Friday before it, in the late afternoon. "
        "Is that enough?"
    )
    assert reader.read(message, []).question == (
        "My appointment is booked for the Friday before it, in the late afternoon. Is that enough?"
    )


def test_small_talk_sentences_are_not_the_question(reader: QueryReader) -> None:
    query = reader.read("ok noted. how long would a single session last", [])
    assert query.question == "how long would a single session last"
    assert query.small_talk is None


def test_a_statement_without_a_question_is_all_question(reader: QueryReader) -> None:
    message = (
        "I have had deep acne scars on both cheeks for twenty years and I have tried "
        "peels, lasers and every cream there is and I would love to finally see them fade"
    )
    assert reader.read(message, []).question == message


def test_an_announced_new_question_is_never_a_follow_up(reader: QueryReader) -> None:
    history = turns("does it hurt?")
    query = reader.read("ok unrelated but, how long is the redness?", history)
    assert (query.question, query.context, query.new_topic) == (
        "how long is the redness?",
        None,
        True,
    )
    assert reader.leaning(query, history) is None
    # Without the marker the same words may lean on the conversation.
    assert reader.leaning(reader.read("how long is the redness?", history), history) is not None


@pytest.mark.parametrize(
    ("message", "kind"), [("bye!", "goodbye"), ("hiya", "greeting"), ("ok thanks, bye", "thanks")]
)
def test_a_small_talk_reply_says_its_kind(reader: QueryReader, message: str, kind: str) -> None:
    from assistant.answer.reply import small_talk_reply
    from assistant.data import load_wording
    from assistant.schema import Reply

    reply = small_talk_reply(reader.read(message, []), load_wording())
    assert (reply.outcome.value, reply.small_talk) == ("small_talk", kind)
    assert reply.to_dict()["small_talk"] == kind  # a field a page renders from
    assert Reply("text", [], False, [], "q").to_dict()["small_talk"] is None


def test_a_trailing_though_with_a_topic_of_its_own_is_read_alone_first(
    reader: QueryReader,
) -> None:
    history = turns("should i stop ibuprofen before my appointment")
    query = reader.read("would it smooth pigmentation and big pores though", history)
    assert query.context is None and query.leans
    assert reader.leaning(query, history) is not None  # if reading it alone finds nothing
    blotchy = reader.read("won't my face be blotchy though", history)
    assert blotchy.context is not None and not blotchy.leans
    assert not reader.read("does it smooth big pores", history).leans


@pytest.mark.parametrize(
    "message",
    ["diff question: can I tint my brows the same week?", "another qn, is retinol ok before?"],
)
def test_a_new_question_announced_in_chat_spelling_is_never_a_follow_up(
    reader: QueryReader, message: str
) -> None:
    query = reader.read(message, turns("do I need numbing cream?"))
    assert query.new_topic and query.context is None
    assert not query.question.lower().startswith(("diff", "another"))


def test_one_before_a_counted_unit_is_a_number_not_a_back_reference(reader: QueryReader) -> None:
    history = turns("what does a course cost?")
    assert reader.read("is one visit enough for acne marks", history).context is None
    assert reader.read("how long does one session last", history).context is None
    # "one" ending its noun phrase still points back to what was discussed.
    assert reader.read("is the cheaper one ok", history).context is not None


def test_there_after_is_points_nowhere(reader: QueryReader) -> None:
    assert not reader.refers_back(["is", "there", "a", "waiting", "list"])
    assert reader.refers_back(["can", "i", "park", "there"])


def test_it_may_point_back_only_for_a_second_reading(reader: QueryReader) -> None:
    history = turns("my cheeks went blotchy after my session")
    query = reader.read("what helps settle it", history)
    assert query.context is None  # "it" alone does not make a follow-up ...
    assert reader.points_back(query.question)  # ... but may, if read alone finds nothing
    assert not reader.points_back("what helps settle redness")
