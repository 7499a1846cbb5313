"""`dramatis prompt`: the exact prompt a character gets, with a token count per part.

For a cast and scene (as `stage` would begin it), or for turn N of a saved thread (the
turns before it, as that character saw them). The prompt is built by the same agent
code a scene runs, on the scene's model (its tokenizer counts the tokens), and fitted
to the model's context the same way (agents/budget.py): what was cut is listed.
"""

from __future__ import annotations

import json
import random
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any

import typer

from dramatis.agents.budget import PRIORITY, Fit
from dramatis.agents.character import AgentSettings, CharacterAgent
from dramatis.agents.formats import render
from dramatis.agents.policies import make_policy
from dramatis.agents.scene import turn_seed
from dramatis.agents.scene_store import SceneStore
from dramatis.agents.settings_check import agent_settings
from dramatis.agents.turn import Turn
from dramatis.core.errors import DramatisError
from dramatis.core.settings import Settings
from dramatis.personas.world_info import LoreStore, missing_lore

Home = Annotated[
    Path | None, typer.Option(help="State folder (scenes db, caches); env DRAMATIS_HOME.")
]


def saved_turns(store: SceneStore, thread_id: str) -> list[Turn]:
    """The turns of a saved scene, oldest first, read from its latest checkpoint."""
    config: Any = {"configurable": {"thread_id": thread_id}}
    saved = store.checkpointer.get_tuple(config)
    if saved is None:
        return []
    return list(saved.checkpoint["channel_values"].get("turns", []))


def next_speaker(agents: dict, policy: str, talk: dict, seed: int, turns: list) -> str:
    """Who the scene's policy picks for the turn after `turns` (as SceneGraph does)."""
    rng = random.Random(turn_seed(seed, len(turns)))
    return str(make_policy(policy, talk).choose(list(agents), turns, rng))


# What a part's absence looks like in a PromptInput. Without exchanges the page shows the
# fixed voice samples instead, so they go too.
WITHOUT: dict[str, dict[str, Any]] = {
    "transcript": {"history": ()},
    "persons": {"persons": ()},
    "summary": {"summary": ""},
    "setting": {"setting": ""},
    "lore": {"lore": ""},
    "examples": {"examples": (), "scene_examples": (), "samples": ()},
    "memories": {"memories": ()},
    "samples": {"samples": ()},
    "instructions": {"system_prompt": "", "post_history": ""},
}


def part_tokens(fit: Fit, model: Any, fmt: str) -> dict[str, int]:
    """Each part's tokens in the rendered prompt: the prompt's tokens less those of the
    same prompt without that part; "frame" is the rest (headings, brackets, breaks)."""
    parts = {}
    for part, empty in WITHOUT.items():
        if part == "examples" and not (fit.input.examples or fit.input.scene_examples):
            continue  # the samples shown in their place are counted as samples
        without = render(model, replace(fit.input, **empty), fmt)[0]
        if cost := fit.tokens - model.count_tokens(without):
            parts[part] = cost
    parts["frame"] = fit.tokens - sum(parts.values())
    return parts


def report(
    agent: CharacterAgent, turn: int, turns: list[Turn], setting: str, seed: int = 7
) -> dict:
    """The prompt of `agent` for turn `turn` and its parts in tokens; the scene's `seed`
    draws the lore that fires by chance, as the turn did (its first draw, not a retry)."""
    fit = agent.fit(turns, setting, turn_seed(seed, len(turns)))
    parts = part_tokens(fit, agent.model, agent.settings.prompt_format)
    return {
        "speaker": agent.name,
        "turn": turn,
        "format": fit.format,
        "model": agent.model.name,
        "context": agent.model.context_length,
        "room": fit.room,
        "tokens": fit.tokens,
        "parts": {k: parts[k] for k in (*PRIORITY, "frame") if k in parts},
        "cut": [{"part": t.part, "wanted": t.wanted, "kept": t.kept} for t in fit.trims],
        "prompt": fit.text,
        "own_words": list(agent.unsaid_own_words(turns)),  # raised while sampling
        "own_boost": agent.settings.own_words,
    }


def print_report(row: dict) -> None:
    """The prompt exactly as the model gets it, between rules, then the parts."""
    rule = "-" * 72
    typer.echo(
        f"{row['speaker']}'s prompt for turn {row['turn']} ({row['format']} format, "
        f"model {row['model']}, context {row['context']} tokens)"
    )
    typer.echo(rule)
    typer.echo(row["prompt"])
    typer.echo(rule)
    for part, tokens in row["parts"].items():
        about = "  (headings, brackets, line breaks)" if part == "frame" else ""
        typer.echo(f"{part:<14}{tokens:>7}{about}")
    typer.echo(
        f"{'total':<14}{row['tokens']:>7}  of {row['room']} a prompt may take (the context "
        "less the speech and a margin)"
    )
    for cut in row["cut"]:
        typer.echo(f"cut: {cut['part']} from {cut['wanted']} to {cut['kept']} tokens")
    if row["own_words"]:
        words = ", ".join(row["own_words"])
        typer.echo(f"own words, raised by {row['own_boost']:g} while sampling: {words}")


def prompt_cmd(
    thread_id: Annotated[
        str | None, typer.Argument(help="A saved scene's thread id (else give --cast).")
    ] = None,
    turn: Annotated[
        int | None,
        typer.Option(min=0, help="With a thread id: turn N's prompt (default: the next turn)."),
    ] = None,
    cast: Annotated[str | None, typer.Option(help="Characters, as for stage.")] = None,
    scene: Annotated[str | None, typer.Option(help="PLAY:ACT.SCENE, as for stage.")] = None,
    setting: Annotated[str | None, typer.Option(help="The setting, as for stage.")] = None,
    speaker: Annotated[
        str | None, typer.Option(help="Whose prompt (default: the policy's pick).")
    ] = None,
    lore: Annotated[str, typer.Option(help="World info, as for stage --lore.")] = "",
    greeting: Annotated[
        int | None, typer.Option(min=0, help="A card's greeting N, as for stage.")
    ] = None,
    model: Annotated[str | None, typer.Option(help="Model, as for stage.")] = None,
    prompt_format: Annotated[str, typer.Option("--format", help="Prompt format.")] = "page",
    agent_set: Annotated[list[str] | None, typer.Option("--set", help="KEY=VALUE.")] = None,
    home: Home = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print machine-readable JSON only.")
    ] = False,
) -> None:
    """Print the exact prompt a character gets, with a token count per part."""
    settings = Settings.load(home=home, model=model).ensure()
    if (thread_id is None) == (cast is None):
        raise DramatisError("give a saved scene's THREAD_ID or --cast (one of them)")
    if thread_id is not None:
        row = thread_prompt(settings, thread_id, turn, speaker)
    else:
        options = {"prompt_format": prompt_format, **({"lore": lore} if lore else {})}
        agent = agent_settings(AgentSettings(), options, agent_set or [])
        row = cast_prompt(settings, str(cast), scene, setting, speaker, agent, greeting)
    if as_json:
        typer.echo(json.dumps(row, indent=2, ensure_ascii=False))
    else:
        print_report(row)


def pick(agents: dict, speaker: str | None, fallback: str) -> CharacterAgent:
    name = speaker or fallback
    found = {n.lower(): a for n, a in agents.items()}.get(name.lower())
    if found is None:
        raise DramatisError(f"--speaker {name}: not a character of the scene ({', '.join(agents)})")
    return found


def cast_prompt(
    settings: Settings,
    cast: str,
    scene: str | None,
    setting: str | None,
    speaker: str | None,
    agent: AgentSettings,
    greeting: int | None = None,
) -> dict:
    """The first prompt of a scene `stage` would begin with these options."""
    from dramatis.staging import (
        card_opening,
        cast_personas,
        cast_setting,
        load_model,
        opening_from_play,
        parse_cast,
        scene_agents,
        scene_spec,
    )

    personas = cast_personas(parse_cast(cast), settings.home)
    names = [p.name for p in personas]
    missing_lore(agent.lore, names, LoreStore(settings.home))
    if scene and greeting is not None:
        raise DramatisError("--greeting opens with a card's greeting: leave out --scene")
    if scene:
        play_setting, opening = opening_from_play(scene)
        setting = setting or play_setting
    else:
        setting = setting or cast_setting(personas, names)
        opening = card_opening(personas, len(personas) > 1, greeting)
    spec = scene_spec(personas, setting=setting, source_scene=scene, model=settings.model,
                      seed=7, agent=agent)  # fmt: skip
    lm = load_model(spec, settings)
    agents = scene_agents(spec, personas, lm, settings)
    talk = {p.name: p.talkativeness for p in personas}
    chosen = pick(agents, speaker, next_speaker(agents, "addressed", talk, 7, opening))
    return report(chosen, len(opening), opening, setting, 7)  # stage's default seed


def thread_prompt(
    settings: Settings, thread_id: str, turn: int | None, speaker: str | None
) -> dict:
    """Turn `turn` of a saved scene: the prompt its speaker got (or gets next)."""
    from dramatis.staging import cast_personas, load_model, scene_agents

    store = SceneStore(settings.scenes_db)
    spec = store.load(thread_id)
    turns = saved_turns(store, thread_id)
    at = len(turns) if turn is None else turn
    if at > len(turns):
        raise DramatisError(
            f"--turn {at}: the scene has {len(turns)} turns (0 to {len(turns) - 1}; "
            f"{len(turns)} is the next)"
        )
    personas = cast_personas(spec.roles(), settings.home)
    agents = scene_agents(spec, personas, load_model(spec, settings), settings)
    if at < len(turns):
        said = turns[at]["speaker"]
        if said not in agents:
            raise DramatisError(f"turn {at} was typed by {said}, not written from a prompt")
        fallback = said
    else:
        talk = {p.name: p.talkativeness for p in personas}
        fallback = next_speaker(agents, spec.policy, talk, spec.seed, turns)
    row = report(pick(agents, speaker, fallback), at, turns[:at], spec.setting, spec.seed)
    if spec.memory:
        row["note"] = "the scene's memory is not opened here: its recalled lines are left out"
    return row
