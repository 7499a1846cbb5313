import pytest

from dramatis.agents.guard import (
    clean_utterance,
    cut_at_other_speaker,
    echoes,
    heading_stops,
    strip_own_heading,
    trim_to_sentence,
)

CAST_OTHERS = ["Ophelia", "Lady Macbeth", "Macbeth"]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("HAMLET: Ay, madam, it is common.", "Ay, madam, it is common."),
        ("Hamlet: Get thee to a nunnery.", "Get thee to a nunnery."),
        ("**Hamlet**: Go to.", "Go to."),
        ("Ay, madam.\nOPHELIA: Good my lord?", "Ay, madam."),
        ("Ay, madam. Ophelia: Good my lord?", "Ay, madam."),
        ("Speak. LADY MACBETH: Out, damned spot!", "Speak."),
        ("Speak.\nHORATIO: My lord?", "Speak."),  # any heading, even one not in the cast
        ("Speak.\n\nGHOST.\nRemember me.", "Speak."),
        ("[Aside] O, what a noble mind.", "O, what a noble mind."),
        ('"Words, words, words."', "Words, words, words."),
        ("OPHELIA: My lord?", ""),  # nothing of Hamlet's own: empty, the agent retries
        ("   \n ", ""),
        ("...", ""),
    ],
)
def test_clean_utterance(raw, expected):
    assert clean_utterance(raw, "Hamlet", CAST_OTHERS) == expected


def test_own_name_inside_speech_is_kept():
    text = "They call me Hamlet: the Dane."
    assert cut_at_other_speaker(text, "Hamlet", CAST_OTHERS) == text
    assert strip_own_heading("Hamlet is here.", "Hamlet") == "Hamlet is here."


def test_heading_stops_cover_case_forms():
    stops = heading_stops(["Lady Macbeth"])
    assert "\nLADY MACBETH:" in stops and "\nLady Macbeth:" in stops
    assert len(stops) == len(set(stops))


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("I will. And yet the", "I will."),
        ("Soft you now! The fair Ophelia", "Soft you now!"),
        ("No end here at all", "No end here at all"),
        (
            "Hi. A much longer fragment that ran on and on",
            "Hi. A much longer fragment that ran on and on",
        ),
    ],
)
def test_trim_to_sentence(raw, expected):
    assert trim_to_sentence(raw) == expected


def test_parenthetical_asides_are_dropped():
    raw = "(Ophelia, as she speaks) I will not resist.\n(her voice with"
    assert clean_utterance(raw, "Ophelia", ["Hamlet"]) == "I will not resist."


def test_own_name_alone_on_the_first_line_is_a_heading():
    assert clean_utterance("Ophelia,\nI am glad.", "Ophelia", ["Hamlet"]) == "I am glad."
    assert clean_utterance("Hamlet,", "Hamlet", ["Ophelia"]) == ""
    assert (
        clean_utterance("Hamlet, my son, is mad.", "Claudius", ["Hamlet"])
        == "Hamlet, my son, is mad."
    )


def test_echoes_catches_parroted_openings_only():
    earlier = ["I am glad to speak of you and your noble lineage. But I know that my time"]
    assert echoes("I am glad to speak of you and your noble lineage, truly.", earlier)
    assert not echoes("I am glad.", earlier)  # too short to call a copy
    assert not echoes("Get thee to a nunnery: why wouldst thou be a breeder?", earlier)
