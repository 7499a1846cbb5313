"""Make the shipped stage voice: train (or resume) the canon language model and write the
GGUF LoRA and its manifest into the package (`make stage-voice`).

    python -m dramatis.training.make_voice [--minutes 75] [--checkpoint runs/stage-voice]
        [--out training/data/stage_voice] [--threads 2] [--where "cpu, 2 cores"]
        [--max-steps 820] [--cooldown 150 [--cooldown-from 310]] [--rewarm 0.5 [--rewarm-from 480[,820]]]
        [--new-data] [--export-only]

The checkpoint folder keeps the run: call it again with the same options and it goes
on from the last checkpoint, so a budget can span several sessions or machines. Every
call ends by exporting what the run has reached.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import sys
import tempfile
import time
from pathlib import Path

from dramatis.core.errors import DramatisError
from dramatis.core.settings import Settings
from dramatis.training.canon import build_canon
from dramatis.training.lm_voice import LMVoiceConfig, RunState, check_rewarm_top, run

PACKAGE_DIR = Path(__file__).resolve().parent / "data" / "stage_voice"
MANIFEST = "manifest.json"


def voice_file_name(base_name: str) -> str:
    """voice_file_name("gemma-3-270m-Q4_K_M.gguf") -> "gemma-3-270m-Q4_K_M.voice.gguf" """
    return base_name.removesuffix(".gguf") + ".voice.gguf"


def pages_note(state: RunState) -> dict:
    """Where the validation pages changed within the history (the plays' parse changed and
    the run went on with --new-data): from that step on, `history` and "before" are on
    the new pages. {} when they never changed."""
    changed = state.pages_changed
    if changed is None:
        return {}
    return {"pages_changed_at_step": changed["at_step"],
            "before_on_first_pages": round(math.exp(state.val[0][1]), 2)}  # fmt: skip


def export(model, base_config, state: RunState, data, ref, out: Path) -> Path:
    """The adapter as GGUF (f16) into `out`, with a manifest beside it."""
    from dramatis.training.export import export_gguf

    out.mkdir(parents=True, exist_ok=True)
    target = out / voice_file_name(ref.name)
    with tempfile.TemporaryDirectory() as tmp:
        model.save_pretrained(tmp, safe_serialization=True)
        export_gguf(
            Path(tmp),
            target,
            n_head=base_config.num_attention_heads,
            n_kv_head=base_config.num_key_value_heads,
            model_type=base_config.model_type,
            metadata={"character": "Stage voice", "play": "plays", "base_sha256": ref.sha256},
        )
    manifest = {
        "file": target.name,
        "sha256": hashlib.sha256(target.read_bytes()).hexdigest(),
        "bytes": target.stat().st_size,
        "base_model": ref.name,
        "base_sha256": ref.sha256,
        "recipe": "python -m dramatis.training.make_voice (make stage-voice)",
        "data": {
            "layout": "pages: persons, setting line, NAME: speech lines (training/canon.py)",
            "train_plays": data.train_plays,
            "held_out_plays": data.val_plays,
            "train_sequences": len(data.train),
            "train_tokens": data.tokens("train"),
            "train_supervised_tokens": data.supervised("train"),
            "val_sequences": len(data.val),
            "val_supervised_tokens": data.supervised("val"),
            "sha256": data.sha256,
        },
        "config": state.config,
        "steps": state.step,
        "sequences_seen": state.seen,
        "tokens_seen": state.tokens,
        "supervised_tokens_seen": state.supervised,
        "epochs": round(state.seen / max(1, len(data.train)), 3),
        "train_seconds": round(state.seconds, 1),
        "validation_perplexity": {
            "before": round(state.ppl_before or math.nan, 2),
            "after": round(state.ppl_after or math.nan, 2),
            "history": [[s, round(math.exp(v), 2)] for s, v in state.val],
            **pages_note(state),
        },
        "runs": state.runs,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    (out / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n")
    return target


def seed_from_shipped(
    out: Path, checkpoint: Path, cfg: LMVoiceConfig, data_sha: str, base_config
) -> str:
    """Start `checkpoint` from the voice exported into `out` when there is no checkpoint
    and the export was made with this configuration and data: its adapter (f16 GGUF, read
    back as float32) and its progress from the manifest; AdamW's moments start afresh.
    So a run can go on in a new checkout, where only the package's files are. A note, or
    "" when nothing was seeded."""
    from dataclasses import asdict

    from safetensors.numpy import save_file

    from dramatis.training.fold import peft_state, read_gguf_lora

    if (checkpoint / "state.json").exists() or not (out / MANIFEST).is_file():
        return ""
    manifest = json.loads((out / MANIFEST).read_text())
    if manifest.get("config") != cfg.to_json() or manifest["data"].get("sha256") != data_sha:
        return ""
    lora = read_gguf_lora(out / manifest["file"])
    checkpoint.mkdir(parents=True, exist_ok=True)
    heads = (base_config.num_attention_heads, base_config.num_key_value_heads)
    save_file(peft_state(lora, *heads), str(checkpoint / "adapter.safetensors"))
    history = manifest["validation_perplexity"]["history"]
    state = RunState(
        config=manifest["config"],
        data_sha256=data_sha,
        step=manifest["steps"],
        seen=manifest["sequences_seen"],
        tokens=manifest["tokens_seen"],
        supervised=manifest["supervised_tokens_seen"],
        seconds=manifest["train_seconds"],
        val=[[step, math.log(ppl)] for step, ppl in history],
        runs=[*manifest["runs"], {"seeded": "from the shipped f16 adapter; AdamW moments afresh"}],
    )
    (checkpoint / "state.json").write_text(json.dumps(asdict(state), indent=1) + "\n")
    return f"going on from the shipped voice at step {state.step} ({out / manifest['file']})"


def _steps(text: str) -> list[int]:
    """`--rewarm-from 480,820` -> [480, 820]."""
    try:
        return [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r}: give whole steps, such as 480 or 480,820"
        ) from None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--minutes", type=float, default=75.0, help="training time for this call")
    ap.add_argument("--max-steps", type=int, default=None, help="stop at this step in all")
    ap.add_argument("--checkpoint", type=Path, default=Path("runs/stage-voice"))
    ap.add_argument("--out", type=Path, default=PACKAGE_DIR)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--where", default="cpu", help="recorded in the manifest: the machine")
    ap.add_argument("--seq-tokens", type=int, default=LMVoiceConfig.seq_tokens)
    ap.add_argument("--lr", type=float, default=LMVoiceConfig.lr)
    ap.add_argument("--rank", type=int, default=LMVoiceConfig.r)
    ap.add_argument("--export-only", action="store_true", help="export the checkpoint as it is")
    ap.add_argument(
        "--cooldown",
        type=int,
        default=0,
        metavar="STEPS",
        help="bring the rate down to a tenth over STEPS steps, from the checkpoint's step "
        "or --cooldown-from (a checkpoint that began a cool-down goes on with it)",
    )
    ap.add_argument(
        "--cooldown-from",
        type=int,
        default=None,
        metavar="STEP",
        help="begin the --cooldown at this step rather than now (the rate holds until "
        "then): the shipped schedule in one call",
    )
    ap.add_argument(
        "--rewarm",
        type=float,
        default=None,
        metavar="TOP",
        help="after the cool-down, raise the rate again towards TOP times --lr and bring "
        "it down once more in a line to a tenth by --max-steps",
    )
    ap.add_argument(
        "--rewarm-from",
        type=_steps,
        default=None,
        metavar="STEP[,STEP...]",
        help="begin the --rewarm at this step rather than now (the cool-down's tenth holds "
        "until then); several steps ask for several re-warms, each ending where the next "
        "begins and the last at --max-steps",
    )
    ap.add_argument(
        "--new-data",
        action="store_true",
        help="go on from a checkpoint made on other data (the plays' parse changed since); "
        "recorded in the checkpoint's runs",
    )
    args = ap.parse_args(argv)
    if args.cooldown_from is not None and not args.cooldown:
        ap.error("--cooldown-from needs --cooldown STEPS (how long the cool-down lasts)")
    if args.rewarm is not None and args.max_steps is None:
        ap.error("--rewarm needs --max-steps: its cool-down ends there")
    if args.rewarm is not None:
        try:
            check_rewarm_top(args.rewarm)  # before the base and the canon load
        except DramatisError as exc:
            ap.error(str(exc))
    if args.rewarm_from is not None and args.rewarm is None:
        ap.error("--rewarm-from needs --rewarm TOP (the rate it climbs back to)")
    try:
        return make(args)
    except DramatisError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def make(args) -> int:
    import torch

    from dramatis.training.pipeline import open_base

    torch.set_num_threads(max(1, args.threads))
    cfg = LMVoiceConfig(seq_tokens=args.seq_tokens, lr=args.lr, r=args.rank, alpha=2 * args.rank)
    ref, base, tokenizer = open_base(Settings.load())

    def tokenize(text: str) -> list[int]:
        return tokenizer(text, add_special_tokens=False)["input_ids"]

    started = time.perf_counter()
    data = build_canon(
        tokenize, seq_tokens=cfg.seq_tokens, seed=cfg.seed, held_out=cfg.held_out,
        val_sequences=cfg.val_sequences, bos=tokenizer.bos_token_id,
    )  # fmt: skip
    print(
        f"canon: {len(data.train_plays)} plays, {len(data.train)} sequences, "
        f"{data.tokens():,} tokens ({data.supervised():,} supervised); held out "
        f"{', '.join(data.val_plays)} ({len(data.val)} sequences); "
        f"{time.perf_counter() - started:.0f} s",
        flush=True,
    )

    if note := seed_from_shipped(args.out, args.checkpoint, cfg, data.sha256, base.config):
        print(note, flush=True)

    def progress(state: RunState, loss: float) -> None:
        if state.step % 5 == 0:
            rate = state.tokens / max(1e-9, state.seconds)
            val = f" val ppl {math.exp(state.val[-1][1]):.1f}@{state.val[-1][0]}"
            print(f"step {state.step} loss {loss:.3f} {rate:.0f} tok/s{val}", flush=True)

    minutes = 0.0 if args.export_only else args.minutes
    model, state = run(
        base, data, cfg, args.checkpoint, minutes=minutes, max_steps=args.max_steps,
        where=args.where, progress=progress, cooldown=args.cooldown,
        cooldown_from=args.cooldown_from, new_data=args.new_data, rewarm=args.rewarm,
        rewarm_from=args.rewarm_from,
    )  # fmt: skip
    target = export(model, base.config, state, data, ref, args.out)
    print(
        f"stage voice: {target} ({target.stat().st_size / 1e6:.1f} MB), step {state.step}, "
        f"validation perplexity {state.ppl_before:.1f} -> {state.ppl_after:.1f}",
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
