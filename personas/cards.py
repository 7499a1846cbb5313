"""Character Card V2 and V3 (the SillyTavern formats): check, convert, map onto Persona.

A card is JSON: {"spec": "chara_card_v2", "spec_version": "2.0", "data": {...}} or
{"spec": "chara_card_v3", "spec_version": "3.0", "data": {...}}. We keep an imported card
verbatim (`Persona.card_source`), so an export gives back every field, unknown extension
keys included; the Persona fields are a reading of it for our prompts. Files (JSON, PNG)
are handled in card_files.py.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from dramatis.core.errors import DramatisError
from dramatis.personas.lorebook import Lorebook
from dramatis.personas.persona import Persona

V2, V3 = "chara_card_v2", "chara_card_v3"
SPEC_VERSIONS = {V2: "2.0", V3: "3.0"}
CARD_PLAY = "card"  # Persona.play of an imported character
V3_ONLY = (
    "nickname",
    "creator_notes_multilingual",
    "source",
    "group_only_greetings",
    "creation_date",
    "modification_date",
    "assets",
)


class CardData(BaseModel):
    """The `data` object both specs share (V3 adds the V3_ONLY fields); unknown keys stay."""

    model_config = ConfigDict(extra="allow", strict=True)

    name: str
    description: str = ""
    personality: str = ""
    scenario: str = ""
    first_mes: str = ""
    mes_example: str = ""
    creator_notes: str = ""
    system_prompt: str = ""
    post_history_instructions: str = ""
    alternate_greetings: list[str] = Field(default_factory=list)
    character_book: Lorebook | None = None
    tags: list[str] = Field(default_factory=list)
    creator: str = ""
    character_version: str = ""
    extensions: dict[str, Any] = Field(default_factory=dict)
    group_only_greetings: list[str] = Field(default_factory=list)


def check_card(raw: Any, source: str) -> dict[str, Any]:
    """The card as a V2 or V3 wrapper; DramatisError naming `source` and the field.

    A V1 card (the fields at the top level, no "spec") comes back as V2.
    """
    if not isinstance(raw, dict):
        raise DramatisError(f"{source}: a character card is a JSON object, not {_kind(raw)}")
    if "spec" not in raw and isinstance(raw.get("entries"), (dict, list)):  # world info
        raise DramatisError(
            f"{source}: a SillyTavern world-info file, not a character card: import it "
            "with `dramatis lore import`"
        )
    if "spec" not in raw and "name" in raw and "data" not in raw:
        raw = {"spec": V2, "spec_version": "2.0", "data": raw}  # V1: bare fields
    spec = raw.get("spec")
    if spec not in SPEC_VERSIONS:
        raise DramatisError(
            f"{source}: spec {spec!r} is not a character card: expected {V2!r} or {V3!r}"
        )
    if not isinstance(raw.get("data"), dict):
        raise DramatisError(
            f"{source}: field data is missing: a {spec} card keeps its fields there"
        )
    try:
        CardData.model_validate(raw["data"])
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(part) for part in err["loc"])
        raise DramatisError(f"{source}: field data.{field}: {err['msg'].lower()}") from None
    return raw


def _kind(value: Any) -> str:
    """A JSON type name for messages: [] -> "an array"."""
    names = {list: "an array", str: "a string", int: "a number", float: "a number"}
    return names.get(type(value), "null" if value is None else type(value).__name__)


def to_version(card: dict[str, Any], v3: bool) -> dict[str, Any]:
    """The card in the other spec, or the same card when it already is that spec.

    V2 -> V3 adds the required `group_only_greetings`; V3 -> V2 leaves the V3-only fields
    out (a PNG carries the V3 card beside it, in its `ccv3` chunk).
    """
    card = copy.deepcopy(card)
    want = V3 if v3 else V2
    if card["spec"] == want:
        return card
    data = card["data"]
    if v3:
        data.setdefault("group_only_greetings", [])
    else:
        data = {k: v for k, v in data.items() if k not in V3_ONLY}
    return {**card, "spec": want, "spec_version": SPEC_VERSIONS[want], "data": data}


MACROS = re.compile(r"\{\{\s*(char|user)\s*\}\}|<(BOT|USER)>", re.IGNORECASE)


def fill_macros(text: str, char: str, user: str) -> str:
    """Substitute the card macros {{char}}, {{user}} (and the old <BOT>, <USER>).

    fill_macros("{{user}}, I am {{Char}}.", "Yorick", "Hamlet") -> "Hamlet, I am Yorick."
    """

    def sub(match: re.Match[str]) -> str:
        which = (match.group(1) or match.group(2)).lower()
        return char if which in ("char", "bot") else user

    return MACROS.sub(sub, text)


def split_examples(text: str) -> tuple[str, str]:
    """(prose, example blocks) of a card field that holds `<START>` dialogue blocks after
    its prose, as many descriptions do; the blocks are examples, not description.

    split_examples("Kind.\\n<START>\\n{{char}}: Hi.") -> ("Kind.", "<START>\\n{{char}}: Hi.")
    """
    found = re.search(r"<START>", text, flags=re.IGNORECASE)
    if found is None:
        return text, ""
    return text[: found.start()].rstrip(), text[found.start() :]


def example_lines(mes_example: str, name: str = "") -> list[str]:
    """The character's own lines from `mes_example` (<START>-separated dialogue blocks),
    each block's speeches whole; `name` is also taken as the character's heading.

    "<START>\\n{{user}}: Hi\\n{{char}}: Well met.\\nHow now?" -> ["Well met.\\nHow now?"]
    """
    lines: list[str] = []
    own = ("{{char}}", "<bot>", name.lower()) if name else ("{{char}}", "<bot>")
    named = rf"|{re.escape(name)}" if name else ""
    heading = re.compile(rf"\s*(\{{\{{\w+\}}\}}|<\w+>{named})\s*:\s*(.*)", re.IGNORECASE)
    for block in re.split(r"<START>", mes_example, flags=re.IGNORECASE):
        speaker, said = "", []
        for row in block.strip().splitlines() + ["{{end}}:"]:
            head = heading.match(row)
            if head is None:
                said.append(row.strip())
                continue
            if speaker in own and "".join(said):
                lines.append("\n".join(s for s in said if s))
            speaker, said = head.group(1).lower(), [head.group(2).strip()]
    return lines


def talkativeness(extensions: dict[str, Any]) -> float:
    """SillyTavern's extensions.talkativeness (a string or number) as 0..1; 0.5 when unset.

    talkativeness({"talkativeness": "0.8"}) -> 0.8; talkativeness({}) -> 0.5
    """
    try:
        value = float(extensions.get("talkativeness", 0.5))
    except (TypeError, ValueError):
        return 0.5
    return min(1.0, max(0.0, value)) if value == value else 0.5  # NaN -> default


def filled_book(book: Lorebook | None, fill: Callable[[str], str]) -> Lorebook | None:
    """The lorebook with the macros filled in every entry's keys and content."""
    if book is None:
        return None
    entries = [
        entry.model_copy(
            update={
                "keys": [fill(k) for k in entry.keys],
                "secondary_keys": [fill(k) for k in entry.secondary_keys],
                "content": fill(entry.content),
            }
        )
        for entry in book.entries
    ]
    return book.model_copy(update={"entries": entries})


def card_to_persona(card: dict[str, Any], user: str = "User") -> Persona:
    """A Persona reading of a checked card, macros filled in; the card itself rides along."""
    data = CardData.model_validate(card["data"])
    name = " ".join(data.name.split())
    if not name:
        raise DramatisError("character card: field data.name is empty: give the character a name")

    def fill(text: str) -> str:
        return fill_macros(text, name, user).strip()

    greetings = [fill(g) for g in data.alternate_greetings]
    prose, blocks = split_examples(data.description)  # examples there are examples
    samples = [fill(s) for s in example_lines(f"{data.mes_example}\n{blocks}", name)]
    samples = samples or [t for t in [fill(data.first_mes), *greetings] if t]
    return Persona(
        name=name,
        play=CARD_PLAY,
        play_title=f"{name}'s character card",
        description=fill(prose),
        n_speeches=0,
        n_lines=0,
        sample_lines=samples,
        first_scene="",
        last_scene="",
        personality=fill(data.personality),
        scenario=fill(data.scenario),
        first_mes=fill(data.first_mes),
        alternate_greetings=greetings,
        group_only_greetings=[fill(g) for g in data.group_only_greetings],
        # "{{original}}" stays: the chat prompt puts our own instruction there
        system_prompt=fill(data.system_prompt),
        post_history_instructions=fill(data.post_history_instructions),
        tags=list(data.tags),
        talkativeness=talkativeness(data.extensions),
        lorebook=filled_book(data.character_book, fill),
        card_source=copy.deepcopy(card),
    )


def greeting(persona: Persona, *, group: bool, choice: int | None = None) -> str:
    """The opening line of a card character: a group-only greeting in a group scene,
    else its first message ("" for a play persona). `choice` picks one (`--greeting N`):
    0 the first message, N the card's Nth alternate greeting.

    greeting(seraphina, group=False, choice=2) -> her second alternate greeting
    """
    if choice is not None:
        options = [persona.first_mes, *persona.alternate_greetings]
        if not 0 <= choice < len(options):
            raise DramatisError(
                f"--greeting {choice}: {persona.name}'s card has greetings 0 to "
                f"{len(options) - 1} (0: its first message, 1 on: its alternate greetings)"
            )
        return options[choice]
    if group and persona.group_only_greetings:
        return persona.group_only_greetings[0]
    return persona.first_mes


def play_card_data(persona: Persona) -> dict[str, Any]:
    """V2 card fields for a play persona; the whole persona rides in extensions.dramatis."""
    examples = "\n".join(f"<START>\n{{{{char}}}}: {line}" for line in persona.sample_lines)
    return {
        "name": persona.name,
        "description": persona.card(),
        "personality": persona.personality,
        "scenario": persona.scenario or f"A scene from Shakespeare's {persona.play_title}.",
        "first_mes": persona.first_mes or next(iter(persona.sample_lines), ""),
        "mes_example": examples,
        "creator_notes": (
            f"Built by dramatis from the text of {persona.play_title}: "
            f"{persona.n_speeches} speeches, scenes {persona.first_scene} to {persona.last_scene}."
        ),
        "system_prompt": persona.system_prompt,
        "post_history_instructions": persona.post_history_instructions,
        "alternate_greetings": list(persona.alternate_greetings),
        "tags": persona.tags or ["shakespeare", persona.play],
        "creator": "dramatis",
        "character_version": "1",
        "extensions": {
            "talkativeness": str(persona.talkativeness),
            "dramatis": persona.model_dump(mode="json", exclude={"card_source"}),
        },
    }


def persona_card(persona: Persona, *, v3: bool = False) -> dict[str, Any]:
    """A persona as a card: an imported one gives back its own card, in the spec asked for."""
    if persona.card_source is not None:
        return to_version(persona.card_source, v3)
    card = {"spec": V2, "spec_version": "2.0", "data": play_card_data(persona)}
    return to_version(card, v3)


def card_persona(card: dict[str, Any], user: str = "User") -> Persona:
    """The persona of a checked card: a card dramatis exported gives back its play persona."""
    saved = card["data"].get("extensions", {}).get("dramatis")
    if card["data"].get("creator") == "dramatis" and isinstance(saved, dict):
        try:
            return Persona.model_validate(saved)
        except ValidationError:
            pass  # edited by hand: read it as any other card
    return card_to_persona(card, user)
