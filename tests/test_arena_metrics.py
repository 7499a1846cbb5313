"""Every arena metric on known inputs: turns written to fail or pass each check."""

from __future__ import annotations

import random

import pytest

from dramatis.agents.policies import make_policy
from dramatis.agents.policy_fit import scene_choices
from dramatis.arena.attribution import attribution_report, judge_of, second_judge_of, split_scenes
from dramatis.arena.context import Contexts
from dramatis.arena.copying import Copying
from dramatis.arena.echo import PromptEcho, echoes_prompt
from dramatis.arena.horizon import KnowledgeLeak
from dramatis.arena.impersonation import Impersonation, impersonated
from dramatis.arena.metric import rate
from dramatis.arena.next_speaker import replay, replay_random
from dramatis.arena.overlap import ScriptOverlap, overlap
from dramatis.arena.repetition import Repetition, nearly_repeats, repeats
from dramatis.arena.runs import Run
from dramatis.arena.speaker_fidelity import Attribution, drift
from dramatis.arena.words import distinct, mask_names, words
from dramatis.personas import load_play

CAST = ["Hamlet", "Ophelia"]


@pytest.fixture(scope="module")
def contexts() -> Contexts:
    return Contexts()


def run_of(*turns: tuple[str, str], source: str | None = None, opening: int = 0) -> Run:
    rows = [{"speaker": s, "text": t, "source": "model", "present": CAST} for s, t in turns]
    head = [{"speaker": "Claudius", "text": "x", "source": "play"} for _ in range(opening)]
    spec = {"policy": "addressed", "cast": CAST}
    return Run("t", CAST, head + rows, source_scene=source, config="test", spec=spec)


def test_word_helpers() -> None:
    assert words("O, that this too too solid flesh!")[-3:] == ["too", "solid", "flesh"]
    assert distinct(["a b a b"], 2) == pytest.approx(2 / 3)
    assert mask_names("Good Horatio, come.", ["Horatio"]) == "Good NAME, come."
    assert rate([True, False, False, False]) == 0.25


def test_prompt_echo(contexts: Contexts) -> None:
    assert echoes_prompt(
        "Hamlet, son to the former, and nephew", "Hamlet, Son to the former, and Nephew to"
    )
    card = contexts.get(CAST).personas["Hamlet"].card()
    run = run_of(("Hamlet", card[:80]), ("Ophelia", "Good my lord, how does your honour?"))
    score = PromptEcho().score(run, contexts.get(CAST))
    assert score.per_turn == [1.0, 0.0]
    assert score.values["prompt_echo"] == 0.5


def test_repetition() -> None:
    assert repeats("I am, sir.", ["I am, sir!"])
    assert not repeats("Go to.", ["Go to, I say, go to thy rest."])
    run = run_of(("Hamlet", "I am, sir."), ("Ophelia", "My lord?"), ("Hamlet", "I am, sir."))
    score = Repetition().score(run, None)  # type: ignore[arg-type]
    assert score.per_turn == [0.0, 0.0, 1.0]
    assert 0 < score.values["distinct_1"] < 1


def test_near_repetition_counts_a_reworded_turn_and_few_real_speeches() -> None:
    first = "You're going to tell me that I'm a hero, and my country's at war."
    again = "You're going to tell me that you are a hero, and your country's at war."
    assert nearly_repeats(again, [first]) and not repeats(again, [first])
    assert not nearly_repeats("Get thee to a nunnery.", [first])
    run = run_of(("Hamlet", first), ("Ophelia", "My lord?"), ("Hamlet", again))
    values = Repetition().score(run, None).values  # type: ignore[arg-type]
    assert values["repetition"] == 0.0 and values["near_repetition"] == pytest.approx(1 / 3)
    # Calibration of what it adds to `repeats`: real speeches against the 30 before them
    # in their scene, in Hamlet (exact repeats such as "My lord." are real speech too).
    by_scene: dict[str, list[str]] = {}
    for s in load_play("hamlet").speeches():
        by_scene.setdefault(s.scene_id, []).append(s.text)
    texts = [(t, ts[max(0, i - 30) : i]) for ts in by_scene.values() for i, t in enumerate(ts)]
    flagged = sum(nearly_repeats(t, b) and not repeats(t, b) for t, b in texts)
    assert flagged / len(texts) < 0.01


def test_dwelling_counts_a_scene_that_settles_on_one_idea() -> None:
    """Seen in a staged Macbeth (seed 3): no turn repeats another, all turn over "dead"
    and "ghost". Real scenes rarely do it: under 3% of Hamlet's speeches (1.7% over the
    37 plays)."""
    from dramatis.arena.repetition import dwelling

    loop = [
        ("Lady Macbeth", "The king has been asleep, my lord."),
        ("Macbeth", "He had not slept at all, for he was dead."),
        ("Lady Macbeth", "But you're dead, my lord; 'twas a ghost."),
        ("Macbeth", "'Twas a ghost, my lord; but I'm dead."),
    ]
    values = Repetition().score(run_of(*loop), None).values  # type: ignore[arg-type]
    assert values["repetition"] == 0.0 and values["near_repetition"] == 0.0
    assert values["dwelling"] == pytest.approx(1 / 4)  # the last turn only
    assert not dwelling("Get thee to a nunnery; why wouldst thou be a breeder of sinners?",
                        [text for _, text in loop])  # fmt: skip
    assert not dwelling("Dead, dead.", ["He is dead."])  # too few words to say
    by_scene: dict[str, list[str]] = {}
    for s in load_play("hamlet").speeches():
        by_scene.setdefault(s.scene_id, []).append(s.text)
    texts = [(t, ts[:i]) for ts in by_scene.values() for i, t in enumerate(ts)]
    assert sum(dwelling(t, b) for t, b in texts) / len(texts) < 0.03


def test_copying_and_fallbacks_apart(contexts: Contexts) -> None:
    run = run_of(
        ("Hamlet", "To be, or not to be, that is the question."),
        ("Ophelia", "My lord, the moon is made of cheese and bells."),
    )
    run.turns.append({"speaker": "Ophelia", "text": "Good my lord,", "source": "fallback"})
    score = Copying().score(run, contexts.get(CAST))
    assert score.per_turn == [1.0, 0.0, 0.0]
    assert score.values["fallback"] == pytest.approx(1 / 3)


def test_impersonation(contexts: Contexts) -> None:
    assert impersonated("Go.\nOPHELIA: My lord?", "Hamlet", ["Ophelia"]) == "Ophelia"
    assert impersonated("I am Horatio, sir.", "Hamlet", ["Horatio"]) == "Horatio"
    assert impersonated("Ophelia, go to.", "Hamlet", ["Ophelia"]) is None
    # Gemma writes the heading with a semicolon too (seen in the grid's transcripts)
    said = "But the king hath been asleep.\nHAMLET; The king hath slept. MACBETH; Oh!"
    assert impersonated(said, "Macbeth", ["Hamlet"]) == "Hamlet"
    assert impersonated("Hamlet; my lord, go.", "Ophelia", ["Hamlet"]) is None  # vocative
    # ... and runs another's speech in after a dash or a sentence's end (round 21's grid);
    # a name in a sentence before a colon is speech
    said = 'Am I mine?"--RODERIGO: Ay, brave Othello'
    assert impersonated(said, "Iago", ["Roderigo"]) == "Roderigo"
    assert impersonated("Speak. LADY MACBETH: Out!", "Macbeth", ["Lady Macbeth"]) == "Lady Macbeth"
    assert impersonated("Good Horatio: the King rises.", "Hamlet", ["Horatio"]) is None
    assert impersonated("I am glad-- IAGO: I have seen", "Iago", ["Othello"]) is None  # own
    run = run_of(("Hamlet", "Go.\nPOLONIUS: My lord!"), ("Ophelia", "Sweet prince."))
    assert Impersonation().score(run, contexts.get(CAST)).per_turn == [1.0, 0.0]


def test_knowledge_leak_before_and_after(contexts: Contexts) -> None:
    # In 1.3 Ophelia has not met Osric (act 5) nor heard of Fortinbras' captain; she knows Laertes.
    run = run_of(
        ("Ophelia", "Osric brings word."), ("Ophelia", "Laertes, farewell."), source="hamlet:1.3"
    )
    score = KnowledgeLeak().score(run, contexts.get(CAST))
    assert score.per_turn == [1.0, 0.0]
    assert "Osric" in score.extra["leaked"]
    pair = ["Hamlet", "Macbeth"]
    cross = Run(
        "x",
        pair,
        [
            {"speaker": "Hamlet", "text": t, "source": "model"}
            for t in ("Where is Banquo?", "Macbeth, and Horatio!")
        ],
    )
    assert KnowledgeLeak().score(cross, contexts.get(pair)).per_turn == [1.0, 0.0]


def test_attribution_report_and_lift() -> None:
    report = attribution_report(
        ["A", "A", "B", "A"], ["A", "A", "B", "B"], ["A", "B"], ceiling=0.9, chance=0.5
    )
    assert report["accuracy"] == 0.75
    assert report["recall"] == {"A": 1.0, "B": 0.5}
    assert report["confusion"] == [[2, 0], [1, 1]]
    assert report["lift"] == pytest.approx((0.75 - 0.5) / 0.4)


def test_split_keeps_scenes_apart() -> None:
    ophelia = [("p", s) for s in ("1.3", "2.1", "3.1", "3.2", "4.5")]
    hamlet = [("p", s) for s in ("3.1", "3.2", "1.2", "1.4", "1.5", "2.2", "5.1")]
    splits = split_scenes({"H": hamlet, "O": ophelia})  # Ophelia, with fewer scenes, picks first
    assert splits[("p", "3.1")] == "test"
    assert splits[("p", "1.2")] == "test"  # Hamlet's third scene
    assert set(splits) == set(ophelia) | set(hamlet)


def test_attribution_on_real_lines_beats_swapped(contexts: Contexts) -> None:
    ctx = contexts.get(CAST)
    play = load_play("hamlet")
    held = [s for s in play.speeches() if ("hamlet", s.index) in judge_of(ctx).test_keys]
    real = run_of(*((s.speaker, s.text) for s in held))
    swapped = run_of(*(("Ophelia" if s.speaker == "Hamlet" else "Hamlet", s.text) for s in held))
    good = Attribution().score(real, ctx).values
    bad = Attribution().score(swapped, ctx).values
    assert good["attribution_balanced"] == pytest.approx(judge_of(ctx).ceiling)
    assert good["attribution_lift"] == pytest.approx(1.0)
    assert bad["attribution_balanced"] < 0.5 < good["attribution_balanced"]
    assert not judge_of(ctx).train_keys & judge_of(ctx).test_keys
    # The second judge reads the other feature family, and agrees on real against swapped.
    assert second_judge_of(ctx).method != judge_of(ctx).method
    assert good["attribution2_balanced"] == pytest.approx(second_judge_of(ctx).ceiling)
    assert bad["attribution2_balanced"] < 0.5 < good["attribution2_balanced"]


def test_drift() -> None:
    assert drift([0.9, 0.8, 0.4, 0.3]) == pytest.approx(-0.5)
    assert drift([0.5, 0.5]) == 0.0


def test_script_overlap(contexts: Contexts) -> None:
    assert overlap("to be or not to be", "to be or not to be") == (1.0, pytest.approx(100.0))
    scene = load_play("hamlet").scene("3.1").speeches
    real = run_of(*((s.speaker, s.text) for s in scene[4:8]), source="hamlet:3.1", opening=4)
    other = run_of(
        *(("Hamlet", "The moon is made of cheese, my lord.") for _ in range(4)),
        source="hamlet:3.1",
        opening=4,
    )
    assert ScriptOverlap().score(real, contexts.get(CAST)).values["rouge_l"] == pytest.approx(1.0)
    assert ScriptOverlap().score(other, contexts.get(CAST)).values["rouge_l"] < 0.2


def test_next_speaker_replay_beats_random_on_a_dialogue() -> None:
    scene = load_play("hamlet").scene("1.5")  # Hamlet and the Ghost, then Horatio, Marcellus
    chance = replay_random(scene)
    assert 0.55 < chance < 0.7  # mostly two or three on stage: random is no pushover here
    # The expectation the metric reports is what seeded draws of the random policy average.
    rnd, choices = make_policy("random"), list(scene_choices(scene))
    draws = [
        rnd.choose(st, t, random.Random(s)) == who for s in range(40) for st, t, who in choices
    ]
    assert sum(draws) / len(draws) == pytest.approx(chance, abs=0.03)
    assert replay(scene, make_policy("learned")) > chance + 0.1  # hamlet is a held-out play
    assert replay(scene, make_policy("round-robin")) > chance


def test_no_lift_when_the_ceiling_is_near_chance() -> None:
    report = attribution_report(["A", "B"], ["A", "B"], ["A", "B"], ceiling=0.52, chance=0.5)
    assert "lift" not in report and report["balanced_accuracy"] == 1.0
