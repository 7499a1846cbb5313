"""Strangers: the people of the canon who belong to none of a scene's plays.

A speech at Julius Caesar 1.2 that calls on "Marcius" (Coriolanus), or a Beatrice who asks
after "Signior Peto" (Henry IV), has reached into another play: the speaker cannot know
that person, and a reader hears the scene come apart. The arena counts such speeches
(arena/strangers.py) and the agents' guard refuses a candidate that holds one
(`AgentSettings.no_strangers`).

A name counts when it is one person's own name among a play's characters (`play_forms`:
the listed ones, and those who speak under a one-word heading the play uses as a name:
"Marcius", "Peto", "Desdemona", "Volumnius"; no rank, no place after "of", no word any
play says in lower case, no people in the plural: "Amazons") and is at home in none of
the scene's plays: not one of their persons, and not a word their speeches say
("Caesar" is at home in Hamlet, which speaks of him). A name the speeches of SHARED plays
or more say is common ground ("Caesar", "John", "Hector", "Achilles") and never a
stranger.

Reading the 37 plays takes seconds, so the homes ship built (data/canon_names.json);
`python -m dramatis.agents.strangers` (make canon-names) writes them again from the
installed texts, and a test checks that the two agree.
"""

from __future__ import annotations

import functools
import json
import re
import sys
import unicodedata
from collections.abc import Collection, Container, Iterable, Mapping
from pathlib import Path
from types import MappingProxyType

from dramatis.core.errors import DramatisError

NAMES_FILE = Path(__file__).parent / "data" / "canon_names.json"
SHARED = 3  # a name the speeches of this many plays say is common ground

# A word as the rule reads it: letters with inner apostrophes; a hyphen parts two words
# ("Peto-like": "Peto"), and a possessive is its name ("Peto's": "Peto")
_WORD = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)*")


def words(text: str) -> list[str]:
    """The words of `text` as names are read: possessives cut, capitals as a name
    ("PETO" -> "Peto").

    words("O PETO, Peto's horse!") -> ["O", "Peto", "Peto", "horse"]
    """
    found = []
    for word in _WORD.findall(text):
        word = word.removesuffix("'s").removesuffix("'S")
        found.append(word.capitalize() if len(word) > 1 and word.isupper() else word)
    return found


def build_homes(leave_out: str = "") -> dict[str, list[str]]:
    """Each name that can be a stranger -> the plays it is at home in (sorted). With
    `leave_out`, that play's speeches count for nothing (its persons are still at home
    there): the rule as it reads a play it has not seen."""
    from dramatis.agents.addressing import play_forms
    from dramatis.personas.corpus import list_plays, load_play

    keys = list_plays()
    said: dict[str, set[str]] = {}
    lower: set[str] = set()
    for key in keys:
        if key == leave_out:
            continue
        spoken = {w for s in load_play(key).speeches() for w in words(s.text)}
        lower |= {w for w in spoken if w[0].islower()}
        for word in spoken:
            said.setdefault(word, set()).add(key)
    homes: dict[str, set[str]] = {}
    for key in keys:
        for form, names in play_forms(key).items():
            if _person(form, names, said, lower):
                homes.setdefault(form, set()).add(key)
    return {
        form: sorted(plays | said.get(form, set()))
        for form, plays in sorted(homes.items())
        if len(said.get(form, ())) < SHARED
    }


def _person(form: str, names: Iterable[str], said: Container[str], lower: Container[str]) -> bool:
    """Whether a form of a play's characters is one person's own name: one word, not an
    ordinary word of the plays, not a place after "of" ("York" of "Duke of York";
    "Blanch" of "Blanch of Spain" is a name), nor a people named in the plural of a word
    the plays say ("Amazons", "Outlaws", "Goths")."""
    if not _WORD.fullmatch(form) or form.lower() in lower:
        return False
    for plural in ("s", "es"):
        single = form.removesuffix(plural)
        if single != form and (single in said or single.lower() in lower):
            return False
    for name in names:
        parts = name.split()
        if form in parts and ("of" not in parts or parts.index(form) < parts.index("of")):
            return True
    return False


@functools.lru_cache(maxsize=1)
def canon_homes(path: Path = NAMES_FILE) -> Mapping[str, frozenset[str]]:
    """The shipped homes of the names (`build_homes`; one line naming the file and the
    fix when it cannot be read)."""
    try:
        from dramatis.personas.corpus import list_plays

        data = json.loads(path.read_text(encoding="utf-8"))
        known = frozenset(list_plays())
        homes = {str(k): _plays(v, known) for k, v in data["homes"].items()}
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError) as err:
        raise DramatisError(
            f"{path}: not a canon names file ({err}); rebuild it with `make canon-names`"
        ) from None
    return MappingProxyType(homes)


def _plays(value: object, known: frozenset[str]) -> frozenset[str]:
    """A name's homes as the file holds them: a list of `known` play keys (ValueError
    otherwise)."""
    if not isinstance(value, list) or not known.issuperset(value):
        raise ValueError(f"homes must be lists of play keys, not {value!r}")
    return frozenset(value)


@functools.lru_cache(maxsize=256)
def strangers(keys: tuple[str, ...]) -> frozenset[str]:
    """The names that are at home in none of the plays `keys` (none for no play: a cast
    of cards alone has no canon to be a stranger to)."""
    return strangers_in(canon_homes(), keys)


def strangers_in(homes: Mapping[str, Iterable[str]], keys: tuple[str, ...]) -> frozenset[str]:
    """`strangers` by the homes given (`build_homes`)."""
    if not keys:
        return frozenset()
    at_home = set(keys)
    return frozenset(n for n, plays in homes.items() if not at_home.intersection(plays))


def named_strangers(
    text: str, keys: tuple[str, ...], page: str = "", found: frozenset[str] | None = None
) -> list[str]:
    """The strangers to the plays `keys` that `text` names, in order, leaving out any
    that `page` (the setting, the persons, what the scene said before) names itself, in
    any case ("ALICE:" is Alice's heading). `found`: the strangers by other homes
    (`strangers_in`) than the shipped ones.

    named_strangers("Good morrow, Signior Peto.", ("much_ado_about_nothing",)) -> ["Peto"]
    named_strangers("Where is Desdemona?", ("othello",)) -> []
    """
    found = strangers(keys) if found is None else found
    named = [w for w in dict.fromkeys(words(text)) if w in found]
    if not named or not page:
        return named
    on_page = {w.lower() for w in words(page)}
    return [w for w in named if w.lower() not in on_page]


# A word written with a capital, as a name is ("Maximinus", "Doctor Savin", "O'Brien",
# "Zoë"): letters of any script, with inner apostrophes
_LETTERS = re.compile(r"(?<![\w'])[^\W\d_](?:[^\W\d_]|'(?=[^\W\d_]))*")
_ROMAN = re.compile(r"[IVXLCDM]+")  # "Henry VIII": a number, not a name
# Where any word has a capital: a speech's, a sentence's or a line's start, after a dash or
# an opening quote ("Actually, I go.", "--Maybe", 'He cried "Away!" Okay, ...')
_STARTS = re.compile(r"(?:^|[.!?;:\n\u2014\u2026]|--)[\s\"'\u201c\u201d\u2018\u2019()\[\]]*$")
# ... unless a title stands just before it: "Sir Maximinus", "Doctor Savin", "St. Denis"
_TITLE_BEFORE = re.compile(
    r"\b(?:(?:Sir|Signior|Signor|Doctor|Master|Mistress|Lady|Lord|Madam|Friar|Captain|Count"
    r"|Duke|King|Queen|Prince|Princess|Dame|Don|Saint)|St\.?)\s+$"
)


def invented(text: str, page: Collection[str] = ()) -> list[str]:
    """The words of `text` written with a capital where no other word would have one, that
    no play uses and that `page` (a scene's own words, `page_words`) does not hold, in
    order: the names of no play a speech makes up ("Sir Maximinus", "Doctor Savin",
    "Covelli"). A word at a sentence's or a line's start counts only after a title, or
    where the speech writes it with a capital elsewhere too ("Actually, I go" names no
    one); a roman numeral is no name.

    invented("Well, Sir Maximinus, and Signior Benedick!") -> ["Maximinus"]
    invented("Come, Zed.", page={"zed"}) -> []
    """
    from dramatis.personas.vocabulary import unknown

    text = plain(text)
    inner = []  # the capitalised words where no other word would have a capital
    for m in _LETTERS.finditer(text):
        if not m[0][0].isupper():
            continue
        head = text[: m.start()]
        if (not _STARTS.search(head) or _TITLE_BEFORE.search(head)) and m[0] not in inner:
            inner.append(m[0])
    return [w for w in inner if not _ROMAN.fullmatch(w) and unknown(w, page)]


def plain(text: str) -> str:
    """`text` with curly apostrophes straight and accents dropped, as the plays' words
    are read ("O\u2019Brien" -> "O'Brien", "Zo\u00eb" -> "Zoe")."""
    text = text.replace("\u2019", "'").replace("\u2018", "'")
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def main() -> int:
    homes = build_homes()
    data = {"shared": SHARED, "homes": homes}
    NAMES_FILE.write_text(json.dumps(data, indent=0, sort_keys=True) + "\n", encoding="utf-8")
    print(f"{NAMES_FILE}: {len(homes)} names")
    return 0


if __name__ == "__main__":
    sys.exit(main())
