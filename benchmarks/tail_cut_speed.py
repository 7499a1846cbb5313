"""What the sampler's tail cut costs per token: the default model with its stage voice,
sampling as a scene does (temperature 0.8, top-p 0.95), with llama.cpp's old cut (top-k
40, min-p 0.05), with none (top-k 0, min-p 0: round 14 of docs/fidelity.md), with top-k
200 and 5000 (the default since round 15), and with 5000 and `known_only` (the mask that
lets only the plays' words through, round 16), side by side in one run. (The voice's
top-p 0.95 nucleus at temperature 1 holds a median of about 230 tokens; top-k 200 cuts it
at half the positions of a held-out scene, top-k 5000 at 0.6%: docs/fidelity.md, round 15.)

Run:  python benchmarks/tail_cut_speed.py [--tokens 64] [--repeats 6] [--threads 2]

Each repeat generates a continuation of the same page on every side (the order rotating,
the same number of tokens forced with min_tokens so each side does equal work; the page
is evaluated once before timing) and times the call. Prints tokens/s for each side, their
spread (min-max over repeats) and the ratio of seconds per token to the old cut's.
"""

from __future__ import annotations

import argparse
import statistics
import time

from voice_speed import PAGE, default_model  # this folder is on the path when run as a script

from dramatis.agents.llama_backend import LlamaCppModel
from dramatis.agents.model import Sampling
from dramatis.personas.vocabulary import page_words

SIDES = {  # label -> (top_k, min_p, known_only)
    "cut 40/0.05": (40, 0.05, False),
    "no cut": (0, 0.0, False),
    "top-k 200": (200, 0.0, False),
    "top-k 5000": (5000, 0.0, False),
    "top-k 5000, known only": (5000, 0.0, True),
}


def timed(model: LlamaCppModel, tokens: int, cut: tuple[int, float, bool], seed: int) -> float:
    """Seconds per token of one sampled continuation of PAGE under `cut` (top_k, min_p,
    known_only)."""
    top_k, min_p, known = cut
    sampling = Sampling(
        max_tokens=tokens,
        min_tokens=tokens,
        temperature=0.8,
        top_p=0.95,
        top_k=top_k,
        min_p=min_p,
        seed=seed,
        known_only=known,
        page_words=page_words(PAGE) if known else frozenset(),
    )
    start = time.perf_counter()
    done = model.generate(PAGE + " ", sampling)
    return (time.perf_counter() - start) / max(1, done.tokens or tokens)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tokens", type=int, default=64)
    ap.add_argument("--repeats", type=int, default=6)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    model = default_model(args.threads)
    timed(model, 4, SIDES["no cut"], 0)  # evaluates the page once, for every side
    model.word_pieces()  # the known-only side's arrays, made once per process
    spt: dict[str, list[float]] = {label: [] for label in SIDES}
    labels = list(SIDES)
    for i in range(args.repeats):
        for label in labels[i % len(labels) :] + labels[: i % len(labels)]:
            spt[label].append(timed(model, args.tokens, SIDES[label], seed=i + 1))
    base = statistics.median(spt["cut 40/0.05"])
    for label, seconds in spt.items():
        tps = [1 / s for s in seconds]
        print(
            f"{label}: {statistics.median(tps):.1f} tokens/s (min {min(tps):.1f}, "
            f"max {max(tps):.1f}); seconds per token / the old cut's: "
            f"{statistics.median(seconds) / base:.2f}"
        )
    print(f"({args.repeats} repeats, {args.tokens} tokens, {args.threads} threads)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
