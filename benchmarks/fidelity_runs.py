"""Stage the fidelity grid: configurations x casts x seeds, one `dramatis stage` each.

Run:  python benchmarks/fidelity_runs.py [--out runs/fidelity] [--workers 2]
      [--configs a,b] [--seeds 1,2] [--casts round4|heldout] [--cells 2same,4cross]
      [--baseline-dramatis PATH]   (the `dramatis` of a checkout of the old default)
      [--dramatis PATH]   (the `dramatis` of the other configurations: a snapshot, so
                           that editing this checkout does not change a running grid)
Then: dramatis arena score runs/fidelity/CONFIG   (one configuration at a time)

A finished run (its transcript.jsonl exists) is not staged again, so an interrupted
grid resumes. The casts below were not used for tuning (tuning used Hamlet and
Ophelia in hamlet:3.1).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from dramatis.agents.large_model import FILE_NAME as LARGE

# Casts whose real lines the arena's judge can tell apart (held-out ceiling well above
# chance: Othello/Iago 0.70, Iago/Macbeth 0.77, the Othello four 0.39 and the demo four
# 0.47 against 0.25), so that attribution lift is defined in every cell. Before
# 2026-12-04 the 2-way cells were Macbeth/Lady Macbeth and Hamlet/Lady Macbeth, whose
# ceilings sit at chance (docs/fidelity.md).
CASTS = {  # label -> (cast, scene or "")
    "2same": ("Othello,Iago", "othello:3.3"),
    "2cross": ("Iago,Macbeth", ""),
    "4same": ("Othello,Iago,Desdemona,Emilia", "othello:4.2"),
    "4cross": ("Hamlet,Ophelia,Macbeth,Lady Macbeth", ""),
}
# Round 5 (docs/fidelity.md): casts held out from every choice of that round, from plays
# the shipped stage voice never trained on (training/canon.py HELD_OUT).
HELD_OUT = {
    "H2same": ("Beatrice,Benedick", "much_ado_about_nothing:2.1"),
    "H2cross": ("julius_caesar:Brutus,Viola", ""),
    "H4same": ("julius_caesar:Brutus,Cassius,Marcus Antonius,Casca", "julius_caesar:1.2"),
    "H4cross": ("Beatrice,Benedick,Viola,Malvolio", ""),
}
CAST_SETS = {"round4": CASTS, "heldout": HELD_OUT}
OFF = [
    "--set",
    "ban_out_of_world=false",
    "--set",
    "presence_penalty=0",
    "--set",
    "near_repeats=false",
]
ONE = ["--set", "best_of=1"]  # `dramatis stage` draws 3 candidates by default (STAGE_DEFAULTS)
SM = ["--model", "smollm2"]  # the default model until 2026-12-04 (Gemma 3 270M since)
GEMMA = ["--model", "gemma3-270m"]
CONFIGS = {  # label -> extra stage arguments (None: the baseline's own defaults)
    "baseline": None,  # a checkout of the old default (--baseline-dramatis)
    "chat": [*SM, "--format", "chat", *OFF, *ONE, "--set", "retries=2"],  # the chat template
    "page": [*SM, "--format", "page", *OFF, *ONE, "--set", "retries=2"],  # lever 1
    "steer": [*SM, "--format", "page", *OFF, *ONE, "--set", "retries=2"]
    + ["--set", "ban_out_of_world=true", "--set", "presence_penalty=0.3"],  # lever 2, n = 1
    "tuned": [*SM, *ONE],  # the agent defaults: page, ban, presence 0.3, near repeats, 3 retries
    "smollm2": SM,  # tuned + best-of-3: `dramatis stage` on SmolLM2
    "min24": [*SM, "--set", "min_tokens=24"],  # smollm2 + speeches of 24 tokens or more
    "adapters": [*SM, "--adapters"],  # smollm2 + each character's active LoRA (lever 3)
    "gemma": GEMMA,  # the stage defaults on Gemma 3 270M
    "default": [],  # `dramatis stage` as shipped (Gemma 3 270M since 2026-12-04)
    "qwen": ["--model", "qwen1.5b"],  # the stage defaults on the opt-in 1.5B (`make large-model`)
    # Lever 3 on Gemma (adapters trained with `dramatis train --model gemma3-270m`), and
    # the shared stage voice (`dramatis train --stage-voice`) alone and under them.
    "gemma-adapters": [*GEMMA, "--adapters"],
    "voice": [*GEMMA, "--stage-voice", "1"],
    "voice-adapters": [*GEMMA, "--adapters", "--stage-voice", "1"],
    "voice-half-adapters": [*GEMMA, "--adapters", "--stage-voice", "0.5"],
    # Lever 4: the same as gemma-adapters, run after `dramatis train --dpo` made each
    # character's DPO version active (so the label says which versions were staged).
    "dpo": [*GEMMA, "--adapters"],
    # ... and with every DPO version made active, also those the registry kept inactive
    # because they validated worse than their start (`dramatis adapters activate`).
    "dpo-all": [*GEMMA, "--adapters"],
    # Best-of-3 keeps a candidate that moves the talk on (agents/guard.py: dwells).
    "moveon": [*GEMMA, "--set", "move_on=true"],
    # Round 5: "before" is the default at the start of the round, run by that checkout's
    # own `dramatis` (--baseline-dramatis); "voice-off" is this checkout without the
    # stage voice (levers 4-6 alone); "default" above is the shipped default with it.
    "before": [],
    "voice-off": ["--stage-voice", "0"],
    "length-off": ["--set", "length_share=0"],
    # Round 6: the length floor's share, tuned on the round-4 casts with the voice on.
    "length-0.4": ["--set", "length_share=0.4"],
    # Round 7: a token limit drawn with the floor (agents/length.py), tuned on the round-4
    # casts; with and without the first-sentence-end stop past the floor.
    "ceil-1.0": ["--set", "length_ceiling=1.0"],
    "ceil-1.0-epf": ["--set", "length_ceiling=1.0", "--set", "end_past_floor=true"],
    "ceil-1.5-epf": ["--set", "length_ceiling=1.5", "--set", "end_past_floor=true"],
    # ... and the penalties sparing commas (agents/model.py spare_commas)
    "spare": ["--set", "spare_commas=true"],
    "spare-ceil": ["--set", "spare_commas=true", "--set", "length_ceiling=1.0"]
    + ["--set", "end_past_floor=true"],
    # Round 8, tuned on the round-4 casts: the run-on past a cut (finish_tokens, 24 by
    # default), the floor's share, and the stage voice's scale.
    "fin-0": ["--set", "finish_tokens=0"],
    "fin-8": ["--set", "finish_tokens=8"],
    "share-0.6": ["--set", "length_share=0.6"],
    "voice-1.5": ["--stage-voice", "1.5"],
    # Lever 3 of issue 22: each character's adapter trained on the stage voice
    # (`dramatis train NAME`, voice scale 1), stacked on it as the default serves it.
    "adapters-on-voice": ["--adapters"],
    # Round 9, tuned on the round-4 casts: the sampling temperature (the voice was trained
    # at 1; 0.8 favours the commonest words) and one real exchange a turn instead of two.
    "temp-1.0": ["--set", "temperature=1.0"],
    "temp-0.9": ["--set", "temperature=0.9"],  # round 14: between the default and the voice's own
    # Round 14: llama.cpp's own tail cut (top_k 40, min_p 0.05, before the temperature) off
    "minp-0": ["--set", "min_p=0", "--set", "top_k=0"],
    "minp-0.02": ["--set", "min_p=0.02", "--set", "top_k=0"],
    "topk-200": ["--set", "top_k=200"],  # the nucleus within the 200 likeliest (sorts less)
    # Round 15: keep the candidate with the fewest words no play uses; with r2, up to 2
    # more draws while all three have one.
    "known": ["--set", "prefer_known=true"],
    "known-r2": ["--set", "prefer_known=true", "--set", "known_redraws=2"],
    # Round 19: each candidate with such a word drawn again in its place (known_replace)
    "known-rep": ["--set", "prefer_known=true", "--set", "known_replace=true"],
    # Round 15: a top-k that binds at 0.6% of the voice's positions, for speed
    "topk-5000": ["--set", "top_k=5000"],
    # Round 16: the sampler draws only words the plays use or the page holds
    "known-only": ["--set", "known_only=true"],
    # Round 16, for speed: fewer candidates a turn (three by default since round 2)
    "best-2": ["--set", "best_of=2"],
    "best-1": ["--set", "best_of=1"],
    # Round 17: the bundled Gemma with its small vocabulary (the default since) or whole;
    # the switch is the environment's (ENVS).
    "small-vocab": [],
    "full-vocab": [],
    # Round 18: the critic also weighs how much a candidate sounds like the plays rather
    # than like the model's own speeches (agents/critic.py Realness). real-1 ran with the
    # first table (its length buckets counted words no play uses); real-2 with the
    # shipped one.
    "real-1": ["--set", "real_weight=1"],
    "real-2": ["--set", "real_weight=1"],
    # Round 18: every draw's function words moved toward the plays' rates (word_rates).
    "rates-1": ["--set", "word_rates=1"],  # staged before the tilt left out " O" and bare spellings
    "rates-2": ["--set", "word_rates=1"],  # the tilt as shipped
    # The default, its transcripts keeping each turn's candidates (benchmarks/choice_study.py).
    "default-kc": ["--set", "keep_candidates=true"],
    # The realness table's "made" class (make realness): the model's speeches chosen by the
    # style critic alone, whatever the default's real_weight.
    "style-critic": ["--set", "real_weight=0"],
    "ex-1": ["--set", "n_examples=1"],
    "ex-0": ["--set", "n_examples=0"],  # no real exchanges: the voice alone
    "temp-1.0-ex-1": ["--set", "temperature=1.0", "--set", "n_examples=1"],
    # The speaker's own words raised (a logit bias until someone has said each).
    "own-1": ["--set", "own_words=1"],
    "own-2": ["--set", "own_words=2"],
    # Round 10: the stage voice cooled down to step 460 (training/make_voice.py --cooldown),
    # staged by a checkout whose training/data/stage_voice holds it; otherwise the defaults.
    "cool": [],
    "cool-0.7": ["--stage-voice", "0.7"],
    "cool-ex-1": ["--set", "n_examples=1"],
    # Every cast member's exchanges above the transcript, the same all scene (the prefix
    # is shared by every speaker: prefill 0.11 of a new process's, benchmarks/prefix_reuse.py).
    "scene": ["--set", "examples_place=scene"],
    "scene-ex-1": ["--set", "examples_place=scene", "--set", "n_examples=1"],
    # ... and the speaker's own one exchange of the turn below the transcript (0.27)
    "both-ex-1": ["--set", "examples_place=both", "--set", "n_examples=1"],
    # Round 20: the cast critic's log odds (real lines against made speeches), half weight.
    "cast-0.5": ["--set", "cast_weight=0.5"],
    "cast-1.0": ["--set", "cast_weight=1.0"],
    # The same at 0.5, the critic's classes weighed alike in every length band and its log
    # odds' slope on length taken off (staged by a checkout that has them).
    "castln-0.5": ["--set", "cast_weight=0.5"],
    "castln-1.0": ["--set", "cast_weight=1.0"],
    # cast-1.0 with each speech's floor at 0.9 of a drawn real speech (0.8 by default).
    "cast-1.0-ls0.9": ["--set", "cast_weight=1.0", "--set", "length_share=0.9"],
    # Round 21: the repeat and presence penalties (1.2 and 0.3 since round 1, set on
    # SmolLM2) lowered: a speech repeats its own words a third as often as the plays do.
    "rp-1.1": ["--set", "repeat_penalty=1.1"],
    "pen-0": ["--set", "repeat_penalty=1.0", "--set", "presence_penalty=0.0"],
    # ... or kept, sparing the plays' small words as commas are spared (SPARED_WORDS)
    "spare-w": ["--set", "spare_words=true"],
    # The default staged by a checkout whose guard cuts a heading after a dash (e77956a)
    "guard": [],
    # Round 22: a candidate naming a person of another play drawn again (no_strangers);
    # word-starting tokens of six letters or more raised by a logit bias (long_words).
    "strangers": ["--set", "no_strangers=true"],
    # Round 23: a candidate calling the one it speaks to by a title of the other sex drawn
    # again (fit_titles)
    "titles": ["--set", "fit_titles=true"],
    # ... and a candidate naming someone no play names (no_invented), on top of it
    "invented": ["--set", "fit_titles=true", "--set", "no_invented=true"],
    "lw-0.5": ["--set", "long_words=0.5"],
    "lw-1.0": ["--set", "long_words=1.0"],
    # ... and the step-820 stage voice served at 1.25 (the shipped scale is 1)
    "voice-1.25": ["--stage-voice", "1.25"],
    # Round 11: the stage voice's long cool-down (steps 310-760, make_voice --cooldown 450
    # --cooldown-from 310), staged by a checkout whose training/data/stage_voice holds it.
    "long": [],
    # Round 11, each staged by a checkout of its time: "addr" with the address guard (then
    # off by default, knowing the speaker's own play's names), "numerals" by one that
    # bars numerals, "addr-numerals" both. From a later checkout, where the guard is on,
    # "numerals" needs --set address_present=false.
    "addr": ["--set", "address_present=true"],
    "numerals": [],
    "addr-numerals": ["--set", "address_present=true"],
    # The round-11 default: both, the guard knowing every cast member's play's names.
    "r11": [],
    # Round 12: the stage voice re-warmed at step 480 towards half its rate and cooled down
    # again in a line to a tenth by step 820 (make_voice --rewarm 0.5 --rewarm-from 480
    # --max-steps 820), staged by a checkout whose training/data/stage_voice holds it;
    # otherwise the round-11 defaults.
    "rw": [],
    # Round 13: "det" the step-820 voice with the address finder that also hears "No,
    # Cassius,", "O, sir, Horatio,", ", Sir Orsino!", "Tell me, Cassius, what" and a call
    # at a speech's end, and no cry in single quotes (the guard redraws what it flags);
    # "r13" that finder with the voice re-warmed again at step 820 and cooled down to a
    # tenth by step 1100 (make_voice --rewarm 0.5 --rewarm-from 480,820 --max-steps 1100).
    "det": [],
    "r13": [],
}
ENVS = {  # label -> environment of its stage commands
    "small-vocab": {"DRAMATIS_SMALL_VOCAB": "1"},
    "full-vocab": {"DRAMATIS_SMALL_VOCAB": "0"},
}
OLD_CODE = ("baseline", "before")  # configurations staged by --baseline-dramatis
SEEDS = (1, 2, 3, 4, 5)
TURNS = 12


def command(dramatis: str, config: str, cast: str, scene: str, seed: int, out: Path) -> list[str]:
    """The stage command line of one run."""
    args = [dramatis, "stage", "--cast", cast, "--turns", str(TURNS), "--seed", str(seed)]
    args += ["--scene", scene] if scene else []
    return [*args, *(CONFIGS[config] or []), "--out", str(out)]


def finished(out: Path) -> bool:
    """Whether a run holds all its generated turns (transcripts grow turn by turn)."""
    path = out / "transcript.jsonl"
    if not path.exists():
        return False
    turns = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    return sum(t["source"] != "play" for t in turns) >= TURNS


def share_home(home: Path, user_home: Path) -> None:
    """Give a configuration's own home the user's trained adapters and assembled large model.

    Each configuration stages in its own home (its scenes database and caches apart), but
    `--adapters` and `--model qwen1.5b` need what `dramatis train` and `make large-model`
    left in the user's home: linked, never copied.
    """
    wanted = [("adapters", user_home / "adapters"), (f"cache/{LARGE}", user_home / "cache" / LARGE)]
    for name, source in wanted:
        link = home / name
        if source.exists() and not link.exists():
            link.parent.mkdir(parents=True, exist_ok=True)
            link.symlink_to(source.resolve())


def stage(cmd: list[str], out: Path, home: Path, extra: dict[str, str] | None = None) -> str:
    """Run one stage command unless it finished before; a one-line status."""
    if finished(out):
        return f"kept {out}"
    shutil.rmtree(out, ignore_errors=True)
    env = {**os.environ, "DRAMATIS_HOME": str(home), "DRAMATIS_THREADS": "1", "HF_HUB_OFFLINE": "1"}
    env.update(extra or {})
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=1800)
    if done.returncode != 0:
        shutil.rmtree(out, ignore_errors=True)
        return f"FAILED {out}: {done.stderr.strip().splitlines()[-1:]}"
    return f"staged {out}"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", type=Path, default=Path("runs/fidelity"))
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--configs", default=",".join(CONFIGS))
    ap.add_argument("--baseline-dramatis", default="")
    ap.add_argument(
        "--dramatis",
        default="",
        help="the `dramatis` of the other configurations (default: this one)",
    )
    ap.add_argument("--seeds", default=",".join(map(str, SEEDS)))
    ap.add_argument("--casts", default="round4", choices=sorted(CAST_SETS))
    ap.add_argument("--cells", default="", help="only these cells (2same,4cross)")
    args = ap.parse_args()
    mine = args.dramatis or str(Path(sys.executable).with_name("dramatis"))
    jobs = []
    for seed in map(
        int, args.seeds.split(",")
    ):  # seed outermost: a cut-short grid still has every cell
        for label, (cast, scene) in CAST_SETS[args.casts].items():
            if args.cells and label not in args.cells.split(","):
                continue
            for config in args.configs.split(","):
                exe = (
                    args.baseline_dramatis
                    if config in OLD_CODE and args.baseline_dramatis
                    else mine
                )
                out = args.out / config / f"{label}-s{seed}"
                home = args.out / ".home" / config
                cmd = command(exe, config, cast, scene, seed, out)
                jobs.append((cmd, out, home, ENVS.get(config)))
    user_home = Path(os.environ.get("DRAMATIS_HOME", "~/.dramatis")).expanduser()
    for home in dict.fromkeys(home for _, _, home, _ in jobs):  # before the workers: no race
        share_home(home, user_home)
    with ThreadPoolExecutor(args.workers) as pool:
        for line in pool.map(lambda job: stage(*job), jobs):
            print(line, flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
