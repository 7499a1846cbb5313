"""Titles: who a speech may call "sir" and who "madam".

A Benedick who answers Beatrice "A good way, sir", a Beatrice who calls him "good madam",
a Viola who calls Brutus "madam": the speech calls on the one it speaks to by a title of
the other sex, and a reader hears at once that the speaker does not know who is there.
The arena counts such speeches (arena/titles.py) and the agents' guard refuses a
candidate that holds one (`AgentSettings.fit_titles`).

A title counts where it is spoken to someone, singular and alone: at a sentence's or a
clause's start or after a comma, with up to three words such as "good", "sweet", "my"
before it and a mark after it ("Sir, you are ...", "Well met, sir.", "O, sweet, noble
lady!", "Good my lord,"). One followed by a name ("Sir Toby", "Signior Leonato") is part
of the name, and "lord" counts only after "my" ("Lord, how ..." calls on God).

Which titles a character takes comes from the plays: the titles said to them where they
alone hear the speaker, or where they speak just before and just after it (`play_titles`),
and the sex their own name or the persons list gives them ("Lady Macbeth"; "Ophelia,
daughter to Polonius"; "Benedick, a young lord of Padua"). Viola, called "sir" through
most of Twelfth Night, takes both. A character no play knows takes any title. A title
with no name may be said to anyone on stage or to whoever spoke in the last few turns.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

from dramatis.agents.addressing import beside_noun, play_forms, spoken_to, unquoted

FEMALE = "female"
MALE = "male"
_TITLES = {
    FEMALE: "madam madame lady mistress madonna gentlewoman wench girl lass maid queen dame",
    MALE: "sir sirrah lord signior master knight gentleman king",
}
_CLASS = {t: sex for sex, words in _TITLES.items() for t in words.split()}
_MOD_WORDS = """o oh good sweet fair gentle noble dear kind most my gracious dread worthy brave
    young pretty fairest sweetest dearest royal honest old"""
_MODS = _MOD_WORDS.split()
# A title spoken to someone: after the speech's or a clause's start, a dash, an ellipsis or
# a comma (and an "O", or a "Yes" that may take no comma), with up to three of _MODS before
# it and a mark, a dash or the end after it
_VOCATIVE = re.compile(
    r"(?:^|(?<=[.!?;:,(\u2014\u2026])|(?<=--))\s*(?:O[,!]?\s+)?"
    r"(?:(?:yes|yea|ay|thank you|thanks)\s+)?"
    rf"(?P<mods>(?:(?:{'|'.join(_MODS)})[ ,]\s*){{0,3}})"
    rf"(?P<title>{'|'.join(sorted(_CLASS, key=len, reverse=True))})"
    r"(?=\s*(?:[,.!?;:)\u2014\u2026]|--|$))",
    re.IGNORECASE,
)
# Said of someone, not to them: "my master" and "my mistress" are a servant's words for one
# not there; a title between commas after a pronoun ("And she, sweet lady, wept.")
_OWN_BETTERS = frozenset({"master", "mistress"})
_PRONOUN = re.compile(r"\b(?:she|he|they|who|which)\s*$", re.IGNORECASE)
# A title with no name is said to someone in the exchange: those on stage, and whoever
# spoke in the last RECENT turns (a staged scene's opening lines hold the floor that long)
RECENT = 4
MIN_HEARD = 3  # titles said to a character before the plays' use is its own word on them
# A title's sex a character takes: said to it at least twice and at least this share of the
# titles said to it (Viola: 3 of 34 "madam"/"lady"; one "sir" to Beatrice is a slip of the
# reading, a speech to another who spoke just before)
SHARE = 0.05
# Words of a name or a persons-list line that give its sex ("Lady Macbeth"; "a young lord")
_FEMALE = """lady queen duchess princess countess mistress dame abbess nurse gentlewoman woman
    maid mother sister daughter wife aunt niece widow hostess"""
_MALE = """lord king duke prince earl count knight sir friar cardinal bishop archbishop marquis
    baron emperor abbot gentleman man father brother son husband uncle nephew"""
_FEMALE_WORDS = frozenset(_FEMALE.split())
_MALE_WORDS = frozenset(_MALE.split())


def titles_in(text: str) -> list[tuple[str, str]]:
    """The titles `text` speaks to someone with, in order, as (title, sex).

    titles_in("A good way, sir; I'll go.") -> [("sir", "male")]
    titles_in("O, sweet, noble lady! Sir Toby comes.") -> [("lady", "female")]
    titles_in("That was my lord's legacy.") -> []
    """
    text = unquoted(text)
    found = []
    for m in _VOCATIVE.finditer(text):
        title, mods = m["title"].lower(), m["mods"].lower().split()
        if title == "lord" and "my" not in mods:
            continue  # "Lord, how ..." / "O Lord!": a cry to God
        if title in _OWN_BETTERS and "my" in mods:
            continue  # "My master, not myself, lacks recompense"
        if m.start() and text[m.start() - 1] == ",":  # between commas: said of one named?
            head = text[max(0, m.start() - 61) : m.start() - 1]
            if _PRONOUN.search(head) or beside_noun(head):
                continue  # "And she, sweet lady, wept"; "Your cousin, my lady, takes ..."
        found.append((title, _CLASS[title]))
    return found


# Where a part of a persons-list line stops speaking of its own character: "Servant to
# Juliet's Nurse", "in love with the Duke", "Countess of Rousillon"
_OF_ANOTHER = re.compile(r"\b(?:to|of|on|upon|with|in|for|at|by|from)\b|'s\b", re.IGNORECASE)


def own_sex(text: str) -> str | None:
    """The sex a name or a persons-list line gives its own character: the first word that
    marks one at the head of one of its parts (parted by commas and "and"), before any
    word that turns to someone else.

    own_sex("Queen of Denmark, and Mother of Hamlet") -> "female"
    own_sex("Servant to Juliet's Nurse") -> None
    own_sex("a young Lord of Padua") -> "male"
    """
    for part in re.split(r",|;|\band\b", text):
        head = _OF_ANOTHER.split(part, maxsplit=1)[0]
        for word in re.findall(r"[a-z]+", head.lower()):
            if word in _FEMALE_WORDS:
                return FEMALE
            if word in _MALE_WORDS:
                return MALE
    return None


def _heard_by(speeches: list, i: int, forms: Mapping[str, frozenset[str]]) -> str | None:
    """Who speech `i` of a scene speaks to, where the plays make it plain: the one other
    on stage, or the one who speaks just before and just after it; none where the speech
    calls another by name (`forms`: Titus's "Lavinia, ... sweet girl" to a Lavinia who
    never speaks is not said to Marcus)."""
    s = speeches[i]
    others = [n for n in s.on_stage if n not in s.speakers]
    who = None
    if len(others) == 1:
        who = others[0]
    elif 0 < i < len(speeches) - 1:
        before, after = speeches[i - 1].speaker, speeches[i + 1].speaker
        if before == after and before != s.speaker and before in others:
            who = before
    if who is not None and any(who not in forms[f] for f in spoken_to(s.text, forms)):
        return None
    return who


def heard(scenes: Iterable, forms: Mapping[str, frozenset[str]]) -> dict[str, Counter[str]]:
    """Each character -> the sexes of the titles said to them in `scenes`, each sex once a
    speech ("Good queen, my lord, good queen" is one), by the play's `forms` of address
    (`addressing.play_forms`)."""
    counts: dict[str, Counter[str]] = {}
    for scene in scenes:
        speeches = scene.speeches
        for i, s in enumerate(speeches):
            if not s.resolved or len(s.speakers) > 1:
                continue
            said = {sex for _, sex in titles_in(s.text)}
            who = _heard_by(speeches, i, forms) if said else None
            if who is not None:
                counts.setdefault(who, Counter()).update(said)
    return counts


def takes(counts: Counter[str] | None, own: str | None) -> frozenset[str]:
    """The sexes of the titles a character takes: those said to it often enough where
    MIN_HEARD or more were, and the sex of its own name or persons-list line; both where
    nothing is known.

    takes(Counter(female=8, male=1), FEMALE) -> {FEMALE}
    takes(Counter(female=3, male=31), None) -> {FEMALE, MALE}
    """
    sexes = set()
    total = sum(counts.values()) if counts else 0
    if counts and total >= MIN_HEARD:
        sexes |= {sex for sex, n in counts.items() if n >= max(2, SHARE * total)}
    if own is not None:
        sexes.add(own)
    return frozenset(sexes or (FEMALE, MALE))


def profiles(play, scenes: Iterable | None = None) -> dict[str, frozenset[str]]:
    """`takes` for each character of `play`, heard in `scenes` (all of the play's)."""
    counts = heard(play.scenes() if scenes is None else scenes, play_forms(play.key))
    out = {}
    for name, c in play.characters.items():
        out[name] = takes(counts.get(name), own_sex(name) or own_sex(c.description))
    for name in counts.keys() - out.keys():
        out[name] = takes(counts[name], own_sex(name))
    return out


@functools.lru_cache(maxsize=64)
def play_titles(key: str) -> Mapping[str, frozenset[str]]:
    """`profiles` of a play of the canon, by its key."""
    from dramatis.personas.corpus import load_play

    return profiles(load_play(key))


def takes_in(name: str, keys: Iterable[str]) -> frozenset[str]:
    """The sexes of the titles `name` takes in any of the plays `keys` (both where none of
    them knows the name: a card of no play, a person in a chat under a name those plays
    do not use)."""
    sexes: set[str] = set()
    for key in keys:
        sexes |= play_titles(key).get(name, frozenset())
    return frozenset(sexes or (FEMALE, MALE))


def hearers(present: Iterable[str], speakers: Sequence[str]) -> frozenset[str]:
    """Who a title may be said to: those `present`, and the last RECENT of `speakers` (the
    scene's turns so far, in order)."""
    return frozenset((*present, *speakers[-RECENT:]))


def wrong_titles(text: str, speaker: str, present: Iterable[str], keys: Iterable[str]) -> list[str]:
    """The titles in `text` that no one on stage but the `speaker` can take, by the plays
    `keys`: "sir" in a speech to Beatrice alone.

    wrong_titles("A good way, sir.", "Benedick", ["Beatrice", "Benedick"],
                 ["much_ado_about_nothing"]) -> ["sir"]
    """
    said = titles_in(text)
    if not said:
        return []
    keys = tuple(keys)
    hearers = [n for n in present if n != speaker]
    if not hearers:
        return []
    sexes = frozenset().union(*(takes_in(n, keys) for n in hearers))
    return [title for title, sex in said if sex not in sexes]
