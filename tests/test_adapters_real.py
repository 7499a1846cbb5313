"""Adapters on the real bundled base (SmolLM2-135M, GGUF Q4_1): llama.cpp vs peft, cache
isolation across adapter switches, a tiny training run end to end.

The fp32 copy transformers needs is converted once into pytest's cache folder
(.pytest_cache/d/dramatis-base) and reused by later runs.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from dramatis.agents.catalog import resolve_model
from dramatis.agents.llama_backend import LlamaCppModel
from dramatis.agents.model import Message, Sampling
from dramatis.errors import DramatisError
from dramatis.training.export import random_adapter

pytestmark = pytest.mark.model

PROMPTS = [
    [
        Message("system", "You are Horatio, Hamlet's friend."),
        Message("user", "HAMLET: What hour now?\n\nWhat does Horatio say next?"),
    ],
    [
        Message("system", "You are Ophelia."),
        Message("user", "HAMLET: Get thee to a nunnery.\n\nWhat does Ophelia say next?"),
    ],
    [
        Message("system", "You are Macbeth."),
        Message("user", "LADY MACBETH: Was the hope drunk wherein you dress'd yourself?"),
    ],
]
# A teacher-forced continuation, so every position's next-token prediction is compared.
CONTINUATION = "My lord, the night is cold and the ghost walks upon the platform; I saw it twice."


@pytest.fixture(scope="module")
def cache_dir(request) -> Path:
    return Path(request.config.cache.mkdir("dramatis-base"))


@pytest.fixture(scope="module")
def gguf_path(cache_dir) -> Path:
    return resolve_model("smollm2", cache_dir)


@pytest.fixture(scope="module")
def adapters(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("adapters")
    return {"A": random_adapter(root / "A", 1, r=8), "B": random_adapter(root / "B", 2, r=8)}


@pytest.fixture(scope="module")
def peft_model(gguf_path, cache_dir, adapters):
    from dramatis.agents.peft_backend import PeftModel

    model = PeftModel(gguf_path, cache_dir)
    for name, folder in adapters.items():
        model.load_adapter(name, folder)
    return model


def llama_position_logits(gguf_path: Path, adapter: Path | None, tokens: list[int]) -> np.ndarray:
    """llama.cpp logits [n_tokens, vocab] for every position, adapter applied via LoraSet."""
    from llama_cpp import Llama

    from dramatis.agents.lora import LoraSet

    llm = Llama(model_path=str(gguf_path), n_ctx=512, n_threads=1, logits_all=True, verbose=False)
    if adapter is not None:
        loras = LoraSet(llm)
        loras.load("x", adapter / "adapter.gguf")
        loras.apply("x")
    llm.eval(tokens)
    return np.array(llm.scores[: len(tokens)])


def peft_position_logits(peft_model, adapter: str | None, tokens: list[int]) -> np.ndarray:
    import torch

    model, ctx = peft_model._forward(adapter)
    with ctx, torch.no_grad():
        return model(input_ids=torch.tensor([tokens])).logits[0].numpy()


@pytest.mark.parametrize(
    "messages", [PROMPTS[0], *(pytest.param(p, marks=pytest.mark.slow) for p in PROMPTS[1:])]
)
def test_llama_cpp_matches_peft_with_the_same_adapter(gguf_path, peft_model, adapters, messages):
    """Differential check, teacher-forced over 3 prompts (~50 positions each).

    Tolerance: transformers runs the exact dequantized Q4_1 weights in fp32, while
    llama.cpp multiplies Q4_1 blocks with activations quantized to 8 bits, in another
    summation order, with the adapter stored in f16. Measured here for the bare base:
    mean |logit difference| ~0.23 (max ~2) on logits of magnitude ~20, top-1 agreement
    93-98% of positions. We require the adapter to add no noise of its own (mean
    difference <= 1.5x the base's), top-1 agreement >= 85%, and that the adapter's
    effect dwarfs that noise (peft without the adapter is >= 3x farther away: measured
    ~7x), so a wrong tensor name, shape, scale or q/k permutation fails.
    """
    # One prompt per case; the other two run with the slow tests.
    prompt = peft_model.render_chat(messages) + CONTINUATION
    tokens = peft_model.tokenizer(prompt, add_special_tokens=False)["input_ids"]
    base_ll = llama_position_logits(gguf_path, None, tokens)
    base_pt = peft_position_logits(peft_model, None, tokens)
    a_ll = llama_position_logits(gguf_path, adapters["A"], tokens)
    a_pt = peft_position_logits(peft_model, "A", tokens)
    noise = np.abs(base_ll - base_pt).mean()
    with_adapter = np.abs(a_ll - a_pt).mean()
    assert noise < 0.5 and np.abs(a_ll - a_pt).max() < 3.0
    assert with_adapter <= 1.5 * noise + 0.05
    assert (a_ll.argmax(-1) == a_pt.argmax(-1)).mean() >= 0.85
    assert (base_ll.argmax(-1) == base_pt.argmax(-1)).mean() >= 0.85
    assert np.abs(a_ll - base_pt).mean() >= 3 * with_adapter


FRESH = """
import json, sys
from dramatis.agents.llama_backend import LlamaCppModel
from dramatis.agents.model import Sampling
gguf, adapter, prompt = sys.argv[1], sys.argv[2], sys.stdin.read()
m = LlamaCppModel(gguf, n_threads=1, seed=0)
m.load_adapter("A", adapter)
out = m.generate(prompt, Sampling(max_tokens=24, temperature=0.8, seed=42, adapter="A"))
print(json.dumps(out.text))
"""


def test_switching_adapters_never_reuses_another_adapters_cache(gguf_path, adapters, monkeypatch):
    """A, then B, then A on one model (same prompt: the worst case for prefix reuse)
    gives the A output a fresh process gives; without the reset it would not."""
    model = LlamaCppModel(gguf_path, n_threads=1, seed=0)
    model.load_adapter("A", adapters["A"] / "adapter.gguf")
    model.load_adapter("B", adapters["B"] / "adapter.gguf")
    prompt = model.render_chat(PROMPTS[0])

    def say(adapter: str | None) -> str:
        return model.generate(
            prompt, Sampling(max_tokens=24, temperature=0.8, seed=42, adapter=adapter)
        ).text

    first_a, b, second_a = say("A"), say("B"), say("A")
    fresh = subprocess.run(
        [sys.executable, "-c", FRESH, str(gguf_path), str(adapters["A"] / "adapter.gguf")],
        input=prompt, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert first_a == second_a == json.loads(fresh.stdout)
    assert b != first_a  # the adapters differ, so sharing a cache would show
    assert say(None) != first_a
    # Control: with the prefix reset disabled, A after B reuses B's keys and values.
    say("B")
    monkeypatch.setattr(model.llama, "reset", lambda: None)
    assert say("A") != first_a


def test_unknown_or_foreign_adapter_is_refused(gguf_path, tmp_path):
    model = LlamaCppModel(gguf_path, n_threads=1)
    with pytest.raises(DramatisError, match="not loaded"):
        model.generate("Hi", Sampling(max_tokens=2, adapter="nobody"))
    # A LoRA whose shapes fit no tensor of this base: llama.cpp refuses, we say why.
    from safetensors.numpy import save_file

    from dramatis.training.export import export_gguf

    state = {
        "base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight": np.zeros(
            (4, 100), np.float32
        ),
        "base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight": np.zeros(
            (576, 4), np.float32
        ),
    }
    save_file(state, str(tmp_path / "adapter_model.safetensors"))
    (tmp_path / "adapter_config.json").write_text(json.dumps({"lora_alpha": 8}))
    export_gguf(tmp_path, tmp_path / "bad.gguf", n_head=9, n_kv_head=3)
    with pytest.raises(DramatisError, match="refused adapter"):
        model.load_adapter("bad", tmp_path / "bad.gguf")


@pytest.mark.slow  # ~15 s on a quiet machine, minutes on a busy one
def test_tiny_training_run_end_to_end(cache_dir, gguf_path, tmp_path):
    """A few steps on Horatio's lines -> registered adapter that both backends load."""
    import shutil

    from dramatis.config import Settings
    from dramatis.training.dataset import DataConfig
    from dramatis.training.pipeline import registry_for, train_character
    from dramatis.training.trainer import AdapterConfig, TrainConfig

    settings = Settings(home=tmp_path / "home")
    settings.ensure()
    for item in cache_dir.iterdir():  # reuse the converted base instead of converting again
        target = settings.cache_dir / item.name
        if item.is_dir():
            target.symlink_to(item, target_is_directory=True)
        else:
            shutil.copy(item, target)
    cfg = TrainConfig(
        adapter=AdapterConfig(r=4, alpha=8),
        data=DataConfig(history_tokens=48, n_samples=1),
        max_steps=2, grad_accum=2, val_examples=2, max_target_tokens=24, threads=2,
    )  # fmt: skip
    steps = []
    found = train_character(
        "Horatio",
        settings,
        cfg,
        play="hamlet",
        progress=lambda *a: steps.append(a),
        log=lambda _: None,
    )
    assert [s[0] for s in steps] == [1, 2]
    meta = found.meta
    assert (meta.character, meta.play, meta.version, meta.steps) == ("Horatio", "hamlet", 1, 2)
    assert meta.base_sha256 and meta.ppl_before > 1 and meta.ppl_after > 1
    from safetensors import safe_open

    with safe_open(str(found.weights), "np") as f:
        assert json.loads(f.metadata()["dramatis"])["character"] == "Horatio"
    assert registry_for(settings).active("Horatio", "hamlet").version == 1

    model = LlamaCppModel(gguf_path, n_threads=1)
    model.load_adapter(found.name, found.gguf, base_sha256=meta.base_sha256)
    with pytest.raises(DramatisError, match="trained on a base"):
        LlamaCppModel(gguf_path, n_threads=1).load_adapter("x", found.gguf, base_sha256="f" * 64)
    text = model.generate(
        model.render_chat(PROMPTS[0]), Sampling(max_tokens=8, seed=1, adapter=found.name)
    ).text
    assert isinstance(text, str)
