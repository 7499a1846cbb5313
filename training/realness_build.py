"""`make realness`: fit the critic's realness table (agents/data/realness.json, read by
agents/critic.py `Realness`) from the plays' speeches and the speeches the default staged.

Run:  python -m dramatis.training.realness_build RUNS_DIR [--out agents/data/realness.json]
          [--made-out PATH] [--expect-runs N]

It also writes the same made speeches, names masked, for the cast critic
(agents/cast_critic.py): to --made-out, else to made_speeches.json beside the table.

RUNS_DIR holds staged scenes (each a folder with transcript.jsonl, at any depth); their
model turns are the "made" class. The "real" class is every speech of the plays but those
the stage voice holds out (training/canon.py HELD_OUT): the arena's held-out grids stage
those plays' casts. The Makefile stages the default afresh on the tuning casts
(benchmarks/fidelity_runs.py, round-4 cells, seeds 10-17, none of the grids' seeds 1-9)
and fits on them; the held-out casts never enter. The table is written whole or not at
all: a failed build leaves the shipped ones as they were.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

from dramatis.agents.cast_critic import MADE_FILE
from dramatis.agents.critic import REALNESS_FILE, Realness
from dramatis.core.errors import DramatisError
from dramatis.personas import find_persona, list_plays, load_play
from dramatis.personas.vocabulary import mask_names, proper_names
from dramatis.training.canon import HELD_OUT

LEAST_SPEECHES = 100  # fewer made speeches than this fit a table of noise


class Staged(NamedTuple):
    """One staged scene: its folder (relative to the runs' root), its transcript's path,
    its model turns and who spoke them."""

    run: str
    path: Path
    texts: list[str]
    speakers: set[str]


def staged_scenes(root: Path) -> list[Staged]:
    """Every staged scene under `root`, sorted by folder, each transcript read once."""
    if not root.is_dir():
        raise DramatisError(f"{root}: no such folder; stage the runs first (make realness)")
    scenes = []
    for path in sorted(root.rglob("transcript.jsonl")):
        scene = Staged(str(path.parent.relative_to(root)), path, [], set())
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as err:
            raise DramatisError(f"{path}: cannot be read ({err}); stage that scene again") from None
        for n, line in enumerate(lines, 1):
            try:
                turn = json.loads(line) if line.strip() else {}
            except json.JSONDecodeError:
                turn = None
            if not isinstance(turn, dict):
                raise DramatisError(
                    f"{path}:{n}: not a turn (a JSON object); stage that scene again"
                )
            if turn.get("source") == "model" and isinstance(turn.get("text"), str) and turn["text"]:
                scene.texts.append(turn["text"])
                scene.speakers.add(str(turn.get("speaker", "")))
        scenes.append(scene)
    return scenes


def masked_texts(scenes: Sequence[Staged]) -> list[str]:
    """The scenes' model turns, each scene's names (personas/vocabulary.py `proper_names`
    of its speakers' plays) read "NAME", as the cast critic reads them
    (agents/cast_critic.py)."""
    names_of: dict[tuple[frozenset[str], frozenset[str]], list[str]] = {}
    texts = []
    for scene in scenes:
        if not scene.texts:
            continue
        key = (frozenset(_plays_of(scene.speakers, scene.path)), frozenset(scene.speakers))
        if key not in names_of:  # the plays are scanned once per cast, not per scene
            names_of[key] = proper_names(key[0], also=key[1])
        texts += [mask_names(text, names_of[key]) for text in scene.texts]
    return texts


def made_speeches(root: Path, masked: bool = False) -> tuple[list[str], list[str]]:
    """The model turns of every staged scene under `root`, and the scenes' folders
    (relative to `root`, sorted), read in that order; with `masked`, names masked
    (`masked_texts`)."""
    scenes = staged_scenes(root)
    texts = masked_texts(scenes) if masked else [t for scene in scenes for t in scene.texts]
    return texts, [scene.run for scene in scenes]


def _plays_of(speakers: set[str], path: Path) -> set[str]:
    """The plays of a staged scene's speakers (a one-line error for an unknown one)."""
    plays = set()
    for name in sorted(speakers):
        try:
            plays.add(find_persona(name).play)
        except DramatisError as err:
            raise DramatisError(f"{path}: speaker {name!r}: {err}") from None
    return plays


def build(root: Path, expect_runs: int = 0) -> tuple[Realness, dict, list[str]]:
    """The realness table, its manifest, and the made speeches with names masked (the
    cast critic's "made" class, agents/data/made_speeches.json)."""
    scenes = staged_scenes(root)
    made, runs = [t for scene in scenes for t in scene.texts], [scene.run for scene in scenes]
    if expect_runs and len(runs) != expect_runs:
        raise DramatisError(
            f"{root}: {len(runs)} staged scenes, {expect_runs} expected; stage the missing ones "
            "(fidelity_runs.py resumes) before fitting"
        )
    if len(made) < LEAST_SPEECHES:
        raise DramatisError(
            f"{root}: {len(made)} model speeches, at least {LEAST_SPEECHES} needed; stage more scenes"
        )
    plays = [key for key in list_plays() if key not in HELD_OUT]
    real = [s.text for key in plays for s in load_play(key).speeches()]
    manifest = {
        "made_from": str(root),
        "runs": runs,
        "made_speeches": len(made),
        "real_speeches": len(real),
        "plays": len(plays),
        "plays_left_out": sorted(HELD_OUT),
    }
    return Realness.fit(real, made), manifest, masked_texts(scenes)


def write_both(files: Sequence[tuple[Path, str]]) -> str:
    """Write every (path, text) whole, or none of them (the old files stay as they were);
    "" on success, else what failed, in one line."""
    parts = [(out.with_name(out.name + ".part"), out) for out, _ in files]
    done: list[tuple[Path, bytes | None]] = []
    current = parts[0][1]
    try:
        for (part, current), (_, text) in zip(parts, files, strict=True):
            if current.is_dir():
                raise IsADirectoryError(21, "is a folder")
            part.write_text(text, encoding="utf-8")
        for part, current in parts:
            before = current.read_bytes() if current.is_file() else None
            os.replace(part, current)
            done.append((current, before))
    except OSError as err:
        for out, before in reversed(done):  # put back what was replaced
            if before is None:
                out.unlink(missing_ok=True)
            else:
                out.write_bytes(before)
        for part, _ in parts:
            part.unlink(missing_ok=True)
        return f"{current}: cannot be written ({err.strerror})"
    return ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("runs", type=Path)
    parser.add_argument("--out", type=Path, default=REALNESS_FILE)
    parser.add_argument(
        "--made-out", type=Path, help=f"default: {MADE_FILE.name} beside --out's table"
    )
    parser.add_argument("--expect-runs", type=int, default=0)
    args = parser.parse_args(argv)
    try:
        table, manifest, masked = build(args.runs, args.expect_runs)
    except DramatisError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    made_out = args.made_out or args.out.with_name(MADE_FILE.name)
    if made_out.resolve() == args.out.resolve():
        print(
            f"error: --made-out {made_out} is the table's own path; pick another", file=sys.stderr
        )
        return 2
    speeches = {"manifest": {**manifest, "names": "masked as NAME"}, "speeches": masked}
    written = ((args.out, table.to_json(manifest)), (made_out, json.dumps(speeches, indent=1)))
    problem = write_both(written)
    if problem:
        print(f"error: {problem}; pick another path", file=sys.stderr)
        return 2
    print(
        f"{args.out}: {manifest['made_speeches']} made and {manifest['real_speeches']} real speeches"
    )
    print(f"{made_out}: {len(masked)} made speeches, names masked")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
