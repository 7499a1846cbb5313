"""The critic's realness (agents/critic.py `Realness`): its features, the shipped table
(the plays' speeches against the default's own), how it weighs into best-of-n, the table's
builder, and the setting on the real staging path."""

from __future__ import annotations

import json
from collections import Counter
from statistics import mean

import pytest

from dramatis.agents.critic import REALNESS_FILE, Realness, StyleCritic, realness_features
from dramatis.agents.fake_backend import FakeModel
from dramatis.agents.realness_build import build, main
from dramatis.core.errors import DramatisError
from dramatis.personas import find_persona, load_play

MODERN = [
    "I am the king.",
    "You're the king.",
    "What is your name?",
    "I know you do, but I have to go now.",
    "So, I'm the one that you remember.",
    "It is not what you think it is, but I know what it is.",
]


def test_features_count_function_words_marks_and_the_other_words_by_length():
    found = realness_features("O, sweet madness! Extraordinary.")
    assert found == Counter({"o": 1, "sweet": 1, ",": 1, "!": 1, "<w7>": 1, "<w9>": 1})
    assert realness_features("") == Counter()


def test_the_shipped_table_hears_the_plays_above_flat_modern_lines():
    table = Realness.load()
    real = [s.text for s in load_play("much_ado_about_nothing").speeches()[:200]]
    assert mean(map(table.score, real)) > 0 > mean(map(table.score, MODERN))
    manifest = json.loads(REALNESS_FILE.read_text())["manifest"]
    # Fitted on the tuning casts only: no held-out cast's scene is in it.
    assert manifest["runs"] and all(
        r.split("-")[0] in {"2same", "2cross", "4cross"} for r in manifest["runs"]
    )


def test_a_weighted_critic_prefers_the_realer_of_two_equally_styled_candidates():
    table = Realness(
        Counter({"thou": 5, "<w7>": 5, "is": 1}), Counter({"is": 5, "<w2>": 5, "thou": 1})
    )
    lines = {"Hamlet": ["Thou art mad."], "Ophelia": ["My lord, you are mad."]}
    plain = StyleCritic(lines)
    weighed = StyleCritic(lines, realness=table, weight=2.0)
    texts = ["It is so.", "Thou wretched villain."]
    base = plain.rank("Hamlet", texts)
    more = weighed.rank("Hamlet", texts)
    gains = [m - b for m, b in zip(more, base, strict=True)]
    assert gains == [pytest.approx(2.0 * table.score(t)) for t in texts]
    assert gains[1] > 0 > gains[0]
    assert StyleCritic(lines, realness=table, weight=0.0).rank("Hamlet", texts) == base


@pytest.mark.parametrize(
    "content, message",
    [
        ("{", "not a realness table"),
        ('{"real": {"a": 1}}', "not a realness table"),
        ('{"real": {"a": -1}, "made": {}}', "whole numbers"),
    ],
)
def test_a_bad_table_is_a_one_line_error_naming_the_file_and_the_fix(tmp_path, content, message):
    path = tmp_path / "realness.json"
    path.write_text(content)
    with pytest.raises(DramatisError, match=message) as err:
        Realness.load(path)
    assert str(path) in str(err.value) and "make realness" in str(err.value)
    assert "\n" not in str(err.value)


def _stage_dir(root, cell, turns):
    run = root / cell
    run.mkdir(parents=True)
    (run / "scene.json").write_text("{}")
    (run / "transcript.jsonl").write_text("".join(json.dumps(t) + "\n" for t in turns))


def test_the_builder_reads_model_turns_only_and_round_trips(tmp_path):
    runs = tmp_path / "runs"
    _stage_dir(
        runs,
        "2same-s10",
        [
            {"speaker": "Othello", "text": "Where is my lord?", "source": "play"},
            {"speaker": "Iago", "text": "I know not, my lord.", "source": "model"},
            {"speaker": "Othello", "text": "Is it so?", "source": "fallback"},
        ],
    )
    table, manifest = build(runs)
    assert table.made == realness_features("I know not, my lord.")
    assert manifest["runs"] == ["2same-s10"] and manifest["made_speeches"] == 1
    assert manifest["real_speeches"] > 20000
    out = tmp_path / "realness.json"
    assert main([str(runs), "--out", str(out)]) == 0
    again = Realness.load(out)
    assert again.log_odds == pytest.approx(table.log_odds)


def test_the_builder_refuses_empty_or_broken_runs_in_one_line(tmp_path, capsys):
    out = tmp_path / "realness.json"
    assert main([str(tmp_path), "--out", str(out)]) == 2
    assert "no staged scenes" in capsys.readouterr().err
    _stage_dir(tmp_path, "2same-s1", [])
    (tmp_path / "2same-s1/transcript.jsonl").write_text(
        '{"source": "model", "text": "Hi"}\n{oops\n'
    )
    assert main([str(tmp_path), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "transcript.jsonl:2" in err and "stage that scene again" in err
    assert not out.exists()


def test_the_setting_gives_the_staged_critic_the_shipped_table(tmp_path):
    from dramatis.agents.character import AgentSettings
    from dramatis.agents.scene_store import SceneSpec
    from dramatis.core.settings import Settings
    from dramatis.staging import scene_agents

    personas = [find_persona("Othello"), find_persona("Iago")]

    def critic(**agent):
        spec = SceneSpec(
            thread_id="t",
            cast=["Othello", "Iago"],
            setting="A street.",
            agent=AgentSettings(**agent),
        )
        return scene_agents(spec, personas, FakeModel(), Settings(home=tmp_path))["Iago"].critic

    assert critic(best_of=3).realness is None
    weighed = critic(best_of=3, real_weight=1.5)
    assert weighed.weight == 1.5
    assert weighed.realness.log_odds == Realness.load().log_odds
    assert critic(best_of=1, real_weight=1.0) is None
