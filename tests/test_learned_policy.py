import json
import random

import numpy as np
import pytest
from typer.testing import CliRunner

from dramatis.agents import policies
from dramatis.agents.learned_policy import FEATURES, WEIGHTS_FILE, LearnedPolicy, features
from dramatis.agents.policies import PolicyEntry, make_policy, policy_names, register
from dramatis.agents.policy_fit import HELD_OUT, fit, play_choices
from dramatis.agents.turn import make_turn
from dramatis.arena.next_speaker import accuracy
from dramatis.cli import app

CAST = ["Hamlet", "Ophelia", "Horatio", "Polonius"]


def scene(*said: tuple[str, str]):
    return [
        make_turn(i, who, text, source="play", present=CAST) for i, (who, text) in enumerate(said)
    ]


def feature(name, turns, key):
    return features(name, turns)[FEATURES.index(key)]


def test_features_read_address_reply_back_and_arrivals():
    turns = scene(("Hamlet", "Good Horatio, what news?"), ("Horatio", "My lord, the King."))
    assert feature("Hamlet", turns, "spoke_two_ago") == 1.0
    assert feature("Horatio", turns, "spoke_last") == 1.0
    assert (
        feature("Horatio", turns[:1], "named_last")
        == feature("Horatio", turns[:1], "called_last")
        == 1.0
    )
    assert feature("Ophelia", turns, "silent") == 1.0 and feature("Ophelia", turns, "share") == 0.0
    assert feature("Hamlet", turns, "question_back") == 0.0  # the last speech asks nothing
    late = [*turns[:1], make_turn(1, "Horatio", "x", present=["Hamlet", "Horatio"])]
    assert feature("Ophelia", late, "arrived") == 1.0 and feature("Hamlet", late, "arrived") == 0.0


def test_shipped_weights_match_the_features_and_hold_out_whole_plays():
    data = json.loads(WEIGHTS_FILE.read_text())
    assert data["features"] == list(FEATURES) and len(data["weights"]) == len(FEATURES)
    manifest = data["manifest"]
    assert manifest["held_out_plays"] == list(HELD_OUT)
    assert not set(HELD_OUT) & set(manifest["train_plays"])
    assert {"much_ado_about_nothing", "julius_caesar", "twelfth_night"} <= set(HELD_OUT)


def test_fit_recovers_the_weights_that_made_the_choices():
    rng = np.random.default_rng(0)
    true = np.array([-3.0, 1.5, 0.8, 0.0])
    x = rng.integers(0, 2, size=(4000, 5, 4)).astype(float)
    mask = np.ones((4000, 5), dtype=bool)
    mask[:2000, 3:] = False  # half the choices have three candidates
    scores = np.where(mask, x @ true, -np.inf)
    p = np.exp(scores - scores.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    y = np.array([rng.choice(5, p=row) for row in p])
    assert fit(x, mask, y, l2=0.1) == pytest.approx(true, abs=0.2)


@pytest.mark.parametrize("play", ["julius_caesar", "twelfth_night"])
def test_learned_beats_addressed_and_random_on_a_held_out_play(play):
    assert play in HELD_OUT
    choices = play_choices([play])
    learned = accuracy(choices, make_policy("learned"))
    assert learned > accuracy(choices, make_policy("addressed")) + 0.1
    assert learned > accuracy(choices, make_policy("random")) + 0.1
    assert accuracy(choices, make_policy("learned-draw")) > accuracy(choices, make_policy("random"))


def test_learned_policies_are_pure_in_the_seed():
    turns = scene(("Hamlet", "Speak."), ("Horatio", "I will."), ("Polonius", "Well."))
    draw, top = make_policy("learned-draw"), make_policy("learned")
    picks = [draw.choose(CAST, turns, random.Random(seed)) for seed in range(30)]
    assert picks == [draw.choose(CAST, turns, random.Random(seed)) for seed in range(30)]
    assert len(set(picks)) > 1  # it draws, the seed decides
    assert {top.choose(CAST, turns, random.Random(seed)) for seed in range(30)} == {"Horatio"}
    assert sum(draw.probabilities(CAST, turns)) == pytest.approx(1.0)


def test_naming_a_character_raises_its_chance_and_reply_back_leads():
    policy = LearnedPolicy(sample=True)
    plain = scene(("Hamlet", "x"), ("Horatio", "y"), ("Hamlet", "Come hither."))
    named = scene(("Hamlet", "x"), ("Horatio", "y"), ("Hamlet", "Polonius, come hither."))
    p_plain, p_named = policy.probabilities(CAST, plain), policy.probabilities(CAST, named)
    assert p_named[3] > 2 * p_plain[3]  # Polonius
    assert p_plain.index(max(p_plain)) == 2  # Horatio answers Hamlet back (A, B, A, B)
    assert p_named[0] < 0.05  # Hamlet seldom speaks twice running


class LastOfCast:
    name = "last-of-cast"

    def choose(self, cast, turns, rng):
        return cast[-1]


def test_a_policy_registered_here_reaches_the_cli(tmp_path, monkeypatch, home):
    monkeypatch.setattr(policies, "_REGISTRY", dict(policies._REGISTRY))  # undone afterwards
    register(PolicyEntry("last-of-cast", "the last cast member, always", lambda t: LastOfCast()))
    assert "last-of-cast" in policy_names()
    out = tmp_path / "run"
    args = ["stage", "--cast", "Hamlet,Horatio,Ophelia", "--model", "fake", "--turns", "3"]
    result = CliRunner().invoke(app, [*args, "--policy", "last-of-cast", "--out", str(out)])
    assert result.exit_code == 0, result.output
    turns = [json.loads(line) for line in (out / "transcript.jsonl").read_text().splitlines()]
    assert [t["speaker"] for t in turns] == ["Ophelia"] * 3
    assert json.loads((out / "scene.json").read_text())["policy"] == "last-of-cast"
    refused = CliRunner().invoke(app, [*args, "--policy", "loudest"])
    assert refused.exit_code == 2 and "last-of-cast" in refused.output


def test_stage_help_lists_every_shipped_policy():
    result = CliRunner().invoke(app, ["stage", "--help"], terminal_width=400)
    assert all(name in result.output for name in ("addressed", "round-robin", "learned-draw"))


def test_suites_and_chat_check_the_policy_against_the_registry(tmp_path, home):
    from dramatis.arena.suite import load_suite
    from dramatis.core.errors import DramatisError

    suite = tmp_path / "s.yaml"
    scenes = "scenes: [{cast: [Hamlet, Horatio]}]\n"
    suite.write_text(f"name: s\n{scenes}configurations: [{{name: a, policy: learned-draw}}]\n")
    assert load_suite(suite).configurations[0].policy == "learned-draw"
    suite.write_text(f"name: s\n{scenes}configurations: [{{name: a, policy: loudest}}]\n")
    with pytest.raises(DramatisError, match="learned-draw"):
        load_suite(suite)
    chat = CliRunner().invoke(app, ["chat", "--cast", "Hamlet,Horatio", "--policy", "loudest"])
    assert chat.exit_code == 2 and "unknown speaker policy 'loudest'" in chat.output
