"""Memory quality: the lexical memory hit rate of staged scenes with memory on against
off. Definitions: docs/memory.md ("Metrics"). Retrieval accuracy with its baselines is
benchmarks/memory_retrieval.py; take-up judged without the steering's words is
benchmarks/memory_takeup.py (this hit rate counts the very words steering boosts).

    .venv/bin/python benchmarks/memory_quality.py hit-rate [--turns 6] [--max-tokens 40]
        [--best-of 1] [--memory-boost 3] [--[no-]prefer-memory] [--seeds 11,12] [--arms on,off]
        [--model gemma3-270m|smollm2|qwen1.5b|PATH.gguf] [--keep DIR]

`hit-rate` also scores both sets of transcripts with the arena's metrics (in-world rate,
knowledge-horizon leaks, speaker attribution, ...), memory on against off.

Both use the embedding cache under DRAMATIS_HOME (default ~/.dramatis), so after one
`dramatis memory index hamlet` no speech is encoded again.
"""

from __future__ import annotations

import argparse
import json
import re
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from dramatis.agents.catalog import DEFAULT_MODEL
from dramatis.agents.character import AgentSettings
from dramatis.agents.scene import Partial
from dramatis.agents.scene_store import SceneSpec, SceneStore
from dramatis.arena.scoring import score_dirs
from dramatis.core.settings import Settings
from dramatis.memory.embed import Embedder
from dramatis.memory.lore import lore_payload, speech_text
from dramatis.memory.settings import MemorySettings
from dramatis.memory.store import VectorStore, point_id
from dramatis.personas import load_play
from dramatis.personas.model import Play
from dramatis.staging import build_scene, opening_from_play
from dramatis.transcript import write_transcript

ARENA = ("in_world", "knowledge_leak", "attribution_balanced", "impersonation", "copying")
CHARACTERS = ["Hamlet", "Claudius", "Polonius", "Horatio", "Laertes", "Ophelia", "Gertrude"]


def fill_lore(store: VectorStore, embedder: Embedder, play: Play, skip: set[int]) -> None:
    """The play's speeches minus `skip`, vectors from the cache of a whole-play index."""
    speeches = play.speeches()
    vectors, _ = embedder.encode_cached([speech_text(s) for s in speeches])
    keep = [i for i, s in enumerate(speeches) if s.index not in skip]
    payloads = [lore_payload(play, speeches[i], "heldout") for i in keep]
    ids = [point_id(play.key, speeches[i].index) for i in keep]
    store.upsert("lore", ids, vectors[keep], payloads)


STOP = set(
    [
        "that",
        "this",
        "with",
        "thee",
        "thou",
        "thy",
        "thine",
        "have",
        "what",
        "will",
        "would",
        "shall",
        "should",
        "your",
        "from",
        "they",
        "them",
        "their",
        "there",
        "then",
        "than",
        "when",
        "where",
        "which",
        "whom",
        "were",
        "been",
        "being",
        "into",
        "upon",
        "unto",
        "more",
        "most",
        "some",
        "such",
        "very",
        "much",
        "here",
        "hath",
        "doth",
        "dost",
        "come",
        "make",
        "well",
        "good",
        "know",
        "like",
        "speak",
        "said",
        "says",
        "tell",
        "think",
        "give",
        "take",
        "nothing",
        "something",
        "these",
        "those",
        "only",
        "even",
        "also",
        "sir",
        "lord",
        "lady",
        "madam",
    ]
)


def content_words(text: str) -> set[str]:
    """Words of four letters or more that carry content.

    content_words("Polonius is dead, my lord.") -> {"polonius", "dead"}
    """
    return {w for w in re.findall(r"[a-z']{4,}", text.lower()) if w.strip("'") not in STOP}


def memory_words(reply: str, memories: Sequence[str], context: str) -> set[str]:
    """The content words of a reply that its memories hold and the rest of its prompt
    (everything but the memory lines: page, transcript, setting, card, examples) does not.

    memory_words("The ghost walks", ['Horatio said: "the ghost"'], "HAMLET: walks") -> {"ghost"}
    """
    mine = content_words(reply) - content_words(context)
    return mine & content_words(" ".join(memories))


def used_memory(reply: str, memories: Sequence[str], context: str) -> bool:
    """Whether a reply takes a content word only its memories hold (memory_words)."""
    return bool(memory_words(reply, memories, context))


def without(prompt: str, memories: Sequence[str]) -> str:
    """The prompt with its memory lines taken out: the context a hit must not come from."""
    for line in memories:
        prompt = prompt.replace(line, " ")
    return prompt


class Tap:
    """A MemorySource around the scene memory that records each answer; with show=False
    the agent gets nothing (memory off), but the answer it would have got is recorded."""

    def __init__(self, inner, show: bool) -> None:  # inner: a SceneMemory
        self.inner, self.show, self.calls = inner, show, []

    def recall(self, character: str, cue: str, k: int) -> list[str]:
        lines = self.inner.recall(character, cue, k)
        self.calls.append(lines)
        return lines if self.show else []


class PromptTap:
    """Records every prompt an agent renders (one per turn it speaks)."""

    def __init__(self, agent) -> None:
        self.agent, self.inner, self.prompts, self.seen = agent, agent.prompt, [], []
        agent.prompt = self

    def __call__(self, turns, setting):
        text, fmt = self.inner(turns, setting)
        self.prompts.append(text)
        self.seen.append(self.agent.visible(turns))  # the page's turns, for keep_memories
        return text, fmt


SCENES = [
    ("Hamlet,Ophelia", "hamlet:3.1"),
    ("Hamlet,Gertrude", "hamlet:3.4"),
    ("Ophelia,Laertes", "hamlet:4.5"),
    ("Hamlet,Horatio", "hamlet:5.2"),
]


def run_scene(
    home: Path, cast: str, ref: str, show: bool, run: Run, model, runs: Path, seed: int = 11
):
    settings = Settings.load(home=home).ensure()
    names = cast.split(",")
    setting, opening = opening_from_play(ref)
    arm = "on" if show else "off"
    tid = f"{'-'.join(names).lower()}-{ref.replace(':', '-')}-s{seed}-{arm}"
    agent = {"max_tokens": run.max_tokens, "best_of": run.best_of,
             "memory_boost": run.memory_boost, "prefer_memory": run.prefer_memory}  # fmt: skip
    spec = SceneSpec(thread_id=tid, cast=names, setting=setting, source_scene=ref, seed=seed,
                     model=str(model.path), agent=agent, memory=True)  # fmt: skip
    store = SceneStore(settings.scenes_db)
    store.save(spec)
    staged = build_scene(spec, store, settings, model=model)
    tap = Tap(staged.memory, show)
    prompts = []
    for agent in staged.scene.agents.values():
        agent.memory = tap
        prompts.append(PromptTap(agent))
    said = [e for e in staged.scene.run(tid, run.turns, opening) if not isinstance(e, Partial)]
    write_transcript(runs / tid, spec, staged.scene.turns(tid))  # for the arena's metrics
    by_agent = {p.agent.name: iter(zip(p.prompts, p.seen, strict=True)) for p in prompts}
    hits = scored = 0
    log = []
    for turn, lines in zip(said, tap.calls, strict=True):
        agent = staged.scene.agents[turn["speaker"]]
        prompt, seen = next(by_agent[agent.name])
        kept = list(agent.keep_memories(lines, seen))  # what the prompt held (memory on)
        context = without(prompt, kept)
        hit = used_memory(turn["text"], kept, context)
        if kept and turn["source"] == "model":
            scored += 1
            hits += hit
        words = sorted(memory_words(turn["text"], kept, context))
        log.append({"speaker": turn["speaker"], "text": turn["text"], "source": turn["source"],
                    "memories": kept, "hit": hit, "words": words, "prompt": prompt})  # fmt: skip
    (runs / tid / "memory.json").write_text(json.dumps(log, indent=1))
    staged.memory.store.close()
    return hits, scored


@dataclass(frozen=True)
class Run:
    """How each benchmark scene is staged."""

    turns: int = 6
    max_tokens: int = 40
    best_of: int = 1  # candidates per turn, the critic keeping one (stage default: 3)
    memory_boost: float = AgentSettings.memory_boost  # logit bias on memory cues (agents/recall.py)
    prefer_memory: bool = AgentSettings.prefer_memory  # best-of-n keeps one that takes a cue up
    seeds: tuple[int, ...] = (11,)


def hit_rate(
    run: Run,
    home: Path,
    model_name: str = DEFAULT_MODEL,
    keep: Path | None = None,
    arms: Sequence[bool] = (True, False),
) -> dict:
    from dramatis.agents.catalog import resolve_model
    from dramatis.agents.llama_backend import LlamaCppModel

    settings = Settings.load(home=home)
    path = resolve_model(model_name, settings.ensure().cache_dir)
    model = LlamaCppModel(path, n_threads=settings.n_threads or 2, seed=0)
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        ms = MemorySettings.under(scratch)
        store, play = VectorStore(ms.store), load_play("hamlet")
        embedder = Embedder(MemorySettings.under(home).embeddings)
        fill_lore(store, embedder, play, set())
        store.close()
        report: dict = {"model": model_name, "scenes": len(SCENES), **asdict(run)}
        for show in arms:
            hits = scored = 0
            runs = (keep or scratch) / ("on" if show else "off")
            for seed in run.seeds:
                for cast, ref in SCENES:
                    h, n = run_scene(scratch, cast, ref, show, run, model, runs, seed)
                    hits, scored = hits + h, scored + n
            key = "memory on" if show else "memory off (same retrieval, not in the prompt)"
            arena = score_dirs([runs])["summary"]
            figures = {k: round(v, 3) for s in arena.values() for k, v in s.items() if k in ARENA}
            report[key] = {"hit_rate": round(hits / max(scored, 1), 3), "turns": scored, **figures}
        return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["hit-rate"])
    parser.add_argument("--turns", type=int, default=6)
    parser.add_argument("--max-tokens", type=int, default=40)
    parser.add_argument("--best-of", type=int, default=1, help="candidates per turn (stage: 3)")
    parser.add_argument("--model", default=DEFAULT_MODEL, help="bundled model name or .gguf path")
    parser.add_argument("--memory-boost", type=float, default=Run.memory_boost)
    parser.add_argument(
        "--prefer-memory", action=argparse.BooleanOptionalAction, default=Run.prefer_memory
    )
    parser.add_argument("--seeds", default="11", help="scene seeds, comma-separated")
    parser.add_argument("--arms", default="on,off", help="on, off or both")
    parser.add_argument("--keep", type=Path, help="folder for the transcripts and memory.json logs")
    args = parser.parse_args()
    home = Settings.load().home
    seeds = tuple(int(s) for s in args.seeds.split(","))
    run = Run(args.turns, args.max_tokens, args.best_of, args.memory_boost,
              args.prefer_memory, seeds)  # fmt: skip
    arms = [arm == "on" for arm in args.arms.split(",")]
    report = hit_rate(run, home, args.model, args.keep, arms)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
