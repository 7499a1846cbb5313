"""Adapter registry and GGUF export, without a model: versions, pointer, refusal, layout."""

from __future__ import annotations

import json

import numpy as np
import pytest

from dramatis.core.errors import DramatisError
from dramatis.training.export import export_gguf, gguf_name, gguf_tensors, permute_rows
from dramatis.training.registry import WEIGHTS, AdapterMeta, AdapterRegistry, key_of


def stage(tmp_path, n: int):
    folder = tmp_path / f"staged{n}"
    folder.mkdir()
    (folder / WEIGHTS).write_bytes(b"weights %d" % n)
    return folder


def meta(character="Hamlet", play="hamlet", sha="a" * 64) -> AdapterMeta:
    return AdapterMeta(
        character=character, play=play, base_model="base.gguf", base_sha256=sha, data_sha256="d"
    )


def test_versions_activate_rollback_remove(tmp_path):
    reg = AdapterRegistry(tmp_path / "adapters")
    v1 = reg.add(stage(tmp_path, 1), meta())
    v2 = reg.add(stage(tmp_path, 2), meta())
    assert (v1.version, v2.version) == (1, 2)
    assert reg.active("Hamlet", "hamlet").version == 2
    assert reg.rollback("Hamlet", "hamlet").version == 1
    with pytest.raises(DramatisError, match="no earlier active adapter"):
        reg.rollback("Hamlet", "hamlet")
    reg.activate("Hamlet", "hamlet", 2)
    reg.remove("Hamlet", "hamlet", 2)  # active one removed: the previous takes over
    assert reg.active("Hamlet", "hamlet").version == 1
    assert [v.version for v in reg.versions("Hamlet", "hamlet")] == [1]
    assert reg.find_character("hamlet") == ("Hamlet", "hamlet")
    with pytest.raises(DramatisError, match="v7"):
        reg.activate("Hamlet", "hamlet", 7)
    # A fresh registry object reads the same state from disk.
    again = AdapterRegistry(tmp_path / "adapters")
    assert again.active("Hamlet", "hamlet").meta.character == "Hamlet"
    assert key_of("Lady Macbeth", "macbeth") == "macbeth.lady-macbeth"


def test_only_a_version_that_validates_no_worse_becomes_active(tmp_path):
    from dramatis.training.pipeline import better

    reg = AdapterRegistry(tmp_path / "adapters")
    good = meta().model_copy(update={"ppl_before": 80.0, "ppl_after": 77.0})
    worse = meta().model_copy(update={"ppl_before": 60.0, "ppl_after": 125.0})
    assert better(good) and not better(worse) and better(meta())
    reg.add(stage(tmp_path, 1), good, activate=better(good))
    reg.add(stage(tmp_path, 2), worse, activate=better(worse))
    assert reg.active("Hamlet", "hamlet").version == 1
    assert [v.version for v in reg.versions("Hamlet", "hamlet")] == [1, 2]


def test_adapter_for_another_base_is_refused(tmp_path):
    reg = AdapterRegistry(tmp_path / "adapters")
    reg.add(stage(tmp_path, 1), meta(sha="a" * 64))
    assert reg.for_base("Hamlet", "hamlet", "a" * 64) is not None
    with pytest.raises(DramatisError, match="was trained on base.gguf"):
        reg.for_base("Hamlet", "hamlet", "b" * 64, "other.gguf")
    assert reg.for_base("Ophelia", "hamlet", "b" * 64) is None  # none: the base speaks


def test_each_base_keeps_the_version_last_active_on_it(tmp_path):
    """Training Hamlet on a second base leaves the first base's adapter staged on it."""
    reg = AdapterRegistry(tmp_path / "adapters")
    reg.add(stage(tmp_path, 1), meta(sha="a" * 64))
    reg.add(stage(tmp_path, 2), meta(sha="a" * 64))
    reg.add(stage(tmp_path, 3), meta(sha="b" * 64))
    assert reg.active("Hamlet", "hamlet").version == 3
    assert reg.for_base("Hamlet", "hamlet", "b" * 64).version == 3
    assert reg.for_base("Hamlet", "hamlet", "a" * 64).version == 2
    assert reg.served("Hamlet", "hamlet") == {2, 3}  # `adapters list` marks both
    reg.activate("Hamlet", "hamlet", 1)  # a rollback on base a leaves base b's choice
    assert reg.for_base("Hamlet", "hamlet", "a" * 64).version == 1
    assert reg.for_base("Hamlet", "hamlet", "b" * 64).version == 3
    reg.remove("Hamlet", "hamlet", 3)
    with pytest.raises(DramatisError, match="hamlet.hamlet@v1 was trained on base.gguf"):
        reg.for_base("Hamlet", "hamlet", "b" * 64, "other.gguf")
    # A version trained but never made active (worse than its base) is not served.
    reg.add(stage(tmp_path, 4), meta(sha="c" * 64), activate=False)
    with pytest.raises(DramatisError, match="retrain it"):
        reg.for_base("Hamlet", "hamlet", "c" * 64)


def test_unknown_character_names_the_fix(tmp_path):
    reg = AdapterRegistry(tmp_path / "adapters")
    reg.add(stage(tmp_path, 1), meta())
    with pytest.raises(DramatisError, match="did you mean Hamlet"):
        reg.find_character("Hamlett")


def test_permute_matches_transformers_inverse():
    """Our q/k row permutation is exactly undone by transformers' GGUF loader."""
    from transformers.modeling_gguf_pytorch_utils import LlamaTensorProcessor

    w = np.arange(576 * 4, dtype=np.float32).reshape(576, 4)
    undo = LlamaTensorProcessor._reverse_permute_weights
    assert np.array_equal(undo(None, permute_rows(w, 9), 9, 9), w)
    assert np.array_equal(undo(None, permute_rows(w[:192], 3), 9, 3), w[:192])


def test_gguf_names_and_metadata(tmp_path):
    assert gguf_name("base_model.model.model.layers.3.self_attn.q_proj.lora_A.weight") == (
        "blk.3.attn_q.weight.lora_a",
        "self_attn.q_proj",
    )
    assert (
        gguf_name("base_model.model.model.layers.0.mlp.down_proj.lora_B.weight")[0]
        == "blk.0.ffn_down.weight.lora_b"
    )
    rng = np.random.default_rng(0)
    state = {
        "base_model.model.model.layers.0.self_attn.k_proj.lora_A.weight": rng.normal(
            size=(4, 576)
        ).astype(np.float32),
        "base_model.model.model.layers.0.self_attn.k_proj.lora_B.weight": rng.normal(
            size=(192, 4)
        ).astype(np.float32),
    }
    tensors = gguf_tensors(state, 9, 3)
    assert tensors["blk.0.attn_k.weight.lora_b"].shape == (192, 4)
    from safetensors.numpy import save_file

    save_file(state, str(tmp_path / "adapter_model.safetensors"))
    (tmp_path / "adapter_config.json").write_text(json.dumps({"lora_alpha": 8, "r": 4}))
    out = export_gguf(
        tmp_path, tmp_path / "a.gguf", n_head=9, n_kv_head=3, metadata={"base_sha256": "abc"}
    )
    import gguf

    reader = gguf.GGUFReader(str(out))
    fields = {
        k: reader.fields[k]
        for k in ("general.type", "adapter.type", "adapter.lora.alpha", "dramatis.base_sha256")
    }
    assert bytes(fields["general.type"].parts[-1]).decode() == "adapter"
    assert bytes(fields["adapter.type"].parts[-1]).decode() == "lora"
    assert float(fields["adapter.lora.alpha"].parts[-1][0]) == 8.0
    assert bytes(fields["dramatis.base_sha256"].parts[-1]).decode() == "abc"
    assert sorted(t.name for t in reader.tensors) == [
        "blk.0.attn_k.weight.lora_a",
        "blk.0.attn_k.weight.lora_b",
    ]
