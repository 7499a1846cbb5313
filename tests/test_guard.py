import pytest

from dramatis.agents.guard import (
    clean_utterance,
    cut_at_other_speaker,
    echoes,
    ends_sentence,
    heading_cut,
    heading_stops,
    narrates,
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
        # A speech run in after a dash, the staged voice's way (round 21): cut there; a
        # dash left after a whole sentence goes too, an interrupted one's stays
        ('Am I mine?"--RODERIGO: Ay, brave Othello.', "Am I mine?"),
        ("What's the matter?--HAMLET: Here is an honest man.", "What's the matter?"),
        ("I am glad-- HAMLET: I have seen the past.", "I am glad--"),
        ("Good Strato.--Caesar, now be still: I killed not thee", None),  # an address
        ("Look--here: the dagger.", None),  # lower case: not a heading
        ("I say--NO: I will not.", "I say--"),  # capitals after a dash read as a heading
        ("What is the matter?--\nLADY", "What is the matter?"),  # a dangling heading
        ("Nay, go.--[Exit]", "Nay, go."),  # a direction
        ("Nay.--[Aside] HAMLET: go", "Nay."),  # a heading behind a direction
        ("Madam!--", "Madam!"),  # a dash after a sentence goes, cut or not
        ('He said "Go."--OPHELIA: Ay.', 'He said "Go."'),  # a quote it closes stays
        ("OPHELIA: My lord?", ""),  # nothing of Hamlet's own: empty, the agent retries
        ("   \n ", ""),
        ("...", ""),
    ],
)
def test_clean_utterance(raw, expected):
    assert clean_utterance(raw, "Hamlet", CAST_OTHERS) == (raw if expected is None else expected)


def test_the_streamed_cut_finds_a_heading_after_a_dash():
    text = "What's the matter?--IAGO: Here is"
    assert heading_cut(text, "Iago", frozenset({"Othello"})) == text.index("IAGO")


def test_own_name_inside_speech_is_kept():
    text = "They call me Hamlet: the Dane."
    assert cut_at_other_speaker(text, "Hamlet", CAST_OTHERS) == text
    assert strip_own_heading("Hamlet is here.", "Hamlet") == "Hamlet is here."


def test_heading_stops_cover_case_forms():
    stops = heading_stops(["Lady Macbeth"])
    assert "\nLADY MACBETH:" in stops and "\nLady Macbeth:" in stops
    assert len(stops) == len(set(stops))


def test_macbeth_stop_never_fires_inside_lady_macbeth():
    raw = "LADY MACBETH: Out, damned spot!\nMACBETH: Peace."
    assert all(not raw.startswith(stop) for stop in heading_stops(["Macbeth"]))
    assert raw.find(heading_stops(["Macbeth"])[0]) == raw.index("\nMACBETH:")
    # Lady Macbeth's own turn is hers, not the single word "LADY"
    assert clean_utterance(raw, "Lady Macbeth", ["Macbeth"]) == "Out, damned spot!"


def test_dangling_lady_is_dropped():
    assert clean_utterance("I go, and it is done.\nLADY", "Macbeth", ["Lady Macbeth"]) == (
        "I go, and it is done."
    )
    assert clean_utterance("LADY", "Lady Macbeth", ["Macbeth"]) == ""


def test_vocative_colon_is_not_a_heading():
    said = "Good Horatio: the King rises."
    assert clean_utterance(said, "Hamlet", ["Horatio", "Ophelia"]) == said
    assert clean_utterance("Speak, Horatio: what news?", "Hamlet", ["Horatio"]) == (
        "Speak, Horatio: what news?"
    )


def test_heading_of_a_character_outside_the_cast_ends_the_turn():
    from dramatis.personas.persona import play_speakers

    every = play_speakers()
    raw = "Nay, I know not.\nGuildenstern: My lord, the king."
    assert clean_utterance(raw, "Ophelia", ["Hamlet", *every]) == "Nay, I know not."
    assert heading_cut("Fie! HALKERMONIAD: The very thought", "Hamlet", ["Ophelia"]) == 5
    assert {"Guildenstern", "Lady Macbeth", "First Witch", "Prospero"} <= set(every)


def test_i_am_sir_loops_are_repeats():
    assert echoes("I am, sir.", ["Oh, my lord.", "I am, sir."])
    assert echoes("I am sir", ["I am, sir!"])
    assert not echoes("I am, sir, and glad.", ["I am, sir."])


@pytest.mark.parametrize(
    "text",
    [
        "In Shakespeare's Hamlet, the speech is a continuation of Ophelia's earlier declaration.",
        "What does Macbeth's next speech say?",
        "Ophelia speaks in a long and rambling monologue.",
        "Here's the revised speech:",
        "What does Hamlet say next?",
        "Ophelia, in her own style, responds: My lord?",
    ],
)
def test_narration_is_caught(text):
    assert narrates(text, ["Hamlet", "Ophelia", "Macbeth"])


@pytest.mark.parametrize(
    "text",
    ["Speak the speech, I pray you.", "Get thee to a nunnery.", "The play's the thing."],
)
def test_real_lines_are_not_narration(text):
    assert not narrates(text, ["Hamlet", "Ophelia"])


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("I will. And yet the", "I will."),
        ("Soft you now! The fair Ophelia", "Soft you now!"),
        ("Hi. A much longer fragment that ran on and on", "Hi."),
        ("Is it so? Then, my lord, I will; and yet,", "Is it so?"),
        ("He cried 'Away!' and I, amazed,", "He cried 'Away!'"),
        ("Go, my lord, and yet", ""),  # no sentence ends: nothing whole to keep
        ("No end here at all", ""),
        ("All is well.", "All is well."),
    ],
)
def test_trim_to_sentence(raw, expected):
    assert trim_to_sentence(raw) == expected


@pytest.mark.parametrize(
    ("text", "ends"),
    [
        ("Away, I say!", True),
        ("Is it so?", True),
        ("Tis so.'", True),
        ("(Tis so.)", True),
        ("He comes. ", True),
        ("Away, and yet,", False),
        ("I will go; ", False),
        ("Stay:", False),
        ("But--", False),
        ("I know not what", False),
        ("", False),
    ],
)
def test_ends_sentence(text, ends):
    assert ends_sentence(text) is ends


def test_a_stray_closing_bracket_is_dropped():
    """The page's bracketed lines end in "]"; a speech that copies the habit keeps its words."""
    assert (
        clean_utterance("I have sworn, my lord.]", "Horatio", CAST_OTHERS)
        == "I have sworn, my lord."
    )
    assert clean_utterance("Ay. ] My lord.", "Horatio", CAST_OTHERS) == "Ay. My lord."
    assert clean_utterance("(Laughter): I am not.", "Horatio", CAST_OTHERS) == "I am not."


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


def test_own_heading_after_the_start_begins_a_second_speech():
    raw = "You shall not kill.\nLADY MACBETH: I will give my life."
    assert clean_utterance(raw, "Lady Macbeth", ["Macbeth"]) == "You shall not kill."
    assert clean_utterance("LADY MACBETH: Out!", "Macbeth", ["Lady Macbeth"]) == ""


def test_short_rewording_of_an_earlier_turn_is_a_near_repeat():
    from dramatis.agents.guard import rewords

    assert rewords("I shall see it.", ["I will not, I shall see it."])
    assert rewords("Aye it were.", ["Aye, aye it were."])
    assert not rewords("I shall see it.", ["Who comes here?"])
    assert not rewords("Thou art a scholar; speak to it, Horatio, and fear not.", ["speak"])


def test_longer_rewording_of_an_earlier_turn_is_a_near_repeat_and_is_retried():
    from dramatis.agents.character import AgentSettings, CharacterAgent
    from dramatis.agents.fake_backend import FakeModel
    from dramatis.agents.guard import retells
    from dramatis.agents.turn import make_turn
    from dramatis.personas import find_persona

    first = "You're going to tell me that I'm a hero, and my country's at war."
    again = "You're going to tell me that you are a hero, and your country's at war."
    assert retells(again, [first])
    assert not retells("Get thee to a nunnery, go, farewell.", [first])
    assert not retells("My lord, my lord.", ["My lord, my lord."])  # too short: rewords' job
    model = FakeModel([again, "Get thee to a nunnery."])
    hamlet = CharacterAgent(find_persona("Hamlet"), model, cast=["Hamlet", "Ophelia"],
                            settings=AgentSettings(prompt_format="script"))  # fmt: skip
    said = hamlet.speak([make_turn(0, "Hamlet", first, present=["Hamlet", "Ophelia"])], "", seed=1)
    assert said.text == "Get thee to a nunnery." and said.attempts == 2


def test_heading_behind_a_stage_direction_still_ends_the_turn():
    raw = "No, no: the devil is out of mine ear.\n(Aside)HAMLET : And you?"
    assert (
        clean_utterance(raw, "Lady Macbeth", ["Hamlet"]) == "No, no: the devil is out of mine ear."
    )


def test_a_new_scene_setting_line_ends_the_speech():
    # Seen in the fidelity grid: the page's setting line run into a turn.
    raw = "I am glad you have heard of my endeavors.\nOthello, act 4, Cyprus. A Room in the Castle."
    assert clean_utterance(raw, "Iago", ["Othello"]) == "I am glad you have heard of my endeavors."
    raw = "I am not yours.\nOthello's Act 3: Cyprus. A Room in the Castle."
    assert clean_utterance(raw, "Iago", ["Othello"]) == "I am not yours."
    # Only on a later line, and "act" as a verb stays.
    kept = "Hamlet, act as thou wilt; I am thine.\nAnd act it well."
    assert clean_utterance(kept, "Horatio", ["Hamlet"]) == kept


def test_a_turn_that_says_an_earlier_turn_again_inside_a_longer_one_is_caught():
    from dramatis.agents.guard import holds

    # Seen in the fidelity grid (Gemma, 4cross seed 2): "I do not know" said again.
    assert holds("My lord, I do not know.", ["I am a fool.", "I do not know."])
    assert holds("I do not know what your blood is.", ["I do not know"])
    assert not holds("My lord, what news?", ["My lord."])  # two words may come back
    assert not holds("I know not what to say.", ["I do not know."])


def test_dwells_on_the_last_speeches_topic_not_on_older_ones():
    from dramatis.agents.guard import dwells, topic_words

    assert topic_words("My lord, I am dead; the ghost is dead.") == {"dead", "ghost"}
    loop = ["He had not slept at all, for he was dead.", "But you're dead, my lord; 'twas a ghost."]
    assert dwells("'Twas a ghost, my lord; but I'm dead.", loop)
    assert not dwells("Dead, dead.", loop)  # fewer than 3 topic words: a cry, not a loop
    # Only the last 4 speeches count: the talk may come back to an old subject.
    assert not dwells("'Twas a ghost, my lord; but I'm dead.", loop + ["Fie.", "Go.", "Ay.", "No."])


def test_a_capitals_heading_with_a_semicolon_ends_the_speech():
    """Gemma 270M writes the next speaker's heading as "MACBETH;" too (1-2% of its turns in
    the fidelity grid, none of the 30,662 speeches of the plays)."""
    from dramatis.agents.guard import clean_utterance

    said = "I am not dead, my lord: But the king hath been asleep.\nHAMLET; The king hath slept."
    assert clean_utterance(said, "Macbeth", ["Hamlet"]) == (
        "I am not dead, my lord: But the king hath been asleep."
    )
    said = "Oh! it is a lie. MACBETH; I know nothing."
    assert clean_utterance(said, "Hamlet", ["Macbeth"]) == "Oh! it is a lie."
    assert clean_utterance("Macbeth; my lord, go.", "Hamlet", ["Macbeth"]) == (
        "Macbeth; my lord, go."
    )  # a vocative in plain case is speech


def test_the_printed_plays_heading_with_a_period_ends_the_speech():
    """Seen on the stage voice: "...what will you say?\nIAGO. O thou that art man;" (the
    printed plays' heading); the arena counts it as impersonation too."""
    from dramatis.arena.impersonation import impersonated

    raw = "Why, I can do nothing: what will you say?\nIAGO. O thou that art man;"
    assert clean_utterance(raw, "Othello", ["Iago"]) == "Why, I can do nothing: what will you say?"
    assert "\nIAGO. " in heading_stops(["Iago"])
    assert impersonated(raw, "Othello", ["Iago"]) == "Iago"
    assert impersonated("O, IAGO. Thou art honest.", "Othello", ["Iago"]) is None  # a vocative
    assert (
        clean_utterance("O, IAGO. Thou art honest.", "Othello", ["Iago"])
        == "O, IAGO. Thou art honest."
    )
