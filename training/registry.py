"""Adapter registry: versions per character, an active pointer, rollback.

Layout under `settings.home / "adapters"`::

    hamlet.hamlet/              <play>.<character slug>
      v1/ adapter_model.safetensors  (peft weights; our metadata in the header too)
          adapter_config.json        (peft)
          adapter.gguf               (the same weights for llama.cpp)
          meta.json                  (AdapterMeta)
      active.json                    {"version": 2, "history": [1]}

An adapter remembers the sha256 of the GGUF base it was trained on; `for_base` picks,
per base, the version last made active among those trained on it, and refuses a
character whose active versions were all trained on another base.
"""

from __future__ import annotations

import json
import shutil
from datetime import datetime, timezone
from pathlib import Path

from pydantic import BaseModel, Field

from dramatis.core.errors import DramatisError, closest
from dramatis.core.files import load_json_model
from dramatis.core.keys import slug

META = "meta.json"
WEIGHTS = "adapter_model.safetensors"
GGUF = "adapter.gguf"


class AdapterMeta(BaseModel):
    character: str
    play: str
    version: int = 0
    base_model: str  # GGUF file name
    base_sha256: str
    data_sha256: str
    config: dict = Field(default_factory=dict)  # TrainConfig.to_json()
    data: dict = Field(default_factory=dict)  # dataset stats
    val_loss_before: float | None = None
    val_loss_after: float | None = None
    ppl_before: float | None = None
    ppl_after: float | None = None
    steps: int = 0
    seconds: float = 0.0
    stopped_by: str = "steps"
    # How the version was trained: "sft" (pairs -> LoRA), "voice" (the shared stage voice,
    # training/voice.py) or "dpo" (preference pairs on top of `parent`, the version it
    # started from; None: a fresh LoRA). Older meta files have neither and read as SFT.
    stage: str = "sft"
    parent: int | None = None
    metrics: dict = Field(default_factory=dict)  # stage-specific figures (DPO: accuracies)
    # The stage voice folded into the base it was trained on (training/pipeline.py
    # VoiceUnder: {"name", "sha256" of its GGUF file, "scale"}); None: the bare base.
    # Then ppl_before is the voice alone's, and metrics["ppl_bare"] the bare base's.
    voice: dict | None = None
    created: str = Field(default_factory=lambda: datetime.now(timezone.utc).isoformat())


def key_of(character: str, play: str) -> str:
    """key_of("Lady Macbeth", "macbeth") -> "macbeth.lady-macbeth" """
    return f"{slug(play)}.{slug(character)}"


class ActivePointer(BaseModel):
    """active.json: the active version and the ones active before it, oldest first."""

    version: int | None = None
    history: list[int] = Field(default_factory=list)


def damaged_fix(folder: Path) -> str:
    """What to do about a damaged file in an adapter folder."""
    return f"move {folder} aside (or delete it) and retrain with `dramatis train NAME`"


class AdapterVersion:
    """One saved adapter version on disk."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.meta = load_json_model(folder / META, AdapterMeta, damaged_fix(folder))

    @property
    def version(self) -> int:
        return self.meta.version

    @property
    def weights(self) -> Path:
        return self.folder / WEIGHTS

    @property
    def gguf(self) -> Path:
        return self.folder / GGUF

    @property
    def name(self) -> str:
        """Adapter name used by the backends: "hamlet.hamlet@v2"."""
        return f"{key_of(self.meta.character, self.meta.play)}@v{self.version}"


class AdapterRegistry:
    def __init__(self, root: Path) -> None:
        self.root = root

    # -- paths and pointers -------------------------------------------------
    def _dir(self, character: str, play: str) -> Path:
        return self.root / key_of(character, play)

    def _pointer(self, character: str, play: str) -> dict:
        path = self._dir(character, play) / "active.json"
        if not path.is_file():
            return ActivePointer().model_dump()
        fix = f"delete it and pick a version with `dramatis adapters activate {character} vN`"
        return load_json_model(path, ActivePointer, fix).model_dump()

    def _set_pointer(self, character: str, play: str, pointer: dict) -> None:
        path = self._dir(character, play) / "active.json"
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(pointer))
        tmp.replace(path)  # atomic: a crash leaves the old pointer or the new one

    # -- queries --------------------------------------------------------------
    def characters(self) -> list[tuple[str, str]]:
        """(character, play) of every character with at least one version."""
        out = []
        for folder in sorted(p for p in self.root.glob("*.*") if p.is_dir()):
            versions = self._versions_in(folder)
            if versions:
                out.append((versions[-1].meta.character, versions[-1].meta.play))
        return out

    @staticmethod
    def _versions_in(folder: Path) -> list[AdapterVersion]:
        found = [AdapterVersion(p) for p in folder.glob("v*") if (p / META).is_file()]
        return sorted(found, key=lambda v: v.version)

    def versions(self, character: str, play: str) -> list[AdapterVersion]:
        return self._versions_in(self._dir(character, play))

    def get(self, character: str, play: str, version: int) -> AdapterVersion:
        for v in self.versions(character, play):
            if v.version == version:
                return v
        have = ", ".join(f"v{v.version}" for v in self.versions(character, play)) or "none"
        raise DramatisError(
            f"{character} ({play}) has no adapter v{version}; versions: {have} "
            "(see `dramatis adapters list`)"
        )

    def active(self, character: str, play: str) -> AdapterVersion | None:
        version = self._pointer(character, play)["version"]
        return None if version is None else self.get(character, play, version)

    def for_base(
        self, character: str, play: str, base_sha256: str, base_name: str = ""
    ) -> AdapterVersion | None:
        """The version last made active among those trained on this base: the active one
        when it is, else the newest of the earlier active ones that is. So adapters for
        two bases live side by side, and training for one never unmounts the other's.
        Refused with a clear error when only versions for another base were ever active.
        """
        active = self._ever_active(character, play)
        for found in active:
            if found.meta.base_sha256 == base_sha256:
                return found
        if active:
            found = active[0]
            raise DramatisError(
                f"adapter {found.name} was trained on {found.meta.base_model} "
                f"(sha256 {found.meta.base_sha256[:12]}), not on {base_name or 'this model'} "
                f"(sha256 {base_sha256[:12]}): retrain it with `dramatis train {found.meta.character} "
                f"--model ...` or stage with the model it was trained on"
            )
        return None

    def _ever_active(self, character: str, play: str) -> list[AdapterVersion]:
        """The versions that are or were active, the active one first, then the earlier
        ones newest first."""
        pointer = self._pointer(character, play)
        known = {v.version: v for v in self.versions(character, play)}
        ever = [pointer["version"], *reversed(pointer["history"])]
        return [known[n] for n in ever if n in known]

    def served(self, character: str, play: str) -> set[int]:
        """The versions `for_base` serves: one per base that has an active version."""
        first: dict[str, int] = {}
        for found in self._ever_active(character, play):
            first.setdefault(found.meta.base_sha256, found.version)
        return set(first.values())

    # -- changes ----------------------------------------------------------------
    def add(self, staged: Path, meta: AdapterMeta, *, activate: bool = True) -> AdapterVersion:
        """Move a folder holding WEIGHTS (+ GGUF) in as the next version."""
        folder = self._dir(meta.character, meta.play)
        folder.mkdir(parents=True, exist_ok=True)
        existing = self.versions(meta.character, meta.play)
        meta = meta.model_copy(update={"version": (existing[-1].version if existing else 0) + 1})
        target = folder / f"v{meta.version}"
        (staged / META).write_text(meta.model_dump_json(indent=1))
        shutil.move(str(staged), str(target))
        if activate:
            self.activate(meta.character, meta.play, meta.version)
        return AdapterVersion(target)

    def activate(self, character: str, play: str, version: int) -> AdapterVersion:
        found = self.get(character, play, version)
        pointer = self._pointer(character, play)
        if pointer["version"] != version:
            if pointer["version"] is not None:
                pointer["history"].append(pointer["version"])
            pointer["version"] = version
            self._set_pointer(character, play, pointer)
        return found

    def rollback(self, character: str, play: str) -> AdapterVersion:
        """Make the previously active version active again."""
        pointer = self._pointer(character, play)
        known = {v.version for v in self.versions(character, play)}
        history = [v for v in pointer["history"] if v in known]
        if not history:
            raise DramatisError(
                f"{character} ({play}) has no earlier active adapter to roll back to; "
                "use `dramatis adapters activate` with a version from `dramatis adapters list`"
            )
        pointer = {"version": history[-1], "history": history[:-1]}
        self._set_pointer(character, play, pointer)
        return self.get(character, play, pointer["version"])

    def remove(self, character: str, play: str, version: int) -> None:
        """Delete a version; if it was active, the previous active one takes over."""
        found = self.get(character, play, version)
        pointer = self._pointer(character, play)
        history = [v for v in pointer["history"] if v != version]
        if pointer["version"] == version:
            pointer = {"version": history[-1] if history else None, "history": history[:-1]}
        else:
            pointer = {"version": pointer["version"], "history": history}
        shutil.rmtree(found.folder)
        self._set_pointer(character, play, pointer)

    def find_character(self, name: str) -> tuple[str, str]:
        """(character, play) for "Hamlet" or "macbeth:Banquo" among registered adapters."""
        play = None
        if ":" in name:
            play, _, name = name.partition(":")
        hits = [
            (c, p)
            for c, p in self.characters()
            if c.lower() == name.strip().lower() and (play is None or p == play.strip().lower())
        ]
        if len(hits) == 1:
            return hits[0]
        if len(hits) > 1:
            options = ", ".join(f"{p}:{c}" for c, p in hits)
            raise DramatisError(
                f"{name!r} has adapters in several plays: say which, one of {options}"
            )
        names = [c for c, _ in self.characters()]
        hint = closest(name, names)
        more = (
            f"; did you mean {', '.join(hint)}?"
            if hint
            else "; train one with `dramatis train NAME`"
        )
        raise DramatisError(f"no adapters for {name!r} in {self.root}{more}")
