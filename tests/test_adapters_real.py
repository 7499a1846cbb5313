"""Adapters on the real bundled bases (SmolLM2-135M, GGUF Q4_1; Gemma 3 270M, Q4_K_M):
llama.cpp vs peft, cache isolation across adapter switches, a tiny training run end to end.

The fp32 copy transformers needs is converted once into pytest's cache folder
(.pytest_cache/d/dramatis-base) and reused by later runs.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from dramatis.agents.catalog import resolve_model
from dramatis.agents.llama_backend import LlamaCppModel
from dramatis.agents.model import Message, Sampling
from dramatis.core.errors import DramatisError
from dramatis.training.fake_adapters import random_adapter

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

    model = PeftModel.open(gguf_path, cache_dir)
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


def test_stacked_adapters_match_peft_with_both_active(gguf_path, peft_model, adapters):
    """The stage voice's stacking: llama.cpp applying A at 0.5 under B equals peft with
    both adapters active (A's scaling halved), within the same noise as one adapter;
    and the pair differs from B alone by far more than that noise."""
    from llama_cpp import Llama

    from dramatis.agents.lora import LoraSet

    prompt = peft_model.render_chat(PROMPTS[0]) + CONTINUATION
    tokens = peft_model.tokenizer(prompt, add_special_tokens=False)["input_ids"]
    llm = Llama(model_path=str(gguf_path), n_ctx=512, n_threads=1, logits_all=True, verbose=False)
    loras = LoraSet(llm)
    for name in "AB":
        loras.load(name, adapters[name] / "adapter.gguf")
    loras.stack_under("A", 0.5)
    loras.apply("B")
    assert loras.current == (("A", 0.5), ("B", 1.0))
    llm.eval(tokens)
    stacked_ll = np.array(llm.scores[: len(tokens)])

    import torch

    model = peft_model.model
    lora_layers = [m for m in model.modules() if isinstance(getattr(m, "scaling", None), dict)]
    lora_layers = [m for m in lora_layers if "A" in m.scaling]
    saved = [m.scaling["A"] for m in lora_layers]
    try:
        model.base_model.set_adapter(["A", "B"])
        for m in lora_layers:
            m.scaling["A"] *= 0.5
        with torch.no_grad():
            stacked_pt = model(input_ids=torch.tensor([tokens])).logits[0].numpy()
    finally:
        for m, value in zip(lora_layers, saved, strict=True):
            m.scaling["A"] = value
        model.base_model.set_adapter("A")
    b_pt = peft_position_logits(peft_model, "B", tokens)
    base_noise = np.abs(llama_position_logits(gguf_path, None, tokens)
                        - peft_position_logits(peft_model, None, tokens)).mean()  # fmt: skip
    gap = np.abs(stacked_ll - stacked_pt).mean()
    assert gap <= 1.5 * base_noise + 0.05
    assert (stacked_ll.argmax(-1) == stacked_pt.argmax(-1)).mean() >= 0.85
    assert np.abs(stacked_ll - b_pt).mean() >= 3 * gap


FRESH = """
import json, sys
from dramatis.agents.llama_backend import LlamaCppModel
from dramatis.agents.model import Sampling
gguf, adapter, times, prompt = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.stdin.read()
m = LlamaCppModel(gguf, n_threads=1, seed=0)
m.load_adapter("A", adapter)
said = [m.generate(prompt, Sampling(max_tokens=24, temperature=0.8, seed=42, adapter="A")).text
        for _ in range(times)]
print(json.dumps(said))
"""


def fresh_a(gguf_path: Path, adapter: Path, prompt: str, times: int) -> list[str]:
    """What adapter A says to `prompt`, `times` times in a row, in a new process that
    never loads another adapter."""
    out = subprocess.run(
        [sys.executable, "-c", FRESH, str(gguf_path), str(adapter), str(times)],
        input=prompt, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return json.loads(out.stdout)


def adapter_model(gguf_path: Path, adapters, cache_mb: float, names: str = "AB") -> LlamaCppModel:
    model = LlamaCppModel(gguf_path, n_threads=1, seed=0, cache_mb=cache_mb)
    for name in names:
        model.load_adapter(name, adapters[name] / "adapter.gguf")
    return model


def test_switching_adapters_never_reuses_another_adapters_cache(gguf_path, adapters, monkeypatch):
    """A, then B, then A on one model (the same prompt: the worst case for prefix reuse).

    With no saved prefixes (cache_mb=0) each A turn starts from an empty context and says
    what a fresh process says. With the per-adapter cache, A's second turn starts from A's
    own saved prefix and says exactly what A says on its second turn in a fresh process
    that never loaded B: B's turn left no trace. (A restored prefix is not compared with
    a full evaluation: llama.cpp's logits differ in the last bits between batch sizes.)"""
    adapter_a = adapters["A"] / "adapter.gguf"
    for cache_mb in (0, 256):
        model = adapter_model(gguf_path, adapters, cache_mb)
        prompt = model.render_chat(PROMPTS[0])

        def say(adapter: str | None, model=model, prompt=prompt) -> str:
            sampling = Sampling(max_tokens=24, temperature=0.8, seed=42, adapter=adapter)
            return model.generate(prompt, sampling).text

        first_a, b, second_a = say("A"), say("B"), say("A")
        assert b != first_a  # the adapters differ, so sharing a cache would show
        if cache_mb == 0:
            assert first_a == second_a == fresh_a(gguf_path, adapter_a, prompt, 1)[0]
            assert model.cache_stats["restored"] == 0
        else:
            assert [first_a, second_a] == fresh_a(gguf_path, adapter_a, prompt, 2)
            assert model.cache_stats["restored"] == 1
    assert say(None) != first_a
    # Control: if a switch left the context as it was, A after B would reuse B's keys
    # and values (the prompts are identical) and say something else. (A prompt of whole
    # evaluation blocks: a shorter one is never kept, see agents/llama_backend.py.)
    long = model.render_chat([Message("system", "You are Horatio, Hamlet's friend. " * 16),
                              PROMPTS[0][1]])  # fmt: skip
    first_long = say("A", prompt=long)
    say("B", prompt=long)
    monkeypatch.setattr(model._loras.caches, "switch", lambda leaving, entering: False)
    assert say("A", prompt=long) != first_long


SCENE = [
    "HAMLET: What hour now?",
    "HORATIO: I think it lacks of twelve.",
    "MARCELLUS: No, it is struck.",
    "HAMLET: The air bites shrewdly; it is very cold.",
    "HORATIO: It is a nipping and an eager air.",
]


def scene_turns(model: LlamaCppModel, speakers: str, only: str | None = None) -> list[str]:
    """Turn k is spoken by adapter speakers[k] over a growing transcript, as in a scene:
    each prompt shares the setting and the transcript with that speaker's previous one.
    With `only`, just that speaker's turns are generated."""
    said = []
    for k, who in enumerate(speakers, start=1):
        if only is not None and who != only:
            continue
        prompt = model.render_chat([
            Message("system", "A platform before the castle of Elsinore, at midnight. " * 6),
            Message("user", "\n\n".join(SCENE[:k]) + f"\n\nWhat does {who} say next?"),
        ])  # fmt: skip
        sampling = Sampling(max_tokens=12, temperature=0.8, seed=k, adapter=who)
        said.append(model.generate(prompt, sampling).text)
    return said


def test_each_adapter_keeps_its_own_prefix_across_switches(gguf_path, adapters):
    """Alternating A and B on one shared model says exactly what two private models say,
    one per adapter, each given only its own speaker's turns: every switch puts back the
    entering adapter's own evaluated prefix and nothing else."""
    shared = adapter_model(gguf_path, adapters, 256)
    turns = scene_turns(shared, "ABAB")
    private = {who: scene_turns(adapter_model(gguf_path, adapters, 256), "ABAB", who)
               for who in "AB"}  # fmt: skip
    assert turns == [private["A"][0], private["B"][0], private["A"][1], private["B"][1]]
    stats = shared.cache_stats
    assert stats["saved"] == 3 and stats["restored"] == 2 and stats["evicted"] == 0
    assert stats["restored_tokens"] > 200  # the shared setting and transcript came back


def test_prefix_cache_budget_evicts_the_oldest_and_stays_correct(gguf_path, adapters, tmp_path):
    """Three adapters, a budget that holds one saved prefix: by A's second turn its prefix
    has been evicted, so it starts from an empty context, exactly as with no cache."""
    adapters = {**adapters, "C": random_adapter(tmp_path / "C", 3, r=8)}

    def model(cache_mb: float) -> LlamaCppModel:
        return adapter_model(gguf_path, adapters, cache_mb, names="ABC")

    probe = model(256)
    scene_turns(probe, "AB")
    one_prefix_mb = probe.cache_stats["bytes"] / 2**20  # A's prefix, filed at the switch
    tight = model(1.5 * one_prefix_mb)
    assert scene_turns(tight, "ABCA") == scene_turns(model(0), "ABCA")
    stats = tight.cache_stats
    assert stats["evicted"] >= 1 and stats["restored"] == 0
    assert 0 < stats["bytes"] <= 1.5 * one_prefix_mb * 2**20


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


@pytest.mark.slow  # ~15 s (SmolLM2) to ~90 s (Gemma) on a quiet machine, minutes on a busy one
@pytest.mark.parametrize("base", ["smollm2", "gemma3-270m"])
def test_tiny_training_run_end_to_end(cache_dir, base, tmp_path):
    """A few steps on Horatio's lines -> registered adapter that llama.cpp loads and
    speaks with, on SmolLM2 and on the default Gemma 3 270M."""
    import shutil

    from dramatis.core.settings import Settings
    from dramatis.training.dataset import DataConfig
    from dramatis.training.pipeline import registry_for, train_character
    from dramatis.training.trainer import AdapterConfig, TrainConfig

    gguf_path = resolve_model(base, cache_dir)
    settings = Settings(home=tmp_path / "home", model=str(gguf_path))
    settings.ensure()
    for item in cache_dir.iterdir():  # reuse the converted bases instead of converting again
        target = settings.cache_dir / item.name
        if item.is_dir():
            target.symlink_to(item, target_is_directory=True)
        elif item.suffix == ".json":
            shutil.copy(item, target)  # written to: a copy
        else:
            target.symlink_to(item)  # a model file: linked, never copied
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
    assert len(meta.base_sha256) == 64 and meta.val_loss_after is not None
    assert meta.ppl_after == pytest.approx(math.exp(meta.val_loss_after))
    # a working base on English verse sits far below uniform guessing (49152 or 262144 tokens)
    assert 2 < meta.ppl_before < 1000 and 2 < meta.ppl_after < 1000
    from safetensors import safe_open

    with safe_open(str(found.weights), "np") as f:
        assert json.loads(f.metadata()["dramatis"])["character"] == "Horatio"
    assert registry_for(settings).active("Horatio", "hamlet").version == 1

    model = LlamaCppModel(gguf_path, n_threads=1)
    model.load_adapter(found.name, found.gguf, base_sha256=meta.base_sha256)
    with pytest.raises(DramatisError, match="trained on a base"):
        LlamaCppModel(gguf_path, n_threads=1).load_adapter("x", found.gguf, base_sha256="f" * 64)
    prompt = model.render_chat(PROMPTS[0]) or "HAMLET.\nWhat hour now?\n\nHORATIO.\n"
    said = model.generate(prompt, Sampling(max_tokens=8, seed=1, adapter=found.name))
    assert model.adapters == (found.name,) and said.text.strip() and said.tokens > 0


# Gemma 3 270M (the default model, GGUF Q4_K_M): a page of a play, teacher-forced.
GEMMA_PAGE = (
    "HAMLET.\nO, that this too too solid flesh would melt,\nThaw, and resolve itself into a dew!"
    "\n\nOPHELIA.\nMy lord, I have remembrances of yours, that I have longed long to re-deliver."
)


def test_llama_cpp_matches_peft_on_gemma(cache_dir, tmp_path):
    """The same differential check on Gemma, whose LoRA export differs from SmolLM2's:
    architecture "gemma3", and q/k rows not permuted (llama.cpp keeps Gemma's rotary
    order). Measured: the bare base's noise (Q4_K_M blocks against fp32) is a mean
    |logit difference| of 0.18; with this adapter 0.21, while the adapter itself moves
    the logits by 1.74; exported with SmolLM2's q/k permutation it would be 0.92 (top-1
    agreement 0.66 against 0.94), which fails. B is drawn smaller than for SmolLM2
    (std 0.02): at 0.05 the perturbation is so large that both backends' rounding
    differences grow with it (0.56 right, 3.2 permuted)."""
    from dramatis.agents.peft_backend import PeftModel
    from dramatis.training.fake_adapters import GEMMA3_270M

    gguf = resolve_model("gemma3-270m", cache_dir)
    folder = random_adapter(tmp_path / "G", 3, r=8, std_b=0.02, shape=GEMMA3_270M)
    peft = PeftModel.open(gguf, cache_dir)
    peft.load_adapter("G", folder)
    tokens = peft.tokenizer(GEMMA_PAGE)["input_ids"]  # with Gemma's <bos>, as llama.cpp
    base_ll = llama_position_logits(gguf, None, tokens)
    base_pt = peft_position_logits(peft, None, tokens)
    a_ll = llama_position_logits(gguf, folder, tokens)
    a_pt = peft_position_logits(peft, "G", tokens)
    noise = np.abs(base_ll - base_pt).mean()
    with_adapter = np.abs(a_ll - a_pt).mean()
    assert with_adapter <= 1.5 * noise + 0.05
    assert (a_ll.argmax(-1) == a_pt.argmax(-1)).mean() >= 0.85
    assert np.abs(a_ll - base_pt).mean() >= 3 * with_adapter
