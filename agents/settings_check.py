"""Agent settings checked where a user gives them (`--set`, `--format`, `--max-tokens`).

`AgentSettings` (agents/character.py) holds the values; this module holds what a good
value is: one `Rule` per field, a range or a list of choices. A value out of range is a
one-line DramatisError naming the key as the user wrote it and the fix, before any model
loads. docs/settings.md is generated from these rules and the dataclasses
(`python -m dramatis.settings_doc`).
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable
from dataclasses import dataclass, fields, replace
from typing import Any

from dramatis.agents.character import AgentSettings
from dramatis.agents.formats import format_names
from dramatis.core.errors import DramatisError, closest

TRUE, FALSE = ("true", "1", "yes", "on"), ("false", "0", "no", "off")


@dataclass(frozen=True)
class Rule:
    """What a setting accepts: numbers in [low, high] (low excluded with `above`), or
    one of `choices`; a bool needs no bounds. `why`: what the bounds rest on (the
    reference, docs/settings.md, prints it)."""

    low: float | None = None
    high: float | None = None
    above: bool = False
    choices: tuple[str, ...] = ()
    why: str = ""

    def problem(self, value: Any) -> str | None:
        """Why `value` is refused, or None.

        Rule(0, 1, above=True).problem(5) -> "must be above 0 and at most 1"
        """
        if self.choices:
            return None if value in self.choices else f"must be one of {', '.join(self.choices)}"
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return None
        low_ok = self.low is None or (value > self.low if self.above else value >= self.low)
        high_ok = self.high is None or value <= self.high
        return None if math.isfinite(value) and low_ok and high_ok else f"must be {self.text()}"

    def text(self) -> str:
        """The accepted values in words.

        Rule(0, 1, above=True).text() -> "above 0 and at most 1"; Rule(1).text() -> "1 or more"
        """
        if self.choices:
            return f"one of {', '.join(self.choices)}"
        if self.low is None:
            return "any number" if self.high is None else f"at most {self.high:g}"
        if self.high is None:
            return f"above {self.low:g}" if self.above else f"{self.low:g} or more"
        if self.above:
            return f"above {self.low:g} and at most {self.high:g}"
        return f"from {self.low:g} to {self.high:g}"


# field -> rule. tests/test_settings_check.py fails when a field of AgentSettings has none
# (until it gets one, `rule_for` checks only the value's type).
RULES: dict[str, Rule] = {
    "max_tokens": Rule(8, why="token limit per speech; below 8 one is cut inside its first clause"),
    "min_tokens": Rule(0),
    "temperature": Rule(0, 5, why="0 is greedy; above about 2 the small models write noise"),
    "top_p": Rule(0, 1, above=True, why="nucleus sampling: the probability mass kept"),
    "top_k": Rule(0, why="the likeliest tokens kept; 0 keeps all"),
    "min_p": Rule(0, 1, why="a token's least probability, as a share of the likeliest's"),
    "repeat_penalty": Rule(0, 5, above=True, why="divides repeated tokens' logits; 1 is off"),
    "max_lines": Rule(1),
    "retries": Rule(0, 20, why="extra draws when a speech is refused; each costs a full draw"),
    "history_tokens": Rule(0),
    "prompt_format": Rule(),  # one of the registered formats: see `rule_for`
    "n_samples": Rule(0),
    "memory_k": Rule(0),
    "memory_tokens": Rule(0),
    "memory_boost": Rule(0, 20, why="a logit bias: 5 already turned speeches into lists"),
    "prefer_memory": Rule(),
    "n_examples": Rule(0),
    "examples_place": Rule(choices=("turn", "scene", "both")),
    "ban_out_of_world": Rule(),
    "presence_penalty": Rule(
        -2, 2, why="taken once off every token already used; the OpenAI API's range"
    ),
    "best_of": Rule(
        1, 16, why="candidates per turn, each a full draw: a million would never end a turn"
    ),
    "near_repeats": Rule(),
    "move_on": Rule(),
    "length_share": Rule(0, 2),  # of a real speech's length; above 1 runs past the plays
    "finish_tokens": Rule(0),
    "end_past_floor": Rule(),
    "length_ceiling": Rule(0, 4),  # of the same drawn real speech; 0: max_tokens alone
    "spare_commas": Rule(),
    "spare_words": Rule(),
    "own_words": Rule(0, 20, why="a logit bias, like memory_boost"),
    "real_weight": Rule(0, 20, why="a weight on the critic's realness, beside its style score"),
    "cast_weight": Rule(
        0, 20, why="a weight on the cast critic's log odds, beside the style critic's score"
    ),
    "word_rates": Rule(
        0, 4, why="a multiple of the words' log rate ratio, each bias capped at 1.5"
    ),
    "long_words": Rule(
        -2, 2, why="a logit bias on the tokens that start a long word, divided by the temperature"
    ),
    "keep_candidates": Rule(),
    "human_card": Rule(),
    "lore": Rule(),
    "address_present": Rule(),
    "no_strangers": Rule(),
    "fit_titles": Rule(),
    "no_invented": Rule(),
    "prefer_known": Rule(),
    "known_only": Rule(),
    "known_replace": Rule(),
    "known_redraws": Rule(
        0, 8, why="more draws while every candidate has a word no play uses; each a full draw"
    ),
}


def rule_for(key: str) -> Rule:
    """The rule of a setting; a field without one yet is checked for its type only. The
    prompt format is one of those registered when asked (agents/formats.py: "auto" picks
    chat when the model has a template, script otherwise)."""
    if key == "prompt_format":
        return Rule(choices=format_names())
    return RULES.get(key, Rule())


def option_name(key: str) -> str:
    """The command-line spelling of a setting: option_name("max_tokens") -> "--max-tokens"."""
    return "--format" if key == "prompt_format" else f"--{key.replace('_', '-')}"


def parse_value(key: str, text: str, where: str) -> Any:
    """`text` typed like the setting's default; a DramatisError naming `where` otherwise.

    parse_value("best_of", "3", "--set") -> 3; parse_value("move_on", "yes", "--set") -> True
    """
    kind = type(getattr(AgentSettings(), key))
    word = text.strip().lower()
    if kind is bool:
        if word not in TRUE + FALSE:
            raise DramatisError(f"{where}: {key} is true or false, not {text!r}")
        return word in TRUE
    if kind is str:  # a name from a list is case-blind ("Chat"); free text is kept as written
        return word if rule_for(key).choices else text.strip()
    try:
        return kind(word)
    except ValueError:
        number = "a whole number" if kind is int else "a number"
        raise DramatisError(f"{where}: {key} takes {number}, not {text!r}") from None


def parse_pairs(pairs: Iterable[str]) -> dict[str, Any]:
    """AgentSettings fields from `--set KEY=VALUE` pairs, typed and checked.

    parse_pairs(["best_of=3", "ban_out_of_world=true"]) -> {"best_of": 3, "ban_out_of_world": True}
    """
    known = [f.name for f in fields(AgentSettings)]
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sign, text = (part.strip() for part in pair.partition("="))
        if key not in known:
            hint = closest(key, known, 1) if key else []
            fix = f"did you mean {hint[0]}?" if hint else "see docs/settings.md for the keys"
            raise DramatisError(f"--set {pair!r}: {key!r} is not an agent setting: {fix}")
        default = getattr(AgentSettings(), key)
        if not sign or (not text and not isinstance(default, str)):
            raise DramatisError(f"--set {pair!r}: write KEY=VALUE, e.g. --set {key}={default}")
        out[key] = checked(key, parse_value(key, text, f"--set {pair!r}"), f"--set {key}")
    return out


def checked(key: str, value: Any, where: str) -> Any:
    """`value` when the rule for `key` accepts it; a one-line DramatisError otherwise.

    checked("top_p", 5.0, "--set top_p") -> error "--set top_p=5.0 must be above 0 and at most 1"
    """
    rule = rule_for(key)
    if problem := rule.problem(value):
        fix = "pick one or leave it out" if rule.choices else "set it in range or leave it out"
        raise DramatisError(f"{where}={value!r} {problem}: {fix}")
    return value


def validate_settings(
    settings: AgentSettings, where: dict[str, str] | None = None
) -> AgentSettings:
    """`settings` when every field is in range; else a DramatisError naming the first bad
    one as `where` spells it (default: its option name, e.g. "--top-p")."""
    spelled = where or {}
    for f in fields(settings):
        checked(f.name, getattr(settings, f.name), spelled.get(f.name, option_name(f.name)))
    return settings


def agent_settings(
    base: AgentSettings, options: dict[str, Any], pairs: Iterable[str]
) -> AgentSettings:
    """`base` with the command's own options (`--max-tokens`, `--format`...) and then
    the `--set` pairs applied, checked. `--set` comes last, so it wins over an option of
    the same name: `--max-tokens 40 --set max_tokens=20` speaks 20 tokens."""
    given = parse_pairs(pairs)
    options = {k: v.strip().lower() if isinstance(v, str) else v for k, v in options.items()}
    settings = replace(base, **{**options, **given})
    names = {key: option_name(key) for key in options} | {key: f"--set {key}" for key in given}
    return validate_settings(settings, names)


# The model's runtime settings (Settings.n_ctx, Settings.n_threads), checked where a
# model is opened. Below MIN_N_CTX tokens a scene's prompt (the persona, the setting, a
# few lines) and one speech do not fit; llama.cpp's own failure there is a numpy error.
# Above MAX_N_CTX the context's memory alone is many GB. More threads than cores only
# slow llama.cpp down, and a number like 100000 makes it abort allocating them.
MIN_N_CTX = 512
MAX_N_CTX = 131072
MAX_THREADS = 1024


def runtime_threads(n_ctx: int, n_threads: int | None, cores: int | None = None) -> int | None:
    """The thread count to open a model with: `n_threads` lowered to the machine's cores
    (None or 0: automatic); a one-line DramatisError for an n_ctx or a thread count out
    of range, naming both spellings of the setting.

    runtime_threads(2048, 64, cores=2) -> 2; runtime_threads(64, 1) -> error
    """
    if not MIN_N_CTX <= n_ctx <= MAX_N_CTX:
        raise DramatisError(
            f"DRAMATIS_N_CTX={n_ctx} is out of range: set it from {MIN_N_CTX} to {MAX_N_CTX} "
            "tokens (default 2048), or unset it"
        )
    if n_threads is None or n_threads == 0:
        return None
    if not 0 < n_threads <= MAX_THREADS:
        raise DramatisError(
            f"--threads / DRAMATIS_THREADS={n_threads} is out of range: set it from 1 to "
            f"{MAX_THREADS} (more than the machine's cores are lowered to them), or 0 or "
            "unset for automatic"
        )
    return min(n_threads, cores or os.cpu_count() or 1)
