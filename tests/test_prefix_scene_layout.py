"""The "scene" layout of the real exchanges on the real path: SmolLM2 in llama.cpp, the
plays' own exchanges (PlayVoices), the real LangGraph scene and its SQLite store. With
every cast member's exchanges above the transcript, llama.cpp keeps almost every page
from the last, and a new process every turn says exactly the same things
(benchmarks/prefix_reuse.py counts it the same way, on Gemma)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

pytest.importorskip("llama_cpp")

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("prefix_reuse", ROOT / "benchmarks/prefix_reuse.py")
assert spec and spec.loader
bench = importlib.util.module_from_spec(spec)
sys.modules["prefix_reuse"] = bench  # its dataclasses look their module up
spec.loader.exec_module(bench)


def _ratio(gguf: Path, place: str) -> tuple[float, dict]:
    models = [bench.side(gguf, [], 0.0, 2, 0) for _ in range(2)]
    agent = {"examples_place": place, "best_of": 1, "retries": 1}
    out = bench.run_round(models, seed=3, turns=6, r=0, agent=agent)
    return out["prefill"][0] / out["prefill"][1], out


@pytest.mark.slow  # four six-turn scenes with the plays' exchange indexes: minutes on 2 cores
def test_the_scene_layout_lets_llama_cpp_keep_the_page():
    from dramatis.agents.catalog import resolve_model

    gguf = resolve_model("smollm2", cache_dir=None)
    scene, out = _ratio(gguf, "scene")
    assert out["mismatch"] is None and out["same_turns"]  # the same tokens on both sides
    turn, out_turn = _ratio(gguf, "turn")
    assert out_turn["mismatch"] is None and out_turn["same_turns"]
    # Each turn evaluates its new speech, its heading and the block it lands in; the
    # exchanges picked every turn ("turn") cost their length again each time.
    assert scene < 0.35 and scene < turn - 0.1, (scene, turn)
