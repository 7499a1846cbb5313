"""Next-speaker accuracy: replay a real scene and let a speaker policy predict, at every
turn, who speaks next given the true history.

Range 0..1. Shown beside the random policy on the same scene (anyone but the last
speaker, uniformly, averaged over seeds). The cast is everyone who speaks in the scene.
"""

from __future__ import annotations

import random

from dramatis.agents.policies import SpeakerPolicy, make_policy
from dramatis.agents.turn import make_turn
from dramatis.arena.context import Context
from dramatis.arena.metric import Key, Score
from dramatis.arena.runs import Run
from dramatis.personas import Scene, load_play


def replay(scene: Scene, policy: SpeakerPolicy, seed: int = 0) -> float:
    """Share of the scene's speeches (after the first) whose speaker `policy` predicts."""
    speeches = scene.speeches
    cast = list(dict.fromkeys(s.speaker for s in speeches))
    if len(speeches) < 2 or len(cast) < 2:
        return 0.0
    turns = [
        make_turn(i, s.speaker, s.text, source="play", present=cast) for i, s in enumerate(speeches)
    ]
    rng = random.Random(seed)
    hits = sum(
        policy.choose(cast, turns[:i], rng) == turns[i]["speaker"] for i in range(1, len(turns))
    )
    return hits / (len(turns) - 1)


def replay_random(scene: Scene, seeds: int = 20) -> float:
    """The random policy's accuracy on `scene`, averaged over `seeds` seeds."""
    policy = make_policy("random")
    return sum(replay(scene, policy, seed) for seed in range(seeds)) / seeds


class NextSpeaker:
    """The run's policy replayed on its source scene, beside the random policy."""

    name = "next_speaker"
    keys = (
        Key("next_speaker", "higher", cli=False),
        Key("next_speaker_random", "", cli=False, table=False),
    )

    def score(self, run: Run, ctx: Context) -> Score:
        policy_name = run.spec.get("policy")
        if (
            not run.source_scene
            or not policy_name
            or policy_name not in ("addressed", "round-robin", "random")
        ):
            return Score({})
        key = ("replay", run.source_scene, policy_name)
        if key not in ctx.cache:
            play_key, scene_id = run.source_scene.split(":", 1)
            scene = load_play(play_key).scene(scene_id)
            mine = (
                replay_random(scene)
                if policy_name == "random"
                else replay(scene, make_policy(policy_name))
            )
            ctx.cache[key] = (mine, replay_random(scene))
        mine, chance = ctx.cache[key]
        return Score({"next_speaker": mine, "next_speaker_random": chance})
