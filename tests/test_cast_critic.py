"""The cast critic of best-of-n (agents/cast_critic.py): the cast's real lines against the
shipped model speeches, how it weighs into the style critic, its data file, the masking
of names, the setting on the real staging path, and the arena's discriminator keeping
its real speeches out of the critic's scenes."""

from __future__ import annotations

import json
from statistics import mean

import pytest

from dramatis.agents.cast_critic import MADE_FILE, CastCritic, bundled_made
from dramatis.agents.critic import StyleCritic, held_out_scenes
from dramatis.arena.context import Context
from dramatis.arena.discriminator import critic_scenes, real_pools
from dramatis.core.errors import DramatisError
from dramatis.personas import find_persona, load_play
from dramatis.personas.vocabulary import mask_names, proper_names

FLAT = [
    "I am the king.",
    "You're the king.",
    "What is your name?",
    "I know you do, but I have to go now.",
    "He's a good man.",
    "Come, let's go.",
]


def _cast_lines(names):
    """{name: [(scene, text)]} of real speeches, and the critic's scenes for them."""
    personas = [find_persona(n) for n in names]
    speeches = {
        p.name: [(p.play, s) for s in load_play(p.play).speeches() if s.speaker == p.name]
        for p in personas
    }
    held = held_out_scenes(
        {n: [(play, s.scene_id) for play, s in sp] for n, sp in speeches.items()}
    )
    return personas, speeches, held


def test_the_shipped_speeches_are_the_realness_runs_with_names_masked():
    made = bundled_made()
    data = json.loads(MADE_FILE.read_text(encoding="utf-8"))
    assert len(made) == data["manifest"]["made_speeches"] == 288
    assert data["manifest"]["plays_left_out"]  # the held-out casts' plays never enter
    assert "NAME" in " ".join(made)


def test_the_builder_writes_the_speeches_beside_the_table_masked_by_their_plays(tmp_path):
    from dramatis.training.realness_build import main

    run = tmp_path / "runs" / "2same-s10"
    run.mkdir(parents=True)
    turns = [
        {"speaker": "Iago", "text": f"Othello and Cassio, {i}; and Ophelia.", "source": "model"}
        for i in range(120)
    ]
    (run / "transcript.jsonl").write_text("".join(json.dumps(t) + "\n" for t in turns))
    out = tmp_path / "data" / "realness.json"
    out.parent.mkdir()
    assert main([str(tmp_path / "runs"), "--out", str(out)]) == 0
    made = bundled_made(out.with_name(MADE_FILE.name))
    assert made[0] == "NAME and NAME, 0; and Ophelia."  # Ophelia is not of Othello's play
    assert len(made) == 120


def test_mask_names_masks_capitalised_words_of_a_name_only():
    names = ["Cornelius and Voltimand", "Horatio"]
    assert mask_names("Horatio and Voltimand, come.", names) == "NAME and NAME, come."
    assert "Horatio" in proper_names({"hamlet"}) and "King" not in proper_names({"hamlet"})


def test_a_held_out_cast_hears_its_real_lines_above_flat_modern_ones():
    """Beatrice and Benedick (a held-out cast: no made speech of theirs was fitted): real
    lines of the scenes the critic did not learn score above the issue's flat lines."""
    personas, speeches, held = _cast_lines(["Beatrice", "Benedick"])
    critic = StyleCritic.for_personas(personas, cast_weight=0.5)
    assert critic.cast is not None and critic.cast_weight == 0.5
    unseen = [
        s.text for sp in speeches.values() for play, s in sp if (play, s.scene_id) not in held
    ]
    assert mean(critic.cast.log_odds(unseen[:60])) > mean(critic.cast.log_odds(FLAT)) + 0.3


def test_the_weighed_critic_adds_its_log_odds_to_the_style_score():
    personas, speeches, held = _cast_lines(["Othello", "Iago"])
    plain = StyleCritic.for_personas(personas)
    weighed = StyleCritic.for_personas(personas, cast_weight=2.0)
    assert plain.cast is None
    texts = ["I am not what I am.", "You're the king.", "O, thou art a good man, Cassio!"]
    odds = weighed.cast.log_odds(texts)
    expected = [s + 2.0 * o for s, o in zip(plain.rank("Iago", texts), odds, strict=True)]
    assert weighed.rank("Iago", texts) == pytest.approx(expected)
    assert weighed.rank("Iago", []) == []


def test_a_cast_of_card_characters_fits_no_cast_critic():
    from dramatis.personas.cards import CARD_PLAY

    alone = find_persona("Iago").model_copy(
        update={"name": "Zed", "play": CARD_PLAY, "sample_lines": ["Hello there."] * 3}
    )
    critic = StyleCritic.for_personas([alone], cast_weight=1.0)
    assert critic.cast is None and critic.cast_weight == 0.0
    assert len(critic.rank("Zed", ["Hi.", "Ho."])) == 2
    with pytest.raises(ValueError, match="needs real lines"):
        CastCritic([], ["x"], [])


@pytest.mark.parametrize(
    "content, message",
    [
        (None, "missing"),
        ("{oops", "cannot be read"),
        ('{"speeches": []}', '"speeches" must be a non-empty list'),
        ('{"speeches": ["ok", 3]}', '"speeches" must be a non-empty list'),
    ],
)
def test_a_bad_speeches_file_is_a_one_line_error_naming_it_and_the_fix(tmp_path, content, message):
    path = tmp_path / "made_speeches.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(DramatisError) as err:
        bundled_made(path)
    text = str(err.value)
    assert str(path) in text and message in text and "make realness" in text
    assert "\n" not in text


def test_the_discriminator_draws_no_real_speech_from_the_critics_scenes():
    personas, speeches, held = _cast_lines(["Hamlet", "Ophelia"])
    ctx = Context.build(["Hamlet", "Ophelia"])
    assert critic_scenes(ctx) == held and held
    pools = real_pools(ctx, set())
    for name, pool in pools.items():
        play = ctx.personas[name].play
        assert pool and all((play, scene.split(":", 1)[1]) not in held for scene, _ in pool)
    # What is left is every other speech of theirs with words in it.
    left = sum(
        1 for sp in speeches.values() for play, s in sp if (play, s.scene_id) not in held and s.text
    )
    assert abs(sum(map(len, pools.values())) - left) <= 2


def test_the_setting_gives_the_staged_critic_a_cast_critic(staged_critic):
    critic = staged_critic
    assert critic(best_of=3).cast is None
    weighed = critic(best_of=3, cast_weight=0.5)
    assert weighed.cast is not None and weighed.cast_weight == 0.5
    assert critic(best_of=1, cast_weight=0.5) is None


def test_the_builder_writes_both_files_or_neither(tmp_path, capsys):
    from dramatis.training.realness_build import main

    run = tmp_path / "runs" / "2same-s10"
    run.mkdir(parents=True)
    turns = [
        {"speaker": "Iago", "text": f"I know not, {i}.", "source": "model"} for i in range(120)
    ]
    (run / "transcript.jsonl").write_text("".join(json.dumps(t) + "\n" for t in turns))
    out = tmp_path / "realness.json"
    out.write_text("the table before")
    (tmp_path / "a-folder").mkdir()
    for made_out, message in (
        (tmp_path / "no/such/dir.json", "cannot be written"),
        (tmp_path / "a-folder", "cannot be written"),
        (out, "the table's own path"),
    ):
        assert main([str(tmp_path / "runs"), "--out", str(out), "--made-out", str(made_out)]) == 2
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1
        assert out.read_text() == "the table before"
        assert not list(tmp_path.rglob("*.part"))


def test_without_scikit_learn_the_default_critic_still_stages(tmp_path):
    """scikit-learn is the `arena` extra: a core install builds the style critic as
    before, and asking for the cast critic is a one-line error naming the extra."""
    import subprocess
    import sys

    code = (
        "import sys; sys.modules['sklearn'] = None\n"
        "from dramatis.personas import find_persona\n"
        "from dramatis.agents.critic import StyleCritic\n"
        "from dramatis.core.errors import DramatisError\n"
        "cast = [find_persona('Othello'), find_persona('Iago')]\n"
        "assert StyleCritic.for_personas(cast).cast is None\n"
        "try:\n"
        "    StyleCritic.for_personas(cast, cast_weight=0.5)\n"
        "except DramatisError as err:\n"
        "    print(err)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == (
        "the cast critic (cast_weight) needs scikit-learn: pip install 'dramatis[arena]'"
    )


def test_the_critics_scenes_do_not_depend_on_the_casts_order():
    """Cassius and Antony have as many scenes: ties go by name, so the critic (built in
    the stage's order) and the arena (in its context's order) hold out the same scenes."""
    from dramatis.arena.attribution import split_scenes
    from dramatis.staging import cast_personas

    names = ["julius_caesar:Brutus", "julius_caesar:Cassius", "Marcus Antonius", "Casca"]
    personas = cast_personas(names)
    scenes = {
        p.name: [(p.play, s.scene_id) for s in load_play(p.play).speeches() if s.speaker == p.name]
        for p in personas
    }
    backwards = dict(reversed(list(scenes.items())))
    assert held_out_scenes(scenes) == held_out_scenes(backwards)
    tests = {k for k, v in split_scenes(backwards).items() if v == "test"}
    assert tests == held_out_scenes(scenes)
