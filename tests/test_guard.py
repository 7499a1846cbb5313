import pytest

from dramatis.agents.guard import (
    clean_utterance,
    cut_at_other_speaker,
    heading_stops,
    strip_own_heading,
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
