"""Transcript files: transcript.jsonl (one turn a line) and transcript.md, rewritten
after every turn so an interrupted run keeps everything it said."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from dramatis.agents.scene_store import SceneSpec
from dramatis.agents.turn import Turn
from dramatis.core.paths import atomic_write


def markdown(spec: SceneSpec, turns: Sequence[Turn]) -> str:
    """The scene as a readable script."""
    head = [
        f"# {', '.join(spec.cast)}",
        "",
        f"*{spec.setting}*",
        "",
        f"thread `{spec.thread_id}` · model `{spec.model}` · seed {spec.seed} · "
        f"policy {spec.policy}",
        "",
    ]
    body = []
    for t in turns:
        note = {"play": " *(from the play)*", "fallback": " *(fallback: a line from the play)*"}
        body += [f"**{t['speaker'].upper()}**{note.get(t['source'], '')}  ", t["text"], ""]
    return "\n".join(head + body)


FILES = ("transcript.jsonl", "transcript.md", "scene.json")


def write_transcript(out_dir: Path, spec: SceneSpec, turns: Sequence[Turn]) -> None:
    """Rewrite the scene's files, each in one step (a crash leaves the old or the new)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    lines = "".join(json.dumps(t, ensure_ascii=False) + "\n" for t in turns)
    atomic_write(out_dir / FILES[0], lines)
    atomic_write(out_dir / FILES[1], markdown(spec, turns))
    atomic_write(out_dir / FILES[2], spec.model_dump_json(indent=2) + "\n")
    for name in FILES:  # temp files a killed run left behind: the new files replace them
        for stale in out_dir.glob(f".{name}.*.tmp"):
            stale.unlink(missing_ok=True)
