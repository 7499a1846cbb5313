"""Prefix reuse: prompt tokens llama.cpp evaluates in a four-way scene, with saved
prefixes ÷ without.

    .venv/bin/python benchmarks/prefix_reuse.py [--scene default|adapters] [--turns 16]
        [--rounds 2] [--threads 1] [--ubatch 0] [--set KEY=VALUE ...]

A 4-way round-robin scene (Hamlet, Ophelia, Macbeth, Lady Macbeth; default agent
settings, page format) runs on two copies of the default model, turn by turn, the side
that goes first alternating by turn and by round. `--scene default` is the scene as
`dramatis stage` runs it: the stage voice under every character, one shared context.
`--scene adapters` adds a LoRA of each character's own on top (random
Gemma-3-270M-shaped adapters, r=8, small B: they change the output a little, which is
all this needs), so the side with saved prefixes keeps one per adapter (`cache_mb=256`,
agents/prefix_cache.py). The side without is a new process every turn: before each
turn's draw it forgets what its context holds and evaluates the whole prompt (the
draw's retries and run-on keep what the draw evaluated, on both sides).

Prefill is counted at llama-cpp-python's `Llama.eval`: the first batch a completion
evaluates is its prompt's tail after the prefix llama.cpp kept; every token generated is
recorded too. Both sides must make the same completions (same prompt tokens, same
generated tokens, in the same order), or the run is void and the script exits 1. They
do when the backend keeps only what a new process would compute the same way
(agents/llama_backend.py: whole 64-token blocks of a prompt at fixed positions, and,
within a turn, its draw's evaluation for the retries and the run-on); `--ubatch 1`
evaluates one token per micro-batch instead (every token kept; slower). Rounds use
seeds 3, 4, ...; the ratio is reported per round, with its median and range.

Target (issue 22): prefill with ÷ without <= 0.25.
Measured: docs/architecture.md, "Prompt layout and saved prefixes".
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dramatis.agents.catalog import DEFAULT_MODEL, resolve_model
from dramatis.agents.llama_backend import LlamaCppModel
from dramatis.agents.settings_check import parse_pairs
from dramatis.core.errors import DramatisError
from dramatis.core.settings import Settings

CAST = ["Hamlet", "Ophelia", "Macbeth", "Lady Macbeth"]


@dataclass
class Call:
    """One completion as llama.cpp ran it."""

    prompt: tuple[int, ...]  # the whole prompt's token ids
    prefill: int = 0  # prompt tokens evaluated (the rest came from a kept prefix)
    made: list[int] = field(default_factory=list)  # generated token ids


class PrefillCounter:
    """Wraps a `llama_cpp.Llama` instance's `generate` and `eval` to record each `Call`;
    with `whole`, each turn's draw first forgets what the context holds, so that its whole
    prompt is evaluated (the side without saved prefixes: a new process every turn). Its
    retries and run-on keep what they keep in a new process (the draw's whole blocks; for
    the run-on, the draw's evaluation)."""

    def __init__(self, llm: Any, whole: bool = False) -> None:
        self.calls: list[Call] = []
        self._fresh = False
        self._draw: tuple[int, ...] = ()  # the last draw's prompt (a retry repeats it)
        generate, evaluate = llm.generate, llm.eval

        def counted_generate(tokens: Any, *args: Any, **kwargs: Any) -> Iterator[int]:
            prompt = tuple(int(t) for t in tokens)
            if not llm.continues:  # a draw (not a run-on)
                if whole and prompt != self._draw:  # a turn's first: evaluated whole
                    llm.whole = llm.anchor = 0  # agents/llama_backend.py: nothing is kept
                self._draw = prompt
            self.calls.append(Call(prompt))
            self._fresh = True
            for token in generate(tokens, *args, **kwargs):
                self.calls[-1].made.append(int(token))
                yield token

        def counted_eval(tokens: Any) -> None:
            if self._fresh:  # the completion's first batch: its prompt (tail)
                self.calls[-1].prefill = len(tokens)
                self._fresh = False
            evaluate(tokens)

        llm.generate, llm.eval = counted_generate, counted_eval

    @property
    def prefill(self) -> int:
        return sum(c.prefill for c in self.calls)


def first_mismatch(a: list[Call], b: list[Call]) -> int | None:
    """Index of the first completion where two sides differ in prompt or tokens made.

    first_mismatch([Call((1,), made=[2])], [Call((1,), made=[3])]) -> 0
    """
    for i, (x, y) in enumerate(zip(a, b, strict=False)):
        if x.prompt != y.prompt or x.made != y.made:
            return i
    return None if len(a) == len(b) else min(len(a), len(b))


def spread(values: list[float]) -> str:
    """Median and range, for printing.

    spread([0.2, 0.4, 0.3]) -> "median 0.300 (0.200-0.400)"
    """
    return f"median {statistics.median(values):.3f} ({min(values):.3f}-{max(values):.3f})"


def adapter_files(folder: Path) -> list[Path]:
    """Four random adapters shaped for Gemma 3 270M (the default model)."""
    from dramatis.training.fake_adapters import GEMMA3_270M, random_adapter

    return [
        random_adapter(folder / f"a{i}", i, std_b=0.01, shape=GEMMA3_270M) / "adapter.gguf"
        for i in range(len(CAST))
    ]


def side(
    gguf: Path, files: list[Path], cache_mb: float, threads: int, ubatch: int
) -> LlamaCppModel:
    """A copy of the model with the adapters loaded as a0..a3 (none without `files`),
    evaluating `ubatch` tokens per micro-batch (0: the backend's blocks)."""
    model = LlamaCppModel(gguf, n_threads=threads, cache_mb=cache_mb, n_ubatch=ubatch)
    for i, f in enumerate(files):
        model.load_adapter(f"a{i}", f)
    return model


def staged(model: LlamaCppModel, store: Any, seed: int, agent: dict[str, Any]) -> Any:
    """The 4-way round-robin scene on `model` with the agent settings `agent` changed,
    character i speaking with adapter a<i> where the model has it."""
    from dramatis.agents.character import AgentSettings
    from dramatis.agents.scene_store import SceneSpec
    from dramatis.staging import build_scene

    spec = SceneSpec(
        thread_id="bench",
        cast=CAST,
        setting="A hall in a castle, late at night.",
        seed=seed,
        policy="round-robin",
        model=DEFAULT_MODEL,
        agent=AgentSettings(**agent),
    )
    scene = build_scene(spec, store, Settings.load(), model=model).scene
    for i, name in enumerate(CAST):
        if f"a{i}" in model.adapters:
            scene.agents[name].adapter = f"a{i}"
    return scene


def run_round(
    models: list[LlamaCppModel], seed: int, turns: int, r: int, agent: dict[str, Any]
) -> dict:
    """Both sides through one scene, turn by turn, alternating which goes first."""
    from dramatis.agents.scene_store import SceneStore

    counters = [PrefillCounter(m.llama, whole=i == 1) for i, m in enumerate(models)]
    seconds = [0.0, 0.0]
    with tempfile.TemporaryDirectory() as tmp:
        stores = [SceneStore(Path(tmp) / f"side{i}.sqlite") for i in (0, 1)]
        scenes = [staged(m, st, seed, agent) for m, st in zip(models, stores, strict=True)]
        for t in range(turns):
            for s in (0, 1) if (t + r) % 2 == 0 else (1, 0):
                start = time.perf_counter()
                for _event in scenes[s].run(f"bench{seed}", 1):
                    pass
                seconds[s] += time.perf_counter() - start
        said = [[(x["speaker"], x["text"]) for x in sc.turns(f"bench{seed}")] for sc in scenes]
        for st in stores:
            st.close()
    calls = [c.calls for c in counters]
    return {
        "prefill": [c.prefill for c in counters],
        "prompts": sum(len(c.prompt) for c in calls[1]),
        "made": sum(len(c.made) for c in calls[1]),
        "calls": len(calls[1]),
        "mismatch": first_mismatch(calls[0], calls[1]),
        "calls_both": calls,
        "seconds": seconds,
        "said": said[0],
        "same_turns": said[0] == said[1],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--turns", type=int, default=16)
    ap.add_argument("--rounds", type=int, default=2, help="scenes, seeds 3, 4, ...")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--show", action="store_true", help="print each round's transcript")
    ap.add_argument(
        "--scene",
        choices=("default", "adapters"),
        default="default",
        help="default: the stage voice under every character, as `dramatis stage` runs; "
        "adapters: and a LoRA of each character's own on top (a saved prefix per adapter)",
    )
    ap.add_argument(
        "--ubatch",
        type=int,
        default=0,
        help="tokens per micro-batch (0: the backend's 64-token blocks; 1: every token kept)",
    )
    ap.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="an agent setting changed on both sides (docs/settings.md), e.g. n_examples=1",
    )
    args = ap.parse_args()
    agent = parse_pairs(args.set)
    settings = Settings.load(n_threads=args.threads)
    gguf = resolve_model(DEFAULT_MODEL, settings.cache_dir)
    with tempfile.TemporaryDirectory() as tmp:
        files = adapter_files(Path(tmp)) if args.scene == "adapters" else []
        models = [side(gguf, files, mb, args.threads, args.ubatch) for mb in (256.0, 0.0)]
        rounds = [run_round(models, 3 + r, args.turns, r, agent) for r in range(args.rounds)]
    void = False
    for r, got in enumerate(rounds):
        with_, without = got["prefill"]
        print(
            f"round {r} (seed {3 + r}): {got['calls']} completions, {got['made']} tokens made; "
            f"prefill with saved prefixes {with_} / without {without} = {with_ / without:.3f} "
            f"(whole prompts {got['prompts']}); seconds {got['seconds'][0]:.1f} / "
            f"{got['seconds'][1]:.1f}"
        )
        if args.show:
            print("\n".join(f"  {name.upper()}: {text}" for name, text in got["said"]))
        if got["mismatch"] is not None or not got["same_turns"]:
            i = got["mismatch"]
            a, b = (c[i] if i < len(c) else None for c in got["calls_both"])
            what = "prompt" if a and b and a.prompt != b.prompt else "tokens made"
            print(f"  the sides differ at completion {i} ({what}): round void")
            if a and b:
                print(f"  with: {a.made}\n  without: {b.made}")
            void = True
    if void:
        raise SystemExit("the two sides made different tokens: comparison void")
    ratios = [g["prefill"][0] / g["prefill"][1] for g in rounds]
    print(
        f"{DEFAULT_MODEL}, {len(CAST)}-way {args.scene} scene, micro-batch "
        f"{args.ubatch or 'blocks'}, {args.turns} turns x {args.rounds} "
        f"rounds, threads {args.threads}, same tokens on both sides: prefill with saved "
        f"prefixes / without {spread(ratios)} (target <= 0.25)"
    )


if __name__ == "__main__":
    try:
        main()
    except DramatisError as err:  # a bad --set: one line, no traceback
        raise SystemExit(f"prefix_reuse: {err}") from None
