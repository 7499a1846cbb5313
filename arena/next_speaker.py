"""Next-speaker accuracy: replay a real scene and let a speaker policy predict, at every
speech, who speaks next given the true speeches before it, among those on stage.

Range 0..1. A policy that can say how likely each choice is (`probabilities`) scores
its expected accuracy, so a weighted draw is not judged on one lucky seed; any other is
replayed with a seeded generator. Shown beside the random policy's exact expectation
(anyone on stage but the last speaker, uniformly). The choices are the plays' own
(agents/policy_fit.py `scene_choices`): the scene's speaking parts on stage at the
speech before; group speeches, speakers no direction brought on and mutes left out.

    python -m dramatis.arena.next_speaker   # the table in docs/arena.md, held-out plays
"""

from __future__ import annotations

import argparse
import random
from collections.abc import Sequence

from dramatis.agents.policies import SpeakerPolicy, make_policy, policy_names
from dramatis.agents.policy_fit import HELD_OUT, Choice, play_choices, scene_choices
from dramatis.arena.context import Context
from dramatis.arena.metric import Key, Score
from dramatis.arena.runs import Run
from dramatis.personas import Scene, load_play


def chance_of(policy: SpeakerPolicy, choice: Choice, name: str, rng: random.Random) -> float:
    """The chance `policy` picks `name` at `choice` (0 or 1 if the policy cannot say)."""
    stage, turns, _ = choice
    if name not in stage:
        return 0.0
    probabilities = getattr(policy, "probabilities", None)
    if probabilities is not None:
        return float(probabilities(stage, turns)[stage.index(name)])
    return float(policy.choose(stage, turns, rng) == name)


def expected_hit(policy: SpeakerPolicy, choice: Choice, rng: random.Random) -> float:
    """The chance `policy` names the real speaker of `choice`."""
    return chance_of(policy, choice, choice[2], rng)


def reply_back_share(choices: Sequence[Choice], policy: SpeakerPolicy | None) -> float:
    """How often the speaker two speeches back is chosen (A, B, A); None: the plays'."""
    rng, total = random.Random(0), 0.0
    for choice in choices:
        turns = choice[1]
        back = turns[-2]["speaker"] if len(turns) > 1 else ""
        total += (
            float(back == choice[2]) if policy is None else chance_of(policy, choice, back, rng)
        )
    return total / len(choices) if choices else 0.0


def accuracy(choices: Sequence[Choice], policy: SpeakerPolicy, seed: int = 0) -> float:
    """Mean expected hit over `choices` (0.0 when there are none)."""
    rng = random.Random(seed)
    return sum(expected_hit(policy, c, rng) for c in choices) / len(choices) if choices else 0.0


def replay(scene: Scene, policy: SpeakerPolicy, seed: int = 0) -> float:
    """`policy`'s next-speaker accuracy on the scene's choices."""
    return accuracy(list(scene_choices(scene)), policy, seed)


def replay_random(scene: Scene) -> float:
    """The random policy's expected accuracy on `scene`."""
    return replay(scene, make_policy("random"))


class NextSpeaker:
    """The run's policy replayed on its source scene, beside the random policy."""

    name = "next_speaker"
    keys = (
        Key("next_speaker", "higher", cli=False),
        Key("next_speaker_random", "", cli=False, table=False),
    )

    def score(self, run: Run, ctx: Context) -> Score:
        policy_name = run.spec.get("policy")
        if not run.source_scene or policy_name not in policy_names():
            return Score({})
        key = ("replay", run.source_scene, policy_name)
        if key not in ctx.cache:
            play_key, scene_id = run.source_scene.split(":", 1)
            scene = load_play(play_key).scene(scene_id)
            ctx.cache[key] = (replay(scene, make_policy(policy_name)), replay_random(scene))
        mine, chance = ctx.cache[key]
        return Score({"next_speaker": mine, "next_speaker_random": chance})


def table(plays: Sequence[str]) -> list[tuple[str, list[float]]]:
    """(policy, accuracy per play, over all of them, and its reply-back share) for every
    registered policy, the uniform draw over everyone on stage and the plays themselves."""
    per_play = {p: play_choices([p]) for p in plays}
    every = [c for p in plays for c in per_play[p]]
    rows = []
    for name in policy_names():
        policy = make_policy(name)
        values = [accuracy(cs, policy) for cs in [*per_play.values(), every]]
        rows.append((name, [*values, reply_back_share(every, policy)]))
    uniform = [sum(1 / len(c[0]) for c in cs) / len(cs) for cs in [*per_play.values(), every]]
    backs = [len(t) > 1 and t[-2]["speaker"] in stage for stage, t, _ in every]
    uniform.append(sum(b / len(c[0]) for b, c in zip(backs, every, strict=True)) / len(every))
    real = [1.0] * (len(plays) + 1) + [reply_back_share(every, None)]
    return [*rows, ("uniform over the stage", uniform), ("the plays", real)]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Next-speaker accuracy on whole plays.")
    parser.add_argument("plays", nargs="*", default=list(HELD_OUT))
    plays = parser.parse_args(argv).plays
    counts = [len(play_choices([p])) for p in plays]
    print("| policy | " + " | ".join(plays) + " | all | reply-back share |")
    print("| --- |" + " ---: |" * (len(plays) + 2))
    print("| choices | " + " | ".join(map(str, counts)) + f" | {sum(counts)} | |")
    for name, values in table(plays):
        print(f"| {name} | " + " | ".join(f"{v:.3f}" for v in values) + " |")


if __name__ == "__main__":
    main()
