"""Strangers: the people of the canon who belong to none of a scene's plays.

A speech at Julius Caesar 1.2 that calls on "Marcius" (Coriolanus), or a Beatrice who asks
after "Signior Peto" (Henry IV), has reached into another play: the speaker cannot know
that person, and a reader hears the scene come apart. The arena counts such speeches
(arena/strangers.py) and the agents' guard refuses a candidate that holds one
(`AgentSettings.no_strangers`).

A name counts when it is a proper form of a listed character of some play (`play_forms`:
"Marcius", "Peto", "Desdemona"; no rank, no place after "of", no word any play says in
lower case) and is at home in none of the scene's plays: not one of their persons, and
not a word their speeches say ("Caesar" is at home in Hamlet, which speaks of him). A
name spoken in SHARED plays or more is common ground ("Caesar", "John", "Hector") and
never a stranger.

Reading the 37 plays takes seconds, so the homes ship built (data/canon_names.json);
`python -m dramatis.agents.strangers` (make canon-names) writes them again from the
installed texts, and a test checks that the two agree.
"""

from __future__ import annotations

import functools
import json
import re
import sys
from collections.abc import Iterable
from pathlib import Path

from dramatis.core.errors import DramatisError

NAMES_FILE = Path(__file__).parent / "data" / "canon_names.json"
SHARED = 4  # a name the speeches of this many plays say is common ground

_CAPITALISED = re.compile(r"\b[A-Z][a-z]+(?:[-'][A-Za-z]+)*\b")
_WORD = re.compile(r"[A-Za-z]+(?:[-'][A-Za-z]+)*")


def build_homes() -> dict[str, list[str]]:
    """Each name that can be a stranger -> the plays it is at home in (sorted)."""
    from dramatis.agents.addressing import play_forms
    from dramatis.personas.corpus import list_plays, load_play

    keys = list_plays()
    said: dict[str, set[str]] = {}
    lower: set[str] = set()
    for key in keys:
        words = {w for s in load_play(key).speeches() for w in _WORD.findall(s.text)}
        lower |= {w for w in words if w[0].islower()}
        for word in words:
            said.setdefault(word, set()).add(key)
    homes: dict[str, set[str]] = {}
    for key in keys:
        for form, names in play_forms(key).items():
            if " " in form or form.lower() in lower or not _own_name(form, names):
                continue
            homes.setdefault(form, set()).add(key)
    return {
        form: sorted(plays | said.get(form, set()))
        for form, plays in sorted(homes.items())
        if len(said.get(form, ())) < SHARED
    }


def _own_name(form: str, names: Iterable[str]) -> bool:
    """Whether `form` names a person in one of `names`, not a place after "of"
    ("York" of "Duke of York" is a place; "Blanch" of "Blanch of Spain" is a name)."""
    for name in names:
        words = name.split()
        if form in words and ("of" not in words or words.index(form) < words.index("of")):
            return True
    return False


@functools.lru_cache(maxsize=1)
def canon_homes(path: Path = NAMES_FILE) -> dict[str, frozenset[str]]:
    """The shipped homes of the names (`build_homes`; one line naming the file and the
    fix when it cannot be read)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return {str(k): frozenset(map(str, v)) for k, v in data["homes"].items()}
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError) as err:
        raise DramatisError(
            f"{path}: not a canon names file ({err}); rebuild it with `make canon-names`"
        ) from None


@functools.lru_cache(maxsize=256)
def strangers(keys: tuple[str, ...]) -> frozenset[str]:
    """The names that are at home in none of the plays `keys` (none for no play: a cast
    of cards alone has no canon to be a stranger to)."""
    if not keys:
        return frozenset()
    at_home = set(keys)
    return frozenset(n for n, homes in canon_homes().items() if not homes & at_home)


def named_strangers(text: str, keys: tuple[str, ...], page: str = "") -> list[str]:
    """The strangers to the plays `keys` that `text` names, in order, leaving out any
    that `page` (the setting, the cards, what the scene said before) names itself.

    named_strangers("Good morrow, Signior Peto.", ("much_ado_about_nothing",)) -> ["Peto"]
    named_strangers("Where is Desdemona?", ("othello",)) -> []
    """
    found = strangers(keys)
    if not found:
        return []
    named = [w for w in dict.fromkeys(_CAPITALISED.findall(text)) if w in found]
    return [w for w in named if not page or not re.search(rf"\b{re.escape(w)}\b", page)]


def main() -> int:
    homes = build_homes()
    data = {"shared": SHARED, "homes": homes}
    NAMES_FILE.write_text(json.dumps(data, indent=0, sort_keys=True) + "\n", encoding="utf-8")
    print(f"{NAMES_FILE}: {len(homes)} names")
    return 0


if __name__ == "__main__":
    sys.exit(main())
