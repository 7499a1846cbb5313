"""The canon stage voice: pages as served, packing, chunked loss, resumable training."""

from __future__ import annotations

import json
import math

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("peft")

from dramatis.personas import load_play  # noqa: E402
from dramatis.training.canon import (  # noqa: E402
    Window,
    build_canon,
    pack,
    scene_windows,
    speech_line,
)
from dramatis.training.lm_voice import (  # noqa: E402
    LMVoiceConfig,
    chunked_loss,
    learning_rate,
    run,
    val_loss,
)
from tests.tiny_models import byte_tokenizer, tiny_llama  # noqa: E402


def _tok():
    tok = byte_tokenizer()
    return tok, (lambda text: tok(text, add_special_tokens=False)["input_ids"])


def test_speech_line_is_a_served_transcript_line():
    assert speech_line("Lady Macbeth", "Out,\n  damned spot!") == "LADY MACBETH: Out, damned spot!"


def test_a_scene_page_is_laid_out_as_the_page_format_serves_it():
    tok, tokenize = _tok()
    play = load_play("hamlet")
    scene = play.scene("1.2")
    windows = scene_windows(play, scene, tokenize, 512, lambda n: f"{n}, of the play.", None)
    assert len(windows) > 3  # a long scene spans several pages, each under 512 tokens
    assert all(len(w.ids) <= 512 and len(w.ids) == len(w.mask) for w in windows)
    king = scene.speeches[0].speaker.upper()  # the first to speak heads the persons
    first = tok.decode(list(windows[0].ids))
    head, body = first.split("\n\n", 1)
    assert head.splitlines()[0] == f"{king}, of the play."  # persons, as person_line
    assert body.startswith(play.setting_line(scene).split(".")[0])
    assert f"\n{king}: Though yet of Hamlet" in body
    # only the speeches carry a loss: the unmasked tokens decode to the speech lines
    for w in windows:
        said = tok.decode([t for t, m in zip(w.ids, w.mask, strict=True) if m])
        assert said.startswith("\n") and ": " in said
        assert play.setting_line(scene) not in said
        page = tok.decode(list(w.ids))
        assert page.startswith(f"{king}, of the play.")  # every page has the header


def test_packing_keeps_windows_whole_and_under_the_length():
    windows = [Window("p", "1.1", tuple(range(n)), (1,) * n) for n in (300, 200, 250, 100, 60)]
    packed = pack(windows, 512, seed=0)
    assert sum(len(s) for s in packed) == 910
    assert all(len(s) <= 512 for s in packed)
    assert len(packed) < len(windows)  # short windows share a sequence


def test_the_canon_holds_out_whole_plays():
    _, tokenize = _tok()
    data = build_canon(
        tokenize, seq_tokens=256, seed=0, plays=("hamlet", "macbeth", "othello"),
        held_out=("othello",), val_sequences=4,
    )  # fmt: skip
    assert data.train_plays == ["hamlet", "macbeth"] and data.val_plays == ["othello"]
    assert len(data.val) == 4
    assert 0 < data.supervised() < data.tokens()  # speeches carry a loss, page headers none
    again = build_canon(
        tokenize, seq_tokens=256, seed=0, plays=("hamlet", "macbeth", "othello"),
        held_out=("othello",), val_sequences=4,
    )  # fmt: skip
    assert again.sha256 == data.sha256


def test_chunked_loss_equals_the_plain_loss():
    tok, _ = _tok()
    model = tiny_llama(len(tok))
    ids = torch.randint(0, 200, (1, 40))
    mask = torch.ones(1, 40, dtype=torch.long)
    mask[0, :10] = 0
    total, n = chunked_loss(model, ids, mask, chunk=7)
    logits = model(input_ids=ids).logits[0, :-1]
    plain = torch.nn.functional.cross_entropy(logits[9:], ids[0, 10:], reduction="sum")
    assert n == 30
    assert float(total) == pytest.approx(float(plain), rel=1e-5)


def test_learning_rate_warms_up_then_holds():
    cfg = LMVoiceConfig(lr=1e-3, warmup_steps=4)
    assert [learning_rate(s, cfg) for s in range(6)] == pytest.approx(
        [2.5e-4, 5e-4, 7.5e-4, 1e-3, 1e-3, 1e-3]
    )


def test_a_cooldown_brings_the_rate_down_to_a_tenth():
    cfg = LMVoiceConfig(lr=1e-3, warmup_steps=1)
    rates = [learning_rate(s, cfg, [(2, 4)]) for s in range(8)]
    assert rates == pytest.approx([1e-3, 1e-3, 1e-3, 7.75e-4, 5.5e-4, 3.25e-4, 1e-4, 1e-4])


def test_a_rewarm_climbs_back_then_cools_down_again():
    cfg = LMVoiceConfig(lr=1e-3, warmup_steps=2)
    rates = [learning_rate(s, cfg, [(0, 2), (4, 4, 0.5)]) for s in range(1, 10)]
    # the cool-down's tenth until step 4; the climb from it meets the line from 0.5 at step 5
    assert rates == pytest.approx([5.5e-4, 1e-4, 1e-4, 3e-4, 4e-4, 3e-4, 2e-4, 1e-4, 1e-4])


class _Killed(Exception):
    pass


def _tiny_run(tmp_path, steps, cooldown=0, cooldown_from=None, rewarm=None, rewarm_from=None,
              killed_at=None, log=lambda _: None):  # fmt: skip
    tok, tokenize = _tok()
    data = build_canon(
        tokenize, seq_tokens=128, seed=0, plays=("macbeth", "othello"),
        held_out=("othello",), val_sequences=2,
    )  # fmt: skip
    cfg = LMVoiceConfig(r=4, alpha=8, seq_tokens=128, batch=2, lr=1e-2, warmup_steps=1,
                        val_sequences=2, eval_every=1000, checkpoint_every=2, held_out=("othello",))  # fmt: skip
    model = tiny_llama(len(tok))
    return run(model, data, cfg, tmp_path / "ckpt", minutes=10, max_steps=steps,
               log=log, cooldown=cooldown, cooldown_from=cooldown_from,
               rewarm=rewarm, rewarm_from=rewarm_from, progress=_kill(killed_at))  # fmt: skip


def _kill(step):
    """A progress callback that stops the process-like run after `step` (its last
    checkpoint is the one before: every 2 steps)."""

    def progress(state, loss):
        if step is not None and state.step == step:
            raise _Killed

    return progress


def test_a_cooldown_resumes_where_it_stopped_exactly(tmp_path):
    _tiny_run(tmp_path / "a", 2)
    straight, s1 = _tiny_run(tmp_path / "a", 6, cooldown=4)  # cools down over steps 2-6
    _tiny_run(tmp_path / "b", 2)
    _tiny_run(tmp_path / "b", 4, cooldown=4)
    resumed, s2 = _tiny_run(tmp_path / "b", 6)  # no option given: the cool-down goes on
    assert s2.losses == pytest.approx(s1.losses, rel=1e-4)
    a = dict(straight.named_parameters())
    for name, p in resumed.named_parameters():
        if p.requires_grad:
            assert torch.allclose(p, a[name], atol=1e-5), name
    assert [r.get("cooldown") for r in s2.runs] == [None, [2, 4], None]
    _, plain = _tiny_run(tmp_path / "c", 6)
    assert plain.losses[:3] == pytest.approx(s1.losses[:3], rel=1e-4)
    assert plain.losses[3:] != pytest.approx(s1.losses[3:], rel=1e-4)  # other rates
    # The same schedule asked for in one run from the start: the rate holds to step 2.
    _, one = _tiny_run(tmp_path / "d", 6, cooldown=4, cooldown_from=2)
    assert one.losses == pytest.approx(s1.losses, rel=1e-4)
    assert [r.get("cooldown") for r in one.runs] == [[2, 4]]
    # A cool-down cannot begin before the checkpoint's step.
    from dramatis.core.errors import DramatisError

    with pytest.raises(DramatisError, match="--cooldown-from 6 or later"):
        _tiny_run(tmp_path / "c", 8, cooldown=4, cooldown_from=1)


def test_a_run_resumes_where_it_stopped_exactly(tmp_path):
    straight, s1 = _tiny_run(tmp_path / "a", 4)
    _tiny_run(tmp_path / "b", 2)
    resumed, s2 = _tiny_run(tmp_path / "b", 4)  # the same folder: goes on from step 2
    assert s1.step == s2.step == 4 and s1.seen == s2.seen == 8
    assert s2.losses[:2] == pytest.approx(s1.losses[:2])
    assert s2.losses == pytest.approx(s1.losses, rel=1e-4)
    a = dict(straight.named_parameters())
    for name, p in resumed.named_parameters():
        if p.requires_grad:
            assert torch.allclose(p, a[name], atol=1e-5), name
    state = json.loads((tmp_path / "b" / "ckpt" / "state.json").read_text())
    assert [r["from_step"] for r in state["runs"]] == [0, 2]
    assert state["val"][-1][1] < state["val"][0][1]  # the held-out play got likelier


def test_a_checkpoint_of_another_configuration_is_refused(tmp_path):
    from dramatis.core.errors import DramatisError

    _tiny_run(tmp_path, 2)
    tok, tokenize = _tok()
    data = build_canon(
        tokenize, seq_tokens=128, seed=0, plays=("macbeth", "othello"),
        held_out=("othello",), val_sequences=2,
    )  # fmt: skip
    other = LMVoiceConfig(r=8, seq_tokens=128, held_out=("othello",), val_sequences=2)
    with pytest.raises(DramatisError, match="another configuration"):
        run(tiny_llama(len(tok)), data, other, tmp_path / "ckpt", minutes=1, log=lambda _: None)


def test_a_checkpoint_of_other_data_goes_on_only_when_asked(tmp_path):
    from dramatis.core.errors import DramatisError

    _tiny_run(tmp_path, 2)
    tok, tokenize = _tok()
    data = build_canon(
        tokenize,
        seq_tokens=128,
        seed=1,
        plays=("macbeth", "othello"),
        held_out=("othello",),
        val_sequences=2,
    )  # fmt: skip  (another packing order: other data)
    cfg = LMVoiceConfig(r=4, alpha=8, seq_tokens=128, batch=2, lr=1e-2, warmup_steps=1,
                        val_sequences=2, eval_every=1000, checkpoint_every=2, held_out=("othello",))  # fmt: skip
    with pytest.raises(DramatisError, match="--new-data"):
        run(tiny_llama(len(tok)), data, cfg, tmp_path / "ckpt", minutes=1, log=lambda _: None)
    _, state = run(tiny_llama(len(tok)), data, cfg, tmp_path / "ckpt", minutes=1, max_steps=3,
                   log=lambda _: None, new_data=True)  # fmt: skip
    assert state.step == 3 and state.data_sha256 == data.sha256
    # From the change on, validation is on the new pages: the base is measured on them
    # again (adapter off), and "before" is that figure, not the first pages' one.
    changed = state.pages_changed
    assert changed is not None and changed["at_step"] == 2
    assert changed["base_val"] == pytest.approx(val_loss(tiny_llama(len(tok)), data.val, cfg.chunk))
    assert state.ppl_before == pytest.approx(math.exp(changed["base_val"]))
    assert changed["base_val"] != pytest.approx(state.val[-1][1])  # the adapter was off


def test_a_new_checkout_goes_on_from_the_shipped_export(tmp_path):
    """No checkpoint folder, only the exported GGUF and manifest (what a package holds):
    the run seeds itself from them and goes on at the exported step."""
    from types import SimpleNamespace

    from dramatis.training.make_voice import export, seed_from_shipped

    tok, tokenize = _tok()
    data = build_canon(
        tokenize, seq_tokens=128, seed=0, plays=("macbeth", "othello"),
        held_out=("othello",), val_sequences=2,
    )  # fmt: skip
    model, state = _tiny_run(tmp_path / "a", 2)
    ref = SimpleNamespace(name="tiny.gguf", sha256="0" * 64)
    export(model, model.get_base_model().config, state, data, ref, tmp_path / "pkg")
    cfg = LMVoiceConfig(r=4, alpha=8, seq_tokens=128, batch=2, lr=1e-2, warmup_steps=1,
                        val_sequences=2, eval_every=1000, checkpoint_every=2, held_out=("othello",))  # fmt: skip
    fresh = tmp_path / "new-checkout"
    config = model.get_base_model().config
    note = seed_from_shipped(tmp_path / "pkg", fresh, cfg, data.sha256, config)
    assert "step 2" in note
    assert seed_from_shipped(tmp_path / "pkg", fresh, cfg, data.sha256, config) == ""  # once
    _, straight = _tiny_run(tmp_path / "b", 3)
    tok2, _ = _tok()
    _, went_on = run(
        tiny_llama(len(tok2)), data, cfg, fresh, minutes=5, max_steps=3, log=lambda _: None
    )
    assert went_on.step == 3 and went_on.seen == straight.seen == 6
    # the exported (f16) adapter is where the run stood: step 3's loss is close to the
    # unbroken run's although AdamW's moments started afresh
    assert went_on.losses[-1] == pytest.approx(straight.losses[-1], rel=0.05)


def test_a_rewarm_begins_after_the_cooldown_and_resumes(tmp_path):
    from dramatis.core.errors import DramatisError

    _tiny_run(tmp_path / "a", 4, cooldown=2, cooldown_from=2)  # cooled down by step 4
    warmed, s1 = _tiny_run(tmp_path / "a", 8, rewarm=0.5)  # from step 4 to a tenth by step 8
    runs = [(r.get("cooldown"), r.get("rewarm")) for r in s1.runs]
    assert runs == [([2, 2], None), (None, [4, 4, 0.5])]
    _tiny_run(tmp_path / "z", 4, cooldown=2, cooldown_from=2)
    _, tenth = _tiny_run(tmp_path / "z", 8)  # the control: a tenth after the cool-down
    assert tenth.losses[:5] == pytest.approx(s1.losses[:5], rel=1e-4)  # step 4 is alike
    assert tenth.losses[5:] != pytest.approx(s1.losses[5:], rel=1e-4)
    # Killed halfway and called again without options: the re-warm's line goes on, and
    # with no --max-steps it stops where the line ends.
    _tiny_run(tmp_path / "b", 4, cooldown=2, cooldown_from=2)
    with pytest.raises(_Killed):
        _tiny_run(tmp_path / "b", 8, rewarm=0.5, killed_at=7)  # checkpointed at step 6
    resumed, s2 = _tiny_run(tmp_path / "b", None)
    assert s2.step == 8 and s2.losses == pytest.approx(s1.losses, rel=1e-4)
    a = dict(warmed.named_parameters())
    for name, p in resumed.named_parameters():
        if p.requires_grad:
            assert torch.allclose(p, a[name], atol=1e-5), name
    # The whole schedule asked for in one call from the start, as `make stage-voice` does.
    whole = {"cooldown": 2, "cooldown_from": 2, "rewarm": 0.5, "rewarm_from": 4}
    _, one = _tiny_run(tmp_path / "c", 8, **whole)
    assert one.losses == pytest.approx(s1.losses, rel=1e-4)
    assert one.runs[0]["cooldown"] == [2, 2] and one.runs[0]["rewarm"] == [4, 4, 0.5]
    # ... and the same call again on its finished checkpoint trains nothing more, and
    # says nothing of a schedule not applied; another re-warm asked for is not applied.
    said: list[str] = []
    _, again = _tiny_run(tmp_path / "c", 8, **whole, log=said.append)
    assert again.step == 8 and again.losses == one.losses
    assert not [line for line in said if "not applied" in line]
    _tiny_run(tmp_path / "c", 8, **{**whole, "rewarm": 0.8}, log=said.append)
    assert [line for line in said if "re-warm goes on" in line]
    # A re-warm cannot begin inside the cool-down, nor without one.
    _tiny_run(tmp_path / "d", 3, cooldown=2, cooldown_from=2)
    with pytest.raises(DramatisError, match="--rewarm-from 4 or later"):
        _tiny_run(tmp_path / "d", 6, rewarm=0.5)
    with pytest.raises(DramatisError, match="follows a cool-down"):
        _tiny_run(tmp_path / "e", 6, rewarm=0.5)


def test_a_second_rewarm_goes_on_from_a_finished_one(tmp_path):
    """A finished re-warm's checkpoint takes another (--rewarm-from 480,820 as the shipped
    voice did): the same losses as one call that asks for both from the start."""
    from dramatis.core.errors import DramatisError
    from dramatis.training.lm_voice import schedule_of

    whole = {"cooldown": 2, "cooldown_from": 2, "rewarm": 0.5}
    _tiny_run(tmp_path / "a", 6, **whole, rewarm_from=4)  # the first re-warm ends at 6
    _, two = _tiny_run(tmp_path / "a", 9, **whole, rewarm_from=[4, 6])
    assert schedule_of(two) == [(2, 2), (4, 2, 0.5), (6, 3, 0.5)]
    assert two.runs[-1]["rewarm"] == [6, 3, 0.5]
    _, one = _tiny_run(tmp_path / "b", 9, **whole, rewarm_from=[4, 6])
    assert one.runs[0]["rewarms"] == [[4, 2, 0.5], [6, 3, 0.5]]
    assert one.losses == pytest.approx(two.losses, rel=1e-4)
    # the second re-warm makes a difference: the control holds the tenth after step 6
    _tiny_run(tmp_path / "c", 6, **whole, rewarm_from=4)
    _, held = _tiny_run(tmp_path / "c", 9)
    assert held.losses[:7] == pytest.approx(one.losses[:7], rel=1e-4)
    assert held.losses[7:] != pytest.approx(one.losses[7:], rel=1e-4)
    # A schedule that disagrees with the checkpoint's where they overlap adds nothing.
    said: list[str] = []
    _, other = _tiny_run(tmp_path / "a", 12, **whole, rewarm_from=[4, 7], log=said.append)
    assert schedule_of(other) == [(2, 2), (4, 2, 0.5), (6, 3, 0.5)] and other.step == 12
    assert [line for line in said if "from step 4 over 3 steps is not applied" in line]
    with pytest.raises(DramatisError, match="rising order"):
        _tiny_run(tmp_path / "d", 9, **whole, rewarm_from=[6, 4])
    with pytest.raises(DramatisError, match="--rewarm-from 9 or later"):  # "c" is at step 9
        _tiny_run(tmp_path / "c", 12, **whole, rewarm_from=[4, 6])


def test_a_rewarm_recorded_before_its_key_existed_is_read_as_one():
    """A checkpoint whose re-warm was recorded as a 3-figure "cooldown" goes on with it."""
    from dramatis.training.lm_voice import RunState, schedule_of

    state = RunState(config={}, data_sha256="")
    state.runs = [{"cooldown": [310, 150]}, {"where": "cpu"}, {"cooldown": [480, 340, 0.5]}]
    schedule = schedule_of(state)
    assert schedule == [(310, 150), (480, 340, 0.5)]
    cfg = LMVoiceConfig(lr=1e-3, warmup_steps=10)
    rates = [learning_rate(s, cfg, schedule) for s in (300, 460, 479, 489, 650, 820, 900)]
    top_line = 1e-4 + 0.4 * (1 - 9 / 340) * 1e-3  # step 489: warm, on the line from 0.5
    assert rates == pytest.approx([1e-3, 1e-4, 1e-4, top_line, 3e-4, 1e-4, 1e-4])
