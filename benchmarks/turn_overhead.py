"""Scene-turn overhead: a full scene turn vs raw llama.cpp generation of the same tokens.

Each scene turn (LangGraph graph, SQLite checkpoint, prompt building, impersonation
guard, streaming) runs on the model (the settings' model, Gemma 3 270M by default;
--model for another) while every generation the agents ask for is recorded: prompt,
`Sampling`, what it streamed, whether the scene read it to its end, and how many tokens
llama.cpp sampled. Right after it, the same generations are replayed with llama-cpp-
python's plain `create_completion` on a second, separately loaded copy of the model,
with the very arguments the backend builds from that `Sampling` (temperature, top_p,
repeat and presence penalties, the banned words' logit bias, boosted words and
min_tokens through the same logits processor, stops, seed), streamed, and stopped where
the scene stopped reading. Both copies see the same prompts in the same order (same
prefix-cache behaviour); back-to-back pairs share whatever load the machine has.

    .venv/bin/python benchmarks/turn_overhead.py [--turns 8] [--rounds 4] [--threads 1]
        [--model gemma3-270m]

Rounds come in pairs with one seed, so the order alternates: the first runs each scene
turn and then its replay, the second replays the first round's generations and then
runs the scene turn, which must ask for the same generations. Every replay must produce
the scene's text with the same number of sampled tokens, or the comparison is void and
the script exits 1 naming the turns.

Prints the ratio scene-turn time / raw-generation time (target <= 1.05) overall, as
median and range over rounds and over turns, and tokens/s.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from dramatis.agents.catalog import resolve_model
from dramatis.agents.llama_backend import LlamaCppModel
from dramatis.agents.model import LanguageModel, Sampling
from dramatis.agents.scene_store import SceneSpec, SceneStore
from dramatis.core.settings import Settings
from dramatis.staging import build_scene


class TokenCount:
    """Counts, on one `llama_cpp.Llama`, the prompt tokens it evaluates and the tokens it
    generates. Per generation the first `eval` holds the prompt's part past the reused
    prefix (nothing on an exact hit); later ones hold one generated token each. A
    generated token is one that `generate` yielded (sampled), whether or not the caller
    went on to decode it."""

    def __init__(self, llm: Any) -> None:
        self.prompt = self.generated = 0
        inner_generate, inner_eval = llm.generate, llm.eval
        starting = [False]

        def generate(*args: Any, **kwargs: Any) -> Iterator[int]:
            starting[0] = True
            for token in inner_generate(*args, **kwargs):
                self.generated += 1
                yield token

        def evaluate(tokens: Any) -> Any:
            if starting[0]:
                self.prompt += len(tokens)
                starting[0] = False
            return inner_eval(tokens)

        llm.generate, llm.eval = generate, evaluate


class Recording(LanguageModel):
    """Passes calls through to `inner`, keeping each (prompt, sampling) it was given, what
    it streamed, whether the caller read it to its end, and how many tokens it sampled."""

    def __init__(self, inner: LlamaCppModel, counts: TokenCount) -> None:
        self.inner, self.name, self.counts = inner, inner.name, counts
        self.supports = inner.supports  # what the wrapped model honours
        self.calls: list[Call] = []

    def stream(self, prompt: str, sampling: Sampling) -> Iterator[str]:
        call = Call(prompt, sampling)
        self.calls.append(call)
        before = self.counts.generated
        for piece in self.inner.stream(prompt, sampling):
            call.text += piece
            call.tokens = self.counts.generated - before
            yield piece
        call.tokens, call.finished = self.counts.generated - before, True

    def count_tokens(self, text: str) -> int:
        return self.inner.count_tokens(text)

    def render_chat(self, messages):
        return self.inner.render_chat(messages)

    @property
    def context_length(self) -> int:
        return self.inner.context_length


@dataclass
class Call:
    """One generation the scene asked for, and what came of it."""

    prompt: str
    sampling: Sampling
    text: str = ""  # what it streamed to the scene
    tokens: int = 0  # tokens sampled
    finished: bool = False  # read to its end (False: the scene stopped it early)

    def same_request(self, other: Call) -> bool:
        return (self.prompt, self.sampling) == (other.prompt, other.sampling)


def replay(model: LlamaCppModel, counts: TokenCount, call: Call) -> tuple[float, Call]:
    """Seconds and outcome of `call` generated again with plain llama-cpp-python: the same
    prompt and the same llama.cpp arguments the backend builds from the scene's `Sampling`
    (presence and repeat penalties, the banned words' bias, boosted words and min_tokens
    through the same logits processor, stops, seed), streamed, and stopped where the scene
    stopped reading when it stopped early."""
    got = Call(call.prompt, call.sampling)
    before = counts.generated
    start = time.perf_counter()
    model._use_adapter(call.sampling.adapter)
    kwargs = model._kwargs(call.sampling, call.prompt)
    chunks = cast(
        Iterator[dict[str, Any]],
        model.llama.create_completion(call.prompt, stream=True, **kwargs),
    )
    got.finished = True
    for chunk in chunks:
        got.text += chunk["choices"][0]["text"]
        if not call.finished and len(got.text) >= len(call.text):
            got.finished = False
            break
    close = getattr(chunks, "close", None)
    if close is not None:
        close()
    seconds = time.perf_counter() - start
    got.tokens = counts.generated - before
    return seconds, got


def mismatch(scene: list[Call], raw: list[Call]) -> str | None:
    """Why a turn's replay is not the scene's generations (None: it is): another number
    of generations, another text, or another number of sampled tokens.

    mismatch([Call("p", Sampling(), "Nay", 2)], [Call("p", Sampling(), "Nay", 3)])
    -> "generation 0: 2 tokens in the scene, 3 in the replay"
    """
    if len(scene) != len(raw):
        return f"{len(scene)} generations in the scene, {len(raw)} in the replay"
    for i, (a, b) in enumerate(zip(scene, raw, strict=True)):
        if not a.same_request(b):
            return f"generation {i}: another prompt or sampling"
        if a.text != b.text:
            return (
                f"generation {i}: text {a.text[:40]!r} in the scene, {b.text[:40]!r} in the replay"
            )
        if a.tokens != b.tokens:
            return f"generation {i}: {a.tokens} tokens in the scene, {b.tokens} in the replay"
    return None


def spread(values: list[float]) -> str:
    """Median and range, for printing.

    spread([1.0, 1.2, 1.1]) -> "median 1.100 (1.000-1.200)"
    """
    return f"median {statistics.median(values):.3f} ({min(values):.3f}-{max(values):.3f})"


@dataclass
class Turn:
    scene_s: float
    raw_s: float
    tokens: int  # sampled tokens, the same on both sides unless `why` says otherwise
    why: str | None  # why the two sides differ, None when they generated the same


def run_round(
    scene_model: LlamaCppModel,
    raw_model: LlamaCppModel,
    counts: tuple[TokenCount, TokenCount],
    settings: Settings,
    turns: int,
    seed: int,
    plan: list[list[Call]] | None = None,
) -> tuple[list[Turn], list[list[Call]]]:
    """Scene turns each beside its raw replay, back to back so that load from anything
    else on the machine hits both sides alike. Without `plan` the scene turn runs first
    and its generations are replayed; with `plan` (a round with the same seed, turn by
    turn) the replay of the planned generations runs first and the scene must then ask
    for, and produce, the same ones."""
    recording = Recording(scene_model, counts[0])
    rows: list[Turn] = []
    asked_all: list[list[Call]] = []
    with tempfile.TemporaryDirectory() as tmp:
        store = SceneStore(Path(tmp) / "bench.sqlite")
        spec = SceneSpec(
            thread_id="bench", cast=["Hamlet", "Ophelia"], setting="A hall.", seed=seed
        )
        staged = build_scene(spec, store, settings, model=recording)
        for t in range(turns):
            raw = [replay(raw_model, counts[1], c) for c in plan[t]] if plan else []
            done = len(recording.calls)
            start = time.perf_counter()
            for _event in staged.scene.run("bench", 1):
                pass
            scene_s = time.perf_counter() - start
            asked = recording.calls[done:]
            if not plan:
                raw = [replay(raw_model, counts[1], c) for c in asked]
            why = mismatch(asked, [r[1] for r in raw])
            rows.append(Turn(scene_s, sum(r[0] for r in raw), sum(c.tokens for c in asked), why))
            asked_all.append(asked)
        store.close()
    return rows, asked_all


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--turns", type=int, default=8)
    ap.add_argument("--rounds", type=int, default=4, help="an even number: pairs of rounds")
    ap.add_argument("--threads", type=int, default=1)  # 1 holds up on a busy machine
    ap.add_argument("--model", default=None, help="model spec (default: the settings' model)")
    args = ap.parse_args()

    settings = Settings.load(n_threads=args.threads).ensure()
    path = resolve_model(args.model or settings.model, settings.cache_dir)
    scene_model = LlamaCppModel(path, n_threads=args.threads)
    raw_model = LlamaCppModel(path, n_threads=args.threads)
    counts = (TokenCount(scene_model.llama), TokenCount(raw_model.llama))
    rows: list[Turn] = []
    round_ratios: list[float] = []
    plan = None
    for r in range(args.rounds):
        # Rounds go in pairs with one seed: scene first, then raw first on the same prompts.
        plan = plan if r % 2 else None
        got, plan = run_round(
            scene_model, raw_model, counts, settings, args.turns, 100 + r // 2, plan
        )
        rows += got
        scene_s, raw_s = sum(g.scene_s for g in got), sum(g.raw_s for g in got)
        round_ratios.append(scene_s / raw_s)
        first = "raw" if r % 2 else "scene"
        print(
            f"round {r} ({first} first): scene {scene_s:.2f} s, raw {raw_s:.2f} s, "
            f"ratio {scene_s / raw_s:.3f}, {sum(g.tokens for g in got)} tokens"
        )
    void = [(i, row.why) for i, row in enumerate(rows) if row.why]
    same = len(rows) - len(void)
    print(f"replay generated the scene's tokens (text and count) on {same}/{len(rows)} turns")
    if void:
        for i, why in void:
            print(f"  round {i // args.turns} turn {i % args.turns}: {why}")
        raise SystemExit("the replay generated other tokens than the scene: comparison void")
    scene_total, raw_total = sum(r.scene_s for r in rows), sum(r.raw_s for r in rows)
    tokens = sum(r.tokens for r in rows)
    per_turn = [r.scene_s / r.raw_s for r in rows if r.raw_s > 0]
    print(f"model {path.name}, threads {args.threads}, {args.turns} turns x {args.rounds} rounds")
    print(
        f"turn time / raw generation time: overall {scene_total / raw_total:.3f}; "
        f"per round {spread(round_ratios)}; per turn {spread(per_turn)} (target <= 1.05)"
    )
    print(
        f"generated tokens per second of wall time, prompt evaluation included: "
        f"raw llama.cpp {tokens / raw_total:.1f}, scene {tokens / scene_total:.1f} "
        f"({tokens} tokens on each side)"
    )


if __name__ == "__main__":
    main()
