"""Training on the real code path with a tiny random Llama-shaped model built here:
no download, a few seconds. What it checks is what the docs claim of the trainer."""

from __future__ import annotations

import json

import pytest
from tiny_models import byte_tokenizer, tiny_llama

from dramatis.training.dataset import Dataset, Example
from dramatis.training.registry import AdapterMeta
from dramatis.training.trainer import AdapterConfig, TrainConfig, encode, example_loss, train

torch = pytest.importorskip("torch")
pytest.importorskip("peft")


def example(target: str, i: int = 0) -> Example:
    page = "A platform before the castle.\n\nHAMLET: Horatio, or I do forget myself.\n\nHORATIO:"
    return Example("Horatio", "1.2", i, page, target)


def config(**changes) -> TrainConfig:
    base = dict(
        adapter=AdapterConfig(r=4, alpha=8, dropout=0.0, target_modules=("q_proj", "v_proj")),
        lr=1e-1, grad_accum=2, max_steps=6, warmup_steps=0, max_minutes=None, seed=0,
    )  # fmt: skip
    return TrainConfig(**{**base, **changes})


@pytest.fixture(scope="module")
def trained():
    tokenizer = byte_tokenizer()
    data = Dataset(
        "Horatio", "hamlet",
        train=[example("The same, my lord, and your poor servant ever.", 0),
               example("A truant disposition, good my lord.", 1)],
        val=[example("The same, my lord, and your poor servant ever.", 2)],
    )  # fmt: skip
    cfg = config()
    return tokenizer, data, cfg, train(tiny_llama(len(tokenizer)), tokenizer, data, cfg)


def test_loss_goes_down(trained):
    *_, result = trained
    assert result.steps == 6 and result.stopped_by == "steps"
    assert result.losses[-1] < result.losses[0] - 0.4, result.losses
    assert result.val_loss_after < result.val_loss_before - 0.5


def test_prompt_grad_on_and_off_give_the_same_loss(trained):
    tokenizer, data, cfg, result = trained
    model = result.model.eval()  # a trained adapter: B is no longer zero
    enc = encode(tokenizer, data.train[1], cfg.max_target_tokens)
    assert enc.n_prompt > 40 and len(enc.input_ids) > enc.n_prompt + 10
    with_prompt = example_loss(model, enc, prompt_grad=True)
    cached = example_loss(model, enc, prompt_grad=False)
    assert abs(with_prompt.item() - cached.item()) < 1e-6
    # both paths train the adapter: the loss has gradients that reach LoRA weights
    cached.backward()
    grads = [p.grad for n, p in model.named_parameters() if "lora_B" in n]
    assert grads and all(g is not None and g.abs().sum() > 0 for g in grads)
    model.zero_grad(set_to_none=True)


def test_saved_adapter_reloads_and_changes_the_output(trained, tmp_path):
    from peft import PeftModel
    from safetensors import safe_open

    from dramatis.training.pipeline import save_adapter

    tokenizer, data, cfg, result = trained
    meta = AdapterMeta(character="Horatio", play="hamlet", base_model="tiny",
                       base_sha256="0" * 64, data_sha256="d", steps=result.steps)  # fmt: skip
    save_adapter(result, meta, tmp_path, result.model.config)
    with safe_open(str(tmp_path / "adapter_model.safetensors"), "np") as f:
        assert json.loads(f.metadata()["dramatis"])["character"] == "Horatio"
    assert (tmp_path / "adapter.gguf").stat().st_size > 0

    ids = torch.tensor([encode(tokenizer, data.val[0], 96).input_ids])
    with torch.no_grad():
        base = tiny_llama(len(tokenizer))(input_ids=ids).logits
        reloaded = PeftModel.from_pretrained(tiny_llama(len(tokenizer)), str(tmp_path)).eval()
        again = reloaded(input_ids=ids).logits
        trained_logits = result.model.eval()(input_ids=ids).logits
    assert torch.allclose(again, trained_logits, atol=1e-5)
    assert (again - base).abs().max() > 0.1  # the adapter changes what the model says


def test_warm_up_climbs_from_the_first_step():
    from dramatis.training.trainer import optimizer

    weight = torch.nn.Parameter(torch.ones(1))
    opt, schedule = optimizer([weight], config(lr=1.0, warmup_steps=4))
    rates = []
    for _ in range(6):
        rates.append(opt.param_groups[0]["lr"])
        weight.grad = torch.ones(1)
        opt.step()
        schedule.step()
    assert rates == [0.25, 0.5, 0.75, 1.0, 1.0, 1.0]
