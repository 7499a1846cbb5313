"""Agent settings are checked where the user gives them: every `--set` key works, every
value out of range is one line naming the key and the fix, before a model loads."""

from __future__ import annotations

from dataclasses import asdict, fields

import pytest
from typer.testing import CliRunner

from dramatis.agents.character import AgentSettings
from dramatis.agents.formats import format_names
from dramatis.agents.settings_check import (
    RULES,
    Rule,
    agent_settings,
    parse_pairs,
    validate_settings,
)
from dramatis.core.errors import DramatisError

FIELDS = [f.name for f in fields(AgentSettings)]


def stage(*args: str):
    from dramatis.cli import app

    return CliRunner().invoke(app, ["stage", "--cast", "Hamlet,Horatio", *args])


def test_every_agent_setting_has_a_rule_and_its_default_passes():
    assert sorted(RULES) == sorted(FIELDS)
    assert validate_settings(AgentSettings()) == AgentSettings()


@pytest.mark.parametrize("key", FIELDS)
def test_every_key_can_be_set_to_its_default(key):
    default = getattr(AgentSettings(), key)
    text = str(default).lower() if isinstance(default, bool) else str(default)
    assert parse_pairs([f"{key}={text}"]) == {key: default}


@pytest.mark.parametrize(
    ("pair", "says"),
    [
        ("top_p=5", "--set top_p=5.0 must be above 0 and at most 1"),
        ("top_p=0", "--set top_p=0.0 must be above 0 and at most 1"),
        ("retries=-5", "--set retries=-5 must be from 0 to 20"),
        ("retries=1000", "--set retries=1000 must be from 0 to 20"),
        ("temperature=-1", "--set temperature=-1.0 must be from 0 to 5"),
        ("temperature=nan", "--set temperature=nan must be from 0 to 5"),
        ("max_tokens=2", "--set max_tokens=2 must be 8 or more"),
        ("best_of=0", "--set best_of=0 must be from 1 to 16"),
        ("best_of=1000000", "--set best_of=1000000 must be from 1 to 16"),
        ("prompt_format=prose", "--set prompt_format='prose' must be one of page, auto, chat"),
        ("best_of=many", "best_of takes a whole number, not 'many'"),
        ("move_on=maybe", "move_on is true or false, not 'maybe'"),
        ("bestof=3", "did you mean best_of?"),
        ("best_of", "write KEY=VALUE, e.g. --set best_of=1"),
        ("top_p=", "write KEY=VALUE, e.g. --set top_p=0.95"),
    ],
)
def test_a_bad_pair_is_one_line_naming_the_key(pair, says):
    with pytest.raises(DramatisError) as err:
        parse_pairs([pair])
    assert says in str(err.value) and "\n" not in str(err.value)


def test_set_wins_over_the_option_of_the_same_name():
    base = AgentSettings(best_of=3)
    got = agent_settings(base, {"max_tokens": 40, "prompt_format": "Chat"}, ["max_tokens=20"])
    assert (got.max_tokens, got.prompt_format, got.best_of) == (20, "chat", 3)
    with pytest.raises(DramatisError, match="^--max-tokens=2 must be 8 or more"):
        agent_settings(base, {"max_tokens": 2}, [])


def test_rule_words():
    assert Rule(0, 1, above=True).text() == "above 0 and at most 1"
    assert Rule(1).text() == "1 or more" and Rule(-2, 2).text() == "from -2 to 2"
    assert Rule(choices=format_names()).problem("page") is None


def test_every_registered_format_builds_a_prompt_in_its_own_format():
    from dramatis.agents.fake_backend import FakeModel
    from dramatis.agents.formats import render
    from dramatis.agents.prompts import PromptInput

    p = PromptInput(
        speaker="Hamlet", summary="Hamlet, a prince.", samples=("Words.",), setting="A hall.",
        cast=("Hamlet", "Horatio"), history=(), persons=("Hamlet, a prince.",),
    )  # fmt: skip
    used = {fmt: render(FakeModel(chat=True), p, fmt)[1] for fmt in format_names()}
    assert used == {"page": "page", "auto": "chat", "chat": "chat", "script": "script"}


IN_RANGE = "set it in range or leave it out"


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (
            ["--format", "bogus"],
            "--format='bogus' must be one of page, auto, chat, script: pick one or leave it out",
        ),
        (["--set", "top_p=5"], f"--set top_p=5.0 must be above 0 and at most 1: {IN_RANGE}"),
        (["--set", "retries=-5"], f"--set retries=-5 must be from 0 to 20: {IN_RANGE}"),
        (["--set", "best_of=1000000"], f"--set best_of=1000000 must be from 1 to 16: {IN_RANGE}"),
        (["--set", "temperature=-1"], f"--set temperature=-1.0 must be from 0 to 5: {IN_RANGE}"),
        (["--temperature", "9"], f"--temperature=9.0 must be from 0 to 5: {IN_RANGE}"),
    ],
)
def test_stage_refuses_a_bad_setting_in_one_line(home, args, says):
    run = stage("--model", "fake", *args)
    assert run.exit_code == 2 and run.output.strip() == f"error: {says}"


def test_stage_takes_option_named_keys_through_set(home, tmp_path):
    from dramatis.agents.scene_store import SceneStore

    out = tmp_path / "run"
    run = stage(
        "--model", "fake", "--turns", "1", "--out", str(out), "--max-tokens", "40",
        "--set", "max_tokens=20", "--set", "temperature=0.5", "--set", "prompt_format=script",
    )  # fmt: skip
    assert run.exit_code == 0, run.output
    store = SceneStore(home / "scenes.sqlite")
    (spec,) = [store.load(t) for t in store.ids()]
    got = asdict(spec.agent)
    assert (got["max_tokens"], got["temperature"], got["prompt_format"]) == (20, 0.5, "script")
    assert spec.model == "fake" and (out / "transcript.jsonl").is_file()
