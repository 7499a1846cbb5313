"""Long scenes: prompt size, resident memory, time per turn and checkpoint growth.

    .venv/bin/python benchmarks/long_run.py --turns 1000              # fake backend
    .venv/bin/python benchmarks/long_run.py --turns 1000 --keep 0     # no pruning
    .venv/bin/python benchmarks/long_run.py --turns 30 --real         # bundled model

A real LangGraph scene with the real SQLite checkpointer (`SceneStore`), four
characters, round-robin; only the model is swapped for the fake one unless --real.
Prints one JSON row per report point: turn, RSS (MB), scenes.sqlite size (MB, WAL
included), mean seconds per turn over the last window, prompt tokens of the last turn
(the model's own count; the fake model counts words), checkpoints kept.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import tempfile
import time
from pathlib import Path

from dramatis.agents.fake_backend import FakeModel
from dramatis.agents.model import LanguageModel
from dramatis.agents.scene import Partial
from dramatis.agents.scene_store import SceneSpec, SceneStore
from dramatis.core.settings import Settings
from dramatis.staging import build_scene

CAST = ["Hamlet", "Ophelia", "Macbeth", "Lady Macbeth"]
REPORT = (1, 10, 100, 250, 500, 750, 1000, 2000)


def rss_mb() -> float:
    """Resident set size of this process in MB (VmRSS)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def db_mb(path: Path) -> float:
    """The database with its WAL and journal, in MB."""
    files = [path, Path(f"{path}-wal"), Path(f"{path}-journal")]
    return sum(f.stat().st_size for f in files if f.exists()) / 1e6


def checkpoints(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT count(*) FROM checkpoints").fetchone()[0]


class Counting(LanguageModel):
    """Wraps a model and remembers the size of the last prompt, in its tokens."""

    def __init__(self, inner: LanguageModel) -> None:
        self.inner, self.name, self.last_prompt = inner, inner.name, 0
        self.supports = inner.supports  # what the wrapped model honours

    def stream(self, prompt, sampling):
        self.last_prompt = self.inner.count_tokens(prompt)
        return self.inner.stream(prompt, sampling)

    def count_tokens(self, text: str) -> int:
        return self.inner.count_tokens(text)

    def render_chat(self, messages):
        return self.inner.render_chat(messages)


def open_model(real: bool, settings: Settings) -> LanguageModel:
    if not real:
        return FakeModel()
    from dramatis.agents.catalog import resolve_model
    from dramatis.agents.llama_backend import LlamaCppModel

    path = resolve_model("smollm2", settings.cache_dir)
    return LlamaCppModel(path, n_ctx=settings.n_ctx, n_threads=settings.n_threads, seed=1)


def long_run(turns: int, keep: int, real: bool, home: Path) -> list[dict]:
    settings = Settings(home=home, n_threads=int(os.environ.get("DRAMATIS_THREADS", "1")))
    settings.ensure()
    store = SceneStore(settings.scenes_db, keep=keep)
    spec = SceneSpec(
        thread_id="long", cast=CAST, setting="A hall.", seed=1, policy="round-robin",
        agent={"max_tokens": 24},
    )  # fmt: skip
    model = Counting(open_model(real, settings))
    scene = build_scene(spec, store, settings, model=model).scene
    rows, window_start, last = [], time.perf_counter(), 0
    for event in scene.run("long", turns):
        if isinstance(event, Partial):
            continue
        n = event["index"] + 1
        if n in REPORT or n == turns:
            now = time.perf_counter()
            rows.append(
                {
                    "turn": n,
                    "rss_mb": round(rss_mb(), 1),
                    "db_mb": round(db_mb(settings.scenes_db), 2),
                    "s_per_turn": round((now - window_start) / (n - last), 4),
                    "prompt_tokens": model.last_prompt,
                    "checkpoints": checkpoints(settings.scenes_db),
                }
            )
            print(json.dumps(rows[-1]), flush=True)
            window_start, last = now, n
    return rows


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--turns", type=int, default=1000)
    p.add_argument("--keep", type=int, default=64, help="checkpoints kept (0: all)")
    p.add_argument("--real", action="store_true", help="the bundled SmolLM2 model")
    a = p.parse_args()
    with tempfile.TemporaryDirectory(prefix="dramatis-long-") as tmp:
        long_run(a.turns, a.keep, a.real, Path(tmp))


if __name__ == "__main__":
    main()
