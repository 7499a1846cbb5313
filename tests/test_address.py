"""Who a speech speaks to: the vocative finder (agents/addressing.py), its calibration on
the plays, the arena's `misaddress` and the agent's `address_present` guard."""

from __future__ import annotations

from dramatis.agents.addressing import (
    absent_addressed,
    address_forms,
    play_forms,
    self_forms,
    spoken_to,
)
from dramatis.agents.character import AgentSettings, CharacterAgent
from dramatis.agents.fake_backend import FakeModel
from dramatis.arena.address import Misaddress
from dramatis.arena.context import Context
from dramatis.arena.runs import Run
from dramatis.personas import build_persona, list_plays, load_play

CASSIUS = {"Cassius": frozenset({"Cassius"})}


def test_vocatives_are_found_where_a_name_is_spoken_to():
    spoken = [
        "Cassius, stay awhile.",
        "Farewell, good Cassius.",
        "O Cassius, I am sick of many griefs.",
        "What say you, Cassius?",
        "I pray you, good Cassius, be patient.",
        "Peace! Good my lord Cassius, speak.",
        "Nay, stay. Cassius! Where art thou?",
        # round 13: after "No," or "O, sir,", a title, an imperative, or at the speech's end
        "No, Cassius, not so much as the eye.",
        "O, sir, Cassius, I am glad to see you well.",
        "Where is my lord? Welcome, Sir Cassius!",
        "Tell me, Cassius, what news?",
        "Speak, Cassius, speak!",
        "Go, Cassius, and bid them come.",
        "I pray you, my lord Cassius, be patient.",
        "I thank you; and my pardon, good Cassius, to the duke.",
        "Cassius, tell me, is it true?",
        "Hail, Cassius",
        "'Tis done, Cassius; go to th' Capitol.",  # no quote: "'Tis" ... "th'"
        "Let it alone:\nCome, Cassius.",
        # one way's match hides no other's: ", Cassius," is set beside "her skill" here,
        # but the line's start calls him
        "But first, to try her skill,\nCassius, stand thou as Dauphin.",
        # round 14: beside a noun that names no person, a name between commas is called
        "Tell me the truth, Cassius, and be brief.",
        "We know thy charge, Cassius, and will obey.",
        "Not in my house, Cassius, for you know pitchers have ears.",
        # a name in capitals, as the model writes one, and a call after a dash
        "I'll go with you, CASSIUS.",
        "Why, O CASSIUS; that is not well spoken.",
        "Good Strato.--Cassius, now be still.",
        "Make way there,--Cassius!",
        "His folly, Cassius, is no fault of mine.",
        "Attend the lords of France,\nCassius.",
    ]
    told = [
        "Cassius hath a lean and hungry look.",
        "I saw him with Cassius at the Capitol.",
        "Let Cassius be.",
        "The name of Cassius honours this corruption.",
        "I saw Casca, Cinna, Cassius, and the rest.",  # lists
        "I saw Lord Casca, Lord Cinna, Lord Cassius.",
        "I saw him, Cassius, and Casca.",
        "These were his friends: Brutus, Cassius",
        "The greybeard, Cassius, is old.",  # set beside a noun
        "My brother, Cassius, is slain.",
        "May it please your grace, Cassius, my husband, to hear me.",
        "My good brother, Cassius, is slain.",
        "The coward, Cassius, hath fled.",
        "Thy countrymen, Cassius, are come.",
        # lists and letters in capitals; a name set off by dashes inside a sentence
        "They are all fled: CASCA, CINNA, CASSIUS.",
        "CASCA, CINNA, CASSIUS.",
        "I saw him, Cassius, and IAGO.",
        "Your unfortunate son,\nCASSIUS.",
        "The man who struck him--Cassius, I think--is fled.",
        "I saw him--my brother, Cassius, at the gate.",
        "I saw the villains, Cassius, Casca and the rest.",
        "Rome's best soldier, Cassius, lies dead.",
        "This is her father's son, Signior Cassius, whom I know.",
        "I, Cassius, will go.",
        "Cassius, for his part, hath fled.",  # a subject
        "Pardon Cassius, good my lord, he meant no harm.",
        "No Cassius, no Brutus, could save him.",
        "He cried, 'O Cassius!' and fell.",  # cries in quotes
        "I heard that cry 'O, Cassius' in the street.",
        'He cried, "O Cassius!" and fell.',
    ]
    assert [bool(spoken_to(t, ["Cassius"])) for t in spoken] == [True] * len(spoken)
    names = ["Cassius", "Brutus", "Casca", "Cinna"]  # a list is known by its names
    assert [spoken_to(t, names) for t in told] == [[]] * len(told)


def test_forms_leave_out_ordinary_words_and_keep_each_proper_word():
    forms = address_forms(["Marcus Brutus", "Lady Macbeth", "Boy", "Macbeth"], {"lady", "boy"})
    assert forms["Brutus"] == {"Marcus Brutus"} and forms["Marcus"] == {"Marcus Brutus"}
    assert forms["Macbeth"] == {"Macbeth", "Lady Macbeth"}
    assert "Boy" not in forms and "Lady" not in forms
    jc = play_forms("julius_caesar")
    assert {"Cassius", "Casca", "Brutus", "Portia"} <= set(jc)
    assert not {"Lord", "Servant", "Messenger"} & set(jc)
    # a speaker the persons list leaves out is a name too (Volumnius, Cato at Philippi),
    # but not a group, a people, a god or a ghost under a listed name
    assert {"Volumnius", "Cato"} <= set(jc) and not {"Citizens", "Soldier", "Poet"} & set(jc)
    assert not {"Soldiers", "Attendant"} & set(play_forms("antony_and_cleopatra"))
    assert not {"Sailor", "Lords", "Danes"} & set(play_forms("hamlet"))
    assert not {"Romans", "Goths"} & set(play_forms("tragedy_of_titus_andronicus"))
    assert "Jupiter" not in play_forms("cymbeline") and "Diana" not in play_forms("pericles")
    assert play_forms("richard_iii")["Buckingham"] == {"Duke of Buckingham"}
    assert absent_addressed("What say'st thou, Volumnius?", jc, ["Marcus Brutus", "Viola"])


def test_absent_is_who_no_one_on_stage_answers_to():
    assert absent_addressed("Cassius, stay.", CASSIUS, ["Marcus Brutus", "Viola"]) == ["Cassius"]
    assert absent_addressed("Cassius, stay.", CASSIUS, ["Cassius", "Marcus Brutus"]) == []
    brutus = {"Brutus": frozenset({"Marcus Brutus", "Decius Brutus"})}
    # either Brutus on stage will answer to "Brutus"
    assert absent_addressed("Brutus, a word.", brutus, ["Decius Brutus"]) == []


def test_on_the_plays_a_speech_rarely_speaks_to_someone_off_stage_or_to_itself():
    """The calibration arena/address.py quotes: every speech of the 37 plays against who
    its play has on stage. Apostrophes ("O Julius Caesar, thou art mighty yet!") and late
    entrances account for most of what is flagged; soliloquies ("Then, Timon, presently
    prepare thy grave") for what speaks to the speaker."""
    speeches = absent = own = 0
    for key in list_plays():
        forms = play_forms(key)
        for s in load_play(key).speeches():
            speeches += 1
            absent += bool(absent_addressed(s.text, forms, s.on_stage))
            own += bool(spoken_to(s.text, self_forms(s.speaker, forms)))
    assert speeches > 30_000
    assert absent / speeches < 0.015
    assert own / speeches < 0.003


def _run(turns: list[tuple[str, str]], cast: list[str]) -> Run:
    scored = [
        {"index": i, "speaker": who, "text": text, "source": "model", "present": cast}
        for i, (who, text) in enumerate(turns)
    ]
    plays = {"Marcus Brutus": "julius_caesar", "Viola": "twelfth_night"}
    return Run(name="t", cast=cast, turns=scored, spec={"plays": plays})


def test_misaddress_counts_turns_to_the_absent_and_to_oneself():
    cast = ["Marcus Brutus", "Viola"]
    run = _run(
        [
            ("Marcus Brutus", "Cassius, what news?"),  # Cassius is not in the scene
            ("Viola", "I know not, sir. O Orsino, where art thou?"),  # Orsino, absent
            ("Marcus Brutus", "Viola, you speak well."),  # on stage: fine
            ("Viola", "Come, Viola, be merry."),  # herself
            ("Marcus Brutus", "Cassius is a soldier."),  # named, not spoken to
        ],
        cast,
    )
    ctx = Context.build(run.roles)
    score = Misaddress().score(run, ctx)
    assert score.per_turn == [1.0, 1.0, 0.0, 1.0, 0.0]
    assert score.values["misaddress"] == 0.6
    assert score.extra["misaddressed"] == ["Cassius", "Orsino", "Viola (self)"]
    # a turn's own record of who was present counts (a real speech's scene)
    run.turns[0]["present"] = [*cast, "Cassius"]
    assert Misaddress().score(run, ctx).per_turn[0] == 0.0


def test_the_guard_draws_again_a_speech_to_someone_off_stage():
    brutus = build_persona(load_play("julius_caesar"), "Brutus")
    wrong, right = "Cassius, thou art welcome.", "Good lady, thou art welcome."
    on = AgentSettings(address_present=True, near_repeats=False, length_share=0)
    agent = CharacterAgent(
        brutus, FakeModel([wrong, right]), cast=["Marcus Brutus", "Viola"], settings=on
    )
    said = agent.speak([], "A street in Rome.", seed=1)
    assert (said.text, said.attempts) == (right, 2)
    own = agent.misaddresses("Come, Marcus Brutus, be merry.", frozenset(agent.cast))
    assert own == ["Marcus Brutus"]  # "Brutus" alone may be Decius Brutus
    assert agent.misaddresses("Viola, be merry.", frozenset(agent.cast)) == []
    assert AgentSettings().address_present  # on by default (docs/fidelity.md, round 11)
    off = AgentSettings(address_present=False, near_repeats=False, length_share=0)
    agent = CharacterAgent(
        brutus, FakeModel([wrong, right]), cast=["Marcus Brutus", "Viola"], settings=off
    )
    assert agent.speak([], "A street in Rome.", seed=1).text == wrong


def test_the_guard_follows_who_the_scene_has_on_stage(tmp_path):
    """In a chat, a dismissed character is off stage though in the cast (real LangGraph
    and SQLite checkpoint; the model scripted)."""
    from dramatis.agents.policies import AddressedName
    from dramatis.agents.scene import SceneGraph
    from dramatis.agents.scene_store import SceneStore
    from dramatis.agents.turn import make_turn

    play = load_play("hamlet")
    settings = AgentSettings(address_present=True, near_repeats=False, length_share=0)
    wrong, right = "Ophelia, come hither.", "Come hither, sir."

    def first_speech(dismiss: bool = False, opening: bool = False) -> tuple[str, int]:
        store = SceneStore(tmp_path / f"{dismiss}{opening}.sqlite")
        cast = ["Hamlet"] if opening else ["Hamlet", "Ophelia"]
        agents = {
            name: CharacterAgent(
                build_persona(play, name),
                FakeModel([wrong, right]),
                cast=[*cast, "You"],
                settings=settings,
            )
            for name in cast
        }
        scene = SceneGraph(
            agents,
            AddressedName(),
            setting="A room.",
            seed=1,
            checkpointer=store.checkpointer,
            human="You",
        )
        if dismiss:
            scene.set_present("t", ["Hamlet", "You"])
        if opening:  # a staged scene's opening, spoken by Ophelia, who is not in the cast
            lines = [make_turn(0, "Ophelia", "My lord, I have remembrances of yours.")]
            list(scene.run("t", 1, lines))
        else:
            scene.say("t", "You", "Speak, Hamlet.")
            list(scene.run("t", 1))
        turns = scene.turns("t")
        assert "attempts" not in turns[0]  # the user's line or the opening: not drawn
        return turns[-1]["text"], turns[-1]["attempts"]

    assert first_speech() == (wrong, 1)  # Ophelia is on stage: she may be called
    # sent off: a call to her is drawn again, and the saved turn counts both draws
    assert first_speech(dismiss=True) == (right, 2)
    # Who spoke the opening is on stage too, in the cast or not (as the arena counts).
    assert first_speech(opening=True) == (wrong, 1)


def test_a_card_of_no_play_has_no_names_to_guard():
    class Card:
        name = "Yorick"
        sample_lines = ["Alas."]

        def card(self) -> str:
            return "Yorick, a jester."

    on = AgentSettings(address_present=True)
    agent = CharacterAgent(Card(), FakeModel(), cast=["Yorick", "Hamlet"], settings=on)
    assert agent.misaddresses("Cassius, stay.", frozenset(agent.cast)) == []


def test_the_guard_knows_the_names_of_every_play_of_the_cast():
    """Viola calls on Cassius, whom she heard Brutus name: his play's names count too."""
    viola = build_persona(load_play("twelfth_night"), "Viola")
    cast = frozenset({"Marcus Brutus", "Viola"})
    alone = CharacterAgent(viola, FakeModel(), cast=sorted(cast))
    assert alone.misaddresses("Be quiet, Cassius.", cast) == []
    plays = ["julius_caesar", "twelfth_night"]
    agent = CharacterAgent(viola, FakeModel(), cast=sorted(cast), plays=plays)
    assert agent.misaddresses("Be quiet, Cassius.", cast) == ["Cassius"]
    assert agent.misaddresses("O Orsino, where art thou?", cast) == ["Orsino"]
    assert agent.misaddresses("Be quiet, Brutus.", cast) == []


def test_the_staged_agents_know_every_play_of_their_cast(tmp_path):
    from dramatis.agents.scene_store import SceneSpec
    from dramatis.core.settings import Settings
    from dramatis.staging import cast_personas, scene_agents

    personas = cast_personas(["julius_caesar:Brutus", "twelfth_night:Viola"])
    spec = SceneSpec(thread_id="t", cast=[p.name for p in personas], setting="A street.")
    agents = scene_agents(spec, personas, FakeModel(), Settings(home=tmp_path))
    viola = agents["Viola"]
    assert {"julius_caesar", "twelfth_night"} <= set(viola.plays)
    assert viola.misaddresses("Be quiet, Cassius.", frozenset(spec.cast)) == ["Cassius"]


def test_lists_quotes_ranks_and_places_are_not_calls():
    jc = play_forms("julius_caesar")
    for line in (
        "I met them all: Casca, Cinna, Cassius.",
        "Cassius, Casca and Cinna are fled.",
        'He cried, "O Caesar!" and fell.',
    ):
        assert spoken_to(line, jc) == [], line
    assert spoken_to("Farewell, good Cassius.", jc) == ["Cassius"]
    # a verse line that goes on from a line with no stop is no new start
    for line in ("as he did part with\nCassius, when Caesar fell", "like\nCassius, to wreath"):
        assert spoken_to(line, jc) == [], line
    assert spoken_to("Thou art not well.\nCassius, go home.", jc) == ["Cassius"]
    assert spoken_to("Tell me, then,\nCassius, what news?", jc) == ["Cassius"]
    henry_v, john = play_forms("henry_v"), play_forms("john")
    assert not {"Duke", "Earl", "Dauphin", "Archbishop"} & set(henry_v)
    assert {"York", "Exeter", "Fluellen"} <= set(henry_v)  # "Duke of York" is called York
    assert "Spain" not in john and "Blanch" in john  # "Blanch of Spain"
    assert not any(
        form in ("III", "Third", "Afterwards")
        for key in ("john", "richard_iii")
        for form in play_forms(key)
    )
