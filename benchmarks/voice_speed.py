"""What the shipped stage voice costs per token: the default model with the voice stacked
(as every scene now runs) against the bare base, side by side in one run.

Run:  python benchmarks/voice_speed.py [--tokens 48] [--repeats 4] [--threads 2]

Each repeat generates the same page continuation with and without the voice (order
alternating, greedy, the same number of tokens forced on both sides with min_tokens so
the two sides do equal work), and times the call: decoding, after a first call that
evaluates the page. Prints tokens/s for each side,
their spread (min-max over repeats) and the ratio of seconds per token.
"""

from __future__ import annotations

import argparse
import statistics
import time

from dramatis.agents.catalog import resolve_model
from dramatis.agents.hf_base import file_sha256
from dramatis.agents.llama_backend import LlamaCppModel
from dramatis.agents.model import Sampling
from dramatis.core.settings import Settings
from dramatis.training.serving import shipped_voice

PAGE = (
    "BEATRICE, niece to Leonato.\nBENEDICK, a young lord of Padua.\n\n"
    "A hall in Leonato's house.\nBEATRICE: I wonder that you will still be talking, "
    "Signior Benedick: nobody marks you.\nBENEDICK:"
)


def timed(model: LlamaCppModel, tokens: int, adapter: str | None) -> tuple[float, int]:
    """(seconds, tokens generated) for one greedy continuation of PAGE (after the first
    call each side reuses its own evaluated page, so the figure is mostly decoding)."""
    sampling = Sampling(
        max_tokens=tokens, min_tokens=tokens, temperature=0.0, seed=1, adapter=adapter
    )
    start = time.perf_counter()
    done = model.generate(PAGE + " ", sampling)
    return time.perf_counter() - start, max(1, done.tokens or tokens)


def default_model(threads: int, voiced: bool = True) -> LlamaCppModel:
    """The bundled default model, with its shipped stage voice stacked at scale 1 (as
    every scene runs it) or bare."""
    settings = Settings.load()
    path = resolve_model("gemma3-270m", settings.cache_dir)
    shipped = shipped_voice(file_sha256(path, settings.cache_dir))
    if shipped is None:
        raise SystemExit("no stage voice ships for the default model")
    model = LlamaCppModel(path, n_threads=threads, seed=0)
    if voiced:
        model.load_adapter("voice", str(shipped[0]))
        model.stack_under("voice", 1.0)
    return model


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tokens", type=int, default=48)
    ap.add_argument("--repeats", type=int, default=4)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    bare = default_model(args.threads, voiced=False)
    voiced = default_model(args.threads)
    rates: dict[str, list[float]] = {"base": [], "voice": []}
    for i in range(args.repeats):
        order = [("base", bare), ("voice", voiced)]
        for label, model in order if i % 2 == 0 else order[::-1]:
            seconds, n = timed(model, args.tokens, None)
            rates[label].append(seconds / n)
    for label, spt in rates.items():
        tps = [1 / s for s in spt]
        print(
            f"{label}: {statistics.median(tps):.1f} tokens/s (min {min(tps):.1f}, max {max(tps):.1f})"
        )
    ratio = statistics.median(rates["voice"]) / statistics.median(rates["base"])
    print(
        f"seconds per token, voice / base: {ratio:.2f} ({args.repeats} repeats, {args.tokens} tokens)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
