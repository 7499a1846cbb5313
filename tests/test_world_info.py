"""SillyTavern world info (personas/world_info.py): files imported as lorebooks, their
activation rules (keys, secondary keys with selective logic, constant, order, scan depth),
a budget in tokens from the context, `--lore` and a card's `extensions.world`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dramatis.agents.character import AgentSettings, CharacterAgent
from dramatis.agents.fake_backend import FakeModel
from dramatis.agents.turn import make_turn
from dramatis.cli import app
from dramatis.core.errors import DramatisError
from dramatis.personas import find_persona
from dramatis.personas.card_store import CardStore
from dramatis.personas.cards import card_persona
from dramatis.personas.lorebook import active_lore
from dramatis.personas.world_info import (
    LoreStore,
    books_for,
    import_world,
    parse_lore,
    world_to_lorebook,
)

CARDS = Path(__file__).parent / "fixtures" / "cards"


def st_entry(uid: int, keys: list[str], content: str, **fields) -> dict:
    """An entry as SillyTavern writes it (the fields its editor always saves)."""
    return {
        "uid": uid,
        "key": keys,
        "keysecondary": [],
        "comment": f"entry {uid}",
        "content": content,
        "constant": False,
        "selective": True,
        "selectiveLogic": 0,
        "addMemo": True,
        "order": 100,
        "position": 0,
        "disable": False,
        "excludeRecursion": False,
        "probability": 100,
        "useProbability": True,
        "depth": 4,
        "group": "",
        "scanDepth": None,
        "caseSensitive": None,
        "matchWholeWords": None,
        "displayIndex": uid,
        **fields,
    }


def world(*entries: dict, **top) -> dict:
    return {"entries": {str(e["uid"]): e for e in entries}, **top}


def words(text: str) -> int:
    return len(text.split())


def fired(raw: dict, *messages: str, budget: int = 10_000) -> list[str]:
    book = world_to_lorebook(raw, "test.json")
    return [e.comment or "" for e in active_lore([book], list(messages), budget, words)]


def test_keys_constant_disabled_and_order():
    raw = world(
        st_entry(0, ["Elsinore"], "The castle.", order=50),
        st_entry(1, [], "Always cold.", constant=True, order=10),
        st_entry(2, ["ghost"], "Walks at night.", disable=True),
        st_entry(3, ["Yorick"], "A jester.", order=200),
    )
    assert fired(raw, "We ride to Elsinore, and Yorick's skull.") == [
        "entry 1",
        "entry 0",
        "entry 3",
    ]
    assert fired(raw, "A ghost!") == ["entry 1"]  # disabled never fires


@pytest.mark.parametrize(
    ("logic", "talk", "fires"),
    [
        (0, "the king and the crown", True),  # AND ANY: one secondary is enough
        (0, "the king alone", False),
        (3, "the king and the crown", False),  # AND ALL: both secondaries needed
        (3, "the king, the crown and the throne", True),
        (1, "the king, the crown and the throne", False),  # NOT ALL
        (1, "the king and the crown", True),
        (2, "the king and the crown", False),  # NOT ANY
        (2, "the king alone", True),
    ],
)
def test_selective_logic(logic, talk, fires):
    entry = st_entry(0, ["king"], "K", keysecondary=["crown", "throne"], selectiveLogic=logic)
    assert fired(world(entry), talk) == (["entry 0"] if fires else [])


def test_scan_depth_per_entry_case_and_whole_words():
    raw = world(
        st_entry(0, ["Elsinore"], "near", scanDepth=1),
        st_entry(1, ["Elsinore"], "far", scanDepth=3),
        st_entry(2, ["KING"], "case", caseSensitive=True),
        st_entry(3, ["king"], "part", matchWholeWords=False),
    )
    talk = ["Elsinore is far.", "Nothing.", "The kingdom."]
    assert fired(raw, *talk) == ["entry 1", "entry 3"]
    assert fired(raw, "the KING") == ["entry 2", "entry 3"]


def test_the_budget_keeps_the_highest_order_first_and_any_one_entry_can_fire():
    """Four long entries: each fires alone (the longest too); together, the budget keeps
    those of highest order."""
    sizes = {0: 120, 1: 180, 2: 230, 3: 269}
    raw = world(*(st_entry(i, [f"key{i}"], "lore " * n, order=10 * i) for i, n in sizes.items()))
    for i in sizes:
        assert fired(raw, f"about key{i}", budget=489) == [f"entry {i}"]
    assert fired(raw, "key0 key1 key2 key3", budget=489) == ["entry 1", "entry 3"]


def test_the_lore_budget_is_a_quarter_of_the_prompts_room():
    raw = world(*(st_entry(i, [f"key{i}"], "lore " * 269) for i in range(4)))
    book = world_to_lorebook(raw, "w.json")
    agent = CharacterAgent(
        find_persona("Hamlet"), FakeModel(), cast=["Hamlet", "Ophelia"], lore=[book]
    )
    turns = [make_turn(0, "Ophelia", "key0 key1 key2 key3", present=["Hamlet", "Ophelia"])]
    lore = agent.prompt_input(turns, "A hall.").lore
    assert words(lore) == 269 and int(0.25 * agent.room()) == 493  # one of them fits 493
    small = CharacterAgent(
        find_persona("Hamlet"),
        FakeModel(),
        cast=["Hamlet"],
        lore=[book],
        settings=AgentSettings(max_tokens=1000),  # the speech takes the room the lore had
    )
    assert small.prompt_input(turns, "A hall.").lore == ""


def test_bad_files_are_one_line_errors_naming_the_field(tmp_path):
    bad = [
        ({"entries": []}, None),
        ({"entries": "x"}, "field entries"),
        (world(st_entry(0, "a, b", "ok")), None),  # a comma string of keys is read
        (world(st_entry(0, [1, 2], "x")), "entries.0.key"),
        (world(st_entry(0, ["a"], 5)), "entries.0.content"),
        (world(st_entry(0, ["a"], "x", order="high")), "entries.0.order"),
        ({"spec": "chara_card_v2", "data": {}}, "not a SillyTavern world-info file"),
    ]
    for raw, message in bad:
        if message is None:
            world_to_lorebook(raw, "w.json")
            continue
        with pytest.raises(DramatisError, match=message):
            world_to_lorebook(raw, "w.json")
    path = tmp_path / "broken.json"
    path.write_text("{not json")
    with pytest.raises(DramatisError, match="broken.json: not JSON"):
        import_world(path, LoreStore(tmp_path))


def test_parse_lore():
    assert parse_lore("elsinore, Hamlet=ghosts") == [("", "elsinore"), ("Hamlet", "ghosts")]
    assert parse_lore("") == []


def elsinore(tmp_path: Path) -> Path:
    path = tmp_path / "Elsinore.json"
    entries = [
        st_entry(0, ["Yorick"], "Yorick lies in the churchyard by the chapel wall."),
        st_entry(1, ["ghost", "king"], "The ghost walks the battlements at one.", order=5),
    ]
    path.write_text(json.dumps(world(*entries, name="Elsinore")))
    return path


def test_cli_import_list_show_attach_and_a_card_that_links_it(tmp_path):
    home = tmp_path / "home"
    runner = CliRunner()
    run = runner.invoke(app, ["lore", "import", str(elsinore(tmp_path)), "--home", str(home)])
    assert run.exit_code == 0 and "imported lorebook elsinore (2 entries)" in run.output
    again = runner.invoke(app, ["lore", "import", str(elsinore(tmp_path)), "--home", str(home)])
    assert again.exit_code != 0 and "--force" in again.output and "Traceback" not in again.output
    listed = runner.invoke(app, ["lore", "list", "--json", "--home", str(home)])
    assert json.loads(listed.output) == [{"name": "elsinore", "entries": 2}]
    shown = runner.invoke(app, ["lore", "show", "elsinore", "--home", str(home)])
    assert "[5] entry 1: ghost, king" in shown.output
    as_card = runner.invoke(
        app, ["personas", "import", str(elsinore(tmp_path)), "--home", str(home)]
    )
    assert as_card.exit_code != 0 and "world-info file" in as_card.output
    assert "dramatis lore import" in as_card.output
    # a card links it: extensions.world, set by `lore attach`
    runner.invoke(app, ["personas", "import", str(CARDS / "yorick_v2.json"), "--home", str(home)])
    attach = runner.invoke(
        app, ["lore", "attach", "elsinore", "--card", "Yorick", "--home", str(home)]
    )
    assert attach.exit_code == 0, attach.output
    card = CardStore(home).card("Yorick")
    assert card is not None and card["data"]["extensions"]["world"] == "elsinore"
    yorick = card_persona(card)
    books = books_for(yorick, "", LoreStore(home))
    assert [b.name for b in books] == ["Elsinore"]
    hamlet_books = books_for(find_persona("Hamlet"), "Yorick=elsinore", LoreStore(home))
    assert hamlet_books == []  # attached to Yorick only
    missing = runner.invoke(
        app, ["lore", "attach", "nowhere", "--card", "Yorick", "--home", str(home)]
    )
    assert missing.exit_code != 0 and "no lorebook 'nowhere'" in missing.output


def test_stage_refuses_an_unknown_lorebook_before_loading_a_model(tmp_path):
    run = CliRunner().invoke(
        app,
        [
            "stage",
            "--cast",
            "Hamlet",
            "--model",
            "fake",
            "--lore",
            "atlantis",
            "--home",
            str(tmp_path),
        ],
    )
    assert run.exit_code != 0 and "no lorebook 'atlantis'" in run.output
    assert "dramatis lore import" in run.output


def test_prompt_on_the_real_model_shows_the_lore_a_scene_brings_in(tmp_path):
    """The real path: import a world-info file with the CLI, then `dramatis prompt` on
    the bundled model and its tokenizer shows the entry the opening talk brings in."""
    home = tmp_path / "home"
    env = {**os.environ, "DRAMATIS_HOME": str(home), "DRAMATIS_THREADS": "1"}
    cli = [sys.executable, "-m", "dramatis"]
    subprocess.run([*cli, "lore", "import", str(elsinore(tmp_path))], env=env, check=True)
    run = subprocess.run(
        [
            *cli,
            "prompt",
            "--cast",
            "Bernardo,Francisco",
            "--scene",
            "hamlet:1.1",
            "--lore",
            "elsinore",
        ]
        + ["--speaker", "Francisco", "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    row = json.loads(run.stdout)
    assert "[The ghost walks the battlements at one.]" in row["prompt"]  # "Long live the king!"
    assert row["parts"]["lore"] > 0 and row["tokens"] <= row["room"]


def test_chat_takes_lore_and_saves_it_with_the_chat(tmp_path):
    from dramatis.tui.session import ChatOptions, new_spec

    import_world(elsinore(tmp_path), LoreStore(tmp_path))
    spec, _ = new_spec(ChatOptions(cast="Horatio", home=tmp_path, lore="Horatio=elsinore"))
    assert spec.agent.lore == "Horatio=elsinore"  # resume reads the same books
    with pytest.raises(DramatisError, match="no lorebook 'atlantis'"):
        new_spec(ChatOptions(cast="Horatio", home=tmp_path, lore="atlantis"))
    with pytest.raises(DramatisError, match="Yorick is not in the cast"):
        new_spec(ChatOptions(cast="Horatio", home=tmp_path, lore="Yorick=elsinore"))
