"""Titles: a title said to someone of the other sex (agents/titles.py), the guard that
draws such a candidate again (`fit_titles`) and the arena's figure (arena/titles.py)."""

from __future__ import annotations

from collections import Counter

from conftest import one_draw_agent

from dramatis.agents.titles import (
    FEMALE,
    MALE,
    hearers,
    own_sex,
    play_titles,
    profiles,
    takes,
    takes_in,
    titles_in,
    wrong_titles,
)
from dramatis.personas.corpus import list_plays, load_play

ADO, JC, TN = "much_ado_about_nothing", "julius_caesar", "twelfth_night"


def test_a_title_counts_where_it_is_said_to_someone():
    assert titles_in("A good way, sir; I'll go by the horse.") == [("sir", MALE)]
    assert titles_in("I do beseech you that come in, good madam: let me know.") == [
        ("madam", FEMALE)
    ]
    assert titles_in("O, sweet, noble lady! where is your brother?") == [("lady", FEMALE)]
    assert titles_in("Good my lord, be patient.") == [("lord", MALE)]
    assert titles_in("What say you, my lord?") == [("lord", MALE)]
    assert titles_in("SIR, I will.") == [("sir", MALE)]
    assert titles_in("Sir, sir, you would") == [("sir", MALE), ("sir", MALE)]


def test_a_title_in_a_name_or_about_someone_is_not_said_to_them():
    assert titles_in("Come, Sir Toby, and Signior Leonato.") == []
    assert titles_in("That was my lord's legacy.") == []
    assert titles_in("Your lord is at dinner; the lady sleeps.") == []
    assert titles_in("Lord, how the world goes! O Lord!") == []  # a cry to God
    assert titles_in("Come hither, gentlemen, and ladies.") == []  # many, not one
    assert titles_in("A crown? Nay, no king!") == []  # "no king" calls on no one
    # a line break in prose starts nothing: "killed a sweet and innocent\nlady."
    assert titles_in("you have killed a sweet and innocent\nlady. For my part") == []
    # what a speech quotes is not said to anyone here
    assert titles_in('He cried, "Good madam, stay!" and went.') == []
    # said of someone: a servant's "my master", a title beside a noun or a pronoun
    assert titles_in("My master, not myself, lacks recompense.") == []
    assert titles_in("Your cousin, my lady, takes great exceptions.") == []
    assert titles_in("And she, sweet lady, wept.") == []
    assert titles_in("I thank you, sir.") == [("sir", MALE)]  # an object is no apposition
    # dashes, an ellipsis, and a "Yes" that takes no comma
    assert titles_in("Stay\u2014sir, stay.") == [("sir", MALE)]
    assert titles_in("\u2014 Madam, good day.") == [("madam", FEMALE)]
    assert titles_in("Yes sir, I will.") == [("sir", MALE)]


def test_the_titles_a_character_takes_come_from_the_plays():
    ado, tn = play_titles(ADO), play_titles(TN)
    assert ado["Beatrice"] == {FEMALE} and ado["Benedick"] == {MALE}
    assert tn["Olivia"] == {FEMALE} and tn["Malvolio"] == {MALE}
    # Viola, "sir" through most of the play as Cesario, "madam" at its start
    assert tn["Viola"] == {FEMALE, MALE}
    assert play_titles("macbeth")["Lady Macbeth"] == {FEMALE}
    assert play_titles(JC)["Marcus Brutus"] == {MALE}
    # a persons-list line speaks of others too: "Servant to Juliet's Nurse" is no woman
    assert own_sex("Servant to Juliet's Nurse") is None
    assert own_sex("in love with the Duke") is None
    assert own_sex("Queen of Denmark, and Mother of Hamlet") == FEMALE
    assert own_sex("a young Lord of Padua") == MALE
    assert play_titles("romeo_and_juliet")["Peter"] != {FEMALE}
    # a slip of the reading (one "sir" among eight "madam"s) is not enough
    assert takes(Counter(female=8, male=1), FEMALE) == {FEMALE}
    assert takes(Counter(female=3, male=31), None) == {FEMALE, MALE}
    assert takes(Counter(male=2), None) == {FEMALE, MALE}  # too few heard: anyone
    assert takes(None, MALE) == {MALE}
    # no play knows them: any title
    assert takes_in("Alice Liddell", [ADO]) == {FEMALE, MALE}
    assert takes_in("Beatrice", []) == {FEMALE, MALE}


def test_a_wrong_title_is_one_no_one_on_stage_but_the_speaker_takes():
    pair = ["Beatrice", "Benedick"]
    assert wrong_titles("A good way, sir.", "Benedick", pair, [ADO]) == ["sir"]
    assert wrong_titles("Good madam, come in.", "Beatrice", pair, [ADO]) == ["madam"]
    assert wrong_titles("Sweet lady, come in.", "Benedick", pair, [ADO]) == []
    assert wrong_titles("Good signior, come in.", "Beatrice", pair, [ADO]) == []
    # a man on stage may take the "sir"
    four = [*pair, "Viola", "Malvolio"]
    assert wrong_titles("A good way, sir.", "Benedick", four, [ADO, TN]) == []
    # Viola takes either, Brutus only his own
    cross = ["Marcus Brutus", "Viola"]
    assert wrong_titles("Well met, sir.", "Marcus Brutus", cross, [JC, TN]) == []
    assert wrong_titles("Or sir, madam, I speak.", "Viola", cross, [JC, TN]) == ["madam"]
    # no play, or a person of the chat no play knows: nothing is wrong
    assert wrong_titles("A good way, sir.", "Benedick", pair, []) == []
    assert wrong_titles("A good way, sir.", "Benedick", ["Benedick", "You"], [ADO]) == []
    # those who spoke last may be spoken to: the opening lines' Leonato, for a while
    opened = ["Leonato", "Beatrice", "Benedick"]
    assert hearers(pair, opened) == {"Beatrice", "Benedick", "Leonato"}
    assert wrong_titles("A good way, sir.", "Benedick", hearers(pair, opened), [ADO]) == []
    later = [*opened, *pair, *pair]
    assert hearers(pair, later) == set(pair)


def test_the_plays_read_by_their_own_titles_say_few_wrong_ones():
    """Calibration: each character's titles read from the odd-numbered scenes of its
    play, the speeches of the even-numbered ones checked against those on stage."""
    speeches = titled = flagged = 0
    for key in list_plays():
        play = load_play(key)
        scenes = play.scenes()
        known = profiles(play, scenes[0::2])
        for scene in scenes[1::2]:
            for s in scene.speeches:
                if not s.resolved or len(s.speakers) > 1:
                    continue
                speeches += 1
                said = titles_in(s.text)
                hearers = [n for n in s.on_stage if n not in s.speakers]
                titled += bool(said)
                if said and hearers:
                    sexes = set().union(*(known.get(n, {FEMALE, MALE}) for n in hearers))
                    flagged += any(sex not in sexes for _, sex in said)
    assert speeches > 15000 and titled > 2000  # the rule hears the plays' titles
    assert flagged / speeches < 0.002  # 8 of 15,436 when written


def _agent(fit_titles: bool, replies: list[str], cast=("Beatrice", "Benedick")):
    return one_draw_agent(f"{ADO}:Benedick", cast, replies, plays=[ADO], fit_titles=fit_titles)


def test_the_guard_draws_again_a_speech_with_a_wrong_title():
    from dramatis.agents.turn import make_turn

    said = ["A good way, sir; I'll go by the horse.", "A good way, lady; I'll go by the horse."]
    opening = [make_turn(0, "Beatrice", "I wonder that you will still be talking.")]
    for guard, kept in ((True, said[1]), (False, said[0])):
        agent, _ = _agent(guard, list(said))
        assert agent.speak(opening, "A hall.", seed=3).text == kept
        assert agent.wrong_titles(said[0], frozenset(agent.cast)) == ["sir"]
    # a chat that says a man is here too (one of no cast): the "sir" may be his
    agent, _ = _agent(True, list(said))
    utterance = agent.speak(opening, "A hall.", seed=3, present=["Beatrice", "Claudio"])
    assert utterance.text == said[0]
    # ... and one that says she is alone with him, in a cast of three: it is not
    agent, _ = _agent(True, list(said), cast=("Beatrice", "Benedick", "Claudio"))
    assert agent.speak(opening, "A hall.", seed=3, present=["Beatrice"]).text == said[1]
    # a man who spoke a line ago may be spoken to; one five turns back no longer
    claudio = make_turn(0, "Claudio", "Speak, count, 'tis your cue.")
    agent, _ = _agent(True, list(said))
    assert agent.speak([claudio, *opening], "A hall.", seed=3).text == said[0]
    back = [
        claudio,
        *[make_turn(i, n, "Nay.") for i, n in enumerate(["Beatrice", "Benedick"] * 2, 1)],
    ]
    agent, _ = _agent(True, list(said))
    assert agent.speak(back, "A hall.", seed=3).text == said[1]


def test_the_arena_counts_the_turns_with_a_wrong_title():
    from dramatis.arena.context import Context
    from dramatis.arena.runs import Run
    from dramatis.arena.titles import Titles

    pair = ["Beatrice", "Benedick"]
    turns = [
        {"speaker": "Benedick", "text": "A good way, sir.", "source": "model", "present": pair},
        {"speaker": "Beatrice", "text": "Good signior, stay.", "source": "model", "present": pair},
        {"speaker": "Beatrice", "text": "Come, good madam.", "source": "model", "present": pair},
        {"speaker": "You", "text": "Good madam, hear me.", "source": "human", "present": pair},
    ]
    cast = [f"{ADO}:Beatrice", f"{ADO}:Benedick"]
    score = Titles().score(Run("r", pair, turns), Context.build(cast))
    assert score.values["titles"] == 2 / 3  # the person's turn is not counted
    assert score.per_turn == [1.0, 0.0, 1.0, 0.0]
    assert score.extra["said"] == ["madam", "sir"]
    # with a man on stage, the "sir" may be his; so with one who spoke the line before
    turns[0]["present"] = [*pair, "Claudio"]
    assert Titles().score(Run("r", pair, turns[:1]), Context.build(cast)).per_turn == [0.0]
    turns[0]["present"] = pair
    claudio = {"speaker": "Claudio", "text": "Speak, count.", "source": "play", "present": []}
    assert Titles().score(Run("r", pair, [claudio, turns[0]]), Context.build(cast)).per_turn == [
        0.0
    ]
