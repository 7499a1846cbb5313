"""Put each cast member's active adapter on the shared model, for `dramatis stage --adapters`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from dramatis.agents.model import LanguageModel
from dramatis.core.settings import Settings
from dramatis.training.registry import AdapterMeta, AdapterRegistry


def mount_adapters(
    model: LanguageModel,
    personas: Sequence,
    settings: Settings,
    model_path: Path,
    voice_scale: float | None = None,
) -> tuple[dict[str, str | None], list[str]]:
    """({character: adapter name or None}, notes for the user).

    Loads every active adapter once on `model` (GGUF for llama.cpp, the peft folder
    for the reference backend). An adapter trained on another base is refused with
    a DramatisError; a character without one speaks with the base, and a note says so.
    With `voice_scale` (the scene's stage voice scale, 0: none), adapters trained on
    another voice setting than the scene serves still speak, and one warning line among
    the notes names them (`voice_mismatch`).
    """
    from dramatis.agents.hf_base import file_sha256
    from dramatis.agents.peft_backend import PeftModel

    registry = AdapterRegistry(settings.home / "adapters")
    sha = file_sha256(model_path, settings.cache_dir)
    chosen: dict[str, str | None] = {}
    notes: list[str] = []
    mounted: list[AdapterMeta] = []
    for persona in personas:
        found = registry.for_base(persona.name, persona.play, sha, model_path.name)
        if found is None:
            chosen[persona.name] = None
            notes.append(
                f"{persona.name}: no adapter, speaking with the base model "
                f"(train one: dramatis train '{persona.play}:{persona.name}')"
            )
            continue
        path = found.folder if isinstance(model, PeftModel) else found.gguf
        model.load_adapter(found.name, path, base_sha256=sha)
        chosen[persona.name] = found.name
        notes.append(
            f"{persona.name}: adapter {found.name} "
            f"(validation perplexity {found.meta.ppl_before:.1f} -> {found.meta.ppl_after:.1f})"
        )
        mounted.append(found.meta)
    if voice_scale is not None and mounted:
        voice = find_stage_voice(settings, model_path) if voice_scale else None
        voice_sha = file_sha256(voice.gguf, settings.cache_dir) if voice else None
        warning = voice_mismatch(mounted, voice_scale, voice_sha)
        if warning:
            notes.append(warning)
    return chosen, notes


def trained_on(meta: AdapterMeta) -> str:
    """How an adapter's training base reads: "the bare base" or "the stage voice at 1"."""
    if not meta.voice:
        return "the bare base"
    return f"the stage voice at {float(meta.voice['scale']):g}"


def voice_mismatch(adapters: Sequence[AdapterMeta], scale: float, voice_sha: str | None) -> str:
    """One warning line naming the adapters trained on another voice setting than the
    one served (`scale` of the voice whose GGUF file has `voice_sha`; 0: no voice), or ""
    when every adapter is served as it was trained."""
    served = f"the stage voice at {scale:g}" if scale else "no stage voice"
    off = []
    for meta in adapters:
        voice = meta.voice or {}
        if not voice and not scale:
            continue
        if voice and scale and float(voice.get("scale", 0)) == scale:
            if voice.get("sha256") == voice_sha:
                continue
            off.append(
                f"{meta.character} (another stage voice, sha256 {str(voice.get('sha256'))[:12]})"
            )
            continue
        off.append(f"{meta.character} ({trained_on(meta)})")
    if not off:
        return ""
    return (
        f"warning: this scene serves {served}, but these adapters were trained on another: "
        f"{', '.join(off)}; they speak anyway, less well (retrain them with `dramatis train "
        f"NAME --voice-scale {scale:g}`, or stage with the voice scale they were trained on)"
    )


SHIPPED_VOICE_DIR = Path(__file__).resolve().parent / "data" / "stage_voice"
SHIPPED = "shipped"  # the version label of the stage voice that ships in the package


def shipped_voice(sha: str, folder: Path = SHIPPED_VOICE_DIR) -> tuple[Path, dict] | None:
    """(GGUF LoRA, manifest) of the stage voice shipped for the base whose sha256 is `sha`
    (training/make_voice.py writes them), or None when none ships for that base."""
    import json

    try:
        manifest = json.loads((folder / "manifest.json").read_text())
    except (OSError, ValueError):
        return None
    path = folder / str(manifest.get("file", ""))
    if manifest.get("base_sha256") != sha or not path.is_file():
        return None
    return path, manifest


@dataclass(frozen=True)
class StageVoice:
    """The stage voice a base gets: its adapter name, GGUF file and a note for the user."""

    name: str
    gguf: Path
    sha: str  # the base's sha256
    note: str  # e.g. "(validation perplexity 91.9 -> 68.9)"


def find_stage_voice(settings: Settings, model_path: Path) -> StageVoice | None:
    """The stage voice for this base: one trained here (`dramatis train --stage-voice`,
    made active) first, else the one that ships with the package (training/data/
    stage_voice, `make stage-voice`); None when neither exists."""
    from dramatis.agents.hf_base import file_sha256
    from dramatis.core.errors import DramatisError
    from dramatis.training.voice import STAGE_VOICE, VOICE_PLAY

    sha = file_sha256(model_path, settings.cache_dir)
    registry = AdapterRegistry(settings.home / "adapters")
    try:
        found = registry.for_base(STAGE_VOICE, VOICE_PLAY, sha, model_path.name)
    except DramatisError:  # voices trained here are all for other bases: none for this one
        found = None
    if found is not None:
        m = found.meta
        ppl = (
            f" (validation perplexity {m.ppl_before:.1f} -> {m.ppl_after:.1f})"
            if m.ppl_before is not None and m.ppl_after is not None
            else ""
        )
        return StageVoice(found.name, Path(found.gguf), sha, ppl)
    shipped = shipped_voice(sha)
    if shipped is None:
        return None
    path, manifest = shipped
    ppl = manifest.get("validation_perplexity", {})
    note = (
        f" (shipped, {manifest.get('steps')} steps on {len(manifest['data']['train_plays'])} "
        f"plays; held-out perplexity {ppl.get('before')} -> {ppl.get('after')})"
    )
    return StageVoice(f"plays.stage-voice@{SHIPPED}", path, sha, note)


def voice_available(settings: Settings, model_path: Path) -> bool:
    """Whether a stage voice exists for this base: one trained here or the shipped one."""
    return find_stage_voice(settings, model_path) is not None


def mount_stage_voice(
    model: LanguageModel, settings: Settings, model_path: Path, scale: float
) -> str:
    """Load the stage voice for this base (`find_stage_voice`) and stack it under every
    character's adapter at `scale`; a note for the user. None exists: a clear error."""
    from dramatis.core.errors import DramatisError

    voice = find_stage_voice(settings, model_path)
    if voice is None:
        raise DramatisError(
            f"no stage voice for {model_path.name}: train one with "
            "`dramatis train --stage-voice` (or stage with --stage-voice 0)"
        )
    model.load_adapter(voice.name, str(voice.gguf), base_sha256=voice.sha)
    model.stack_under(voice.name, scale)
    if voice.name.endswith(f"@{SHIPPED}"):
        return f"stage voice{voice.note} at scale {scale:g} under every character"
    return f"stage voice {voice.name} at scale {scale:g} under every character{voice.note}"


def name_served_adapters(
    model: LanguageModel, personas: Sequence, settings: Settings
) -> tuple[dict[str, str | None], list[str]]:
    """Like mount_adapters for a model on an OpenAI-compatible server: each character's
    active adapter becomes a model name to ask for (the server must serve it by that
    name, e.g. vLLM --lora-modules hamlet.hamlet@v2=PATH); nothing is loaded here."""
    registry = AdapterRegistry(settings.home / "adapters")
    chosen: dict[str, str | None] = {}
    notes: list[str] = []
    for persona in personas:
        found = registry.active(persona.name, persona.play)
        chosen[persona.name] = found.name if found else None
        if found:
            model.load_adapter(found.name, str(found.folder))
        notes.append(
            f"{persona.name}: server model {found.name}"
            if found
            else f"{persona.name}: no adapter, asking the server for its base model"
        )
    return chosen, notes
