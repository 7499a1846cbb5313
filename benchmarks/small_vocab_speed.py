"""Tokens a second of the bundled Gemma whole and with its small vocabulary, side by side.

Both files run the same prompts (pages of four plays) with the default sampler's
settings and the stage voice under them, interleaved round by round on one thread; each page is evaluated
first, untimed, so a timing holds the draw and the page's last part block (under 64
tokens) again; the script prints tokens a second of each, the ratio, and whether the kept tokens' logits
after each prompt are bit for bit the whole model's.

    python benchmarks/small_vocab_speed.py [--rounds 3] [--tokens 48]
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace

import numpy as np

from dramatis.agents.catalog import resolve_model
from dramatis.agents.llama_backend import LlamaCppModel
from dramatis.agents.model import Sampling
from dramatis.agents.small_vocab import read_keep, small_model
from dramatis.core.settings import DEFAULT_MODEL
from dramatis.personas import load_play
from dramatis.training.serving import SHIPPED_VOICE_DIR

PLAYS = ("othello", "hamlet", "much_ado", "julius_caesar")


def pages() -> list[str]:
    """One page a play: 24 speeches from its middle and the next speaker's heading."""
    out = []
    for key in PLAYS:
        speeches = load_play(key).speeches()
        mid = len(speeches) // 2
        lines = [f"{s.speaker.upper()}: {s.text}" for s in speeches[mid : mid + 24]]
        out.append("\n".join(lines) + f"\n{speeches[mid + 24].speaker.upper()}:")
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--tokens", type=int, default=48)
    args = ap.parse_args()
    full = resolve_model(DEFAULT_MODEL)
    models = {
        "whole": LlamaCppModel(full, n_threads=1, seed=0),
        "small": LlamaCppModel(full, n_threads=1, seed=0, run_path=small_model(full)),
    }
    voice = next(SHIPPED_VOICE_DIR.glob("*.gguf"))  # the stage voice that ships
    for model in models.values():
        model.load_adapter("voice", str(voice))
        model.stack_under("voice", 1.0)
    keep = read_keep()
    same = True
    for page in pages():  # the logits after each page, kept tokens only
        got = {}
        for name, model in models.items():
            llm = model.llama
            llm.reset()
            llm.eval(llm.tokenize(page.encode("utf-8")))
            got[name] = np.ctypeslib.as_array(llm._ctx.get_logits(), shape=(llm.n_vocab(),))
            got[name] = got[name].copy()
        same &= bool(np.array_equal(got["whole"][keep], got["small"]))
    made = dict.fromkeys(models, 0)
    spent = dict.fromkeys(models, 0.0)
    for r in range(args.rounds):
        for i, page in enumerate(pages()):
            for name, model in models.items():
                sampling = Sampling(
                    max_tokens=args.tokens,
                    temperature=0.8,
                    top_p=0.95,
                    top_k=5000,
                    min_p=0.0,
                    repeat_penalty=1.2,
                    presence_penalty=0.3,
                    seed=100 * r + i,
                )
                model.generate(page, replace(sampling, max_tokens=1))  # the page, untimed
                start = time.perf_counter()
                done = model.generate(page, sampling)  # its last block again, and the draw
                spent[name] += time.perf_counter() - start
                made[name] += done.tokens
    rate = {name: made[name] / spent[name] for name in models}
    print(f"kept tokens' logits bit for bit the same after {len(PLAYS)} pages: {same}")
    for name in models:
        print(f"{name:6s} {made[name]:5d} tokens  {rate[name]:6.1f} tokens/s")
    print(f"small / whole: {rate['small'] / rate['whole']:.2f}x the tokens a second")
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
