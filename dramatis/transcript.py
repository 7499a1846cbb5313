"""Transcript files: transcript.jsonl (one turn a line) and transcript.md, rewritten
after every turn so an interrupted run keeps everything it said."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path

from dramatis.agents.scene_store import SceneSpec
from dramatis.agents.turn import Turn


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


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def write_transcript(out_dir: Path, spec: SceneSpec, turns: Sequence[Turn]) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    lines = "".join(json.dumps(t, ensure_ascii=False) + "\n" for t in turns)
    _atomic_write(out_dir / "transcript.jsonl", lines)
    _atomic_write(out_dir / "transcript.md", markdown(spec, turns))
    _atomic_write(out_dir / "scene.json", spec.model_dump_json(indent=2) + "\n")
