"""SillyTavern world info, the rules past activation (personas/world_info.py and
personas/lorebook.py): where an entry goes by its `position` and `depth`, `probability`
drawn from the turn's seed, and recursion (entries brought in by other entries' content,
with SillyTavern's exclude/prevent/delay flags and a cap on the passes)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from dramatis.agents.character import CharacterAgent
from dramatis.agents.fake_backend import FakeModel
from dramatis.agents.scene import turn_seed
from dramatis.agents.turn import make_turn
from dramatis.core.errors import DramatisError
from dramatis.personas import find_persona
from dramatis.personas.lorebook import RECURSION_STEPS, Lorebook, LoreEntry, active_lore
from dramatis.personas.world_info import (
    LoreStore,
    entry_place,
    import_world,
    lore_layout,
    world_to_lorebook,
)
from tests.test_world_info import st_entry, words, world

CAST = ["Hamlet", "Horatio"]
TALK = [
    "Who's there?",
    "Friends to this ground.",
    "Tis now struck twelve.",
    "The air bites shrewdly.",
    "What hour now?",
    "I think it lacks of twelve.",
]


def agent_with(book: Lorebook, **kw) -> CharacterAgent:
    return CharacterAgent(
        find_persona("Hamlet"),
        FakeModel(),
        cast=CAST,
        persons=[find_persona(n).card() for n in CAST],
        lore=[book],
        **kw,
    )


def scene_turns(n: int = len(TALK)) -> list:
    return [make_turn(i, CAST[(i + 1) % 2], TALK[i], present=CAST) for i in range(n)]


def placed(**positions: dict) -> Lorebook:
    """A book of constant entries, one per keyword argument: its name in capitals is its
    text, its value the entry's SillyTavern fields."""
    entries = [
        st_entry(i, [], f"{name.upper()}.", constant=True, **fields)
        for i, (name, fields) in enumerate(positions.items())
    ]
    return world_to_lorebook(world(*entries), "places.json")


def test_each_position_goes_where_sillytavern_puts_it_on_the_page():
    book = placed(
        top={"position": 0},
        below={"position": 1},
        em_top={"position": 5},
        em_end={"position": 6},
        deep={"position": 4, "depth": 1},
        last={"position": 4, "depth": 0},
        note={"position": 2},  # the author's note: depth 4
        far={"position": 4, "depth": 99},  # deeper than the talk: above its first speech
    )
    lines = agent_with(book).prompt(scene_turns(), "Elsinore. A platform.")[0].splitlines()
    setting = lines.index("Elsinore. A platform.")
    persons = [i for i, line in enumerate(lines) if line.startswith(("HAMLET,", "HORATIO,"))]
    assert lines[persons[0] - 1] == "[TOP.]" and lines[persons[-1] + 1] == "[BELOW.]"
    samples = [i for i in range(setting) if lines[i].startswith("HAMLET: ")]
    assert len(samples) == 3  # the fixed voice samples: the examples
    assert lines[samples[0] - 1] == "[EM_TOP.]" and lines[samples[-1] + 1] == "[EM_END.]"
    speeches = [i for i in range(setting, len(lines) - 1) if ": " in lines[i]]
    assert len(speeches) == len(TALK)
    assert lines[setting + 1] == "[FAR.]" and speeches[0] == setting + 2
    assert lines[speeches[-4] - 1] == "[NOTE.]"
    assert lines[speeches[-1] - 1] == "[DEEP.]" and lines[speeches[-1] + 1] == "[LAST.]"
    assert lines[-1] == "HAMLET:"


class Voice:
    """Real exchanges like the current talk (the page then shows them, not samples)."""

    def examples(self, speaker, context, k):
        return [("Polonius", "What do you read, my lord?", "Words, words, words.")] * k


def test_example_positions_follow_the_exchanges_when_the_page_shows_them():
    book = placed(em_top={"position": 5}, em_end={"position": 6})
    agent = agent_with(book, voice=Voice())
    lines = agent.prompt(scene_turns(), "A platform.")[0].splitlines()
    said = next(i for i, line in enumerate(lines) if line.startswith("[Hamlet remembers: "))
    assert lines[said - 1 : said + 2 : 2] == ["[EM_TOP.]", "[EM_END.]"]
    setting = lines.index("A platform.")
    assert not any(line.startswith("HAMLET: ") for line in lines[:setting])  # no samples


def test_lore_without_positions_renders_as_before():
    """A line of lore with no place (one the budget does not know) goes after the last
    speech, where all lore went before positions were applied."""
    layout = lore_layout("The ghost walks.\nThe king is dead.", ())
    assert layout.into_script(["A: a", "B: b"]) == [
        "A: a",
        "B: b",
        "[The ghost walks. The king is dead.]",
    ]
    assert layout.before_char == layout.after_char == ""


def test_order_within_one_place_is_lowest_first():
    raw = world(
        st_entry(0, [], "Second.", constant=True, order=20, position=1),
        st_entry(1, [], "First.", constant=True, order=10, position=1),
    )
    agent = agent_with(world_to_lorebook(raw, "o.json"))
    assert "[First. Second.]" in agent.prompt(scene_turns(), "A platform.")[0]


def test_a_cards_own_book_says_before_or_after_char_and_its_export_keeps_the_number():
    assert entry_place(LoreEntry(position="before_char")) == ("before_char", 0)
    assert entry_place(LoreEntry(position="after_char")) == ("after_char", 0)
    assert entry_place(LoreEntry()) == ("after_char", 0)  # as SillyTavern reads a card
    exported = LoreEntry(position="after_char", extensions={"position": 4, "depth": 2})
    assert entry_place(exported) == ("depth", 2)
    assert entry_place(LoreEntry(extensions={"position": 6})) == ("after_examples", 0)
    assert entry_place(LoreEntry(extensions={"position": "x"})) == ("after_char", 0)
    assert entry_place(LoreEntry(extensions={"position": 3})) == ("depth", 4)  # the note's
    assert entry_place(LoreEntry(extensions={"position": 4})) == ("depth", 4)  # default depth


def chance_book(probability: float, use: bool = True) -> Lorebook:
    entry = st_entry(0, ["ghost"], "It walks.", probability=probability, useProbability=use)
    return world_to_lorebook(world(entry), "chance.json")


def fires(book: Lorebook, seed: int) -> bool:
    return bool(active_lore([book], ["A ghost!"], 1000, words, seed=seed))


def test_probability_is_drawn_from_the_seed():
    half = chance_book(50)
    draws = [fires(half, seed) for seed in range(400)]
    assert 150 < sum(draws) < 250  # about half of 400 seeds
    assert draws == [fires(half, seed) for seed in range(400)]  # the same seed, the same draw
    assert all(fires(chance_book(100), s) for s in range(50))
    assert not any(fires(chance_book(0), s) for s in range(50))
    assert all(fires(chance_book(0, use=False), s) for s in range(50))  # the switch is off
    constant = world(st_entry(0, [], "Always?", constant=True, probability=30))
    kept = sum(
        bool(active_lore([world_to_lorebook(constant, "c")], [], 99, words, seed=s))
        for s in range(300)
    )
    assert 50 < kept < 130  # constant entries roll too, as in SillyTavern


def test_a_scene_draws_its_lore_by_the_turns_seed_and_a_rerun_draws_the_same():
    """The real agent path: `speak` builds its prompt with the turn's seed, so the lore a
    speech saw is the one a rerun (or `dramatis prompt` for that turn) sees."""
    agent = agent_with(chance_book(50))
    turns = [make_turn(0, "Horatio", "A ghost, my lord!", present=CAST)]
    seen = {}
    for index in range(12):
        seed = turn_seed(7, index)
        agent.speak(turns, "A platform.", seed=seed)
        seen[seed] = "[It walks.]" in agent.model.prompts[-1]
        assert seen[seed] == ("[It walks.]" in agent.prompt(turns, "A platform.", seed)[0])
    assert 0 < sum(seen.values()) < 12


def chain(n: int, **fields) -> list[dict]:
    """Entries 0..n-1: entry i fires on "link{i}" and its content names link{i+1}."""
    return [st_entry(i, [f"link{i}"], f"Then link{i + 1}.", **fields) for i in range(n)]


def names(raw: dict, *talk: str, budget: int = 10_000, **kw) -> list[str]:
    book = world_to_lorebook(raw, "r.json")
    return [e.comment or "" for e in active_lore([book], list(talk), budget, words, **kw)]


def test_recursion_brings_in_entries_named_by_other_entries_up_to_the_cap():
    assert names(world(*chain(3)), "link0") == ["entry 0", "entry 1", "entry 2"]
    long = names(world(*chain(10)), "link0")
    assert len(long) == 1 + RECURSION_STEPS  # the talk's pass, then RECURSION_STEPS more
    assert names(world(*chain(10)), "link0", steps=0) == ["entry 0"]
    assert names(world(*chain(3)), "nothing") == []


def test_exclude_prevent_and_delay_recursion():
    base = chain(3)
    base[1]["excludeRecursion"] = True  # only the talk can bring it in
    assert names(world(*base), "link0") == ["entry 0"]
    assert names(world(*base), "link0 link1") == ["entry 0", "entry 1", "entry 2"]
    stop = chain(3)
    stop[0]["preventRecursion"] = True  # its content brings nothing in
    assert names(world(*stop), "link0") == ["entry 0"]
    late = chain(2) + [st_entry(9, ["link0"], "Late.", delayUntilRecursion=True)]
    assert names(world(*late), "link0") == ["entry 0", "entry 1", "entry 9"]
    assert names(world(*late), "link0", steps=0) == ["entry 0"]  # no recursive pass
    levels = [
        st_entry(0, ["ghost"], "Cold.", delayUntilRecursion=2),
        st_entry(1, ["ghost"], "Dark.", delayUntilRecursion=1),
        st_entry(2, ["ghost"], "Night."),
    ]
    book = world_to_lorebook(world(*levels), "l.json")
    level = [e.content for e in active_lore([book], ["ghost"], 99, words, steps=1)]
    assert level == ["Night.", "Dark."]  # the talk's pass, then recursion at level 1
    assert len(active_lore([book], ["ghost"], 99, words)) == 3  # level 2 once 1 is done
    # with nothing else firing, SillyTavern goes on to the highest level at once
    alone = world_to_lorebook(world(*levels[:2]), "l.json")
    assert len(active_lore([alone], ["ghost"], 99, words, steps=1)) == 2


def test_recursion_crosses_books_and_a_book_can_keep_out_of_it():
    first = world_to_lorebook(world(*chain(1)), "a.json")
    second = world_to_lorebook(world(st_entry(5, ["link1"], "Found.")), "b.json")
    assert [e.content for e in active_lore([first, second], ["link0"], 99, words)] == [
        "Then link1.",
        "Found.",
    ]
    closed = first.model_copy(update={"recursive_scanning": False})
    assert [e.content for e in active_lore([closed, second], ["link0"], 99, words)] == [
        "Then link1."
    ]


def test_a_full_budget_ends_recursion():
    raw = world(
        st_entry(0, ["link0"], "Then link1. " + "pad " * 20),
        st_entry(1, ["link1"], "Then link2. " + "pad " * 20),
        st_entry(2, ["link2"], "End."),
    )
    assert names(raw, "link0", budget=50) == ["entry 0", "entry 1", "entry 2"]
    assert names(raw, "link0", budget=30) == ["entry 0"]  # entry 1 is over: no further pass


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("position", "top"),
        ("depth", [1]),
        ("probability", "half"),
        ("useProbability", "yes"),
        ("excludeRecursion", 2),
        ("preventRecursion", "no"),
        ("delayUntilRecursion", "later"),
    ],
)
def test_bad_rule_fields_are_one_line_errors_naming_them(tmp_path, field, value):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(world(st_entry(3, ["k"], "c", **{field: value}))))
    with pytest.raises(DramatisError) as caught:
        import_world(path, LoreStore(tmp_path))
    message = str(caught.value)
    assert f"entries.3.{field}" in message and "\n" not in message


@pytest.mark.slow
def test_prompt_on_the_real_model_puts_each_entry_where_its_position_says(tmp_path):
    """The real path: import with the CLI, then `dramatis prompt` on the bundled model
    (its tokenizer, the budget, the page) for the opening of Hamlet 1.1."""
    home = tmp_path / "home"
    entries = [
        st_entry(0, ["king"], "The old king walks again.", position=0),
        st_entry(1, ["king"], "The watch is doubled.", position=1),
        st_entry(2, ["king"], "Snow lies on the battlements.", position=4, depth=1),
        st_entry(3, ["Francisco"], "It is bitter cold.", position=4, depth=0, probability=0),
    ]
    path = tmp_path / "watch.json"
    path.write_text(json.dumps(world(*entries, name="Watch")))
    env = {**os.environ, "DRAMATIS_HOME": str(home), "DRAMATIS_THREADS": "1"}
    cli = [sys.executable, "-m", "dramatis"]
    subprocess.run([*cli, "lore", "import", str(path)], env=env, check=True)
    run = subprocess.run(
        [*cli, "prompt", "--cast", "Bernardo,Francisco", "--scene", "hamlet:1.1"]
        + ["--lore", "watch", "--speaker", "Francisco", "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    row = json.loads(run.stdout)
    lines = row["prompt"].splitlines()
    assert lines[0] == "[The old king walks again.]"  # before the list of persons
    assert lines[1].startswith(("BERNARDO,", "FRANCISCO,"))
    persons = [i for i, line in enumerate(lines) if line.startswith(("BERNARDO,", "FRANCISCO,"))]
    assert lines[persons[-1] + 1] == "[The watch is doubled.]"  # after it
    speeches = [i for i, line in enumerate(lines) if line.startswith(("BERNARDO: ", "FRANCISCO: "))]
    assert lines[speeches[-1] - 1] == "[Snow lies on the battlements.]"  # above the last speech
    assert "It is bitter cold." not in row["prompt"]  # probability 0: never drawn
    assert lines[-1] == "FRANCISCO:" and row["parts"]["lore"] > 0
    assert row["tokens"] <= row["room"]


def test_lore_show_says_where_each_entry_goes_and_its_rules(tmp_path):
    from typer.testing import CliRunner

    from dramatis.cli import app

    raw = world(
        st_entry(0, ["storm"], "S.", position=4, depth=0, probability=60),
        st_entry(1, ["pine"], "P.", position=1, delayUntilRecursion=True),
        st_entry(2, ["Sycorax"], "X.", position=6, excludeRecursion=True, preventRecursion=True),
        st_entry(3, ["Ariel"], "A.", probability=10, useProbability=False),
    )
    path = tmp_path / "isle.json"
    path.write_text(json.dumps(raw))
    home = ["--home", str(tmp_path / "home")]
    runner = CliRunner()
    assert runner.invoke(app, ["lore", "import", str(path), *home]).exit_code == 0
    shown = runner.invoke(app, ["lore", "show", "isle", *home]).output.splitlines()
    assert shown == [
        "[100] entry 0: storm; at depth 0; 60%",
        "[100] entry 1: pine; after the persons; by recursion only (level 1)",
        "[100] entry 2: Sycorax; after the examples; not by recursion; brings none in",
        "[100] entry 3: Ariel; before the persons",  # the probability switch is off
    ]


@pytest.mark.slow
def test_a_staged_scene_draws_lore_per_turn_and_prompt_shows_each_turns_draw(tmp_path, monkeypatch):
    """The real stage path (LangGraph scene, SQLite checkpoints; the fake model records
    what it is asked): entries of probability 50 are drawn anew each turn from the
    scene's seed, and `dramatis prompt THREAD --turn N` shows the very prompt turn N had."""
    from typer.testing import CliRunner

    from dramatis.cli import app

    seen: list[str] = []
    stream = FakeModel.stream

    def recording(self, prompt, sampling):
        seen.append(prompt)
        return stream(self, prompt, sampling)

    monkeypatch.setattr(FakeModel, "stream", recording)
    raw = world(*(st_entry(i, [], f"Omen {i}.", constant=True, probability=50) for i in range(4)))
    path = tmp_path / "omens.json"
    path.write_text(json.dumps(raw))
    home = ["--home", str(tmp_path / "home")]
    runner = CliRunner()
    assert runner.invoke(app, ["lore", "import", str(path), *home]).exit_code == 0
    staged = runner.invoke(
        app, ["stage", "--cast", "Hamlet,Horatio", "--turns", "6", "--model", "fake"]
        + ["--lore", "omens", "--seed", "3", "--out", str(tmp_path / "run"), *home],
    )  # fmt: skip
    assert staged.exit_code == 0, staged.output
    thread = staged.output.split("thread id")[1].split()[0]
    draws = []
    written = (tmp_path / "run" / "transcript.jsonl").read_text().splitlines()
    assert len(written) == 6
    for turn in range(len(written)):
        shown = runner.invoke(app, ["prompt", thread, "--turn", str(turn), "--json", *home])
        prompt = json.loads(shown.output)["prompt"]
        assert prompt in seen  # the prompt that turn was written from
        draws.append(tuple(i for i in range(4) if f"Omen {i}." in prompt))
    assert len(set(draws)) > 1  # drawn anew each turn
    assert 0 < sum(map(len, draws)) < 24  # some drawn, some not


def test_prompt_follows_a_cards_world_link_and_places_its_entries(tmp_path):
    """`lore attach` sets the card's extensions.world; the prompt a scene would begin with
    (the staging code, SQLite-free) holds the linked book's entries where they belong."""
    from pathlib import Path

    from typer.testing import CliRunner

    from dramatis.cli import app

    cards = Path(__file__).parent / "fixtures" / "cards"
    raw = world(st_entry(0, [], "Rain on the graves.", constant=True, position=1))
    path = tmp_path / "churchyard.json"
    path.write_text(json.dumps(raw))
    home = ["--home", str(tmp_path / "home")]
    runner = CliRunner()
    for command in (
        ["personas", "import", str(cards / "yorick_v2.json")],
        ["lore", "import", str(path)],
        ["lore", "attach", "churchyard", "--card", "Yorick"],
    ):
        assert runner.invoke(app, [*command, *home]).exit_code == 0
    shown = runner.invoke(
        app, ["prompt", "--cast", "Yorick,Hamlet", "--speaker", "Yorick", "--model", "fake"]
        + ["--json", *home],
    )  # fmt: skip
    lines = json.loads(shown.output)["prompt"].splitlines()
    persons = [i for i, line in enumerate(lines) if line.startswith(("YORICK,", "HAMLET,"))]
    # the card's own constant entry and the linked world's: one line, after the persons
    after = "[Yorick is a skull and cannot move on his own. Rain on the graves.]"
    assert lines[persons[-1] + 1] == after


def test_the_default_scan_depth_is_sillytaverns_two_messages():
    raw = world(st_entry(0, ["ghost"], "It walks."))
    assert names(raw, "A ghost!", "Where?") == ["entry 0"]
    assert names(raw, "A ghost!", "Where?", "There.") == []  # three messages back
