"""Who a speech names or speaks to: the text helpers speaker policies and the guard read."""

from __future__ import annotations

import functools
import re
from collections.abc import Container, Iterable, Mapping

_WORD = re.compile(r"[A-Za-z][A-Za-z'\-]*")
VOCATIVE_WORDS = 4  # a name this near a speech's start or end is most often a vocative


def mentions(text: str, name: str) -> bool:
    """Whether `text` names `name` (or its last word: "Lady" alone does not count).

    mentions("Good Horatio, come.", "Horatio") -> True
    """
    forms = {name} | ({name.split()[-1]} if " " in name and not name.startswith("Lady") else set())
    return any(re.search(rf"\b{re.escape(f)}\b", text, re.IGNORECASE) for f in forms)


def calls_on(text: str, name: str) -> bool:
    """Whether `text` names `name` in its first or last few words, as one calls on someone.

    calls_on("Horatio, thou art e'en as just a man", "Horatio") -> True
    calls_on("A goodly king; Horatio knew it, as did we all.", "Horatio") -> False
    """
    words = _WORD.findall(text)
    head = " ".join(words[:VOCATIVE_WORDS])
    tail = " ".join(words[-VOCATIVE_WORDS:])
    return mentions(head, name) or mentions(tail, name)


# Before a name spoken to at a sentence's start: "O Cassius!", "Good my lord Cassius,"
_BEFORE = (
    r"(?:(?:O|Oh|Ah|Good|Sweet|Noble|Dear|Gentle|Brave|Fair|Worthy|Most|Kind|Now|Come|Nay|Ay"
    r"|Why|Well|My)[ ,]\s*)?"
    r"(?:(?:good|sweet|noble|dear|gentle|brave|fair|worthy|kind|most|my|lord|lady|liege"
    r"|gracious)[ ,]\s*){0,3}"
)
# ... and after a comma: ", good Cassius."
_AFTER_COMMA = r"(?:(?:O|good|sweet|noble|dear|gentle|brave|fair|worthy|kind|my)\s+)?"


@functools.lru_cache(maxsize=4096)
def _vocative(form: str) -> re.Pattern[str]:
    """Where `form` is spoken to: at a sentence's start and followed by , ! or ?
    ("Cassius, ..."); after a comma and ending a sentence ("Farewell, Cassius."; group
    `after`, which `spoken_to` checks is no list's end); after "O" ("O Cassius"); or
    between commas after "good", "my", ... (", good Cassius,")."""
    f = re.escape(form)
    return re.compile(
        rf"(?P<start>(?:^|[.!?;:]|\n)\s*{_BEFORE}{f}\s*[,!?])"
        rf"|(?P<after>,\s*{_AFTER_COMMA}{f}\s*[.!?;])"
        rf"|\bO,?\s+{f}\b"
        rf"|,\s*(?:good|sweet|noble|dear|gentle|brave|fair|worthy|my)\s+{f}\s*,"
    )


# Words of a listed name that are a rank, an office or a number, not a name: "Duke of
# Venice" is called "my lord", not "Duke"; "King Henry III" is not called "III"
_RANKS = """Abbess Abbot Admiral Ancient Archbishop Archduke Baron Bishop Captain Cardinal Citizen Clown
    Chorus Constable Count Countess Dauphin Doctor Don Duchess Duke Earl Emperor Empress Friar Gaoler
    General Gentleman Gentlewoman Ghost Governor Herald Keeper King Knight Lady
    Lieutenant Lord Marquis Master Mayor Messenger Mistress Nurse Officer Page Porter
    Priest Prince Princess Queen Senator Servant Sheriff Sir Soldier Steward Tribune
    Watchman Widow Young Old First Second Third Fourth Fifth Sixth Seventh Eighth Ninth
    Tenth"""
_NOT_NAMES = frozenset(_RANKS.split())
_ROMAN = re.compile(r"[IVXL]+")
# Double quotes hold what someone else cried ('He cried, "O Caesar!" and fell.')
_QUOTED = re.compile(r'"[^"]*"|\u201c[^\u201d]*\u201d')
# A name in a list is not called on: "Casca, Cinna, Cassius." (before and after a name)
_LIST_END = re.compile(r",\s*[A-Z][a-z'-]+\s*$")
_LIST_NEXT = re.compile(r"\s*[A-Z][a-z'-]+\s*(?:,|and\b)")


def address_forms(names: Iterable[str], ordinary: Container[str]) -> dict[str, frozenset[str]]:
    """What a speech may call each of `names` by -> the names each form may stand for: the
    whole name, and each word of a name of several that is no `ordinary` word (lower
    case) of the plays. A name whose last word is ordinary or a rank ("Boy", "First Lord") has none.

    address_forms(["Marcus Brutus", "Lady Macbeth", "Boy"], {"lady", "boy"})
      -> {"Marcus Brutus": {"Marcus Brutus"}, "Marcus": {"Marcus Brutus"},
          "Brutus": {"Marcus Brutus"}, "Lady Macbeth": {"Lady Macbeth"},
          "Macbeth": {"Lady Macbeth"}}
    Ranks, ordinals and the place after "of" in a name that starts with no rank are no
    forms: no "Duke", "Third", "III"; "Blanch of Spain" gives "Blanch" (but "Duke of
    York" gives "York").
    """
    forms: dict[str, set[str]] = {}
    for name in names:
        words = name.split()
        if "of" in words and words[0] not in _NOT_NAMES:  # "Blanch of Spain": not "Spain"
            words = words[: words.index("of")]
        proper = [w for w in words if _proper(w, ordinary)]
        if not proper or proper[-1] != words[-1]:
            continue
        for form in {name, *(proper if " " in name else ())}:
            forms.setdefault(form, set()).add(name)
    return {form: frozenset(named) for form, named in forms.items()}


def _proper(word: str, ordinary: Container[str]) -> bool:
    """Whether a word of a listed name is a name of its own ("Cassius"), not an ordinary
    word, a rank or an ordinal ("lady", "Duke", "Third", "III")."""
    return (
        word[:1].isupper()
        and len(word) > 2
        and word.lower() not in ordinary
        and word not in _NOT_NAMES
        and not _ROMAN.fullmatch(word)
    )


def spoken_to(text: str, forms: Iterable[str]) -> list[str]:
    """The `forms` that `text` speaks to (a vocative), in the order given.

    spoken_to("Farewell, good Cassius.", ["Cassius", "Casca"]) -> ["Cassius"]
    spoken_to("Cassius hath a lean and hungry look.", ["Cassius"]) -> []
    """
    text = _QUOTED.sub('""', text)
    return [
        f for f in forms if f in text and any(_calls(text, m) for m in _vocative(f).finditer(text))
    ]


def _calls(text: str, found: re.Match[str]) -> bool:
    """Whether a vocative match is a call, not a name in a list ("Casca, Cinna, Cassius.")."""
    if found["after"] is not None:
        return not _LIST_END.search(text[: found.start()])
    if found["start"] is not None:
        return not _LIST_NEXT.match(text, found.end())
    return True


def misaddressed(
    text: str, forms: Mapping[str, frozenset[str]], present: Iterable[str], speaker: str = ""
) -> tuple[list[str], list[str]]:
    """(the forms `text` speaks to that stand for no one on stage, by name or by a word of
    a name; those that stand for `speaker` alone): Brutus calling Viola "Cassius" in a
    scene without Cassius, Iago saying "Come, Iago".

    misaddressed("Cassius, stay.", {"Cassius": frozenset({"Cassius"})}, ["Viola"])
      -> (["Cassius"], [])
    """
    here = set(present)
    words = {w for name in here for w in name.split()}
    called = spoken_to(text, forms)
    absent = [f for f in called if f not in words and not forms[f] & here]
    return absent, [f for f in called if forms[f] == {speaker}]


def absent_addressed(
    text: str, forms: Mapping[str, frozenset[str]], present: Iterable[str]
) -> list[str]:
    """The forms `text` speaks to that stand for no one on stage (`misaddressed`).

    absent_addressed("Cassius, stay.", {"Cassius": frozenset({"Cassius"})}, ["Viola"])
      -> ["Cassius"]
    """
    return misaddressed(text, forms, present)[0]


def self_forms(speaker: str, forms: Mapping[str, frozenset[str]]) -> list[str]:
    """The forms that stand for `speaker` alone ("Iago"; not "Macbeth" for Lady Macbeth)."""
    return [form for form, names in forms.items() if names == {speaker}]


@functools.lru_cache(maxsize=64)
def play_forms(key: str) -> dict[str, frozenset[str]]:
    """`address_forms` of a play's listed characters, ordinary words being those its
    speeches use in lower case ("Cassius": {"Cassius"}; no "Lord", no "Boy")."""
    from dramatis.personas import load_play

    play = load_play(key)
    ordinary = {w for s in play.speeches() for w in re.findall(r"\b[a-z][a-z']+\b", s.text)}
    return address_forms((c.name for c in play.characters.values() if c.listed), ordinary)


@functools.lru_cache(maxsize=64)
def plays_forms(keys: tuple[str, ...]) -> dict[str, frozenset[str]]:
    """`play_forms` of several plays as one: a form any of them uses stands for all the
    names it stands for in each ("Antonio" in a cast from two plays: both Antonios)."""
    forms: dict[str, frozenset[str]] = {}
    for key in dict.fromkeys(keys):
        for form, names in play_forms(key).items():
            forms[form] = forms.get(form, frozenset()) | names
    return forms
