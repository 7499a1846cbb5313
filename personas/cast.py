"""Casts: named sets of personas saved as JSON; the default cast ships with the package."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel, ValidationError

from dramatis.core.errors import DramatisError, closest
from dramatis.core.keys import slug
from dramatis.core.settings import default_home
from dramatis.personas.card_store import CardStore
from dramatis.personas.cards import CARD_PLAY
from dramatis.personas.corpus import list_plays, load_play, play_key
from dramatis.personas.model import Play
from dramatis.personas.persona import Persona, build_persona

DEFAULT_CAST = Path(__file__).parent / "data" / "default_cast.json"
# The shipped cast (the file above) and the one `make adapters` trains: play -> names.
DEFAULT_MEMBERS = {
    "hamlet": ["Hamlet", "Ophelia", "Horatio", "Claudius", "Gertrude", "Polonius"],
    "macbeth": ["Macbeth", "Lady Macbeth", "Banquo", "Macduff"],
}


def default_roles() -> list[str]:
    """The default cast as play-qualified names: ["hamlet:Hamlet", ..., "macbeth:Macduff"]."""
    return [f"{play}:{name}" for play, names in DEFAULT_MEMBERS.items() for name in names]


def lookup_key(name: str) -> str:
    """Lookup form of a persona name, with or without its play.

    lookup_key("Lady Macbeth") -> "lady_macbeth"; lookup_key("Macbeth:lady-macbeth")
      -> "macbeth:lady_macbeth"
    """
    play, _, who = name.rpartition(":")
    return f"{slug(play, '_')}:{slug(who, '_')}" if play else slug(who, "_")


class CastFile(BaseModel):
    """On-disk form of a cast: {"personas": [...]}."""

    personas: list[Persona]


class Cast:
    """Personas by name; lookup ignores case and accepts key forms ("lady_macbeth")."""

    def __init__(self, personas: dict[str, Persona]):
        self.personas = personas
        self._by_key = {lookup_key(n): p for n, p in personas.items()}
        self._by_key.update({lookup_key(f"{p.play}:{n}"): p for n, p in personas.items()})

    def get(self, name: str) -> Persona:
        """The persona called `name` ("Hamlet", "hamlet", "macbeth:Banquo")."""
        found = self.find(name)
        if found is None:
            near = closest(name.split(":")[-1], self.personas)
            hint = f"did you mean {', '.join(near)}? " if near else ""
            names = ", ".join(self.personas)
            raise DramatisError(f"no persona {name!r} in the cast; {hint}cast: {names}")
        return found

    def find(self, name: str) -> Persona | None:
        """The persona called `name`, or None."""
        return self._by_key.get(lookup_key(name))

    def to_json(self) -> str:
        """The cast file text (stable: sorted keys, 2-space indent, trailing newline)."""
        data = CastFile(personas=list(self.personas.values())).model_dump(mode="json")
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def load_cast(path: Path | None = None) -> Cast:
    """Read a cast file (default: the shipped one); DramatisError naming the file and field."""
    path = Path(path) if path else DEFAULT_CAST
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise DramatisError(f"cannot read cast file {path}: {exc.strerror}") from exc
    except json.JSONDecodeError as exc:
        msg = f"cast file {path} is not JSON: {exc.msg} at line {exc.lineno}"
        raise DramatisError(msg) from exc
    try:
        cast = CastFile.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(part) for part in err["loc"]) or "(top level)"
        raise DramatisError(f"cast file {path}: field {field}: {err['msg']}") from exc
    return Cast({p.name: p for p in cast.personas})


def find_persona(name: str, play: str | None = None, *, home: Path | None = None) -> Persona:
    """A persona by name: "Hamlet", "macbeth:Banquo", "card:Yorick", or name + play.

    Without a play, the default cast answers first, then the cards imported into `home`
    (the state folder, Settings.home); otherwise every play is searched and the one where
    the character speaks most wins (slow: parses the plays not yet cached). `home` None:
    DRAMATIS_HOME or ~/.dramatis, for callers that hold no Settings.
    """
    if play is None and ":" in name:
        play, _, name = name.partition(":")
    if not name.strip():
        raise DramatisError(
            f"no character name in {f'{play}:' if play else ''}{name!r}: "
            "write NAME or PLAY:NAME, e.g. hamlet:Ophelia"
        )
    if play is not None and play.strip().lower() == CARD_PLAY:
        return imported_persona(name, cards_home(home))
    cast = load_cast()
    if play is not None:
        key = play_key(play)
        return cast.find(f"{key}:{name}") or build_persona(load_play(key), name)
    if found := cast.find(name):
        return found
    if found := CardStore(cards_home(home)).persona(name):  # an imported character card
        return found
    best = most_speeches(name)
    if best is None:
        return cast.get(name)  # raises, naming the closest cast members
    return build_persona(load_play(best[1]), best[2])


def most_speeches(name: str) -> tuple[int, str, str] | None:
    """(speeches, play, speaker) of the play where `name` speaks most: as a speaker's
    name, else as an alias ("Hal" is Prince Henry, most in 1 Henry IV); None: nowhere."""
    want = name.strip().lower()
    best: tuple[int, str, str] | None = None
    for by_alias in (False, True):
        for key in list_plays():
            play = load_play(key)
            names = {want} if not by_alias else _alias_owners(play, want)
            for speaker in names:
                count = sum(s.speaker.lower() == speaker.lower() for s in play.speeches())
                if count and (best is None or count > best[0]):
                    best = (count, key, speaker)
        if best is not None:
            return best
    return None


def _alias_owners(play: Play, alias: str) -> set[str]:
    """Listed characters of a play who go by `alias` (lower case)."""
    return {c.name for c in play.characters.values() if alias in (a.lower() for a in c.aliases)}


def cards_home(home: Path | None) -> Path:
    """The state folder whose imported cards are searched: `home`, else the default."""
    return home if home is not None else default_home()


def imported_persona(name: str, home: Path) -> Persona:
    """The persona of an imported character card ("card:Yorick") in `home`; DramatisError
    if none."""
    store = CardStore(home)
    if found := store.persona(name):
        return found
    near = closest(name, store.keys())
    hint = f"; did you mean {', '.join(near)}?" if near else ""
    raise DramatisError(
        f"no imported card {name!r} in {store.root}{hint} (import one: dramatis personas import FILE)"
    )
