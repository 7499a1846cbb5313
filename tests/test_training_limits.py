"""Training at the limits: the budget counts the training loop only (setup on a busy
machine no longer eats it), `--steps N` trains N steps, and a run that took no step is
never registered as an adapter."""

from __future__ import annotations

import time

import pytest
from test_training_tiny import config, example
from tiny_models import byte_tokenizer, tiny_llama
from typer.testing import CliRunner

from dramatis.cli import app
from dramatis.core.errors import DramatisError
from dramatis.core.settings import Settings
from dramatis.training.dataset import Dataset
from dramatis.training.pipeline import register
from dramatis.training.registry import AdapterMeta, AdapterRegistry
from dramatis.training.trainer import train

pytest.importorskip("peft")


def tiny_data() -> Dataset:
    return Dataset(
        "Horatio",
        "hamlet",
        train=[example("The same, my lord.", 0), example("A truant disposition.", 1)],
        val=[example("The same, my lord.", 2)],
    )


def test_steps_n_trains_n_steps_however_long_setup_took():
    """The loop alone has the budget: a slow setup cannot leave it with none."""
    tokenizer = byte_tokenizer()
    model = tiny_llama(len(tokenizer))
    time.sleep(0.2)  # "setup" that would have used up a whole-run budget of 0.001 min
    result = train(model, tokenizer, tiny_data(), config(max_steps=3, max_minutes=10))
    assert result.steps == 3 and result.stopped_by == "steps"


def test_a_budget_smaller_than_one_step_still_takes_the_first_step():
    tokenizer = byte_tokenizer()
    result = train(
        tiny_llama(len(tokenizer)), tokenizer, tiny_data(), config(max_steps=50, max_minutes=1e-6)
    )
    assert result.steps == 1 and result.stopped_by == "budget"


def test_an_adapter_that_trained_no_step_is_never_registered(tmp_path):
    settings = Settings.load(home=tmp_path)
    meta = AdapterMeta(
        character="Ophelia", play="hamlet", base_model="m.gguf", base_sha256="0" * 64,
        data_sha256="1" * 64, steps=0, stopped_by="budget", ppl_before=66.95, ppl_after=66.95,
    )  # fmt: skip
    with pytest.raises(DramatisError, match="before its first training step .* no adapter"):
        register(settings, None, meta, None)
    assert AdapterRegistry(tmp_path / "adapters").versions("Ophelia", "hamlet") == []


@pytest.mark.parametrize(
    ("args", "minutes", "steps"),
    [([], 10.0, None), (["--steps", "3"], None, 3), (["--steps", "3", "--minutes", "2"], 2.0, 3)],
)
def test_steps_without_minutes_has_no_budget(monkeypatch, tmp_path, args, minutes, steps):
    seen = []

    def fake(name, settings, cfg, *, play=None, progress=None, log=print):
        seen.append(cfg)
        raise DramatisError("stop here")

    monkeypatch.setattr("dramatis.training.pipeline.train_character", fake)
    result = CliRunner().invoke(app, ["train", "Ophelia", "--home", str(tmp_path), *args])
    assert result.exit_code == 2 and "stop here" in result.output
    assert (seen[0].max_minutes, seen[0].max_steps) == (minutes, steps)
