"""Helpers of the adapter and turn-overhead benchmarks: random adapters shaped from the
benchmarked GGUF, the prompt/generated token counts, and the check that voids a
turn-overhead run whose two sides generated different tokens."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from dramatis.agents.catalog import resolve_model
from dramatis.agents.model import Sampling
from dramatis.core.errors import DramatisError
from dramatis.core.settings import Settings
from dramatis.training.fake_adapters import GEMMA3_270M, SMOLLM2, gguf_metadata, shape_of

sys.path.insert(0, str(Path(__file__).parent.parent / "benchmarks"))
import turn_overhead  # noqa: E402
from turn_overhead import Call, mismatch  # noqa: E402


def default_gguf() -> Path:
    settings = Settings.load()
    path = resolve_model(settings.model, settings.cache_dir)
    if not path.is_file():
        pytest.skip(f"the default model is not made yet ({path})")
    return path


def test_shape_is_read_from_the_default_model_and_from_smollm2():
    assert shape_of(default_gguf()) == GEMMA3_270M
    smollm2 = resolve_model("smollm2", Settings.load().cache_dir)
    assert shape_of(smollm2) == SMOLLM2
    assert gguf_metadata(smollm2)["general.architecture"] == "llama"


def test_unknown_architecture_and_non_gguf_files_are_one_line_errors(tmp_path):
    gguf = pytest.importorskip("gguf")
    odd = tmp_path / "odd.gguf"
    writer = gguf.GGUFWriter(str(odd), "mamba")
    writer.add_block_count(2)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.close()
    assert gguf_metadata(odd)["mamba.block_count"] == 2
    with pytest.raises(DramatisError, match="not 'mamba'"):
        shape_of(odd)
    text = tmp_path / "notes.gguf"
    text.write_text("hello")
    with pytest.raises(DramatisError, match="not a readable GGUF file"):
        shape_of(text)
    cut = tmp_path / "cut.gguf"
    cut.write_bytes(odd.read_bytes()[:30])
    with pytest.raises(DramatisError, match="ends inside its header"):
        gguf_metadata(cut)


def test_mismatch_voids_other_text_other_token_counts_and_other_requests():
    s = Sampling(seed=1, banned=("play",))
    scene = [Call("p", s, "My lord.", 4, True)]
    assert mismatch(scene, [Call("p", s, "My lord.", 4, True)]) is None
    assert "4 tokens in the scene, 5 in the replay" in mismatch(
        scene, [Call("p", s, "My lord.", 5, True)]
    )
    assert "text" in mismatch(scene, [Call("p", s, "Nay.", 4, True)])
    assert "another prompt or sampling" in mismatch(
        scene, [Call("p", Sampling(seed=1), "My lord.", 4, True)]
    )
    assert "1 generations in the scene, 0" in mismatch(scene, [])


@pytest.mark.slow
def test_replay_with_the_scene_sampling_generates_the_same_tokens():
    """Real model: a recorded stream with the scene's sampling features (ban, presence
    penalty, min_tokens, boost, stop) replays to the same text and token count on a second
    copy, and the counts split prompt from generated tokens."""
    from dramatis.agents.llama_backend import LlamaCppModel

    path = default_gguf()
    a, b = LlamaCppModel(path, n_threads=1), LlamaCppModel(path, n_threads=1)
    counts = turn_overhead.TokenCount(a.llama), turn_overhead.TokenCount(b.llama)
    sampling = Sampling(
        max_tokens=12,
        seed=7,
        presence_penalty=0.5,
        repeat_penalty=1.1,
        banned=("play", "stage"),
        boosted=("Denmark",),
        boost=2.0,
        min_tokens=4,
        stop=("\n\n",),
    )
    prompt = "Hamlet speaks to Horatio about his father.\nHAMLET:"
    recording = turn_overhead.Recording(a, counts[0])
    read = "".join(recording.stream(prompt, sampling))
    call = recording.calls[0]
    assert call.finished and call.text == read and call.tokens > 0
    assert counts[0].generated == call.tokens
    assert counts[0].prompt == a.count_tokens(prompt) + 1  # with the BOS token
    _, got = turn_overhead.replay(b, counts[1], call)
    assert mismatch([call], [got]) is None
    # Stopped early by the scene: the replay stops at the same token.
    early = turn_overhead.Recording(a, counts[0])
    for _piece in early.stream(prompt, sampling):
        break
    first = early.calls[0]
    assert not first.finished and first.tokens >= 1
    _, again = turn_overhead.replay(b, counts[1], first)
    assert mismatch([first], [again]) is None


def test_spread_reports_median_and_range():
    assert turn_overhead.spread([1.0, 1.2, 1.1]) == "median 1.100 (1.000-1.200)"


@pytest.mark.slow
def test_adapter_benchmark_makes_adapters_the_default_model_loads(tmp_path):
    """With no trained adapters in the home, the benchmark's four random adapters take the
    default model's shape, and llama.cpp mounts one and generates with it."""
    import adapters

    from dramatis.agents.llama_backend import LlamaCppModel

    path = default_gguf()
    files = adapters.adapter_files(tmp_path / "home", tmp_path, "f16", path)
    assert len(files) == 4
    assert {gguf_metadata(f)["general.architecture"] for f in files} == {"gemma3"}
    model = LlamaCppModel(path, n_threads=1)
    model.load_adapter("a0", files[0])
    text = model.generate(
        adapters.prompt_for(model, 0), Sampling(max_tokens=4, seed=0, adapter="a0")
    )
    assert text.tokens > 0
