"""Scene-turn overhead: a full scene turn vs raw llama.cpp generation of the same tokens.

Phase A runs real scene turns (LangGraph graph, SQLite checkpoint, prompt building,
impersonation guard, streaming) on the bundled model and records every prompt and
sampling setting the agents used. Phase B replays exactly those generations with
llama-cpp-python's plain `create_completion` on a second, separately loaded copy
of the model, so both see the same prompts in the same order (same prefix-cache
behaviour) and sample the same tokens. The phases alternate for `--rounds` rounds.

    .venv/bin/python benchmarks/turn_overhead.py [--turns 8] [--rounds 3] [--threads 2]

Prints the ratio scene-turn time / raw-generation time (target <= 1.05) and tokens/s.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from dramatis.agents.catalog import resolve_model
from dramatis.agents.llama_backend import LlamaCppModel
from dramatis.agents.model import LanguageModel, Sampling
from dramatis.agents.scene import Partial
from dramatis.agents.scene_store import SceneSpec, SceneStore
from dramatis.config import Settings
from dramatis.staging import build_scene


class Recording(LanguageModel):
    """Passes calls through to `inner`, keeping each (prompt, sampling) it was given."""

    def __init__(self, inner: LanguageModel) -> None:
        self.inner, self.name, self.calls = inner, inner.name, []

    def stream(self, prompt: str, sampling: Sampling) -> Iterator[str]:
        self.calls.append((prompt, sampling))
        return self.inner.stream(prompt, sampling)

    def count_tokens(self, text: str) -> int:
        return self.inner.count_tokens(text)

    def render_chat(self, messages):
        return self.inner.render_chat(messages)


def scene_phase(model: LlamaCppModel, settings: Settings, turns: int, seed: int):
    """Seconds per scene turn and the generations the agents asked for."""
    recording = Recording(model)
    with tempfile.TemporaryDirectory() as tmp:
        store = SceneStore(Path(tmp) / "bench.sqlite")
        spec = SceneSpec(
            thread_id="bench", cast=["Hamlet", "Ophelia"], setting="A hall.", seed=seed
        )
        staged = build_scene(spec, store, settings, model=recording)
        seconds = []
        for _ in range(turns):
            start = time.perf_counter()
            for event in staged.scene.run("bench", 1):
                if not isinstance(event, Partial):
                    break
            seconds.append(time.perf_counter() - start)
        texts = [t["text"] for t in staged.scene.turns("bench")]
        store.close()
    return seconds, recording.calls, texts


def raw_phase(model: LlamaCppModel, calls) -> tuple[list[float], int]:
    """Seconds per replayed generation and generated tokens, plain llama-cpp-python."""
    llm, seconds, tokens = model.llama, [], 0
    for prompt, s in calls:
        start = time.perf_counter()
        out = llm.create_completion(
            prompt,
            max_tokens=s.max_tokens,
            temperature=s.temperature,
            top_p=s.top_p,
            stop=list(s.stop) or None,
            seed=s.seed,
        )
        seconds.append(time.perf_counter() - start)
        tokens += out["usage"]["completion_tokens"]
    return seconds, tokens


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--turns", type=int, default=8)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--model", default="smollm2")
    args = ap.parse_args()

    settings = Settings.load(n_threads=args.threads).ensure()
    path = resolve_model(args.model, settings.cache_dir)
    scene_model = LlamaCppModel(path, n_threads=args.threads)
    raw_model = LlamaCppModel(path, n_threads=args.threads)
    ratios, scene_total, raw_total, raw_tokens = [], 0.0, 0.0, 0
    for r in range(args.rounds):
        scene_s, calls, _ = scene_phase(scene_model, settings, args.turns, seed=100 + r)
        raw_s, tokens = raw_phase(raw_model, calls)
        ratios.append(sum(scene_s) / sum(raw_s))
        scene_total, raw_total, raw_tokens = (
            scene_total + sum(scene_s),
            raw_total + sum(raw_s),
            raw_tokens + tokens,
        )
        print(
            f"round {r}: {len(calls)} generations for {args.turns} turns, scene {sum(scene_s):.2f}s,"
            f" raw {sum(raw_s):.2f}s, ratio {ratios[-1]:.3f}"
        )
    print(f"model {path.name}, threads {args.threads}, {args.turns} turns x {args.rounds} rounds")
    print(
        f"turn time / raw generation time: median {statistics.median(ratios):.3f}"
        f" (overall {scene_total / raw_total:.3f}; target <= 1.05)"
    )
    print(
        f"raw llama.cpp: {raw_tokens / raw_total:.1f} tokens/s; "
        f"scene: {raw_tokens / scene_total:.1f} tokens/s"
    )


if __name__ == "__main__":
    main()
