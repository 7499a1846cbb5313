"""`dramatis prompt` (dramatis/prompt_cli.py): the exact prompt of a cast and scene, or of
turn N of a saved thread, with a token count per part."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from dramatis.agents.character import AgentSettings, CharacterAgent
from dramatis.agents.fake_backend import FakeModel
from dramatis.cli import app
from dramatis.memory.voice import PlayVoices
from dramatis.personas import find_persona


def invoke(*args: str):
    return CliRunner().invoke(app, list(args))


def test_turn_n_of_a_saved_thread_is_the_prompt_its_speaker_had(tmp_path):
    home = str(tmp_path / "home")
    staged = invoke(
        "stage", "--cast", "Hamlet,Ophelia", "--turns", "3", "--model", "fake", "--home", home,
        "--out", str(tmp_path / "run"),
    )  # fmt: skip
    assert staged.exit_code == 0, staged.output
    thread = staged.output.split("thread id")[1].split()[0]
    turns = [json.loads(line) for line in (tmp_path / "run" / "transcript.jsonl").open()]
    shown = invoke("prompt", thread, "--turn", "2", "--json", "--home", home)
    assert shown.exit_code == 0, shown.output
    row = json.loads(shown.output)
    assert row["speaker"] == turns[2]["speaker"] and row["turn"] == 2
    # the same prompt the agent builds from the two turns before it
    persons = [find_persona(n).card() for n in ("Hamlet", "Ophelia")]
    agent = CharacterAgent(
        find_persona(row["speaker"]),
        FakeModel(),
        cast=["Hamlet", "Ophelia"],
        settings=AgentSettings(best_of=3),
        voice=PlayVoices({"Hamlet": "hamlet", "Ophelia": "hamlet"}),
        persons=persons,
    )
    expected, _ = agent.prompt(turns[:2], row["prompt"].split("\n\n")[-1].split("\n")[0])
    assert row["prompt"] == expected
    assert sum(row["parts"].values()) == row["tokens"] <= row["room"]
    text = invoke("prompt", thread, "--turn", "2", "--home", home).output
    assert row["prompt"] in text and "transcript" in text and "total" in text
    late = invoke("prompt", thread, "--turn", "9", "--home", home)
    assert late.exit_code != 0 and "the scene has 3 turns" in late.output


def test_cast_mode_and_one_line_errors(tmp_path):
    home = str(tmp_path / "home")
    row = json.loads(
        invoke(
            "prompt", "--cast", "Hamlet,Ophelia", "--model", "fake", "--speaker", "ophelia",
            "--setting", "A garden.", "--json", "--home", home,
        ).output
    )  # fmt: skip
    assert row["speaker"] == "Ophelia" and row["turn"] == 0 and "\nA garden." in row["prompt"]
    assert row["prompt"].endswith("OPHELIA:") and row["cut"] == []
    both = invoke("prompt", "x", "--cast", "Hamlet", "--home", home)
    assert both.exit_code != 0 and "one of them" in both.output
    nobody = invoke(
        "prompt", "--cast", "Hamlet", "--speaker", "Yorick", "--model", "fake", "--home", home
    )
    assert nobody.exit_code != 0 and "not a character of the scene" in nobody.output
    greeted = invoke(
        "prompt", "--cast", "Hamlet", "--greeting", "1", "--model", "fake", "--home", home
    )
    assert greeted.exit_code != 0 and "no one in the cast has a card" in greeted.output
    missing = invoke("prompt", "no-such-thread", "--home", home)
    assert missing.exit_code != 0 and "Traceback" not in missing.output
