"""`dramatis train NAME...` (a plain command) and `dramatis adapters
list|activate|rollback|remove|export`."""

from __future__ import annotations

import json
import time
from functools import partial
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from dramatis.core.settings import Settings

adapters_app = typer.Typer(
    help="List, activate, roll back and remove adapters.", no_args_is_help=True
)

DEFAULT_MINUTES = 10.0  # training budget per character, without --minutes or --steps

Home = Annotated[Path | None, typer.Option(help="State folder (adapters live in HOME/adapters).")]
CharacterArg = Annotated[str, typer.Argument(help="Character, e.g. Hamlet or macbeth:Banquo.")]
VersionArg = Annotated[str, typer.Argument(help="Version, e.g. v2.")]


def _progress_bar(console: Console, name: str):
    """A rich progress bar with loss, drawn from the first step on (so an error before
    training, such as an unknown name, comes alone); returns (progress, callback)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    bar = Progress(
        TextColumn(f"[bold]{name}[/bold]"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("loss {task.fields[loss]:.3f}"),
        TimeElapsedColumn(),
        console=console,
    )
    task = bar.add_task(name, total=None, loss=float("nan"))

    def update(step: int, total: int, loss: float, seconds: float) -> None:
        bar.start()  # a no-op once started
        bar.update(task, completed=step, total=total, loss=loss)

    return bar, update


def train_cmd(
    names: Annotated[
        list[str] | None, typer.Argument(help="Characters, e.g. Hamlet 'macbeth:Banquo'.")
    ] = None,
    play: Annotated[
        str | None, typer.Option(help="Play key when the name is ambiguous, e.g. hamlet.")
    ] = None,
    default_cast: Annotated[
        bool, typer.Option("--default-cast", help="Train the 10-character default cast.")
    ] = False,
    minutes: Annotated[
        float | None,
        typer.Option(
            "--minutes",
            "--max-minutes",
            min=0.1,
            help="Training budget per character, in minutes of the training loop (loading, "
            "validation and export come on top; --dpo: the whole run). Default 10, none "
            "with --steps.",
        ),
    ] = None,
    steps: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Optimizer steps, all of them unless --minutes ends the loop first "
            "(default: one epoch, within the budget).",
        ),
    ] = None,
    rank: Annotated[int, typer.Option("--r", min=1, help="LoRA rank.")] = 8,
    alpha: Annotated[int | None, typer.Option(min=1, help="LoRA alpha (default: 2 × r).")] = None,
    dropout: Annotated[float, typer.Option(min=0.0, max=0.9, help="LoRA dropout.")] = 0.05,
    targets: Annotated[
        str, typer.Option(help="Comma-separated projections to adapt.")
    ] = "q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj",
    lr: Annotated[
        float | None, typer.Option(help="Learning rate (default 3e-4; with --dpo 5e-4).")
    ] = None,
    grad_accum: Annotated[
        int | None,
        typer.Option(min=1, help="Examples (with --dpo: pairs) per optimizer step (default 8; 2)."),
    ] = None,
    curriculum: Annotated[bool, typer.Option(help="Order training pairs easy to hard.")] = False,
    prompt_format: Annotated[
        str,
        typer.Option("--format", help="Prompt format to train on: page (as stage serves) | chat."),
    ] = "page",
    history_tokens: Annotated[
        int | None,
        typer.Option(
            min=32,
            help="Token budget for the scene so far in each prompt (default: the agents' own, "
            "900); less trains faster on the same format.",
        ),
    ] = None,
    checkpointing: Annotated[
        bool, typer.Option(help="Gradient checkpointing (less memory, slower).")
    ] = False,
    seed: Annotated[int, typer.Option(help="Seed for order, init and dropout.")] = 0,
    model: Annotated[
        str | None, typer.Option(help="Base model: bundled name or .gguf path.")
    ] = None,
    threads: Annotated[int | None, typer.Option(help="torch threads.")] = None,
    dpo: Annotated[
        bool,
        typer.Option(
            "--dpo",
            help="Preference stage: DPO on the active adapter (or a fresh LoRA), the real "
            "line over another character's.",
        ),
    ] = False,
    beta: Annotated[
        float, typer.Option(min=0.0, help="With --dpo: how far from the start it may move.")
    ] = 0.1,
    sft_weight: Annotated[
        float,
        typer.Option(
            min=0.0, help="With --dpo: weight of an SFT term on the real lines (0: plain DPO)."
        ),
    ] = 1.0,
    own_replies: Annotated[
        int,
        typer.Option(
            min=0,
            help="With --dpo: also rank the model's own reply below the real "
            "line for the first N training pages.",
        ),
    ] = 0,
    stage_voice: Annotated[
        bool,
        typer.Option(
            "--stage-voice",
            help="Train the shared stage voice (many characters of many plays) instead of "
            "characters; stage with it under each character's adapter: stage --stage-voice 1.",
        ),
    ] = False,
    voice_scale: Annotated[
        float | None,
        typer.Option(
            "--voice-scale",
            min=0.0,
            max=2.0,
            help="Train each character on the stage voice folded into the base at this "
            "scale, as `stage --stage-voice S` serves it (0: the bare base). Default: 1 "
            "where a voice exists for the model (shipped or trained here), else 0.",
        ),
    ] = None,
    voice_play: Annotated[
        list[str] | None,
        typer.Option(help="With --stage-voice: a play to draw from (repeat; default: all)."),
    ] = None,
    voice_exclude: Annotated[
        list[str] | None,
        typer.Option(help="With --stage-voice: a play to leave out (repeat)."),
    ] = None,
    home: Home = None,
) -> None:
    """Train an adapter per character; a new version becomes active when it validates
    no worse than the base (with --dpo: than the version it started from)."""
    from dramatis.agents.formats import formats
    from dramatis.core.errors import DramatisError
    from dramatis.personas.cast import default_roles
    from dramatis.training.dataset import DataConfig
    from dramatis.training.trainer import AdapterConfig, TrainConfig

    trainable = [f.name for f in formats()]  # not "auto": a pair is made in one format
    if prompt_format not in trainable:
        raise DramatisError(
            f"--format {prompt_format!r}: train in the format the scenes are served in, one "
            f"of {', '.join(trainable)}"
        )
    todo = list(names or []) + (default_roles() if default_cast else [])
    if stage_voice and (todo or dpo):
        raise DramatisError(
            "--stage-voice trains the shared voice alone: drop the names, --default-cast and --dpo"
        )
    if voice_scale is not None and (stage_voice or dpo):
        raise DramatisError(
            "--voice-scale is for training characters: --stage-voice trains the voice itself, "
            "and --dpo goes on on the voice its start was trained on; drop --voice-scale"
        )
    if not todo and not stage_voice:
        raise DramatisError(
            "name a character to train, e.g. `dramatis train Hamlet`, or pass --default-cast"
        )
    settings = Settings.load(home=home, model=model).ensure()
    projections = tuple(t.strip() for t in targets.split(",") if t.strip())
    cfg = TrainConfig(
        adapter=AdapterConfig(rank, alpha or 2 * rank, dropout, projections),
        data=DataConfig(
            prompt_format=prompt_format,
            curriculum=curriculum,
            seed=seed,
            **({"history_tokens": history_tokens} if history_tokens else {}),
        ),
        lr=lr or 3e-4,
        grad_accum=grad_accum or 8,
        max_steps=steps,
        max_minutes=minutes if minutes is not None else (None if steps else DEFAULT_MINUTES),
        gradient_checkpointing=checkpointing,
        threads=threads,
        seed=seed,
    )
    if dpo:
        cfg = _dpo_config(
            cfg, beta=beta, sft_weight=sft_weight, lr=lr, grad_accum=grad_accum, own=own_replies
        )
    console, started = Console(), time.perf_counter()
    if stage_voice:
        from dramatis.personas import list_plays
        from dramatis.training.voice import VoiceConfig, chosen_plays

        voice = VoiceConfig(plays=tuple(voice_play or ()), exclude=tuple(voice_exclude or ()))
        chosen_plays(voice, list_plays())  # a bad play key fails before the model loads
        _train_voice(console, settings, cfg, voice)
        return
    rows = [
        _train_one(console, name, (i, len(todo)), settings, cfg, play, voice_scale)
        for i, name in enumerate(todo, start=1)
    ]
    _summary(console, rows, started)


def _dpo_config(
    cfg,
    *,
    beta: float,
    sft_weight: float,
    lr: float | None,
    grad_accum: int | None,
    own: int,
):
    """The DPO stage's config from `train`'s options (the SFT config `cfg` built from them)."""
    from dramatis.training.dpo import DPOTrainConfig
    from dramatis.training.preference import PairConfig

    return DPOTrainConfig(
        adapter=cfg.adapter,
        data=cfg.data,
        pairs=PairConfig(own_replies=own, seed=cfg.seed),
        beta=beta,
        sft_weight=sft_weight,
        lr=lr or DPOTrainConfig.lr,
        grad_accum=grad_accum or DPOTrainConfig.grad_accum,
        max_steps=cfg.max_steps,
        max_minutes=cfg.max_minutes,
        threads=cfg.threads,
        seed=cfg.seed,
    )


def _train_one(
    console: Console,
    name: str,
    place: tuple[int, int],
    settings: Settings,
    cfg,
    play: str | None,
    voice_scale: float | None = None,
) -> tuple[str, str, bool]:
    """(character, outcome, trained?) for one character; alone, its error is raised."""
    from dramatis.core.errors import DramatisError
    from dramatis.training import pipeline
    from dramatis.training.dpo import DPOTrainConfig

    dpo = isinstance(cfg, DPOTrainConfig)
    train_character = pipeline.train_character_dpo if dpo else pipeline.train_character
    if voice_scale is not None:  # else the pipeline's default: on the voice where one exists
        train_character = partial(train_character, voice_scale=voice_scale)

    i, total = place
    if total > 1:
        console.rule(f"[bold]{i}/{total} {name}[/bold]")
    began = time.perf_counter()
    bar, update = _progress_bar(console, name)
    try:
        try:
            found = train_character(
                name, settings, cfg, play=play, progress=update, log=console.print
            )
        finally:
            bar.stop()
    except DramatisError as err:
        if total == 1:
            raise
        console.print(f"[red]error:[/red] {name}: {err} (skipped; the others go on)")
        return name, f"failed: {err}", False
    m = found.meta
    outcome = (
        f"{m.steps} steps ({m.stopped_by}) · {(time.perf_counter() - began) / 60:.1f} min · "
        f"validation perplexity {m.ppl_before:.2f} -> {m.ppl_after:.2f}"
    )
    if not dpo and m.voice:
        outcome += (
            f" (on the stage voice at {m.voice['scale']:g}: the voice alone -> voice + adapter;"
            f" bare base {m.metrics['ppl_bare']:.2f})"
        )
    if dpo:
        outcome += (
            f" · preference accuracy {m.metrics['accuracy_before']:.2f} -> "
            f"{m.metrics['accuracy_after']:.2f} (from {f'v{m.parent}' if m.parent else 'a fresh LoRA'})"
        )
    if pipeline.better(m):
        console.print(f"[bold]{found.name}[/bold] active · {outcome}")
        return found.name, outcome, True
    outcome += (
        f" (worse than {'its start' if dpo else 'the voice alone' if m.voice else 'the base'}: kept, not active; "
        f"`dramatis adapters activate '{m.character}' v{m.version}` uses it anyway)"
    )
    console.print(f"[yellow]{found.name}[/yellow] · {outcome}")
    return found.name, outcome, True


def _train_voice(console: Console, settings: Settings, cfg, voice) -> None:
    from dramatis.training import pipeline

    began = time.perf_counter()
    bar, update = _progress_bar(console, "stage voice")
    try:
        found = pipeline.train_stage_voice(settings, cfg, voice, progress=update, log=console.print)
    finally:
        bar.stop()
    m = found.meta
    outcome = (
        f"{m.steps} steps ({m.stopped_by}) · {(time.perf_counter() - began) / 60:.1f} min · "
        f"validation perplexity {m.ppl_before:.2f} -> {m.ppl_after:.2f} "
        f"(held-out plays: {m.data.get('val_scenes', '')})"
    )
    state = "active" if pipeline.better(m) else "kept, not active (worse than the base)"
    console.print(f"[bold]{found.name}[/bold] {state} · {outcome}")


def _summary(console: Console, rows: list[tuple[str, str, bool]], started: float) -> None:
    """The closing table of a multi-character run; a DramatisError naming the failures."""
    from dramatis.core.errors import DramatisError

    if len(rows) > 1:
        done, total = sum(ok for *_, ok in rows), (time.perf_counter() - started) / 60
        console.rule(f"[bold]{done} of {len(rows)} trained in {total:.1f} min")
        for who, outcome, _ in rows:
            console.print(f"  {who}: {outcome}")
    if failed := [who for who, _, ok in rows if not ok]:
        raise DramatisError(
            f"{len(failed)} character(s) failed: {', '.join(failed)}; the others were saved "
            "and are active (see `dramatis adapters list`); retrain the failed ones by name"
        )


def _registry(home: Path | None):
    from dramatis.training.pipeline import registry_for

    return registry_for(Settings.load(home=home))


@adapters_app.command("list")
def list_cmd(
    name: Annotated[str | None, typer.Argument(help="Only this character.")] = None,
    home: Home = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print machine-readable JSON only.")
    ] = False,
) -> None:
    """Every adapter version, its validation perplexity and which one is active."""
    registry = _registry(home)
    chars = [registry.find_character(name)] if name else registry.characters()
    if as_json:
        typer.echo(json.dumps(adapter_rows(registry, chars), indent=2))
        return
    table = Table(
        "character", "play", "version", "base", "active", "ppl start -> adapter", "steps", "min",
        "created",
    )  # fmt: skip
    for character, play in chars:
        active = registry.active(character, play)
        served = registry.served(character, play)
        for v in registry.versions(character, play):
            m = v.meta
            ppl = f"{m.ppl_before:.2f} -> {m.ppl_after:.2f}" if m.ppl_after else "-"
            # *: the active version; +: the one a scene on its base uses (another base's
            # version is the active one)
            mark = "*" if active and active.version == v.version else ""
            mark = mark or ("+" if v.version in served else "")
            table.add_row(
                character,
                play,
                _version_label(m),
                _base_label(m.base_model),
                mark,
                ppl,
                str(m.steps),
                f"{m.seconds / 60:.1f}",
                m.created[:16],
            )
    Console().print(table if chars else f"no adapters in {registry.root}")


@adapters_app.command("score")
def score_cmd(
    name: CharacterArg,
    version: Annotated[
        str | None, typer.Option("--version", help="Version to score, e.g. v2 (default: active).")
    ] = None,
    voice_scale: Annotated[
        float | None,
        typer.Option(
            "--voice-scale",
            min=0.0,
            max=2.0,
            help="Serve it on the stage voice at this scale (0: the bare base; default 1 "
            "where a voice exists for the model).",
        ),
    ] = None,
    model: Annotated[
        str | None, typer.Option(help="Base model: bundled name or .gguf path.")
    ] = None,
    baselines: Annotated[
        bool,
        typer.Option(
            help="Also score the bare base and the voice alone (--no-baselines: the adapter "
            "only, a third of the time)."
        ),
    ] = True,
    home: Home = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print machine-readable JSON only.")
    ] = False,
) -> None:
    """Validation perplexity of an adapter on its own held-out pairs: the bare base, the
    stage voice alone, and the adapter stacked on the voice (whatever it was trained on)."""
    from dataclasses import asdict

    from dramatis.core.errors import DramatisError
    from dramatis.training.pipeline import score_version
    from dramatis.training.serving import trained_on

    settings = Settings.load(home=home, model=model).ensure()
    registry = _registry(settings.home)
    character, play = registry.find_character(name)
    if version is None:
        found = registry.active(character, play)
        if found is None:
            raise DramatisError(f"{character} ({play}) has no active adapter: pass --version vN")
    else:
        found = registry.get(character, play, _version(version))
    score = score_version(settings, found, voice_scale, baselines)
    if as_json:
        typer.echo(json.dumps({"name": found.name, **asdict(score)}, indent=2))
        return
    parts = [] if score.bare is None else [f"bare base {score.bare:.2f}"]
    if score.voice is not None:
        parts.append(f"the stage voice at {score.voice_scale:g} alone {score.voice:.2f}")
    on = f"on the voice at {score.voice_scale:g}" if score.voice_scale else "on the bare base"
    parts.append(f"the adapter {on} {score.adapter:.2f}")
    changed = "" if score.same_pairs else " (warning: its pairs have changed since it was trained)"
    typer.echo(
        f"{found.name} (trained on {trained_on(found.meta)}), validation perplexity: "
        + " · ".join(parts)
        + changed
    )


def _base_label(base_model: str) -> str:
    """The base column, short: "gemma-3-270m-q4_k_m.gguf" -> "gemma-3-270m";
    "SmolLM2-135M-Instruct.Q4_1.gguf" -> "SmolLM2-135M"."""
    stem = base_model.removesuffix(".gguf")
    for cut in ("-q4", "-Instruct", ".Q"):
        stem = stem.split(cut)[0]
    return stem


def _version_label(meta) -> str:
    """The version column: v2, or for a DPO version also where it started: v3 dpo (from v2);
    the stage voice: v1 voice; one trained on the stage voice: v2 on voice 1."""
    on = f" on voice {float(meta.voice['scale']):g}" if meta.voice else ""
    if meta.stage == "sft":
        return f"v{meta.version}{on}"
    if meta.stage == "voice":
        return f"v{meta.version} voice"
    start = f"v{meta.parent}" if meta.parent else "fresh"
    return f"v{meta.version} {meta.stage} (from {start}){on}"


def adapter_rows(registry, chars: list[tuple[str, str]]) -> list[dict]:
    """`adapters list --json`: one object per version (see docs/ecosystem.md)."""
    rows = []
    for character, play in chars:
        active = registry.active(character, play)
        served = registry.served(character, play)
        for v in registry.versions(character, play):
            m = v.meta
            rows.append(
                {
                    "character": character,
                    "play": play,
                    "version": v.version,
                    "name": v.name,
                    "active": bool(active and active.version == v.version),
                    "served": v.version in served,
                    "ppl_before": m.ppl_before,
                    "ppl_after": m.ppl_after,
                    "steps": m.steps,
                    "seconds": m.seconds,
                    "stage": m.stage,
                    "parent": m.parent,
                    "metrics": m.metrics,
                    "voice": m.voice,
                    "base_model": m.base_model,
                    "created": m.created,
                    "path": str(v.folder),
                }
            )
    return rows


def _version(text: str) -> int:
    from dramatis.core.errors import DramatisError

    try:
        return int(text.lower().lstrip("v"))
    except ValueError:
        raise DramatisError(f"version {text!r}: write it like v2 or 2") from None


@adapters_app.command("activate")
def activate_cmd(name: CharacterArg, version: VersionArg, home: Home = None) -> None:
    """Make a version the active one."""
    registry = _registry(home)
    found = registry.activate(*registry.find_character(name), _version(version))
    typer.echo(f"{found.name} is active")


@adapters_app.command("rollback")
def rollback_cmd(name: CharacterArg, home: Home = None) -> None:
    """Go back to the previously active version."""
    registry = _registry(home)
    found = registry.rollback(*registry.find_character(name))
    typer.echo(f"{found.name} is active")


@adapters_app.command("remove")
def remove_cmd(name: CharacterArg, version: VersionArg, home: Home = None) -> None:
    """Delete a version (the previous active one takes over if it was active)."""
    registry = _registry(home)
    character, play = registry.find_character(name)
    registry.remove(character, play, _version(version))
    active = registry.active(character, play)
    typer.echo(f"removed; active: {active.name if active else 'none (base model)'}")


@adapters_app.command("export")
def export_cmd(
    name: CharacterArg,
    out: Annotated[Path, typer.Option("--out", help="Folder to write the adapter into.")],
    fold_voice: Annotated[
        bool,
        typer.Option(
            help="Fold the stage voice into the adapter (one LoRA of rank r1 + r2 equal to "
            "the stacked pair), for servers that apply one adapter per request (vLLM)."
        ),
    ] = True,
    voice_scale: Annotated[
        float, typer.Option(min=0.0, max=2.0, help="The voice's scale, as stage --stage-voice.")
    ] = 1.0,
    model: Annotated[str | None, typer.Option(help="The base the adapter serves on.")] = None,
    home: Home = None,
) -> None:
    """Write a character's adapter as a peft folder and a GGUF LoRA, voice folded in."""
    from dramatis.agents.catalog import resolve_model
    from dramatis.agents.hf_base import file_sha256
    from dramatis.core.errors import DramatisError
    from dramatis.training.fold import (
        base_heads,
        fold,
        read_gguf_lora,
        voice_lora,
        write_gguf_lora,
        write_peft,
    )

    settings = Settings.load(home=home, model=model).ensure()
    registry = _registry(home)
    character, play = registry.find_character(name)
    base = resolve_model(settings.model, settings.cache_dir)
    found = registry.for_base(character, play, file_sha256(base, settings.cache_dir), base.name)
    if found is None:
        raise DramatisError(
            f"{character} has no adapter for {base.name}: train one with dramatis train '{play}:{character}'"
        )
    lora, note = read_gguf_lora(Path(found.gguf)), found.name
    if fold_voice and voice_scale > 0:
        voice, label = voice_lora(settings, base)
        lora = fold(voice, voice_scale, lora, 1.0)
        note += f" with {label} at scale {voice_scale:g} folded in (rank {lora.rank()})"
    n_head, n_kv_head = base_heads(base)
    write_peft(lora, out, n_head, n_kv_head, base.name)
    write_gguf_lora(lora, out / "adapter.gguf", {"character": character, "play": play})
    typer.echo(f"{note}: {out}/adapter_model.safetensors (peft), {out}/adapter.gguf (llama.cpp)")
