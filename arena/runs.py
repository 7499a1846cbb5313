"""Read what `dramatis stage` writes: RUN_DIR/transcript.jsonl and RUN_DIR/scene.json.

Scoring reads these files itself, so a transcript from any tool that writes the same
two files can be scored. (Staging a suite's scenes is another matter: arena/stage.py
goes through dramatis.staging, the composition layer that `dramatis stage` uses too.)
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from dramatis.core.errors import DramatisError

SCORED_SOURCES = ("model", "fallback", "human", "baseline")  # "play" turns only seed a scene


@dataclass
class Run:
    """One staged scene: its spec (scene.json) and its turns (transcript.jsonl)."""

    name: str
    cast: list[str]
    turns: list[dict]
    setting: str = ""
    source_scene: str | None = None  # "hamlet:3.1" when seeded from the play
    config: str = ""  # the configuration label (model, format, adapters, policy)
    spec: dict = field(default_factory=dict)

    @property
    def scored(self) -> list[dict]:
        """The turns the scene produced (opening lines from the play left out)."""
        return [t for t in self.turns if t.get("source", "model") in SCORED_SOURCES]

    @property
    def roles(self) -> list[str]:
        """The cast as find_persona takes it: "merchant_of_venice:Antonio" where the scene
        stored the play (scene.json "plays"), else the bare name."""
        plays = self.spec.get("plays") or {}
        return [f"{plays[n]}:{n}" if n in plays else n for n in self.cast]

    @property
    def opening(self) -> list[dict]:
        return [t for t in self.turns if t.get("source") == "play"]


def config_label(spec: dict) -> str:
    """A short label for a scene spec's configuration.

    config_label({"model": "smollm2", "policy": "addressed"}) -> "smollm2/auto/base/addressed"
    """
    if spec.get("config"):
        return str(spec["config"])
    fmt = (spec.get("agent") or {}).get("prompt_format", "auto")
    adapters = "lora" if spec.get("adapters") else "base"
    return f"{spec.get('model', '?')}/{fmt}/{adapters}/{spec.get('policy', '?')}"


def _text(path: Path) -> str:
    """A run file's text; a one-line DramatisError when it is not UTF-8 or unreadable."""
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise DramatisError(
            f"{path}: not UTF-8 text (byte {err.start}); `dramatis stage` writes UTF-8: "
            "re-save the file as UTF-8 or leave that run out"
        ) from None
    except OSError as err:
        raise DramatisError(f"{path}: cannot read it ({err.strerror})") from None


def _read_turns(path: Path) -> list[dict]:
    turns = []
    for number, line in enumerate(_text(path).splitlines(), 1):
        if not line.strip():
            continue
        try:
            turn = json.loads(line)
        except json.JSONDecodeError as err:
            raise DramatisError(
                f"{path}:{number}: not JSON ({err.msg}); fix or remove the line"
            ) from None
        if not isinstance(turn, dict) or "speaker" not in turn or "text" not in turn:
            raise DramatisError(f"{path}:{number}: a turn needs 'speaker' and 'text' fields")
        turns.append(turn)
    return turns


def load_run(folder: Path) -> Run:
    """The run in `folder`; DramatisError naming the missing file otherwise."""
    transcript, scene = folder / "transcript.jsonl", folder / "scene.json"
    if not transcript.is_file():
        raise DramatisError(f"{transcript} not found: give a folder written by `dramatis stage`")
    turns = _read_turns(transcript)
    spec: dict = {}
    if scene.is_file():
        try:
            spec = json.loads(_text(scene))
        except json.JSONDecodeError as err:
            raise DramatisError(f"{scene}: not JSON ({err.msg})") from None
        if not isinstance(spec, dict):
            raise DramatisError(
                f"{scene}: a scene spec is a JSON object, not {type(spec).__name__}"
            )
    cast = list(
        spec.get("cast") or dict.fromkeys(t["speaker"] for t in turns if t.get("source") != "play")
    )
    return Run(
        name=folder.name,
        cast=cast,
        turns=turns,
        setting=spec.get("setting", ""),
        source_scene=spec.get("source_scene"),
        config=config_label(spec),
        spec=spec,
    )


def find_runs(paths: list[Path]) -> list[Path]:
    """Run folders under each path (the path itself when it holds a transcript), sorted."""
    found: list[Path] = []
    for path in paths:
        if not path.exists():
            raise DramatisError(f"{path} does not exist: give run folders or a folder of runs")
        if (path / "transcript.jsonl").is_file():
            found.append(path)
        else:
            found += sorted(p.parent for p in path.rglob("transcript.jsonl"))
    if not found:
        raise DramatisError(f"no transcript.jsonl under {', '.join(map(str, paths))}")
    return found
