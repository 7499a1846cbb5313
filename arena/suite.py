"""Suites: YAML files naming scenes, seeds, turns and configurations to compare.

A job is one configuration × scene × seed; its id names all three, so a resumed run
knows which jobs are finished.
"""

from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, Field, ValidationError, field_validator

from dramatis.agents.character import AgentSettings
from dramatis.agents.policies import policy_names
from dramatis.core.errors import DramatisError

SUITES_DIR = Path(__file__).parent / "suites"


class SceneRef(BaseModel):
    """A cast, optionally seeded from a scene of a play ("hamlet:3.1")."""

    cast: list[str]
    source: str | None = None
    setting: str | None = None

    @field_validator("cast")
    @classmethod
    def _two_or_more(cls, cast: list[str]) -> list[str]:
        if len(cast) < 2:
            raise ValueError("a scene needs a cast of two or more")
        return cast


class Configuration(BaseModel):
    """How a scene is staged: model, prompt format, adapters, policy, generation."""

    name: str
    model: str = "smollm2"  # bundled name or a .gguf path
    prompt_format: str = "page"  # page (the agents' default) | auto | chat | script
    adapters: bool = False
    policy: str = "addressed"
    memory: bool = False  # scene memory as `dramatis stage --memory` (lore indexed once)
    max_tokens: int = 60
    temperature: float = 0.8
    # Any other agent setting by its AgentSettings name: best_of, n_examples,
    # presence_penalty, history_tokens... (agents/character.py).
    agent: dict[str, Any] = Field(default_factory=dict)

    @field_validator("policy")
    @classmethod
    def _known_policy(cls, policy: str) -> str:
        if policy not in policy_names():
            raise ValueError(f"unknown speaker policy {policy!r}: use one of "
                             f"{', '.join(policy_names())}")  # fmt: skip
        return policy

    @field_validator("agent")
    @classmethod
    def _agent_settings(cls, agent: dict[str, Any]) -> dict[str, Any]:
        known = {f.name for f in fields(AgentSettings)}
        own = {"max_tokens", "temperature", "prompt_format"}  # fields of the configuration
        for key in agent:
            if key in own:
                raise ValueError(f"{key} is set on the configuration itself, not under agent")
            if key not in known:
                names = ", ".join(sorted(known - own))
                raise ValueError(f"{key!r} is not an agent setting (one of: {names})")
        try:
            AgentSettings(**agent)
        except (TypeError, ValueError) as err:
            raise ValueError(str(err)) from None
        return agent


class Suite(BaseModel):
    name: str
    turns: int = Field(8, ge=1)
    seeds: list[int] = Field(default_factory=lambda: [1])
    scenes: list[SceneRef]
    configurations: list[Configuration]

    def jobs(self) -> list[Job]:
        """Every configuration × scene × seed, configurations outermost."""
        return [
            Job(config=c, scene=s, seed=seed, turns=self.turns)
            for c in self.configurations
            for s in self.scenes
            for seed in self.seeds
        ]


class Job(BaseModel):
    config: Configuration
    scene: SceneRef
    seed: int
    turns: int

    @property
    def id(self) -> str:
        """A file-safe id: config, cast, source scene, seed.

        -> "smollm2-chat__hamlet-ophelia__hamlet-3.1__s1"
        """
        cast = "-".join(re.sub(r"[^a-z]+", "", n.lower()) for n in self.scene.cast)
        source = re.sub(r"[^a-z0-9.]+", "-", (self.scene.source or "free").lower())
        name = re.sub(r"[^a-z0-9.]+", "-", self.config.name.lower())
        return f"{name}__{cast}__{source}__s{self.seed}"


def load_suite(ref: str | Path) -> Suite:
    """A suite by path or by shipped name ("smoke", "hamlet-vs-macbeth")."""
    path = Path(ref)
    if not path.is_file():
        shipped = SUITES_DIR / f"{ref}.yaml"
        if not shipped.is_file():
            names = ", ".join(sorted(p.stem for p in SUITES_DIR.glob("*.yaml")))
            raise DramatisError(f"suite {ref!r} not found: give a YAML path or one of: {names}")
        path = shipped
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        return Suite.model_validate(data)
    except yaml.YAMLError as err:
        raise DramatisError(f"{path}: not valid YAML ({err})") from None
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise DramatisError(f"{path}: {where}: {first['msg']}") from None
