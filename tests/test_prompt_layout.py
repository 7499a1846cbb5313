"""The page's layout keeps each character's stable prefix: persons, setting and the
transcript first, the exchanges picked again every turn after them, then the heading."""

from __future__ import annotations

from dramatis.agents.character import AgentSettings, CharacterAgent
from dramatis.agents.fake_backend import FakeModel
from dramatis.agents.prompts import PromptInput, page_prompt, transcript_lines
from dramatis.agents.turn import make_turn
from dramatis.personas import find_persona

CAST = ["Hamlet", "Ophelia", "Macbeth", "Lady Macbeth"]
SETTING = "A hall in a castle, late at night."
LINES = [
    "What news, my lord?",
    "The King is up, and walks.",
    "Then we must follow him.",
    "I fear the night.",
    "Good Ophelia, stay.",
    "I will, my lord.",
    "Hark, a knocking.",
    "Wash your hands, and come.",
    "Who's there?",
    "None but ourselves.",
]


class ShiftingVoice:
    """A voice source whose exchanges change with the talk, as PlayVoices' do."""

    def knows(self, name: str) -> bool:
        return True

    def examples(self, speaker: str, context: str, k: int) -> list[tuple[str, str, str]]:
        return [("Rosencrantz", f"Thou spakest {context[:12]}", f"Answer {i} to {context[-9:]}") for i in range(k)]  # fmt: skip


def agent(name: str = "Hamlet", voice=None, **settings) -> CharacterAgent:
    return CharacterAgent(
        find_persona(name),
        FakeModel(chat=False),
        cast=CAST,
        settings=AgentSettings(prompt_format="page", **settings),
        voice=voice if voice is not None else ShiftingVoice(),
        persons=[find_persona(n).card() for n in CAST],
    )


def scene(n: int) -> list:
    return [make_turn(i, CAST[(i + 1) % 4], LINES[i % len(LINES)], present=CAST) for i in range(n)]


def end_of_transcript(prompt: str, turns: list) -> int:
    """Where the transcript's last line ends in `prompt`."""
    last = transcript_lines(turns[-1:])
    return prompt.index(last) + len(last)


def test_a_speakers_next_prompt_shares_everything_up_to_the_new_lines():
    hamlet = agent()
    first, _ = hamlet.prompt(scene(3), SETTING)
    later, _ = hamlet.prompt(scene(7), SETTING)
    shared = end_of_transcript(first, scene(3))
    assert later[:shared] == first[:shared]
    assert "Answer 0" in first[shared:] and first[shared:] not in later  # picked again
    assert later[shared:].startswith("\n" + transcript_lines(scene(7)[3:]))


def test_retrieved_exchanges_come_after_the_transcript_just_before_the_heading():
    page, _ = agent().prompt(scene(5), SETTING)
    cut = end_of_transcript(page, scene(5))
    head, tail = page[:cut], page[cut:]
    assert "Answer 0" not in head and "Rosencrantz" not in head
    lines = tail.strip("\n").split("\n")
    assert lines[0].startswith("[Hamlet remembers: ROSENCRANTZ: Thou spakest ")
    assert lines[0].endswith("]") and lines[0].count(" HAMLET: Answer ") == 2
    assert "Answer 1 to" in lines[0] and lines[-1] == "HAMLET:" and len(lines) == 2


def test_the_page_keeps_the_stage_voice_layout():
    """Persons, a blank line, the setting line, the speeches, the heading: the layout the
    stage voice is trained on (training/canon.py), with the bracketed lines just before
    the heading."""
    page, _ = agent().prompt(scene(2), SETTING)
    persons, rest = page.split("\n\n")
    assert persons.split("\n")[0].startswith("HAMLET, ") and len(persons.split("\n")) == 4
    lines = rest.split("\n")
    assert lines[0] == SETTING
    assert lines[1:3] == ["OPHELIA: What news, my lord?", "MACBETH: The King is up, and walks."]
    assert lines[3].startswith("[Hamlet remembers:") and lines[4] == "HAMLET:"


def test_fixed_voice_samples_stay_in_the_stable_part():
    """Without real exchanges, a speaker's own sample lines (the same every turn) come
    after the persons and before the setting, so they never break the shared prefix."""

    class Silent:
        def examples(self, speaker, context, k):
            return []

    hamlet = agent(voice=Silent())
    first, _ = hamlet.prompt(scene(3), SETTING)
    later, _ = hamlet.prompt(scene(7), SETTING)
    blocks = first.split("\n\n")
    assert len(blocks) == 3 and blocks[1].startswith("HAMLET: ") and blocks[2].startswith(SETTING)
    shared = end_of_transcript(first, scene(3))
    assert later[:shared] == first[:shared]


def test_memories_and_lore_follow_the_transcript_too():
    p = PromptInput(
        speaker="Ophelia",
        summary="",
        samples=(),
        setting=SETTING,
        cast=("Hamlet", "Ophelia"),
        history=tuple(scene(2)),
        memories=("Polonius is dead.",),
        persons=("Ophelia, daughter to Polonius.",),
        lore="Elsinore is cold.",
        examples=(("Laertes", "Farewell.", "No more but so?"),),
    )
    tail = page_prompt(p).split("MACBETH: The King is up, and walks.\n")[1].split("\n")
    assert tail == [
        "[Elsinore is cold.]",
        "[Ophelia remembers: LAERTES: Farewell. OPHELIA: No more but so?]",
        "[Ophelia remembers: Polonius is dead.]",
        "OPHELIA:",
    ]


def test_windowed_history_keeps_the_prefix_between_the_windows_steps():
    """With a history budget the window's start moves in steps of 8 turns: a speaker's
    consecutive prompts share their prefix except across such a step."""
    hamlet = agent(history_tokens=100)
    sizes = range(2, 40, 2)
    prompts = [hamlet.prompt(scene(n), SETTING)[0] for n in sizes]
    starts = [hamlet.visible(scene(n))[0]["index"] for n in sizes]
    kept = 0
    for i, n in enumerate(sizes[:-1]):
        shared = end_of_transcript(prompts[i], hamlet.visible(scene(n)))
        if starts[i + 1] == starts[i]:
            assert prompts[i + 1][:shared] == prompts[i][:shared]
            kept += 1
    assert len(set(starts)) >= 4 and kept >= len(prompts) - len(set(starts))


def test_scene_examples_give_every_speaker_the_same_page_up_to_the_heading():
    """examples_place "scene": every cast member's exchanges, picked by the setting, sit
    above the transcript; the pages of all four speakers, on any turn, differ only in
    the heading, and a later page extends an earlier one up to its heading."""
    turns = scene(5)
    pages = [agent(n, examples_place="scene").prompt(turns, SETTING)[0] for n in CAST]
    bodies = {p[: p.rindex("\n") + 1] for p in pages}
    assert len(bodies) == 1
    assert [p[p.rindex("\n") + 1 :] for p in pages] == [f"{n.upper()}:" for n in CAST]
    body = bodies.pop()
    persons, examples, script = body.split("\n\n")
    assert [line.split(" remembers:")[0] for line in examples.split("\n")] == [
        f"[{n}" for n in CAST
    ]
    assert f"Thou spakest {SETTING[:12]}" in examples and "Answer 1 to" in examples
    assert script.startswith(SETTING) and "remembers" not in script
    later, _ = agent("Ophelia", examples_place="scene").prompt(scene(9), SETTING)
    assert later.startswith(body)


def test_scene_examples_skip_a_person_of_no_play():
    """A cast member no play knows (the user in a chat) has no exchanges to show, and the
    others' are shown."""
    from dramatis.core.errors import DramatisError

    class Known(ShiftingVoice):
        def examples(self, speaker, context, k):
            if speaker == "Lady Macbeth":
                raise DramatisError("no persona named Lady Macbeth")
            return super().examples(speaker, context, k)

    page, _ = agent(voice=Known(), examples_place="scene").prompt(scene(2), SETTING)
    assert "[Macbeth remembers:" in page and "[Lady Macbeth remembers:" not in page


def test_both_places_keep_the_scenes_exchanges_above_and_the_speakers_below():
    turns = scene(5)
    pages = [
        agent(n, examples_place="both").prompt(turns, SETTING)[0] for n in ("Hamlet", "Ophelia")
    ]
    cut = end_of_transcript(pages[0], turns)
    assert pages[0][:cut] == pages[1][:cut] and "[Macbeth remembers:" in pages[0][:cut]
    tails = [p[cut:].strip("\n").split("\n") for p in pages]
    assert tails[0][0].startswith("[Hamlet remembers:") and tails[0][-1] == "HAMLET:"
    assert tails[1][0].startswith("[Ophelia remembers:") and tails[1][-1] == "OPHELIA:"


def test_scene_examples_leave_out_the_user_and_without_a_setting_stay_shared():
    """A voice that knows only the characters (PlayVoices.knows) shows none for the user
    in a chat, even one named like a character; with no setting the exchanges are picked
    by the cast's names, so every speaker's page is still the same above the heading."""

    class Characters(ShiftingVoice):
        def knows(self, name):
            return name != "Lady Macbeth"  # here: the user, named like a character

    page, _ = agent(voice=Characters(), examples_place="scene").prompt(scene(2), SETTING)
    assert "[Macbeth remembers:" in page and "[Lady Macbeth remembers:" not in page
    pages = [agent(n, examples_place="scene").prompt(scene(3), "")[0] for n in CAST[:2]]
    assert pages[0][: pages[0].rindex("\n")] == pages[1][: pages[1].rindex("\n")]


def test_play_voices_know_only_the_characters_they_were_given():
    from dramatis.memory.voice import PlayVoices

    voices = PlayVoices({"Hamlet": "hamlet"})
    assert voices.knows("Hamlet") and not voices.knows("Nurse")
    assert PlayVoices().knows("Nurse")  # none named: any character is looked up
