"""Adapter switching on llama.cpp: speaker-switch time / turn time, peak memory with 4
adapters / with 1, and a four-way scene with the per-adapter prefix cache / without,
side by side in one run.

    .venv/bin/python benchmarks/adapters.py [--model gemma3-270m] [--turns 12]
        [--scene-turns 8] [--rounds 3] [--threads 1] [--temperature 0.8]

The model is the settings' (Gemma 3 270M by default); --model takes any model spec
("smollm2", a .gguf path). Adapters: the active ones in HOME/adapters made for the same
architecture when there are at least 4, else random LoRAs shaped like the model actually
benchmarked, read from its GGUF header (layers, widths, heads: r=8 on q,k,v,o,gate,up,
down; f16 GGUF).
Memory is measured in fresh child processes running the same eight turns of a four-way
round, where 0, 1 or 4 of the speakers have an adapter: the peak resident set (VmHWM),
the target's figure, beside the final one (VmRSS), so the figures compare alike:
switching between an adapter and the base costs what switching between adapters does.
MB per adapter is (peak(4) - peak(1)) / 3, printed beside the adapter file size.
The scene part stages Hamlet, Ophelia, Macbeth and Lady Macbeth round-robin, one adapter
each, twice: with saved prefixes (cache_mb=256) and without (cache_mb=0, every switch
starts from an empty context). Each turn runs on both, back to back, the side that goes
first alternating by turn and by round; --rounds repeats the scene with another seed on
the same models, and the time ratio is reported as the median and range over rounds.
"Prompt tokens evaluated" counts the prompt tokens llama.cpp decoded past the prefix it
reused, generated tokens apart (counted separately; they must be equal on both sides).
The two sides must produce the same turns (speaker and text) and sample the same number
of tokens, or the comparison is void and the script exits 1: llama.cpp's logits differ in
the last bits between a restored prefix plus a short tail and one full evaluation, which
can flip a sampled token (even a greedy one at a near tie). Every turn is a speaker
switch: its time to the first streamed text is the switch with the prompt re-evaluation
it causes.
Targets: switch/turn <= 0.01, peak RSS(4)/RSS(1) <= 1.10.
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
from typing import Any

from turn_overhead import TokenCount  # this folder is on the path when run as a script

from dramatis.agents.catalog import resolve_model
from dramatis.agents.llama_backend import LlamaCppModel
from dramatis.agents.model import Message, Sampling
from dramatis.agents.scene import Partial
from dramatis.core.settings import Settings
from dramatis.training.fake_adapters import gguf_metadata, random_adapter, shape_of


def adapter_files(home: Path, tmp: Path, dtype: str, model: Path) -> list[Path]:
    """Four GGUF LoRAs for `model`: the home's active adapters made for its architecture
    when there are four, else random ones of its shape."""
    from dramatis.training.registry import AdapterRegistry

    registry = AdapterRegistry(home / "adapters")
    arch = gguf_metadata(model).get("general.architecture")
    found = [registry.active(c, p) for c, p in registry.characters()]
    files = [v.gguf for v in found if v is not None and v.gguf.is_file()]
    files = [f for f in files if gguf_metadata(f).get("general.architecture") == arch]
    if len(files) >= 4:
        return files[:4]
    shape = shape_of(model)
    return [
        random_adapter(tmp / f"a{i}", i, std_b=0.01, dtype=dtype, shape=shape) / "adapter.gguf"
        for i in range(4)
    ]


def prompt_for(model: LlamaCppModel, i: int) -> str:
    """Turn i's prompt: the model's chat template when its GGUF has one, else plain text
    (the bundled Gemma 3 270M GGUF carries no template)."""
    name = ["Hamlet", "Ophelia", "Macbeth", "Lady Macbeth"][i % 4]
    system = f"You are {name}. Speak in Shakespeare's English."
    user = f"Turn {i}. The scene goes on. What does {name} say next?"
    chat = model.render_chat([Message("system", system), Message("user", user)])
    return chat if chat is not None else f"{system}\n\n{user}\n{name.upper()}:"


def status_mb(field: str) -> float:
    """A memory field of /proc/self/status in MB ("VmRSS", "VmHWM"), NaN if absent."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def child_rss(gguf: Path, files: list[str], threads: int) -> tuple[float, float]:
    """In this (child) process: a four-speaker round (twice) on one model, speaker i with
    adapter i when there is one and with the bare base otherwise, as in a four-way scene
    where len(files) characters have adapters. (VmRSS at the end, VmHWM peak) in MB."""
    model = LlamaCppModel(gguf, n_threads=threads)
    for i, f in enumerate(files):
        model.load_adapter(f"a{i}", f)
    for turn in range(8):
        speaker = turn % 4
        adapter = f"a{speaker}" if speaker < len(files) else None
        model.generate(prompt_for(model, turn), Sampling(max_tokens=8, seed=0, adapter=adapter))
    return status_mb("VmRSS"), status_mb("VmHWM")


def measure_rss(gguf: Path, files: list[Path], threads: int) -> tuple[float, float]:
    code = (
        "import json,sys; sys.path.insert(0, sys.argv[1]); from adapters import child_rss; "
        "print(json.dumps(child_rss(__import__('pathlib').Path(sys.argv[2]), json.loads(sys.argv[3]), int(sys.argv[4]))))"
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
    final, peak = json.loads(out.stdout.strip().splitlines()[-1])
    return float(final), float(peak)


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


def adapter_models(gguf: Path, files: list[Path], threads: int) -> list[LlamaCppModel]:
    """Two copies of the model with the adapters: with saved prefixes, then without."""
    models = []
    for cache_mb in (256, 0):
        model = LlamaCppModel(gguf, n_threads=threads, cache_mb=cache_mb)
        for i, f in enumerate(files):
            model.load_adapter(f"a{i}", f)
        models.append(model)
    return models


def staged_scene(model: LlamaCppModel, store: Any, seed: int, temperature: float) -> Any:
    """A 4-way round-robin scene on `model`, one adapter per character."""
    from dramatis.agents.scene_store import SceneSpec
    from dramatis.staging import build_scene

    spec = SceneSpec(
        thread_id="bench",
        cast=["Hamlet", "Ophelia", "Macbeth", "Lady Macbeth"],
        setting="A hall.",
        seed=seed,
        policy="round-robin",
        agent={"temperature": temperature},
    )
    staged = build_scene(spec, store, Settings.load(), model=model)
    for i, agent in enumerate(staged.scene.agents.values()):
        agent.adapter = f"a{i % len(model.adapters)}"
    return staged.scene


def timed_turn(scene: Any, thread: str) -> tuple[float, float]:
    """(seconds to the first streamed text, seconds for the whole turn) of one scene turn."""
    start = time.perf_counter()
    first = None
    for event in scene.run(thread, 1):
        if first is None and isinstance(event, Partial) and event.text:
            first = time.perf_counter() - start
    total = time.perf_counter() - start
    return (first if first is not None else total), total


def first_difference(a: list[tuple[str, str]], b: list[tuple[str, str]]) -> int | None:
    """Index of the first turn where two scenes differ, None when they agree.

    first_difference([("A", "x"), ("B", "y")], [("A", "x"), ("B", "z")]) -> 1
    """
    for i, (x, y) in enumerate(zip(a, b, strict=False)):
        if x != y:
            return i
    return None if len(a) == len(b) else min(len(a), len(b))


def measure_scene(
    gguf: Path, files: list[Path], turns: int, rounds: int, threads: int, temperature: float
) -> dict:
    """Per-turn (first-text, total) seconds of both sides over `rounds` scenes (seed 3 + r,
    on the same two models, so saved prefixes carry over), the side that runs first
    alternating; where, if anywhere, the two sides spoke different turns; and the prompt
    and generated tokens each side evaluated."""
    from dramatis.agents.scene_store import SceneStore

    times: list[list[tuple[float, float]]] = [[], []]
    differ: list[tuple[int, int]] = []  # (round, turn) where the sides first differ
    switches = 0
    models = adapter_models(gguf, files, threads)
    counts = [TokenCount(m.llama) for m in models]
    with tempfile.TemporaryDirectory() as tmp:
        stores = [SceneStore(Path(tmp) / f"side{i}.sqlite") for i in (0, 1)]
        for r in range(rounds):
            thread = f"bench{r}"
            pairs = zip(models, stores, strict=True)
            scenes = [staged_scene(m, st, 3 + r, temperature) for m, st in pairs]
            for t in range(turns):
                order = (0, 1) if (t + r) % 2 == 0 else (1, 0)
                for side in order:
                    times[side].append(timed_turn(scenes[side], thread))
            said = [[(x["speaker"], x["text"]) for x in s.turns(thread)] for s in scenes]
            if (at := first_difference(said[0], said[1])) is not None:
                differ.append((r, at))
            switches += sum(a[0] != b[0] for a, b in zip(said[0], said[0][1:], strict=False))
        for st in stores:
            st.close()
        return {
            "cached": times[0],
            "plain": times[1],
            "differ": differ,
            "switches": switches,
            "stats": models[0].cache_stats,
            "prompt": [c.prompt for c in counts],
            "generated": [c.generated for c in counts],
        }


def spread(values: list[float]) -> str:
    """Median and range of a list, for printing.

    spread([1.0, 3.0, 2.0]) -> "median 2.000 (1.000-3.000)"
    """
    return f"median {statistics.median(values):.3f} ({min(values):.3f}-{max(values):.3f})"


def report_scene(scene: dict, turns: int) -> None:
    """Print the with/without-prefix comparison, or why it is void."""
    cached, plain = scene["cached"], scene["plain"]
    if scene["differ"]:
        where = ", ".join(f"round {r} turn {t}" for r, t in scene["differ"])
        print(f"4-way adapter scene: the two sides spoke different turns ({where}); void")
        raise SystemExit(1)
    if scene["generated"][0] != scene["generated"][1]:
        print(
            f"4-way adapter scene: same text but {scene['generated'][0]} tokens sampled with "
            f"saved prefixes, {scene['generated'][1]} without; void"
        )
        raise SystemExit(1)
    rounds = [
        sum(c[1] for c in cached[i : i + turns]) / sum(p[1] for p in plain[i : i + turns])
        for i in range(0, len(cached), turns)
    ]
    print(
        f"4-way adapter scene, {len(rounds)} rounds x {turns} turns, same turns on both sides: "
        f"with saved prefixes {sum(c[1] for c in cached):.1f} s, {scene['prompt'][0]} prompt "
        f"tokens evaluated · without {sum(p[1] for p in plain):.1f} s, {scene['prompt'][1]} "
        f"prompt tokens ({scene['generated'][0]} tokens generated on each side)"
    )
    print(f"  time ratio with/without per round: {spread(rounds)}")
    print(
        f"  speaker switch in the scene ({scene['switches']} switches), time to first text "
        f"in ms: with saved prefixes {spread([c[0] * 1e3 for c in cached])} · "
        f"without {spread([p[0] * 1e3 for p in plain])}"
    )
    print(f"  saved prefixes held {scene['stats'].get('bytes', 0) / 2**20:.1f} MB")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--turns", type=int, default=12)
    ap.add_argument("--scene-turns", type=int, default=8)
    ap.add_argument("--rounds", type=int, default=3, help="scenes, seeds 3, 4, ...")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--temperature", type=float, default=0.8, help="scene sampling temperature")
    ap.add_argument("--home", type=Path, default=None)
    ap.add_argument("--model", default=None, help="model spec (default: the settings' model)")
    ap.add_argument("--dtype", default="f16", help="random adapters' GGUF type: f16 | q8_0 | f32")
    args = ap.parse_args()
    settings = Settings.load(home=args.home)
    gguf = resolve_model(args.model or settings.model, settings.cache_dir)
    with tempfile.TemporaryDirectory() as tmp:
        files = adapter_files(settings.home, Path(tmp), args.dtype, gguf)
        file_mb = statistics.mean(f.stat().st_size for f in files) / 2**20
        switch, turn = measure_switch(gguf, files, args.turns, args.threads)
        rss = {n: measure_rss(gguf, files[:n], args.threads) for n in (0, 1, 4)}
        scene = measure_scene(
            gguf, files, args.scene_turns, args.rounds, args.threads, args.temperature
        )
    print(f"model {gguf.name}, scene temperature {args.temperature}, threads {args.threads}")
    print(f"adapters: {', '.join(f.parent.parent.name + '/' + f.parent.name for f in files)}")
    print(
        f"bare switch {switch * 1e3:.3f} ms · turn {turn * 1e3:.0f} ms (40 tokens) · "
        f"switch/turn {switch / turn:.5f} (target <= 0.01)"
    )
    per_adapter = (rss[4][1] - rss[1][1]) / 3
    print(
        f"RSS peak VmHWM (final VmRSS), MB: base {rss[0][1]:.0f} ({rss[0][0]:.0f}) · 1 adapter "
        f"{rss[1][1]:.0f} ({rss[1][0]:.0f}) · 4 adapters {rss[4][1]:.0f} ({rss[4][0]:.0f}) · "
        f"peak 4/1 {rss[4][1] / rss[1][1]:.3f} (target <= 1.10), final 4/1 "
        f"{rss[4][0] / rss[1][0]:.3f} · {per_adapter:.1f} MB per adapter at the peak "
        f"(file {file_mb:.1f} MB)"
    )
    report_scene(scene, args.scene_turns)


if __name__ == "__main__":
    main()
