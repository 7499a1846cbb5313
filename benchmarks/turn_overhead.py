"""Scene-turn overhead: a full scene turn vs raw llama.cpp generation of the same tokens.

Each scene turn (LangGraph graph, SQLite checkpoint, prompt building, impersonation
guard, streaming) runs on the bundled model while every prompt and sampling setting
the agents use is recorded; right after it, the same generations are replayed with
llama-cpp-python's plain `create_completion` on a second, separately loaded copy of
the model. Both copies see the same prompts in the same order (same prefix-cache
behaviour) and sample the same tokens; back-to-back pairs share whatever load the
machine has.

    .venv/bin/python benchmarks/turn_overhead.py [--turns 8] [--rounds 4] [--threads 1]

Rounds come in pairs with one seed: the first runs each scene turn and then its replay,
the second replays the first round's generations and then runs the scene turn, which must
ask for the same generations. Every replay must produce the text the scene streamed (the
scene may stop a generation early), or the comparison is void and the script exits 1.

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
from dramatis.agents.scene_store import SceneSpec, SceneStore
from dramatis.core.settings import Settings
from dramatis.staging import build_scene


class Recording(LanguageModel):
    """Passes calls through to `inner`, keeping each (prompt, sampling) it was given."""

    def __init__(self, inner: LanguageModel) -> None:
        self.inner, self.name, self.calls = inner, inner.name, []
        self.supports = inner.supports  # what the wrapped model honours
        self.texts: list[list[str]] = []  # what each call streamed to the scene

    def stream(self, prompt: str, sampling: Sampling) -> Iterator[str]:
        self.calls.append((prompt, sampling))
        self.texts.append([])
        for piece in self.inner.stream(prompt, sampling):
            self.texts[-1].append(piece)
            yield piece

    def count_tokens(self, text: str) -> int:
        return self.inner.count_tokens(text)

    def render_chat(self, messages):
        return self.inner.render_chat(messages)


def replay(model: LlamaCppModel, prompt: str, s: Sampling) -> tuple[float, int, str]:
    """Seconds, generated tokens and text of one generation with plain llama-cpp-python."""
    start = time.perf_counter()
    out = model.llama.create_completion(
        prompt,
        max_tokens=s.max_tokens,
        temperature=s.temperature,
        top_p=s.top_p,
        repeat_penalty=s.repeat_penalty,
        stop=list(s.stop) or None,
        seed=s.seed,
    )
    return time.perf_counter() - start, out["usage"]["completion_tokens"], out["choices"][0]["text"]


def same_output(scene_text: str, raw_text: str) -> bool:
    """Whether the replay produced what the scene streamed (the scene may stop early).

    same_output("My lord", "My lord, I") -> True; same_output("Nay", "My lord") -> False
    """
    return raw_text.startswith(scene_text) if scene_text else raw_text == ""


Call = tuple[str, Sampling]


def scene_turn(scene, recording: Recording) -> tuple[float, list[Call], list[str]]:
    """Run one scene turn: seconds, the generations it asked for, and what they streamed."""
    done = len(recording.calls)
    start = time.perf_counter()
    for _event in scene.run("bench", 1):
        pass
    seconds = time.perf_counter() - start
    return seconds, recording.calls[done:], ["".join(t) for t in recording.texts[done:]]


def run_round(scene_model, raw_model, settings: Settings, turns: int, seed: int, plan=None):
    """Per turn: (scene seconds, raw seconds, raw tokens, same output), measured back to
    back so that load from anything else on the machine hits both sides alike. With
    `plan` (the generations a round with the same seed asked for, turn by turn) the raw
    replay of each turn runs first and the scene must ask for the same generations."""
    recording = Recording(scene_model)
    rows, calls = [], []
    with tempfile.TemporaryDirectory() as tmp:
        store = SceneStore(Path(tmp) / "bench.sqlite")
        spec = SceneSpec(
            thread_id="bench", cast=["Hamlet", "Ophelia"], setting="A hall.", seed=seed
        )
        staged = build_scene(spec, store, settings, model=recording)
        for t in range(turns):
            raw = [replay(raw_model, p, s) for p, s in plan[t]] if plan else []
            scene_s, asked, streamed = scene_turn(staged.scene, recording)
            raw = raw or [replay(raw_model, p, s) for p, s in asked]
            same = (not plan or plan[t] == asked) and len(raw) == len(streamed)
            same = same and all(same_output(a, r[2]) for a, r in zip(streamed, raw, strict=False))
            rows.append((scene_s, sum(r[0] for r in raw), sum(r[1] for r in raw), same))
            calls.append(asked)
        store.close()
    return rows, calls


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--turns", type=int, default=8)
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--threads", type=int, default=1)  # 1 holds up on a busy machine
    ap.add_argument("--model", default="smollm2")
    args = ap.parse_args()

    settings = Settings.load(n_threads=args.threads).ensure()
    path = resolve_model(args.model, settings.cache_dir)
    scene_model = LlamaCppModel(path, n_threads=args.threads)
    raw_model = LlamaCppModel(path, n_threads=args.threads)
    ratios, rows, plan = [], [], None
    for r in range(args.rounds):
        # Rounds go in pairs with one seed: scene first, then raw first on the same prompts.
        plan = plan if r % 2 else None
        got, plan = run_round(scene_model, raw_model, settings, args.turns, 100 + r // 2, plan)
        rows += got
        ratios += [scene / raw for scene, raw, _, _ in got]
        scene_s, raw_s = sum(g[0] for g in got), sum(g[1] for g in got)
        first = "raw" if r % 2 else "scene"
        print(
            f"round {r} ({first} first): scene {scene_s:.2f}s, raw {raw_s:.2f}s, ratio {scene_s / raw_s:.3f}"
        )
    scene_total, raw_total = sum(r[0] for r in rows), sum(r[1] for r in rows)
    tokens = sum(r[2] for r in rows)
    differ = sum(not r[3] for r in rows)
    print(f"replay produced the scene's tokens on {len(rows) - differ}/{len(rows)} turns")
    if differ:
        raise SystemExit("the replay generated other tokens than the scene: comparison void")
    print(f"model {path.name}, threads {args.threads}, {args.turns} turns x {args.rounds} rounds")
    print(
        f"turn time / raw generation time: overall {scene_total / raw_total:.3f}, "
        f"median per turn {statistics.median(ratios):.3f} (target <= 1.05)"
    )
    print(
        f"generated tokens per second of wall time, prompt evaluation included: "
        f"raw llama.cpp {tokens / raw_total:.1f}, scene {tokens / scene_total:.1f}"
    )


if __name__ == "__main__":
    main()
