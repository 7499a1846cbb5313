"""Baselines, written as ordinary runs so the same code scores them beside every model.

- script: the play's real continuation from the run's starting point (the ceiling);
  without a source scene, the cast's own real lines in turn.
- retrieval: the run's speakers, each saying their real line closest to the previous
  turn (tf-idf cosine): what pure copying scores.
- swap: the script's lines with speakers shuffled among the cast (the attribution floor).
- random: speakers drawn by the random policy, each saying their next real line.
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from pathlib import Path

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics.pairwise import linear_kernel

from dramatis.agents.policies import make_policy
from dramatis.arena.attribution import judge_of
from dramatis.arena.context import Context
from dramatis.arena.runs import Run
from dramatis.personas import load_play

BASELINES = ("script", "retrieval", "swap", "random")


def _turn(index: int, speaker: str, text: str, cast: Sequence[str]) -> dict:
    return {
        "index": index,
        "speaker": speaker,
        "text": text,
        "source": "baseline",
        "present": list(cast),
    }


def _derived(run: Run, name: str, turns: list[dict], policy: str | None = None) -> Run:
    spec = {**run.spec, "config": f"baseline:{name}", "policy": policy or run.spec.get("policy")}
    opening = [dict(t) for t in run.opening]
    return Run(
        f"{run.name}",
        run.cast,
        opening + turns,
        run.setting,
        run.source_scene,
        f"baseline:{name}",
        spec,
    )


def script_lines(run: Run, ctx: Context) -> list[tuple[str, str]]:
    """(speaker, text) of the real continuation, as many as the run has scored turns."""
    count = len(run.scored)
    if run.source_scene:
        play_key, scene_id = run.source_scene.split(":", 1)
        speeches = [s for sc in load_play(play_key).scenes() for s in sc.speeches]
        start = load_play(play_key).scene(scene_id).speeches[0].index + len(run.opening)
        return [(s.speaker, s.text) for s in speeches[start : start + count]]
    own = held_out_speeches(ctx)
    return [
        (name, own[name][i // len(ctx.cast) % len(own[name])].text)
        for i, name in ((i, ctx.cast[i % len(ctx.cast)]) for i in range(count))
    ]


def held_out_speeches(ctx: Context) -> dict[str, list]:
    """Each cast member's real speeches the attribution judge was not trained on (all of
    them when none are held out), so real-line baselines do not flatter the judge."""
    held = judge_of(ctx).test_keys
    out = {}
    for name in ctx.cast:
        speeches = ctx.real_speeches(name)
        key = ctx.personas[name].play
        out[name] = [s for s in speeches if (key, s.index) in held] or speeches
    return out


def script(run: Run, ctx: Context) -> Run:
    lines = script_lines(run, ctx)
    return _derived(run, "script", [_turn(i, s, t, run.cast) for i, (s, t) in enumerate(lines)])


def swap(run: Run, ctx: Context, seed: int = 0) -> Run:
    """The script with each cast line given to another cast member."""
    rng = random.Random(seed)
    turns = []
    for i, (speaker, text) in enumerate(script_lines(run, ctx)):
        others = [n for n in ctx.cast if n != speaker]
        turns.append(
            _turn(i, rng.choice(others) if speaker in ctx.cast else speaker, text, run.cast)
        )
    return _derived(run, "swap", turns)


def retrieval(run: Run, ctx: Context) -> Run:
    """The run's speakers, each with their real line closest to the previous turn."""
    history = [t["text"] for t in run.opening] or [run.setting]
    turns: list[dict] = []
    used: set[str] = set()
    for i, t in enumerate(run.scored):
        name = t["speaker"]
        pool = [s.text for s in ctx.real_speeches(name)] if name in ctx.personas else [t["text"]]
        text = closest_line(history[-1], pool, used)
        used.add(text)
        history.append(text)
        turns.append(_turn(i, name, text, run.cast))
    return _derived(run, "retrieval", turns)


def closest_line(context: str, pool: Sequence[str], used: set[str]) -> str:
    """The line of `pool` most similar to `context` (tf-idf cosine), skipping `used`.

    closest_line("the king", ["a rose", "the king is dead"], set()) -> "the king is dead"
    """
    fresh = [p for p in pool if p not in used] or list(pool)
    vec = TfidfVectorizer().fit([*fresh, context])
    sims = linear_kernel(vec.transform([context]), vec.transform(fresh))[0]
    return fresh[int(sims.argmax())]


def random_policy(run: Run, ctx: Context, seed: int = 0) -> Run:
    """Speakers from the random policy, each saying their next real line in play order."""
    rng, policy = random.Random(seed), make_policy("random")
    own = held_out_speeches(ctx)
    nxt = dict.fromkeys(ctx.cast, 0)
    turns: list[dict] = []
    for i in range(len(run.scored)):
        name = policy.choose(list(ctx.cast), turns, rng)
        turns.append(_turn(i, name, own[name][nxt[name] % len(own[name])].text, run.cast))
        nxt[name] += 1
    return _derived(run, "random", turns, policy="random")


def real_lines(run: Run, ctx: Context, seed: int = 0) -> Run:
    """The run's own speakers in the run's order, each saying their held-out real speeches
    in play order from a seeded starting point: the cast's real voice at the run's shape
    (the fidelity table's "real" row; not one of BASELINES)."""
    rng = random.Random(seed)
    own = held_out_speeches(ctx)
    start = {name: rng.randrange(len(pool)) for name, pool in own.items()}
    turns: list[dict] = []
    for i, t in enumerate(run.scored):
        name = t["speaker"]
        if name not in own:
            continue
        speech = own[name][start[name] % len(own[name])]
        scene = f"{ctx.personas[name].play}:{speech.scene_id}"
        turn = _turn(
            i, name, speech.text, [*run.cast, *(n for n in speech.on_stage if n not in run.cast)]
        )
        turns.append({**turn, "scene": scene})
        start[name] += 1
    return _derived(run, "real", turns)


def make_baselines(run: Run, ctx: Context) -> dict[str, Run]:
    """Every baseline for the same cast, starting point and length as `run`."""
    seed = int(run.spec.get("seed") or 0)
    return {
        "script": script(run, ctx),
        "retrieval": retrieval(run, ctx),
        "swap": swap(run, ctx, seed),
        "random": random_policy(run, ctx, seed),
    }


def write_run(folder: Path, run: Run) -> None:
    """Write a run as transcript.jsonl + scene.json, the files `dramatis stage` writes."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = "".join(json.dumps(t, ensure_ascii=False) + "\n" for t in run.turns)
    (folder / "transcript.jsonl").write_text(lines, encoding="utf-8")
    spec = {**run.spec, "cast": run.cast, "setting": run.setting, "source_scene": run.source_scene}
    (folder / "scene.json").write_text(json.dumps(spec, indent=2) + "\n", encoding="utf-8")


def baseline_key(run: Run) -> tuple:
    """Runs with the same key share baselines: cast, starting point, length, seed."""
    return (tuple(run.cast), run.source_scene, len(run.scored), run.spec.get("seed"))
