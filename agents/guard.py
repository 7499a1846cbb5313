"""Impersonation guard: keep only what the speaking character says.

Pure text helpers; the agent applies them to every completion. A heading is a name
followed by a colon where a new speech starts: at the start of a line, right after
a sentence ends ("Speak. LADY MACBETH: Out!"), or in capitals right after a dash
("I am glad-- IAGO: I have seen..."). A name after other words in the same
sentence is an address, not a heading ("Good Horatio: the King rises.").
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence

# An upper-case heading at the start of a line, after a sentence's end or after a dash,
# any name: "GUILDENSTERN:", "FIRST WITCH:", "What's the matter?--IAGO: Here is...".
_CAPS_HEADING = re.compile(
    r"(?:^|(?<=[.!?;] )|(?<=--))"
    r"[ \t]*\**([A-Z][A-Z']+(?: [A-Z][A-Z']+){0,3})\**[ \t]*[:：;]",
    re.M,
)
# The dash a cut leaves after a sentence or clause ("What's the matter?--"); an
# interrupted one keeps its dash ("I am glad--")
_SPENT_DASH = re.compile(r"(?<=[.!?;])(['\"]?)[ \t]*-{2,}[ \t]*$")
# An upper-case name alone on its line, ended by a period: "GHOST."
_ALONE_HEADING = re.compile(r"^\s*([A-Z][A-Z' ]{1,30})\.\s*$", re.MULTILINE)
# A dangling upper-case fragment the token limit or a stop left at the end: "...\nLADY"
_DANGLING = re.compile(r"(^|\n)[ \t]*[A-Z][A-Z']+( [A-Z][A-Z']*){0,3}$")
# A new scene's setting line, as the page prints one ("Othello, act 4, scene 2. ...")
# or near it ("Othello's Act 3: Cyprus."), on a line after the first.
_SETTING_LINE = re.compile(r"\n[ \t]*[A-Z][A-Za-z']*(?: [A-Za-z']+){0,4}[,:]? [Aa]ct [0-9IVX]+\b")


def heading_stops(names: Iterable[str]) -> list[str]:
    """Stop sequences for another character's heading, always at a line start, so that
    "MACBETH:" never fires inside "LADY MACBETH:".

    heading_stops(["Ophelia"]) -> ["\\nOPHELIA:", "\\nOphelia:", "\\nOPHELIA. "]
    """
    stops: list[str] = []
    for name in names:
        for form in (f"\n{name.upper()}:", f"\n{name}:", f"\n{name.upper()}. "):
            if form not in stops:
                stops.append(form)
    return stops


@functools.lru_cache(maxsize=64)
def _names_pattern(names: frozenset[str]) -> re.Pattern[str] | None:
    """One regex for the heading of any of `names` (longest first: "Lady Macbeth" wins)."""
    if not names:
        return None
    alternation = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
    return re.compile(
        rf"(^|\n|[.!?;]['\"]?)[ \t]*\**(?P<name>{alternation})\**[ \t]*[:：]", re.IGNORECASE
    )


@functools.lru_cache(maxsize=256)
def _with_speaker(others: frozenset[str], speaker: str) -> frozenset[str]:
    return others | {speaker}


@functools.lru_cache(maxsize=64)
def _printed_pattern(names: frozenset[str]) -> re.Pattern[str] | None:
    """One regex for the printed plays' heading of any of `names`: "\nIAGO. O thou...".
    One compiled pattern, not one search per name: the guard's names are every speaker of
    the plays (about 2,000), far past what re's own cache keeps, so a search per name
    compiled 2,000 patterns on every streamed piece (170 ms of CPU a call)."""
    if not names:
        return None
    alternation = "|".join(re.escape(n.upper()) for n in sorted(names, key=len, reverse=True))
    return re.compile(rf"\n[ \t]*(?:{alternation})\.[ \t]+\S")


def strip_own_heading(text: str, speaker: str) -> str:
    """Drop a leading "HAMLET:" (or "Hamlet:", "**Hamlet**:") the model wrote for itself.

    strip_own_heading("Hamlet: To be.", "Hamlet") -> "To be."
    strip_own_heading("Hamlet,\nTo be.", "Hamlet") -> "To be."
    """
    pattern = re.compile(
        rf"^\s*\**\s*{re.escape(speaker)}\s*\**\s*([:.]|,\s*$|,\s*\n)\s*", re.IGNORECASE
    )
    return pattern.sub("", text, count=1)


def heading_cut(text: str, speaker: str, others: Iterable[str]) -> int:
    """Where `text` starts a new speech: another character's heading, or the speaker's
    own heading after the start (a second speech run into this one). len(text) if never.

    `others`: every name whose heading ends the speech (the cast, or every speaker
    of the plays). heading_cut("Go.\nOPHELIA: My lord?", "Hamlet", ["Ophelia"]) -> 3
    """
    cut = len(text)
    start = len(text) - len(text.lstrip())
    names = (
        _with_speaker(others, speaker)
        if isinstance(others, frozenset)
        else frozenset((*others, speaker))
    )  # one object per cast and speaker, so the patterns' caches hit without rehashing
    pattern = _names_pattern(names)
    for hit in pattern.finditer(text) if pattern else ():
        at = hit.start() + len(hit.group(1).rstrip("\n"))
        if at > start or hit.group("name").lower() != speaker.lower():
            cut = at
            break
    printed = _printed_pattern(names)  # the printed plays' heading: "\nIAGO. O thou..."
    for found in printed.finditer(text) if printed else ():
        if found.start() >= start:
            cut = min(cut, found.start())
            break
    for generic in (_CAPS_HEADING, _ALONE_HEADING):
        for found in generic.finditer(text):
            if found.start() > start:
                cut = min(cut, found.start())
                break
    return cut


def cut_at_other_speaker(text: str, speaker: str, others: Iterable[str]) -> str:
    """Cut `text` where it starts speaking as someone else.

    cut_at_other_speaker("Go.\\nOPHELIA: My lord?", "Hamlet", ["Ophelia"]) -> "Go."
    """
    return text[: heading_cut(text, speaker, others)]


def _spent(found: re.Match[str]) -> str:
    """What stays of a spent dash's match: its closing quote, if that closes one opened
    ('He said "Go."--' keeps it; 'Am I mine?"--' has none open)."""
    quote = found.group(1)
    return quote if quote and found.string.count(quote, 0, found.start()) % 2 else ""


def clean_utterance(text: str, speaker: str, others: Iterable[str]) -> str:
    """The speaker's own words: no heading, no lines for others, tidy whitespace.

    clean_utterance("HAMLET: Ay, madam.\\nOPHELIA: Good my lord", "Hamlet", ["Ophelia"]) -> "Ay, madam."
    """
    text = strip_own_heading(text, speaker)
    text = cut_at_other_speaker(text, speaker, others)
    setting = _SETTING_LINE.search(text)  # the speech ends where a new scene begins
    text = text[: setting.start()] if setting else text
    text = _DANGLING.sub("", text.rstrip())
    text = re.sub(r"\[[^\]]*\]?|\([^)]*\)?|\*[^*]*\*", "", text)  # directions, asides
    text = re.sub(r"[ \t]*\]", "", text)  # closed, never opened: as the page's bracketed lines end
    text = re.sub(r"^[\s:;,]+", "", text)  # "(Laughing): I am not..." leaves ": I am not..."
    lines = [line.strip() for line in text.strip().splitlines()]
    text = "\n".join(line for line in lines if line)
    text = strip_own_heading(text.strip().strip('"').strip(), speaker)  # "Hamlet,\n(...)"
    text = cut_at_other_speaker(text, speaker, others)  # a heading behind a direction
    text = _SPENT_DASH.sub(_spent, text.rstrip())
    return text if re.search(r"[A-Za-z]", text) else ""


# Talk about a play rather than in it: authors, readers, speeches as things, prompts.
_ABOUT_THE_PLAY = re.compile(
    r"\b(shakespeare\w*|playwright|audience|reader|dialogue|monologue|soliloquy|"
    r"characters?|next speech|(revised|next|following) speech|(say|speak)s? next|here's the|here is the|"
    r"in the play|scene (continues|ends|begins))\b",
    re.IGNORECASE,
)


def narrates(text: str, cast: Iterable[str]) -> bool:
    """Whether a turn talks about the scene instead of speaking in it.

    narrates("Ophelia speaks in a long and rambling monologue.", ["Ophelia"]) -> True
    narrates("Get thee to a nunnery.", ["Ophelia"]) -> False
    """
    if _ABOUT_THE_PLAY.search(text):
        return True
    names = "|".join(re.escape(n) for n in cast)
    said = rf"\b({names})(,[^,]*,)? (says|said|speaks|responds|replies|asks|answers|continues)\b"
    return bool(names) and re.search(said, text, re.IGNORECASE) is not None


def words_of(text: str) -> str:
    """Lower-case words only, for comparing speeches.

    words_of("I am, sir.") -> "i am sir"
    """
    return " ".join(re.findall(r"[a-z']+", text.lower()))


def rewords(text: str, earlier: Iterable[str], short: int = 6) -> bool:
    """Whether a short turn (at most `short` words) only reshuffles the words of one
    earlier turn: the near-repeats of a loop ("I will not, I shall see it." after
    "I will not, I will see it.").

    rewords("I shall see it.", ["I will not, I shall see it."]) -> True
    rewords("I shall see it.", ["Who comes here?"]) -> False
    """
    said = set(words_of(text).split())
    if not said or len(words_of(text).split()) > short:
        return False
    return any(said <= set(words_of(before).split()) for before in earlier)


def retells(text: str, earlier: Iterable[str], share: float = 0.6, least: int = 4) -> bool:
    """Whether a longer turn is mostly an earlier one reworded: `share` of its word pairs
    (it has `least` or more) occur in one earlier turn.

    retells("You're going to tell me that you are a hero, and your country's at war.",
            ["You're going to tell me that I'm a hero, and my country's at war."]) -> True
    retells("Get thee to a nunnery.", ["You're going to tell me that I'm a hero."]) -> False
    """
    tokens = words_of(text).split()
    mine = set(zip(tokens, tokens[1:], strict=False))
    if len(mine) < least:
        return False
    for before in earlier:
        other = words_of(before).split()
        if len(mine & set(zip(other, other[1:], strict=False))) >= share * len(mine):
            return True
    return False


def holds(text: str, earlier: Iterable[str], least: int = 3) -> bool:
    """Whether a turn says an earlier turn of `least` or more words again, whole, inside
    a longer speech ("My lord, I do not know." after "I do not know."); shorter
    turns ("My lord.") may come back, as they do in the plays.

    holds("My lord, I do not know.", ["I do not know."]) -> True
    holds("My lord, what news?", ["My lord."]) -> False
    """
    mine = f" {words_of(text)} "
    for before in earlier:
        said = words_of(before)
        if len(said.split()) >= least and f" {said} " in mine:
            return True
    return False


# Words too common to say what a speech is about (for `dwells`, and the arena's
# `dwelling`, which counts the same thing; 4+ letters only).
_COMMON_TOPIC_WORDS = """that this with have what will would shall should thou thee thine
your yours their them they there then than when where which while whom whose from into
upon unto more most much such some very well good know come make like here hath doth
were been being does done said tell give take speak look think mine lord lady king queen
madam nothing something"""
COMMON_TOPIC_WORDS = frozenset(_COMMON_TOPIC_WORDS.split())


def topic_words(text: str) -> set[str]:
    """The words of 4+ letters that say what a speech is about.

    topic_words("My lord, I am dead; the ghost is dead.") -> {"dead", "ghost"}
    """
    return {
        w
        for w in re.findall(r"[a-z']+", text.lower())
        if len(w) >= 4 and w not in COMMON_TOPIC_WORDS
    }


def dwells(text: str, earlier: Sequence[str], last: int = 4, share: float = 0.6) -> bool:
    """Whether a speech only turns over what the last `last` speeches said: `share` of its
    topic words (it has 3 or more) are theirs ("'Twas a ghost, my lord; but I'm dead."
    after "But you're dead, my lord; 'twas a ghost."). Real scenes move on: in the plays
    1.7% of speeches do this against the four before them, Gemma 270M's staged ones 9.2%.

    dwells("Then I must go to the hall of my dear mother's house.",
           ["Oh, it may be called the hall of my dear mother's house."]) -> True
    dwells("Get thee to a nunnery; why wouldst thou be a breeder of sinners?",
           ["I have remembrances of yours."]) -> False
    """
    mine = topic_words(text)
    if len(mine) < 3:
        return False
    before = set().union(*(topic_words(t) for t in earlier[-last:])) if earlier else set()
    return len(mine & before) >= share * len(mine)


def echoes(text: str, earlier: Iterable[str], span: int = 40) -> bool:
    """Whether `text` repeats an earlier speech: the same words, however short ("I am,
    sir." twice), or an opening copied from a longer one (small models parrot).

    echoes("I am, sir.", ["I am, sir!"]) -> True
    echoes("I am glad to speak of you and your lineage.", ["I am glad to speak of you and your lineage, sir."]) -> True
    """
    words = words_of(text)
    head = " ".join(text.split())[:span].lower()
    for before in earlier:
        if words and words == words_of(before):
            return True
        if len(head) >= span // 2 and head in " ".join(before.split()).lower():
            return True
    return False


def copies(text: str, source: str, n: int = 5) -> bool:
    """Whether `text` copies `n` consecutive words of `source` (a card recited).

    copies("Hamlet, son to the former King of Denmark.", "Hamlet, son to the former King.") -> True
    """
    said, seen = words_of(text).split(), words_of(source).split()
    grams = {tuple(seen[i : i + n]) for i in range(len(seen) - n + 1)}
    return any(tuple(said[i : i + n]) in grams for i in range(len(said) - n + 1))


# A sentence ends at . ! or ?, then any closing quotes or brackets, then a space or the
# end: "Away!", "He said 'go.'", "(Tis so.)". A semicolon, colon, comma or dash ends a
# clause, not a sentence (95-99% of a main character's speeches in the plays end at . ? or !).
_SENTENCE_END = re.compile(r"[.!?][\"'\u2019\u201d)\]]*(?=\s|$)")


def ends_sentence(text: str) -> bool:
    """Whether `text` ends at the end of a sentence.

    ends_sentence("Away, I say!") -> True; ends_sentence("Away, and yet,") -> False
    """
    text = text.rstrip()
    return any(m.end() == len(text) for m in _SENTENCE_END.finditer(text))


def trim_to_sentence(text: str) -> str:
    """`text` up to the end of its last whole sentence ("" when no sentence ends in it):
    for a speech the token limit cut, whose tail is an unfinished clause.

    trim_to_sentence("I will. And yet the") -> "I will."
    trim_to_sentence("Go, my lord,") -> ""
    """
    ends = [m.end() for m in _SENTENCE_END.finditer(text)]
    return text[: ends[-1]].rstrip() if ends else ""
