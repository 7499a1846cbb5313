"""An imported card character in a scene: its lore reaches the prompt, its talkativeness
the speaker policy, its greeting the opening; and a real run beside Hamlet."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from dramatis.agents.character import CharacterAgent
from dramatis.agents.fake_backend import FakeModel
from dramatis.agents.policies import AddressedName, make_policy
from dramatis.agents.turn import make_turn
from dramatis.personas.cards import card_persona, check_card
from dramatis.staging import card_opening

FIXTURES = Path(__file__).parent / "fixtures" / "cards"


def persona(name: str, user: str = "User"):
    card = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    return card_persona(check_card(card, name), user)


def test_lore_entries_enter_the_prompt_when_their_keys_are_said():
    yorick = persona("yorick_v2.json")
    model = FakeModel(["Alas."])
    agent = CharacterAgent(yorick, model, cast=["Hamlet", "Yorick"])
    said = [make_turn(0, "Hamlet", "This castle is cold.", present=["Hamlet", "Yorick"])]
    prompt, _ = agent.prompt(said, "A churchyard.")
    first, second = prompt.splitlines()[:2]
    assert first.startswith("[Elsinore is the royal castle of Denmark")  # before_char: above
    assert second.startswith("YORICK, ")  # a person in the list, not a speech heading
    assert "Old King Hamlet laughed" not in prompt  # selective: "king" without "jest"
    quiet, _ = agent.prompt([make_turn(0, "Hamlet", "Hm.", present=["Hamlet", "Yorick"])], "")
    assert "Elsinore is the royal castle" not in quiet
    assert "cannot move on his own" in quiet  # constant entry


def test_talkativeness_weighs_unaddressed_speakers():
    policy = AddressedName(talkativeness={"Yorick": 0.9, "Brigid": 0.1})
    turns = [make_turn(0, "Hamlet", "Who goes there?")]
    assert policy.weights(["Hamlet", "Yorick", "Brigid"], turns) == [0.0, 1.8, 0.2]
    named = [make_turn(0, "Hamlet", "Brigid, speak.")]
    assert policy.weights(["Hamlet", "Yorick", "Brigid"], named) == [0.0, 1.8, 6.0]
    silent = AddressedName(talkativeness={"A": 0.0, "B": 0.0})
    assert silent.weights(["A", "B"], [make_turn(0, "A", "x")]) == [0.0, 1.0]
    rng = random.Random(1)
    picks = [policy.choose(["Hamlet", "Yorick", "Brigid"], turns, rng) for _ in range(400)]
    assert picks.count("Yorick") > 5 * picks.count("Brigid")
    assert isinstance(make_policy("addressed", {"Yorick": 1.0}), AddressedName)


def test_card_greeting_opens_the_scene():
    brigid = persona("brigid_v3.json", user="friends")
    opening = card_opening([brigid], group=True)
    assert [(t["speaker"], t["text"], t["source"]) for t in opening] == [
        ("Brigid", "Evening, all of you. Which of you owes me for oil?", "card")
    ]
    assert card_opening([brigid], group=False)[0]["text"].startswith("Late again, friends?")


@pytest.mark.model
def test_imported_card_character_speaks_beside_hamlet(tmp_path):
    """Real path: `personas import`, then `stage` with the bundled model in new processes."""
    home, out = tmp_path / "home", tmp_path / "out"
    env = {**os.environ, "DRAMATIS_HOME": str(home), "DRAMATIS_THREADS": "1"}

    def dramatis(*args: str) -> subprocess.CompletedProcess:
        cmd = [sys.executable, "-m", "dramatis", *args]
        return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)

    imported = dramatis("personas", "import", str(FIXTURES / "yorick_v2.json"))
    assert imported.returncode == 0, imported.stderr
    args = ["--turns", "3", "--max-tokens", "24", "--seed", "5", "--out", str(out)]
    run = dramatis("stage", "--cast", "Hamlet,Yorick", *args)
    assert run.returncode == 0, run.stderr
    turns = [json.loads(line) for line in (out / "transcript.jsonl").read_text().splitlines()]
    assert turns[0]["speaker"] == "Yorick" and turns[0]["source"] == "card"
    assert turns[0]["text"].startswith("*The skull grins up from the spade.*")
    generated = turns[1:]
    assert len(generated) == 3
    assert {t["speaker"] for t in generated} <= {"Hamlet", "Yorick"}
    assert all(t["text"].strip() for t in generated)
    assert any(t["speaker"] == "Hamlet" for t in generated)  # nobody speaks twice in a row
