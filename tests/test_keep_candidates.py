"""Each turn's candidates kept in the transcript (`AgentSettings.keep_candidates`), and
the study that compares rules of choice on them (benchmarks/choice_study.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from dramatis.agents.character import AgentSettings, CharacterAgent
from dramatis.agents.fake_backend import FakeModel
from dramatis.agents.turn import make_turn
from dramatis.arena.runs import Run
from dramatis.personas import find_persona

sys.path.insert(0, str(Path(__file__).parent.parent / "benchmarks"))
import choice_study  # noqa: E402

TEXTS = ["I know not, my lord.", "Upon my life, he is gone.", "What, sir? I am not he."]


def speak(texts=TEXTS, **settings):
    cast = ["Othello", "Iago"]
    agent = CharacterAgent(
        find_persona("Iago"),
        FakeModel(list(texts)),
        cast=cast,
        settings=AgentSettings(best_of=3, **settings),
        persons=[find_persona(n).card() for n in cast],
    )
    turns = [make_turn(0, "Othello", "Where is Cassio?", present=cast)]
    return agent.speak(turns, "Cyprus. A street.", seed=1)


def test_the_utterance_keeps_the_candidates_only_when_asked():
    kept = speak(keep_candidates=True)
    assert kept.candidates == tuple(TEXTS) and kept.text in TEXTS
    assert speak().candidates == ()
    assert speak().text == kept.text  # keeping them changes no choice
    assert make_turn(1, "Iago", "x", candidates=list(TEXTS))["candidates"] == TEXTS
    # With prefer_known, a candidate with a word no play uses is kept in the record too.
    flawed = ["I know not, my lord.", "Okay, the burglar is gone.", "Upon my life, he is gone."]
    agent_kept = speak(keep_candidates=True, prefer_known=True, texts=flawed)
    assert agent_kept.candidates == tuple(flawed) and agent_kept.text != flawed[1]
    assert "candidates" not in make_turn(1, "Iago", "x")


def _run(name: str, turns: list[dict]) -> Run:
    return Run(name, ["Othello", "Iago"], turns)


class _Judge:
    """A register judge of fixed scores (arena/register.py's reads with SmolLM2)."""

    def __init__(self, scores: dict[str, float]) -> None:
        self.scores = scores

    def register(self, speaker: str, text: str) -> float:
        return self.scores[text]


def test_the_rules_pick_among_the_candidates():
    turn = {"speaker": "Iago", "text": TEXTS[1], "source": "model", "candidates": TEXTS}
    state = {"rng": __import__("random").Random(0), "table": None, "oracle": {("r", 0): TEXTS[2]}}
    assert choice_study.choose("kept", turn, ("r", 0), state) == TEXTS[1]
    assert choice_study.choose("first", turn, ("r", 0), state) == TEXTS[0]
    assert choice_study.choose("oracle", turn, ("r", 0), state) == TEXTS[2]
    assert choice_study.choose("oracle", turn, ("r", 5), state) == TEXTS[1]  # no pick: kept
    assert choice_study.choose("random", turn, ("r", 0), state) in TEXTS
    from dramatis.agents.critic import bundled_realness

    state["table"] = bundled_realness()
    best = max(TEXTS, key=bundled_realness().score)
    assert choice_study.choose("realness", turn, ("r", 0), state) == best
    state["register"] = _Judge({TEXTS[0]: 0.5, TEXTS[1]: -0.2, TEXTS[2]: -0.9})
    assert choice_study.choose("register", turn, ("r", 0), state) == TEXTS[2]
    assert choice_study.choose("register-veto", turn, ("r", 0), state) == TEXTS[1]  # the plays'
    state["register"] = _Judge({TEXTS[0]: -0.5, TEXTS[1]: 0.4, TEXTS[2]: 0.1})
    assert choice_study.choose("register-veto", turn, ("r", 0), state) == TEXTS[0]  # vetoed
    plain = {"speaker": "Othello", "text": "Where is Cassio?", "source": "model"}
    (copy,) = choice_study.with_picks(
        [_run("r", [plain, turn])], lambda r, i, t: t["candidates"][2]
    )
    assert [t["text"] for t in copy.turns] == ["Where is Cassio?", TEXTS[2]]
    assert turn["text"] == TEXTS[1]  # the run read is left as it was


def test_the_study_refuses_runs_without_candidates_in_one_line(tmp_path, capsys):
    run = tmp_path / "2same-s2"
    run.mkdir()
    (run / "transcript.jsonl").write_text(
        json.dumps({"speaker": "Iago", "text": "Hi", "source": "model"}) + "\n"
    )
    (run / "scene.json").write_text(json.dumps({"cast": ["Othello", "Iago"]}))
    assert choice_study.main([str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "keep_candidates=true" in err and err.count("\n") == 1
    assert choice_study.main([str(tmp_path / "nowhere")]) == 2


@pytest.mark.model
def test_a_staged_scene_writes_each_turns_candidates(tmp_path):
    """Real path: `dramatis stage` on the bundled model, best-of-3, candidates kept; the
    kept speech is one of them, and the scene says the same as without them."""
    env = {**os.environ, "DRAMATIS_HOME": str(tmp_path / "home"), "DRAMATIS_THREADS": "2"}
    args = ["--cast", "Othello,Iago", "--turns", "2", "--seed", "11", "--max-tokens", "30"]
    said = []
    for extra, out in ((["--set", "keep_candidates=true"], "kc"), ([], "plain")):
        cmd = [
            sys.executable,
            "-m",
            "dramatis",
            "stage",
            *args,
            *extra,
            "--out",
            str(tmp_path / out),
        ]
        run = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
        assert run.returncode == 0, run.stderr
        lines = (tmp_path / out / "transcript.jsonl").read_text().splitlines()
        said.append([json.loads(line) for line in lines])
    kept, plain = said
    model_turns = [t for t in kept if t["source"] == "model"]
    assert model_turns and all(t["text"] in t["candidates"] for t in model_turns)
    assert max(len(t["candidates"]) for t in model_turns) >= 2
    assert [t["text"] for t in kept] == [t["text"] for t in plain]
    assert not any("candidates" in t for t in plain)


def test_the_split_study_keeps_the_critics_lines_from_the_discriminator(tmp_path, capsys):
    """The per-cast critic learns the critic's scenes; while the rules are scored the
    discriminator's real speeches come from the other scenes only; afterwards the context
    reads every speech again. A --made folder without speeches stops before any study."""
    from dramatis.agents.critic import held_out_scenes
    from dramatis.arena.context import Contexts

    ctx = Contexts().get(["Othello", "Iago"])
    scenes = {
        n: [(ctx.personas[n].play, s.scene_id) for s in ctx.real_speeches(n)] for n in ctx.cast
    }
    critics = held_out_scenes(scenes)
    seen: list[set] = []
    real = __import__("dramatis.arena.discriminator", fromlist=["real_pools"])
    original = real.real_pools

    def watched(context, avoid):
        pools = original(context, avoid)
        seen.append({scene for pool in pools.values() for scene, _ in pool})
        return pools

    lines = [s.text for s in ctx.real_speeches("Iago")[40:60]]
    turns = [
        {"speaker": "Iago", "text": t, "source": "model", "candidates": [t, "I know not, my lord."]}
        for t in lines[:6]
    ] + [{"speaker": "Othello", "text": t, "source": "model"} for t in lines[6:12]]
    runs = [_run(f"2same-s{k}", turns) for k in (2, 3)]
    made = ["I am the king.", "What is your name?", "O, I am not he."] * 10
    real.real_pools, before = watched, len(ctx.real_speeches("Iago"))
    try:
        figures = choice_study.split_cell(runs, ctx, made, seed=0)
    finally:
        real.real_pools = original
    assert set(figures) == set(choice_study.SPLIT_RULES)
    pooled = {scene.split(":", 1)[1] for found in seen for scene in found}
    assert seen and not pooled & {scene for _, scene in critics}
    assert len(ctx.real_speeches("Iago")) == before and "real_speeches" not in vars(ctx)
    (tmp_path / "2same-s2").mkdir()
    (tmp_path / "2same-s2/transcript.jsonl").write_text(json.dumps(turns[0]) + "\n")
    (tmp_path / "2same-s2/scene.json").write_text(json.dumps({"cast": ["Othello", "Iago"]}))
    assert choice_study.main([str(tmp_path), "--made", str(tmp_path / "nowhere")]) == 2
    assert "no model speeches" in capsys.readouterr().err
