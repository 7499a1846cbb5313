"""A Character Card a reader recognises, cut at a scene: `dramatis personas card NAME --at
hamlet:1.2`.

Who they are (the persons list), their ties (kin, love, service, enmity: the memory
graph seeded up to the scene), what they want and do so far, how they speak (measured
from their own lines) and a greeting they say on entering. Nothing from after the scene.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from dramatis.core.errors import DramatisError
from dramatis.memory.knowledge import TALK, knows_about
from dramatis.memory.seed import horizon_after, seed_graph
from dramatis.personas.card_files import card_json, card_png
from dramatis.personas.cards import persona_card
from dramatis.personas.corpus import load_play
from dramatis.personas.persona import build_persona
from dramatis.personas.portrait import portrait_png
from dramatis.personas.reader import reader_view

MAX_TIES = 8


def split_ref(ref: str) -> tuple[str, str]:
    """("hamlet", "1.2") from "hamlet:1.2"; a one-line error naming the fix otherwise."""
    play, sep, scene = ref.partition(":")
    if not sep or not play.strip() or not scene.strip():
        raise DramatisError(f"--at {ref!r}: write PLAY:SCENE, e.g. hamlet:1.2")
    return play.strip(), scene.strip()


def ties(play_key: str, name: str, scene: str) -> list[str]:
    """What `name` knows of their own kin, loves, service and enmities by the end of `scene`
    (whom they merely spoke with is left out)."""
    play = load_play(play_key)
    horizon = horizon_after(scene)
    graph = seed_graph(play, horizon)
    said = knows_about(graph, name, name, horizon, limit=4 * MAX_TIES)
    return [s for s in said if not any(talk in s for talk in TALK)][:MAX_TIES]


def scene_card(ref: str, name: str, *, v3: bool = False) -> dict[str, Any]:
    """The card of `name` as a reader knows them at the end of scene `ref` ("hamlet:1.2")."""
    key, scene = split_ref(ref)
    play = load_play(key)
    persona = build_persona(play, name, until=scene)
    view = reader_view(play, persona.name, until=scene)
    known = ties(play.key, persona.name, scene)
    card = persona_card(persona, v3=v3)
    data = card["data"]
    wants = f" Wants, in their own words: {'; '.join(view.wants)}." if view.wants else ""
    data["description"] = " ".join([persona.card(), *known])
    data["personality"] = view.style.describe() + wants
    recent = " ".join(view.doings[-3:])
    data["scenario"] = f"{play.title}, up to act {scene.replace('.', ', scene ')}. {recent}"
    data["first_mes"] = view.greeting or data["first_mes"]
    data["creator_notes"] = (
        f"Built by dramatis from the text of {play.title} up to scene {scene}: "
        f"{persona.n_speeches} speeches, nothing from later scenes."
    )
    data["extensions"]["dramatis_reader"] = {**view.as_dict(), "ties": known}
    return card


def write_card(card: dict[str, Any], fmt: str, out: Path, force: bool) -> Path:
    """Write a card as JSON or PNG (a portrait with the card chunks); never overwrites
    unless `force`."""
    if fmt not in ("json", "png"):
        raise DramatisError(f"--format {fmt!r}: use png or json")
    if out.exists() and not force:
        raise DramatisError(f"{out} exists: pass --force to overwrite it or --out another file")
    data = card["data"]
    title = str(data["extensions"]["dramatis"].get("play_title", ""))
    body = (
        card_json(card).encode("utf-8")
        if fmt == "json"
        else card_png(card, portrait_png(data["name"], title))
    )
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(body)
    except OSError as exc:
        raise DramatisError(f"cannot write {out}: {exc.strerror}") from None
    return out


def card_command(
    name: Annotated[str, typer.Argument(help="Character, e.g. Hamlet, Hal, Gloucester.")],
    at: Annotated[str, typer.Option("--at", help="Scene the card is cut at: PLAY:SCENE.")],
    fmt: Annotated[str, typer.Option("--format", help="json | png.")] = "json",
    v3: Annotated[bool, typer.Option("--v3", help="Character Card V3 (default V2).")] = False,
    out: Annotated[Path | None, typer.Option(help="Output file; '-' prints the JSON.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
) -> None:
    """A Character Card cut at a scene: who, ties, wants, how they speak, a greeting."""
    card = scene_card(at, name, v3=v3)
    if out is not None and str(out) == "-":
        typer.echo(json.dumps(card, indent=2, ensure_ascii=False))
        return
    key, scene = split_ref(at)
    path = out or Path(f"{card['data']['name'].replace(' ', '_')}_{key}_{scene}.{fmt}")
    typer.echo(f"wrote {write_card(card, fmt.lower(), path, force)}")
