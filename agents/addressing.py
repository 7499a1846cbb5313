"""Who a speech names or speaks to: the text helpers speaker policies and the guard read."""

from __future__ import annotations

import functools
import re
from collections.abc import Container, Iterable, Mapping

_WORD = re.compile(r"[A-Za-z][A-Za-z']*(?:-[A-Za-z][A-Za-z']*)*")  # "him--my": two words
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


# Before a name spoken to at a sentence's start: "O Cassius!", "Good my lord Cassius,",
# "No, Cassius,", "O, sir, Horatio,". The words of the second group need their comma
# ("Pardon Cassius, ..." pardons him; "No Cassius, no Brutus" calls no one).
_BEFORE = (
    r"(?:(?:(?:O|Oh|Ah|Good|Sweet|Noble|Dear|Gentle|Brave|Fair|Worthy|Most|Kind|Now|Come|Nay"
    r"|Ay|Why|Well|My|Hail|Farewell|Adieu|Welcome|Sir|Madam)[ ,]"
    r"|(?:No|Yes|Yea|Alas|Peace|Fie|Hark|Soft|Hold|Thanks|Pardon|Lo),)\s*)?"
    r"(?:(?:good|sweet|noble|dear|gentle|brave|fair|worthy|kind|most|my|lord|lady|liege"
    r"|gracious|sir|madam|master|mistress|signior|cousin)[ ,]\s*){0,3}"
)
# ... and after a comma: ", good Cassius.", ", Sir Orsino!", ", my lord Cassius,"
_TITLES = (
    r"(?:(?:O|good|sweet|noble|dear|gentle|brave|fair|worthy|kind|my|sir|Sir|lord|Lord|lady"
    r"|Lady|madam|master|Master|mistress|Mistress|signior|Signior|cousin)\s+)"
)


@functools.lru_cache(maxsize=4096)
def _vocative(form: str) -> re.Pattern[str]:
    """Where `form` (as written, or in capitals: "O IAGO") is spoken to, one named group
    per way (`_calls` checks them): at a sentence's start, a line's (when the line before
    ends on no word: "like\nSir Proteus, to wreath" goes on a verse sentence), or after a dash
    that follows punctuation ("!--Cassius"), and followed by , ! or ? or the speech's end
    ("Cassius, ...", "No, Cassius, ..."; `start`); after a comma and ending a sentence or the speech
    ("Farewell, Cassius.", "Hail, Sir Orsino"; `after`); after "O" ("O Cassius"; `oh`);
    between commas after "good", "my", a title ... (", my lord Cassius,"; `good`); or
    between commas after an ordinary word ("Tell me, Cassius, what news?"; `mid`). Each
    way is a lookahead, so that one way's match hides no other's; a position where none
    matched is no match."""
    f = f"(?:{re.escape(form)}|{re.escape(form.upper())})"  # "O IAGO" as the model writes it
    return re.compile(
        rf"(?=(?P<start>(?:^|[.!?;:]|(?<![\w'])\n|,--)\s*(?:--\s*)?{_BEFORE}{f}\s*(?:[,!?]|$)))?"
        rf"(?=(?P<after>,\s*{_TITLES}{{0,2}}{f}\s*(?:[.!?;]|$)))?"
        rf"(?=(?P<oh>\bO,?\s+{f}\b))?"
        rf"(?=(?P<good>,\s*{_TITLES}{{1,2}}{f}\s*,))?"
        rf"(?=(?P<mid>,\s*{f}\s*,))?"
        r"(?(start)|(?(after)|(?(oh)|(?(good)|(?(mid)|(?!))))))"
    )


# Words of a listed name that are a rank, an office or a number, not a name: "Duke of
# Venice" is called "my lord", not "Duke"; "King Henry III" is not called "III"
_RANKS = """Abbess Abbot Admiral Ancient Archbishop Archduke Baron Bishop Captain Cardinal Citizen Clown
    Chorus Constable Count Countess Dauphin Doctor Don Duchess Duke Earl Emperor Empress Friar Gaoler
    General Gentleman Gentlewoman Ghost Governor Herald Keeper King Knight Lady
    Lieutenant Lord Marquis Master Mayor Messenger Mistress Nurse Officer Page Porter
    Priest Prince Princess Queen Senator Servant Sheriff Sir Soldier Steward Tribune
    Watchman Widow Young Old"""
_ORDINALS = "First Second Third Fourth Fifth Sixth Seventh Eighth Ninth Tenth"
_NOT_NAMES = frozenset(_RANKS.split() + _ORDINALS.split())
_ROMAN = re.compile(r"[IVXL]+")
# Quotes hold what someone else cried ('He cried, "O Caesar!" and fell.'). A single
# quote counts only where a cry is reported, after a comma, a colon or a word of saying
# ("that cry 'O, Cassius'", "say, 'Get you to heaven, Beatrice'"): "'Tis done, Cassius;
# go to th' Capitol" holds none.
_QUOTED = re.compile(
    r'"[^"]*"|\u201c[^\u201c\u201d]*\u201d|\u2018[^\u2018\u2019]*\u2019'
    r"|(?P<lead>[,:]-*\s*|\b(?:cry|cries|cried|crying|say|says|said|saying|call|calls|called"
    r"|spake|spoke|was|shout|shouts|shouted)\s+)'[A-Z][^']*'(?![A-Za-z])"
)


def unquoted(text: str) -> str:
    """`text` with what it quotes emptied ('He cried, "O Caesar!"' -> 'He cried, ""')."""
    return _QUOTED.sub(lambda m: (m["lead"] or "") + '""', text)


# A name in a list is not called on: "Casca, Cinna, Cassius.", "his friends: Brutus,
# Cassius", "Lord Casca, Lord Cinna, Lord Cassius." (before and after a name)
_NAME = r"(?:[A-Z][a-z'-]+|[A-Z]{2,})"  # "Casca" or, as the model writes it, "CASCA"
_LIST_END = re.compile(rf",\s*(?:{_NAME}\s+)?{_NAME}\s*$")
_LIST_AFTER_COLON = re.compile(rf":\s*(?:{_NAME}\s+)?(?P<item>{_NAME})\s*$")
_LIST_NEXT = re.compile(rf"\s*(?:{_NAME}\s+)?{_NAME}\s*(?:,|and\b|[.;]|$)")
_AND_NAME = re.compile(r"\s*(?:and|or|nor)\s+(?:[A-HJ-Z]|I[a-zA-Z])")  # ", and Casca": a list
# A name between commas after a noun phrase is set beside it, not spoken to: "the
# greybeard, Gremio,", "my brother, Cassius,", "Caesar's friend, Cassius,"
_DETERMINERS = frozenset(
    [
        "the",
        "a",
        "an",
        "his",
        "her",
        "their",
        "our",
        "this",
        "that",
        "these",
        "those",
        "its",
        "my",
        "thy",
        "your",
        "mine",
        "thine",
    ]
)
# A name that starts a sentence before a clause set off by commas and a verb is its
# subject: "Cassius, for his part, hath fled" (not "Cassius, tell me, is it true?")
_SUBJECT = re.compile(
    r"\s*[^,.!?;:\n]{2,40},\s*(?:hath|has|had|is|was|doth|does|did|were|are)\b"
    r"(?!\s+(?:it|he|she|they|there|this|that|not\s+(?:he|she|it))\b)"
)
_SENTENCE_START = re.compile(r"(?:^|[.!?;:])\s*$")
# A run of newlines and spaces reads as one newline (and keeps the finder linear)
_SPACES = re.compile(r"\s+")


def _breaks(text: str) -> str:
    """`text` with each run of white space that holds a newline as one newline."""
    return _SPACES.sub(lambda m: "\n" if "\n" in m[0] else m[0], text)


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
    text = _breaks(unquoted(text))
    forms = list(forms)
    return [
        f
        for f in forms
        if (f in text or f.upper() in text)
        and any(_calls(text, m, forms) for m in _vocative(f).finditer(text))
    ]


def _calls(text: str, found: re.Match[str], forms: Container[str] = ()) -> bool:
    """Whether a vocative match (`_vocative`) is a call, not a name in a list ("Casca,
    Cinna, Cassius."; after a colon only where the item before is one of `forms`: "his
    friends: Brutus, Cassius", not "Come, Charmian."), a letter's signature, nor one set
    beside a word for a person ("the greybeard, Gremio,": `beside_noun`)."""
    if found["oh"] is not None:
        return True
    if found["good"] is not None:  # ", my lord Cassius,"; not "Lord Casca, Lord Cinna, ..."
        start, end = found.span("good")
        head = text[max(0, start - 60) : start]
        if not _LIST_NEXT.match(text, end) and not beside_noun(head, determiners=False):
            return True  # "my pardon, good Cassio,": a call; "her father's son, Signior Leonato,"
    if found["after"] is not None:
        start = found.start("after")
        head = text[max(0, start - 80) : start]  # a list's last items: not all that came before
        colon = _LIST_AFTER_COLON.search(head)
        listed = colon and (colon["item"] in forms or colon["item"].title() in forms)
        # a letter's signature: "Your son,\nBERTRAM." (a name in capitals after a line break)
        signed = "\n" in found["after"] and found["after"].rstrip(" .!?;").split()[-1].isupper()
        if not _LIST_END.search(head) and not listed and not signed:
            return True
    if found["start"] is not None:
        end = found.end("start")
        subject = text[end - 1] == "," and _SUBJECT.match(text, end)
        if not subject and not _LIST_NEXT.match(text, end):
            return True
    if found["mid"] is not None:  # "Tell me, Cassius, what"; "Then, Cassius, we must part"
        start, end = found.span("mid")
        head = text[max(0, start - 60) : start]
        before = _WORD.findall(head)[-1:]
        if not before or before[-1] == "I" or before[-1].endswith("s'"):
            return False
        first = head[: head.rindex(before[-1])]
        return (
            (before[-1][:1].islower() or bool(_SENTENCE_START.search(first)))
            and not beside_noun(head)
            and not _LIST_NEXT.match(text, end)
            and not _AND_NAME.match(text, end)
        )
    return False


def beside_noun(head: str, determiners: bool = True) -> bool:
    """Whether a name between commas after `head` is set beside a noun, not called: a
    possessive in the last three words ("her father's son, Signior Leonato,"), or (unless
    `determiners` is off) a determiner in the two words before the last, where that last
    word is a word for a person or a title ("the greybeard, Gremio,", "my good brother,
    Cassius,", "your grace, Cassius,"). "Tell me the truth, Cassius, and" and "His folly,
    Helena, is no fault of mine" call them."""
    words = _WORD.findall(head)[-3:]
    if any(w.endswith("'s") for w in words):
        return True
    if not determiners or not words or not _DETERMINERS & {w.lower() for w in words[-3:-1]}:
        return False
    return _person_word(words[-1])


# Words for a person or a title ("your grace"), with the ranks of _RANKS that are no
# ordinary nouns (nor the ordinals) as well: a name set beside one is in apposition
# ("my brother, Cassius,"); beside any other noun it is called ("this letter, Cassius,")
_PERSON_WORDS = """aunt babe bastard beggar boy bride brother child colleague conspirator
    countryman cousin coward coz dame daughter enemy father fellow fiend foe fool friend
    gentleman girl grace greybeard groom guest heir highness honour host hostess husband
    kinsman kinswoman knave lad ladyship lass lord lordship love lover maid majesty man master
    mother murderer neighbour nephew niece rogue sister slave soothsayer son sovereign traitor
    uncle villain wench wife woman worship youth"""
# ranks that are ordinary nouns or numbers ("turn the page, Cassius,") are no persons here
_NOT_PERSONS = {"Page", "Count", "Young", "Old", "Ghost", "Chorus"}
_PERSONS = frozenset(_PERSON_WORDS.split()) | {
    r.lower() for r in set(_RANKS.split()) - _NOT_PERSONS
}
_PLURALS = (("men", "man"), ("children", "child"), ("wives", "wife"), ("es", ""), ("s", ""))


def _person_word(word: str) -> bool:
    """Whether `word` names a kind of person or a title.

    _person_word("kinsmen") -> True; _person_word("wenches") -> True; _person_word("page") -> False
    """
    low = word.lower()
    stems = {low} | {low[: -len(end)] + to for end, to in _PLURALS if low.endswith(end)}
    return bool(stems & _PERSONS)


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


# Unlisted speaker headings that name a people, a god or an order, not a person
_GROUP_HEADINGS = frozenset(
    {"Roman", "Romans", "Goth", "Goths", "Volsce", "Myrmidon", "Jupiter", "Diana", "Garter"}
)
# A capitalised word inside a sentence (after a lower-case word, comma or semicolon)
_INNER_NAME = re.compile(r"[a-z,;] ([A-Z][a-z'-]+)")


@functools.lru_cache(maxsize=64)
def play_forms(key: str) -> dict[str, frozenset[str]]:
    """`address_forms` of a play's listed characters, and of those who only speak under a
    one-word heading that the speeches use as a name inside a sentence ("Volumnius",
    "Cato" in Julius Caesar; not "Sailor", "Soldiers", "Ghost of Buckingham", nor a
    people or god: "Romans", "Jupiter"), where no listed character has that form already.
    Ordinary words are those its speeches use in lower case ("Cassius": {"Cassius"}; no
    "Lord", no "Boy", no "Messenger")."""
    from dramatis.personas import load_play

    play = load_play(key)
    ordinary = {w for s in play.speeches() for w in re.findall(r"\b[a-z][a-z']+\b", s.text)}
    people = play.characters.values()
    forms = address_forms((c.name for c in people if c.listed), ordinary)
    named = {m[1] for s in play.speeches() for m in _INNER_NAME.finditer(s.text)}
    speaking = (
        c.name for c in people if not c.listed and c.name in named and c.name not in _GROUP_HEADINGS
    )
    for form, names in address_forms(speaking, ordinary).items():
        forms.setdefault(form, names)
    return forms


@functools.lru_cache(maxsize=64)
def plays_forms(keys: tuple[str, ...]) -> dict[str, frozenset[str]]:
    """`play_forms` of several plays as one: a form any of them uses stands for all the
    names it stands for in each ("Antonio" in a cast from two plays: both Antonios)."""
    forms: dict[str, frozenset[str]] = {}
    for key in dict.fromkeys(keys):
        for form, names in play_forms(key).items():
            forms[form] = forms.get(form, frozenset()) | names
    return forms
