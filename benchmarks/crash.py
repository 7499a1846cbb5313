"""Crash harness: stage scenes, SIGKILL them at random points, resume, check every turn.

    .venv/bin/python benchmarks/crash.py --kills 60           # fake backend, ~6 min
    .venv/bin/python benchmarks/crash.py --kills 0 --real 50  # the bundled model only

Each kill runs the real `dramatis stage` / `dramatis resume` command in a child process
(the CLI, LangGraph, the SQLite checkpointer and the transcript writer all real). With
the fake backend the child stages `--model fake`, made a seeded fake model that takes a
few milliseconds a token, so a kill can land anywhere; kills land:
  random      at a random moment after the first turn was shown (and so saved)
  generate    in the middle of a character's speech (after some of its tokens)
  checkpoint  inside a checkpoint transaction: rows written, not yet committed
  transcript  between a transcript file's temp write and its rename
  resume      at a random moment of a `resume`, after a first kill of `stage`
  concurrent  two `resume`s of one scene started together (one must refuse: one writer
              per scene), the one that writes killed mid-run
The targeted kills land after the first turn is on disk (a kill before it leaves no
scene: `stage` saves a scene with its first turn), so they test recovery of saved turns.
After each kill the parent reads the checkpoint, checks the transcript files on disk,
resumes to the scene's full length and checks again:
  lost        a turn the checkpoint held (or the child printed) that is gone or changed
  duplicated  a turn index held twice, or more turns than asked for
  mismatch    transcript.jsonl not a prefix of the checkpoint (after a kill) or not equal
              to it (after the final resume); any unreadable line counts
  duplicated  also by content: a (speaker, text) said more often than in the reference
  diverged    the finished scene's text differs from an uninterrupted run of the same
              scene (the reference; both backends: each turn's seed is fixed by its index)
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

POINTS = ("random", "generate", "checkpoint", "transcript", "resume", "concurrent")
CAST = "Hamlet,Ophelia,Horatio"


# -- the child: the real CLI, with a slow fake model and an optional kill point ----------
def _kill_self() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


# Whether kill points count yet: from the start, or (a kill point ending ":saved") once
# the first turn's transcript is written, which follows that turn's save.
ARMED = {"on": True}


def _counter(at: int):
    """A callable that says True on its `at`-th call once armed (calls before don't count)."""
    calls = {"n": 0}

    def hit() -> bool:
        if ARMED["on"]:
            calls["n"] += 1
            return calls["n"] == at
        return False

    return hit


def _patch_model(delay: float, kill_generate: int, rng: random.Random) -> None:
    import dramatis.agents.fake_backend as fake_backend
    from dramatis.agents.fake_backend import FakeModel

    hit = _counter(kill_generate)

    class SlowFake(FakeModel):
        def stream(self, prompt, sampling):
            cut = rng.randint(1, 6) if kill_generate and hit() else -1
            for i, piece in enumerate(super().stream(prompt, sampling)):
                if i == cut:
                    _kill_self()
                time.sleep(delay)
                yield piece

    fake_backend.FakeModel = SlowFake  # type: ignore[misc]  # what `--model fake` opens


def _patch_checkpoint(at: int) -> None:
    from contextlib import contextmanager

    from langgraph.checkpoint.sqlite import SqliteSaver

    original, hit = SqliteSaver.cursor, _counter(at)

    @contextmanager
    def cursor(self, transaction: bool = True):
        with original(self, transaction) as cur:
            yield cur
            if transaction and hit():  # the statements ran; the commit has not
                _kill_self()

    SqliteSaver.cursor = cursor  # type: ignore[method-assign]


def _patch_transcript(at: int) -> None:
    """Kill between a transcript file's temp write and its rename (`at` > 0), and arm the
    kill points once the first file is in place."""
    import dramatis.core.paths as paths

    hit, replace = _counter(at), os.replace

    class OsProxy:
        def __getattr__(self, name):
            return getattr(os, name)

        @staticmethod
        def replace(src, dst):
            if at and hit():  # temp file written and synced, not yet renamed
                _kill_self()
            replace(src, dst)
            ARMED["on"] = True

    paths.os = OsProxy()  # type: ignore[assignment]


def _patch_slow_writes(delay: float) -> None:
    """A step's writes, which LangGraph commits in a background thread, take `delay`
    seconds more: a turn shown before its writes are committed would show."""
    from langgraph.checkpoint.sqlite import SqliteSaver

    original = SqliteSaver.put_writes

    def put_writes(self, *args, **kwargs):
        time.sleep(delay)
        return original(self, *args, **kwargs)

    SqliteSaver.put_writes = put_writes  # type: ignore[method-assign]


def child(argv: list[str]) -> None:
    """`crash.py child [--fake DELAY] [--kill-at POINT:N[:saved]] -- dramatis args...`"""
    split = argv.index("--")
    opts = argparse.ArgumentParser()
    opts.add_argument("--fake", type=float, default=None)
    opts.add_argument("--kill-at", default="")
    opts.add_argument("--seed", type=int, default=0)
    opts.add_argument("--slow-writes", type=float, default=0.0, help="delay each put_writes")
    args = opts.parse_args(argv[:split])
    if args.slow_writes:
        _patch_slow_writes(args.slow_writes)
    point, _, rest = args.kill_at.partition(":")
    n, _, when = rest.partition(":")
    at = int(n or 0)
    ARMED["on"] = when != "saved"
    if args.fake is not None:
        _patch_model(args.fake, at if point == "generate" else 0, random.Random(args.seed))
    if point == "checkpoint":
        _patch_checkpoint(at)
    if point == "transcript" or when == "saved":
        _patch_transcript(at if point == "transcript" else 0)
    from dramatis.cli import main

    sys.argv = ["dramatis", *argv[split + 1 :]]
    main()


# -- the parent: run, kill, inspect, resume ----------------------------------------------
@dataclass
class Outcome:
    point: str
    backend: str
    saved_at_kill: int
    printed_at_kill: int
    final: int
    lost: int = 0
    duplicated: int = 0
    mismatch: int = 0
    diverged: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def survived(self) -> bool:
        return not (self.lost or self.duplicated or self.mismatch or self.diverged)


def checkpoint_turns(home: Path) -> tuple[str | None, list[dict]]:
    """(thread id, saved turns) of the one scene in `home`: the newest checkpoint's, then
    any a finished step wrote before its checkpoint (resume takes those up, not redoes)."""
    from langgraph.checkpoint.sqlite import SqliteSaver

    if not (home / "scenes.sqlite").exists():
        return None, []
    conn = sqlite3.connect(home / "scenes.sqlite")
    try:
        try:
            row = conn.execute("SELECT thread_id FROM dramatis_scenes").fetchone()
        except sqlite3.OperationalError:  # killed before the table was made
            return None, []
        if row is None:  # killed before the scene's spec was committed
            return None, []
        thread_id = row[0]
        saved = SqliteSaver(conn).get_tuple({"configurable": {"thread_id": thread_id}})
        if saved is None:
            return thread_id, []
        turns = list(saved.checkpoint["channel_values"].get("turns", []))
        pending = [v for _, channel, v in saved.pending_writes or [] if channel == "turns"]
        return thread_id, turns + [t for batch in pending for t in batch]
    finally:
        conn.close()


def said(turns: list[dict]) -> list[tuple]:
    """What a scene said, without timings: (index, speaker, text, source) per turn."""
    return [(t["index"], t["speaker"], t["text"], t["source"]) for t in turns]


def transcript_turns(out: Path) -> list[dict] | None:
    """Turns in transcript.jsonl; None when a line is unreadable (a torn write)."""
    path = out / "transcript.jsonl"
    if not path.exists():
        return []
    try:
        return [json.loads(line) for line in path.read_text().splitlines()]
    except json.JSONDecodeError:
        return None


def headings(cast: str) -> tuple[str, ...]:
    return tuple(f"{n.strip().upper()}:" for n in cast.split(","))


def printed_turns(stdout: str, cast: str = CAST) -> int:
    """Turns the child showed the user: lines that start with a cast member's heading."""
    heads = headings(cast)
    return sum(line.startswith(heads) for line in stdout.splitlines())


def dramatis_cmd(fake: float | None, kill_at: str, seed: int) -> list[str]:
    pre = ["--fake", str(fake)] if fake is not None else []
    return [sys.executable, __file__, "child", *pre, "--kill-at", kill_at, "--seed", str(seed)]


def run_child(
    cmd: list[str],
    env: dict,
    kill_after: float | None = None,
    timing: dict | None = None,
) -> tuple[int, str]:
    """Run a child; SIGKILL it `kill_after` seconds after it showed its first turn (saved
    by then: a turn is printed after its step's writes), if given. With `timing`, note
    there when the first and the last turn were shown and when the child ended
    (perf_counter seconds).
    (return code, stdout)"""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    lines: list[str] = []
    errs: list[str] = []
    shown = threading.Event()
    heads = headings(CAST)
    when = timing if timing is not None else {}

    def read_out() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            if line.startswith(heads):
                when["last"] = time.perf_counter()
                when.setdefault("first", when["last"])
                shown.set()
        shown.set()  # ended without a turn

    def read_err() -> None:
        assert proc.stderr is not None
        errs.append(proc.stderr.read())

    readers = [threading.Thread(target=f, daemon=True) for f in (read_out, read_err)]
    for reader in readers:
        reader.start()
    if kill_after is not None:
        shown.wait()
        try:
            proc.wait(timeout=kill_after)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
    proc.wait()
    for reader in readers:
        reader.join()
    when["end"] = time.perf_counter()
    out, err = "".join(lines), "".join(errs)
    if proc.returncode not in (0, -signal.SIGKILL):
        raise RuntimeError(f"child failed ({proc.returncode}): {err[-2000:]}")
    return proc.returncode, out


@dataclass
class Scenario:
    """One scene, its own state folder, and how the children are started."""

    root: Path
    turns: int
    seed: int
    fake: float | None  # seconds per token of the fake model; None: the real model
    threads: int = 1
    max_tokens: int = 16

    @property
    def home(self) -> Path:
        return self.root / "home"

    @property
    def out(self) -> Path:
        return self.root / "out"

    def env(self) -> dict:
        home, wide = str(self.home), "400"  # unbuffered: each turn is seen as it is shown
        return {**os.environ, "DRAMATIS_HOME": home, "COLUMNS": wide, "PYTHONUNBUFFERED": "1"}

    def stage(self, kill_at: str = "") -> list[str]:
        args = ["stage", "--cast", CAST, "--turns", str(self.turns), "--seed", str(self.seed)]
        args += ["--max-tokens", str(self.max_tokens), "--threads", str(self.threads)]
        args += ["--policy", "round-robin", "--out", str(self.out)]
        args += ["--model", "fake"] if self.fake is not None else []
        return [*dramatis_cmd(self.fake, kill_at, self.seed), "--", *args]

    def resume(self, thread_id: str, turns: int, kill_at: str = "") -> list[str]:
        args = ["resume", thread_id, "--turns", str(turns), "--threads", str(self.threads)]
        return [*dramatis_cmd(self.fake, kill_at, self.seed), "--", *args]


def check_after_kill(sc: Scenario, o: Outcome, printed: int) -> list[dict]:
    """What the checkpoint and the transcript hold right after a kill."""
    thread_id, saved = checkpoint_turns(sc.home)
    if thread_id is None:
        o.notes.append("killed before the scene was saved")
        return []
    o.saved_at_kill, o.printed_at_kill = len(saved), printed
    o.lost += max(0, printed - len(saved))  # shown to the user, then gone
    written = transcript_turns(sc.out)
    if written is None or written != saved[: len(written)]:
        o.mismatch += 1
        o.notes.append("transcript after the kill is not a prefix of the checkpoint")
    return saved


def finish(sc: Scenario, o: Outcome, saved: list[dict], extra: int = 0) -> list[dict]:
    """Resume until the scene has all its turns plus one (so a resume always runs and
    rewrites the transcript), plus `extra` turns a second writer added in its turn;
    check them against what was saved."""
    thread_id, turns = checkpoint_turns(sc.home)
    if thread_id is None:  # killed before the scene was saved: stage it again
        run_child(sc.stage(), sc.env())
        thread_id, turns = checkpoint_turns(sc.home)
    assert thread_id is not None
    target = sc.turns + 1 + extra
    for _ in range(3):
        if len(turns) >= target:
            break
        run_child(sc.resume(thread_id, target - len(turns)), sc.env())
        _, turns = checkpoint_turns(sc.home)
    indices = [t["index"] for t in turns]
    o.final = len(turns)
    o.duplicated += len(indices) - len(set(indices)) + max(0, len(turns) - target)
    if indices != list(range(len(turns))):
        o.notes.append(f"indices not contiguous: {indices}")
        o.lost += max(0, max(indices, default=-1) + 1 - len(set(indices)))
    o.lost += sum(1 for a, b in zip(saved, turns, strict=False) if a != b)
    o.lost += max(0, len(saved) - len(turns))
    if transcript_turns(sc.out) != turns:
        o.mismatch += 1
        o.notes.append("final transcript differs from the checkpoint")
    if leftovers := sorted(p.name for p in sc.out.glob(".*.tmp")):
        o.mismatch += 1
        o.notes.append(f"temp files left: {leftovers}")
    return turns


def reference(root: Path, turns: int, seed: int, fake: float | None) -> tuple[list[dict], float]:
    """An uninterrupted run of the same scene: its turns, and the seconds from its first
    turn shown to its last (the window a random kill lands in: after the last turn only
    the exit is left, a long part of a bundled-model run's tail)."""
    sc = Scenario(root / "reference", turns, seed, fake)
    timing: dict = {}
    run_child(sc.stage(), sc.env(), timing=timing)
    wall = timing.get("last", 0.0) - timing.get("first", 0.0)
    thread_id, _ = checkpoint_turns(sc.home)
    run_child(sc.resume(str(thread_id), 1), sc.env())  # as `finish` does: one turn more
    return checkpoint_turns(sc.home)[1], wall


# At least this many a turn (measured on `stage`: 6 checkpoint transactions and 3
# transcript files a turn; a speech is 1 draw or more).
PER_TURN = {"checkpoint": 6, "transcript": 3, "generate": 1}


def kill_point(point: str, turns: int, rng: random.Random, fake: bool, after: int = 1) -> str:
    """A targeted kill within a run of `turns` turns. With `after` (1), it counts from the
    first turn's save (its transcript written) and lands within the other turns:
    "checkpoint:7:saved" is the 7th checkpoint transaction after it; with 0, from the
    start ("checkpoint:7").

    A speech is only cut by the fake model; with the real one it becomes a checkpoint."""
    if point == "generate" and not fake:
        point = "checkpoint"
    n = rng.randint(1, max(1, PER_TURN[point] * (turns - after)))
    return f"{point}:{n}" + (":saved" if after else "")


def one_kill(sc: Scenario, point: str, rng: random.Random, wall: float) -> Outcome:
    """Stage with one kill (for `resume`: a kill mid-stage, then one mid-resume), then
    recover and check."""
    o = Outcome(point, "fake" if sc.fake is not None else "real", 0, 0, 0)
    fake = sc.fake is not None
    targeted = {"generate", "checkpoint", "transcript"}
    if point in targeted:
        kill_at, delay = kill_point(point, sc.turns, rng, fake), None
    elif point in ("resume", "concurrent"):  # stage dies before its last turn: a resume follows
        kill_at, delay = kill_point("generate", sc.turns - 1, rng, fake), None
    else:  # a random moment after the first turn was shown, before the last one was
        kill_at, delay = "", rng.uniform(0.0, 0.9) * wall
    code, out = run_child(sc.stage(kill_at), sc.env(), delay)
    saved = check_after_kill(sc, o, printed_turns(out))
    thread_id, _ = checkpoint_turns(sc.home)
    if point == "resume" and thread_id and len(saved) < sc.turns:
        left = sc.turns - len(saved)
        inner = kill_point(rng.choice(sorted(targeted)), left, rng, fake)
        code, out = run_child(sc.resume(thread_id, left, inner), sc.env())
        saved = check_after_kill(sc, o, printed_turns(out))  # resume reprints the old turns
    elif point == "concurrent" and thread_id and len(saved) < sc.turns:
        code, saved, extra = race(sc, o, thread_id, sc.turns - len(saved), rng, fake)
        if code == 0:
            o.notes.append("finished before the kill")
        finish(sc, o, saved, extra)
        return o
    elif point in ("resume", "concurrent"):
        code = 0  # nothing left to resume: no resume was killed
    if code == 0:
        o.notes.append("finished before the kill")
    finish(sc, o, saved)
    return o


def race(
    sc: Scenario, o: Outcome, thread_id: str, left: int, rng: random.Random, fake: bool
) -> tuple[int, list[dict], int]:
    """Two `resume`s of one scene at once, the first armed with a kill. One writer per
    scene: whichever claims it second must refuse (exit 2, one line), unless the other
    had already ended. (the armed child's code, saved turns after, turns beyond the
    scene's length that the two added between them)"""
    inner = kill_point(rng.choice(["generate", "checkpoint", "transcript"]), left, rng, fake, 0)
    pipes = {"env": sc.env(), "text": True, "stdout": subprocess.PIPE, "stderr": subprocess.PIPE}
    first = subprocess.Popen(sc.resume(thread_id, left, inner), **pipes)  # type: ignore[call-overload]
    second = subprocess.Popen(sc.resume(thread_id, left), **pipes)  # type: ignore[call-overload]
    out1, err1 = first.communicate()
    _, err2 = second.communicate()
    codes = {first.returncode, second.returncode}
    refused = [e for p, e in ((first, err1), (second, err2)) if p.returncode == 2]
    if len(refused) == 1 and "being written by another" in refused[0]:
        o.notes.append("second writer refused")
    elif not codes - {0, -signal.SIGKILL}:
        o.notes.append("the writers ran one after the other")
    else:
        o.mismatch += 1
        o.notes.append(f"a writer failed ({first.returncode}, {second.returncode})")
    saved = check_after_kill(sc, o, printed_turns(out1))
    return first.returncode, saved, max(0, len(saved) - sc.turns)


def campaign(
    kills: int,
    real: int,
    turns: int,
    seed: int,
    delay: float,
    points: list[str],
    real_turns: int = 4,
) -> list[Outcome]:
    rng = random.Random(seed)
    outcomes: list[Outcome] = []
    with tempfile.TemporaryDirectory(prefix="dramatis-crash-") as tmp:
        root = Path(tmp)
        scene_seed = rng.randint(1, 999)
        ref, wall = reference(root, turns, scene_seed, delay) if kills else ([], 0.0)
        for i in range(kills):
            sc = Scenario(root / f"k{i}", turns, scene_seed, delay)
            o = one_kill(sc, points[i % len(points)], rng, wall)
            compare(o, checkpoint_turns(sc.home)[1], ref)
            outcomes.append(o)
            print(json.dumps(asdict(o)), flush=True)
        real_ref, real_wall = [], 0.0
        if real:  # the reference run of the bundled model: same scene, never killed
            real_ref, real_wall = reference(root / "real", real_turns, scene_seed, None)
        for i in range(real):
            sc = Scenario(root / f"r{i}", real_turns, scene_seed, None)
            o = one_kill(sc, points[i % len(points)], rng, real_wall)
            compare(o, checkpoint_turns(sc.home)[1], real_ref)
            outcomes.append(o)
            print(json.dumps(asdict(o)), flush=True)
    return outcomes


def compare(o: Outcome, final: list[dict], ref: list[dict]) -> None:
    """Text-level checks against the reference: the same turns said, and no (speaker,
    text) said more often than there (a turn redone after a kill, under a new index)."""
    from collections import Counter

    o.diverged = int(said(final) != said(ref))
    mine = Counter((t["speaker"], t["text"]) for t in final)
    theirs = Counter((t["speaker"], t["text"]) for t in ref)
    o.duplicated += sum(max(0, n - theirs[k]) for k, n in mine.items())


def summary(outcomes: list[Outcome]) -> dict:
    """Totals per backend: kills, survived, turns lost and duplicated."""
    table: dict = {}
    for o in outcomes:
        row = table.setdefault(o.backend, {"kills": 0, "landed": 0, "survived": 0, "lost": 0})
        row["kills"] += 1
        row["landed"] += "finished before the kill" not in o.notes
        row["after_saved_turn"] = row.get("after_saved_turn", 0) + (o.saved_at_kill > 0)
        row["second_writer_refused"] = row.get("second_writer_refused", 0) + (
            "second writer refused" in o.notes
        )
        row["survived"] += o.survived
        for key in ("lost", "duplicated", "mismatch", "diverged"):
            row[key] = row.get(key, 0) + getattr(o, key)
        row.setdefault("by_point", {}).setdefault(o.point, 0)
        row["by_point"][o.point] += 1
    return table


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "child":
        child(sys.argv[2:])
        return
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--kills", type=int, default=60, help="kills on the fake backend")
    p.add_argument("--real", type=int, default=4, help="kills on the bundled model")
    p.add_argument("--turns", type=int, default=10, help="turns per scene")
    p.add_argument("--real-turns", type=int, default=4, help="turns per bundled-model scene")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--delay", type=float, default=0.03, help="fake model seconds per token")
    p.add_argument("--json", type=Path, help="write the outcomes here")
    p.add_argument("--points", default=",".join(POINTS), help="kill points to cycle through")
    a = p.parse_args()
    outcomes = campaign(
        a.kills, a.real, a.turns, a.seed, a.delay, a.points.split(","), a.real_turns
    )
    totals = summary(outcomes)
    print(json.dumps(totals, indent=1))
    if a.json:
        a.json.write_text(json.dumps([asdict(o) for o in outcomes], indent=1))
    bad = sum(not o.survived for o in outcomes)
    raise SystemExit(1 if bad else 0)


if __name__ == "__main__":
    main()
