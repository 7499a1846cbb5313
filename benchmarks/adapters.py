"""Adapter switching on llama.cpp: speaker-switch time / turn time, resident memory
with 4 adapters / with 1, and a four-way scene with the per-adapter prefix cache / without,
side by side in one run.

    .venv/bin/python benchmarks/adapters.py [--turns 12] [--scene-turns 8] [--threads 1]

Adapters: the active ones in HOME/adapters when there are at least 4, else random
LoRAs shaped like the default config (r=8 on q,k,v,o,gate,up,down; f16 GGUF, ~4.9 MB).
Memory is measured in fresh child processes running the same eight turns of a four-way
round, where 0, 1 or 4 of the speakers have an adapter (VmRSS at the end), so the
figures compare alike: switching between an adapter and the base costs what switching
between adapters does.
The scene part stages Hamlet, Ophelia, Macbeth and Lady Macbeth round-robin, one adapter
each, twice: with saved prefixes (cache_mb=256) and without (cache_mb=0, every switch
starts from an empty context); each turn runs on both, back to back.
Targets: switch/turn <= 0.01, RSS(4)/RSS(1) <= 1.10.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from dramatis.agents.catalog import resolve_model
from dramatis.agents.llama_backend import LlamaCppModel
from dramatis.agents.model import Message, Sampling
from dramatis.core.settings import Settings
from dramatis.training.export import random_adapter


def adapter_files(home: Path, tmp: Path, dtype: str) -> list[Path]:
    from dramatis.training.registry import AdapterRegistry

    registry = AdapterRegistry(home / "adapters")
    found = [registry.active(c, p) for c, p in registry.characters()]
    files = [v.gguf for v in found if v is not None and v.gguf.is_file()]
    return (
        files[:4]
        if len(files) >= 4
        else [
            random_adapter(tmp / f"a{i}", i, std_b=0.01, dtype=dtype) / "adapter.gguf"
            for i in range(4)
        ]
    )


def prompt_for(model: LlamaCppModel, i: int) -> str:
    names = ["Hamlet", "Ophelia", "Macbeth", "Lady Macbeth"]
    return model.render_chat([
        Message("system", f"You are {names[i % 4]}. Speak in Shakespeare's English."),
        Message("user", f"Turn {i}. The scene goes on. What does {names[i % 4]} say next?"),
    ])  # fmt: skip


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def child_rss(gguf: Path, files: list[str], threads: int) -> float:
    """In this (child) process: a four-speaker round (twice) on one model, speaker i with
    adapter i when there is one and with the bare base otherwise, as in a four-way scene
    where len(files) characters have adapters. VmRSS in MB at the end."""
    model = LlamaCppModel(gguf, n_threads=threads)
    for i, f in enumerate(files):
        model.load_adapter(f"a{i}", f)
    for turn in range(8):
        speaker = turn % 4
        adapter = f"a{speaker}" if speaker < len(files) else None
        model.generate(prompt_for(model, turn), Sampling(max_tokens=8, seed=0, adapter=adapter))
    return rss_mb()


def measure_rss(gguf: Path, files: list[Path], threads: int) -> float:
    code = (
        "import json,sys; sys.path.insert(0, sys.argv[1]); from adapters import child_rss; "
        "print(child_rss(__import__('pathlib').Path(sys.argv[2]), json.loads(sys.argv[3]), int(sys.argv[4])))"
    )
    args = [
        str(Path(__file__).parent),
        str(gguf),
        json.dumps([str(f) for f in files]),
        str(threads),
    ]
    out = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, check=True
    )
    return float(out.stdout.strip().splitlines()[-1])


def measure_switch(gguf: Path, files: list[Path], turns: int, threads: int) -> tuple[float, float]:
    """(median switch seconds, median turn seconds) over a round-robin of 4 speakers."""
    model = LlamaCppModel(gguf, n_threads=threads)
    for i, f in enumerate(files):
        model.load_adapter(f"a{i}", f)
    switches, turn_times = [], []
    for i in range(turns):
        name = f"a{i % len(files)}"
        start = time.perf_counter()
        with model._lock:  # the switch alone: set the adapter, drop the old prefix
            model._use_adapter(name)
        switches.append(time.perf_counter() - start)
        start = time.perf_counter()
        model.generate(prompt_for(model, i), Sampling(max_tokens=40, seed=i, adapter=name))
        turn_times.append(time.perf_counter() - start)
    return statistics.median(switches), statistics.median(turn_times)


def evaluated_tokens(model: LlamaCppModel) -> int:
    """Tokens llama.cpp has decoded on this model's context so far (prompt + generated)."""
    import llama_cpp

    perf = llama_cpp.llama_perf_context(model.llama.ctx)
    return int(perf.n_p_eval) + int(perf.n_eval)


def measure_scene(
    gguf: Path, files: list[Path], turns: int, threads: int
) -> tuple[list[float], list[float], dict, list[int]]:
    """Per-turn seconds of a 4-way adapter scene with and without saved prefixes."""
    from dramatis.agents.scene_store import SceneSpec, SceneStore
    from dramatis.staging import build_scene

    cast = ["Hamlet", "Ophelia", "Macbeth", "Lady Macbeth"]
    scenes, models = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for cache_mb in (256, 0):
            model = LlamaCppModel(gguf, n_threads=threads, cache_mb=cache_mb)
            for i, f in enumerate(files):
                model.load_adapter(f"a{i}", f)
            store = SceneStore(Path(tmp) / f"c{cache_mb}.sqlite")
            spec = SceneSpec(
                thread_id="bench", cast=cast, setting="A hall.", seed=3, policy="round-robin"
            )
            staged = build_scene(spec, store, Settings.load(), model=model)
            for i, agent in enumerate(staged.scene.agents.values()):
                agent.adapter = f"a{i % len(files)}"
            scenes.append(staged.scene)
            models.append(model)
        times: list[list[float]] = [[], []]
        for _ in range(turns):
            for side, scene in enumerate(scenes):
                start = time.perf_counter()
                for _event in scene.run("bench", 1):
                    pass
                times[side].append(time.perf_counter() - start)
    evaluated = [evaluated_tokens(m) for m in models]
    return times[0], times[1], models[0].cache_stats, evaluated


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--turns", type=int, default=12)
    ap.add_argument("--scene-turns", type=int, default=8)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--home", type=Path, default=None)
    ap.add_argument("--dtype", default="f16", help="random adapters' GGUF type: f16 | q8_0 | f32")
    args = ap.parse_args()
    settings = Settings.load(home=args.home)
    gguf = resolve_model(settings.model, settings.cache_dir)
    with tempfile.TemporaryDirectory() as tmp:
        files = adapter_files(settings.home, Path(tmp), args.dtype)
        switch, turn = measure_switch(gguf, files, args.turns, args.threads)
        rss = {n: measure_rss(gguf, files[:n], args.threads) for n in (0, 1, 4)}
        cached, plain, stats, evaluated = measure_scene(gguf, files, args.scene_turns, args.threads)
    print(f"adapters: {', '.join(f.parent.parent.name + '/' + f.parent.name for f in files)}")
    print(
        f"switch {switch * 1e3:.3f} ms · turn {turn * 1e3:.0f} ms (40 tokens) · "
        f"switch/turn {switch / turn:.5f} (target <= 0.01)"
    )
    print(
        f"RSS: base {rss[0]:.0f} MB · 1 adapter {rss[1]:.0f} MB · 4 adapters {rss[4]:.0f} MB · "
        f"4/1 {rss[4] / rss[1]:.3f} (target <= 1.10)"
    )
    print(
        f"4-way adapter scene, {len(cached)} turns: with saved prefixes {sum(cached):.1f} s, "
        f"{evaluated[0]} tokens evaluated · without {sum(plain):.1f} s, {evaluated[1]} tokens · "
        f"time ratio {sum(cached) / sum(plain):.3f}, median per turn "
        f"{statistics.median(c / p for c, p in zip(cached, plain, strict=True)):.3f} · "
        f"saved prefixes held {stats['bytes'] / 2**20:.1f} MB"
    )


if __name__ == "__main__":
    main()
