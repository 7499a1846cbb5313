"""Typer sub-apps mounted by the main CLI as `dramatis play ...` and `dramatis personas ...`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from dramatis.core.settings import Settings
from dramatis.personas.card_store import CardStore, import_card
from dramatis.personas.cast import find_persona, load_cast
from dramatis.personas.check import HeadingRow, heading_rows, weak_rows
from dramatis.personas.corpus import list_plays, load_play
from dramatis.personas.gold import play_agreement, reference_agreement
from dramatis.personas.identities import heading_key, load_identities, same_person
from dramatis.personas.model import Play

play_app = typer.Typer(no_args_is_help=True, help="Parse plays and show parse figures.")
personas_app = typer.Typer(no_args_is_help=True, help="Show the characters built from the plays.")

JsonFlag = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON only.")]
Home = Annotated[
    Path | None,
    typer.Option(help="State folder whose imported cards are used; env DRAMATIS_HOME."),
]


def state_home(home: Path | None) -> Path:
    """The state folder: --home, else DRAMATIS_HOME, else ~/.dramatis (Settings decides)."""
    return Settings.load(home=home).home


def play_stats(play: Play) -> dict[str, Any]:
    """Parse figures of a play: speeches, resolved fraction, characters with line counts."""
    speeches = play.speeches()
    counts = play.line_counts()
    n_speeches = {name: 0 for name in counts}
    for speech in speeches:
        n_speeches[speech.speaker] += 1
    unresolved = sorted({s.heading for s in speeches if not s.resolved})
    agreement = play_agreement(play)
    reference = reference_agreement(play)
    return {
        "play": play.key,
        "title": play.title,
        "acts": len(play.acts),
        "scenes": len(play.scenes()),
        "speeches": len(speeches),
        "resolved_speeches": sum(s.resolved for s in speeches),
        "resolved_fraction": round(play.resolved_fraction(), 4),
        "unresolved_headings": unresolved,
        # share of speeches whose speaker matches the hand-checked gold counts; None: no gold
        "gold_agreement": None if agreement is None else round(agreement, 4),
        # the same against a public reference edition's counts (another edition); None: none
        "reference_agreement": None if reference is None else round(reference, 4),
        "characters": [
            {"name": name, "lines": lines, "speeches": n_speeches[name]}
            for name, lines in counts.items()
        ],
    }


@play_app.command("stats")
def stats(
    play: Annotated[str, typer.Argument(help="Play key or name, e.g. hamlet, 'King Lear'.")],
    as_json: JsonFlag = False,
) -> None:
    """Per-play parse figures: speeches, resolved fraction, characters with line counts."""
    figures = play_stats(load_play(play))
    if as_json:
        typer.echo(json.dumps(figures, indent=2))
        return
    console = Console()
    console.print(
        f"[bold]{figures['title']}[/] ({figures['play']}): {figures['acts']} acts, "
        f"{figures['scenes']} scenes, {figures['speeches']} speeches, "
        f"{figures['resolved_fraction']:.2%} resolved"
    )
    gold = figures["gold_agreement"]
    console.print(
        "gold agreement: no gold counts for this play (the table has eight plays)"
        if gold is None
        else f"gold agreement: {gold:.2%} of speeches attributed as in the hand-checked table"
    )
    if (ref := figures["reference_agreement"]) is not None:
        console.print(f"reference agreement: {ref:.2%} of speeches as in a public edition's counts")
    table = Table("character", "lines", "speeches")
    for row in figures["characters"]:
        table.add_row(row["name"], str(row["lines"]), str(row["speeches"]))
    console.print(table)


@play_app.command("check")
def check_command(
    play: Annotated[str, typer.Argument(help="Play key or name, e.g. henry_iv_part_1.")],
    weak: Annotated[bool, typer.Option("--weak", help="Only headings to check by hand.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Every speech heading, the person it maps to, and the rule; weak rules are flagged.
    PLAY 'all': how many headings to check by hand in each of the 37 plays."""
    if play.strip().lower() == "all":
        canon_summary(as_json)
        return
    parsed = load_play(play)
    rows = weak_rows(parsed) if weak else heading_rows(parsed)
    why = {c.name: c.identity for c in parsed.characters.values() if c.identity}
    bound = {  # the reasons of the identity table's scene-bound headings
        (heading_key(i.heading), i.name): i.why
        for i in load_identities().get(parsed.key, ())
        if i.heading
    }

    def reason(r: HeadingRow) -> str:
        if r.rule == "identity table: this heading in this scene":
            return bound.get((heading_key(r.heading), r.speaker), "")
        return why.get(r.speaker, "")

    if as_json:
        out = [{**r.as_dict(), "identity": reason(r)} for r in rows]
        typer.echo(json.dumps({"play": parsed.key, "headings": out}, indent=2))
        return
    table = Table("heading", "person", "rule", "speeches", "flag")
    for r in rows:
        rule = f"{r.rule}: {reason(r)}" if r.rule.startswith("identity table") else r.rule
        rule = f"{rule}; identity table: {why[r.speaker]}" if r.speaker in why else rule
        flag = "unresolved" if not r.resolved else ("WEAK" if r.weak else "")
        table.add_row(r.heading or "(no heading)", r.speaker, rule, str(r.speeches), flag)
    console = Console()
    console.print(table)
    flagged = weak_rows(parsed)
    console.print(
        f"{len(flagged)} heading(s) to check by hand "
        f"({sum(r.speeches for r in flagged)} speeches): weak rule or unresolved"
    )


def canon_summary(as_json: bool) -> None:
    """Per play: headings mapped by a weak rule and headings left unresolved (speeches)."""
    rows = []
    for key in list_plays():
        flagged = weak_rows(load_play(key))
        weak = [r for r in flagged if r.weak]
        loose = [r for r in flagged if not r.resolved]
        rows.append(
            {
                "play": key,
                "weak_headings": len(weak),
                "weak_speeches": sum(r.speeches for r in weak),
                "unresolved_headings": len(loose),
                "unresolved_speeches": sum(r.speeches for r in loose),
            }
        )
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    table = Table("play", "weak headings", "(speeches)", "unresolved", "(speeches)")
    for row in rows:
        table.add_row(*(str(v) for v in row.values()))
    total = {k: sum(int(r[k]) for r in rows) for k in list(rows[0])[1:]}
    table.add_row("all 37 plays", *(str(v) for v in total.values()))
    Console().print(table)


@play_app.command("list")
def list_command(as_json: JsonFlag = False) -> None:
    """The play keys (poems are left out: they have no speeches)."""
    plays = list_plays()
    typer.echo(json.dumps(plays) if as_json else "\n".join(plays))


@personas_app.command("show")
def show(
    name: Annotated[str, typer.Argument(help="Character, e.g. Hamlet, 'Lady Macbeth', lear:Fool.")],
    play: Annotated[str | None, typer.Option(help="Play to build the persona from.")] = None,
    as_json: JsonFlag = False,
    home: Home = None,
) -> None:
    """Print one persona (default cast first, then imported cards, then the plays)."""
    persona = find_persona(name, play, home=state_home(home))
    if as_json:
        typer.echo(persona.model_dump_json(indent=2))
        return
    console = Console()
    console.print(f"[bold]{persona.name}[/] — {persona.play_title} ({persona.play})")
    console.print(persona.summary(), markup=False)
    if also := same_person(persona.play, persona.name):
        console.print(f"The same person in other plays: {', '.join(also)}", markup=False)
    for lines in persona.sample_lines:
        console.print("")
        console.print(lines, markup=False, style="italic")


@personas_app.command("list")
def list_personas(
    play: Annotated[str | None, typer.Option(help="List a play's speakers instead.")] = None,
    as_json: JsonFlag = False,
    home: Home = None,
) -> None:
    """The default cast and imported cards, or with --play a play's speakers by lines."""
    if play:
        counts = load_play(play).line_counts()
        rows = [{"name": n, "lines": c} for n, c in counts.items()]
    else:
        personas = [*load_cast().personas.values(), *CardStore(state_home(home)).personas()]
        rows = [{"name": p.name, "play": p.play, "lines": p.n_lines} for p in personas]
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    table = Table(*rows[0].keys()) if rows else Table("name")
    for row in rows:
        table.add_row(*(str(v) for v in row.values()))
    Console().print(table)


@personas_app.command("import")
def import_command(
    file: Annotated[Path, typer.Argument(help="Character Card V2/V3 as .json or .png.")],
    force: Annotated[bool, typer.Option("--force", help="Replace a card imported before.")] = False,
    as_json: JsonFlag = False,
    home: Home = None,
) -> None:
    """Import a Character Card (V2 or V3, JSON or PNG) as a persona for scenes."""
    store = CardStore(state_home(home))
    persona = import_card(file, store, force=force)
    if as_json:
        typer.echo(persona.model_dump_json(indent=2, exclude={"card_source"}))
        return
    name = persona.name
    if load_cast().find(name):  # the default cast answers to the bare name first
        name = f"card:{name}"
    typer.echo(
        f"imported {persona.name} into {store.root}; stage it: "
        f"dramatis stage --cast 'Hamlet,{name}'" + (f" --home {home}" if home else "")
    )


@personas_app.command("export")
def export_command(
    name: Annotated[str, typer.Argument(help="Persona: Hamlet, macbeth:Banquo, an imported card.")],
    fmt: Annotated[str, typer.Option("--format", help="png | json.")] = "png",
    v3: Annotated[bool, typer.Option("--v3", help="Character Card V3 (default V2).")] = False,
    out: Annotated[Path | None, typer.Option(help="Output file (default NAME.png|json).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
    home: Home = None,
) -> None:
    """Export a persona as a Character Card: JSON, or PNG (V2 and V3 chunks) with a portrait."""
    from dramatis.personas.card_export import export_persona

    where = state_home(home)
    persona = find_persona(name, home=where)
    path = export_persona(persona, fmt, v3=v3, out=out, home=where, force=force)
    typer.echo(f"wrote {path}")
