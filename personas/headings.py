"""Pure helpers that recognise the lines of a play text: act, scene and speech headings."""

from __future__ import annotations

import re

import dramatis.personas.edition as edition

ORDINAL_WORDS = ("First", "Second", "Third", "Fourth", "Fifth", "Sixth", "Seventh", "Eighth")
_ROMAN = {"I": 1, "V": 5, "X": 10, "L": 50}
_NUMERAL = r"(?P<num>[IVXL]+|\d+|FIRST|SECOND|THIRD|FOURTH|FIFTH)"
_ACT = re.compile(rf"^ACT\s+{_NUMERAL}\b\.?\s*(?P<rest>.*)$", re.IGNORECASE)
_SCENE = re.compile(rf"^SCENE\s+{_NUMERAL}\b\.?\s*(?P<rest>.*)$", re.IGNORECASE)
_SECTION = re.compile(r"^(?:THE\s+)?(PROLOGUE|INDUCTION|EPILOGUE)\.?$", re.IGNORECASE)
_ORDINAL = re.compile(
    r"^(?P<ord>first|second|third|fourth|fifth|sixth|seventh|eighth|1st|2nd|3rd|4th|"
    r"[1-8]|i{1,3}|iv|v|vi)\.?\s+(?P<base>\S.*)$",
    re.IGNORECASE,
)
_SMALL_WORDS = {"of", "the", "and", "de", "la", "le", "du", "to", "in", "on", "at", "for"}
# a capitalised word, "M.Antony", "&", or a name in capitals before a comma ("CAESAR, ANTONY,
# and LEPIDUS.")
_HEADING_WORD = re.compile(r"^(?:[A-Z0-9][\w'\-]*\.?|[A-Z]\.[A-Z][\w'\-]*\.?|[A-Z][A-Z'\-]+,|&)$")


def numeral_value(token: str) -> int:
    """Value of an act/scene numeral in any spelling used by the texts.

    numeral_value("IV") -> 4; numeral_value("3") -> 3; numeral_value("FIFTH") -> 5
    """
    token = token.strip(".").upper()
    if token.isdigit():
        return int(token)
    words = [w.upper() for w in ORDINAL_WORDS]
    if token in words:
        return words.index(token) + 1
    total, prev = 0, 0
    for ch in reversed(token):
        value = _ROMAN[ch]
        total += -value if value < prev else value
        prev = max(prev, value)
    return total


def act_heading(line: str) -> tuple[int, str] | None:
    """Act number and the rest of the line, for an act heading.

    act_heading("ACT FIRST.") -> (1, "")
    act_heading("ACT IV. SCENE I. Rome.") -> (4, "SCENE I. Rome.")
    """
    m = _ACT.match(line.strip())
    return (numeral_value(m["num"]), m["rest"].strip()) if m else None


def scene_heading(line: str) -> tuple[int, str] | None:
    """Scene number and setting, for a scene heading.

    scene_heading("Scene I. Elsinore. A platform.") -> (1, "Elsinore. A platform.")
    """
    m = _SCENE.match(line.strip())
    return (numeral_value(m["num"]), m["rest"].strip()) if m else None


def section_heading(line: str) -> str | None:
    """Kind of a prologue/induction/epilogue heading, lower case.

    section_heading("THE PROLOGUE") -> "prologue"; section_heading("Prologue to it") -> None
    """
    m = _SECTION.match(line.strip())
    return m[1].lower() if m else None


def split_ordinal(heading: str) -> tuple[str, str] | None:
    """Ordinal word and the rest, for headings like "1 Clown" or "I Play.".

    split_ordinal("1 Clown") -> ("First", "Clown"); split_ordinal("Hamlet") -> None
    """
    m = _ORDINAL.match(heading.strip())
    if not m:
        return None
    token = m["ord"].lower()
    if token[0].isdigit():
        n = int(token[0])
    elif token in {"i", "ii", "iii", "iv", "v", "vi"}:
        n = numeral_value(token)
    else:
        n = [w.lower() for w in ORDINAL_WORDS].index(token) + 1
    return ORDINAL_WORDS[n - 1], m["base"].strip()


def looks_like_heading(line: str) -> bool:
    """Whether a line has the shape of a speech heading (alone on its line, at column 0).

    looks_like_heading("Lady M.") -> True; looks_like_heading("THESEUS") -> True
    looks_like_heading("Who's there?") -> False
    """
    if not line or line[0].isspace() or line.startswith("[") or len(line) > 40:
        return False
    text = line.strip()
    if not any(c.isalpha() for c in text):
        return False
    if text.upper() == text:
        return bool(re.fullmatch(r"[A-Z0-9][A-Z0-9 .,'&\-]*", text))
    if not text.endswith("."):
        return False
    words = text.split()
    if len(words) > edition.HEADING_MAX_WORDS:
        return False
    return all(w in _SMALL_WORDS or _HEADING_WORD.match(w) for w in words)


def display_name(raw: str) -> str:
    """Canonical display form of a name from a heading or the persons list.

    display_name("LADY MACBETH.") -> "Lady Macbeth"
    display_name("DUKE OF VENICE") -> "Duke of Venice"
    display_name("M.ANTONY") -> "Mark Antony"; display_name("KING HENRY VI") -> "King Henry VI"
    """
    words = spell_out(raw.strip().rstrip(".,:;")).split()
    out = []
    for i, word in enumerate(words):
        low = word.lower()
        if i > 0 and low in _SMALL_WORDS:
            out.append(low)
        elif i > 0 and low in edition.REGNAL_NUMERALS:
            out.append(low.upper())
        elif word.isupper() or word.islower():
            out.append("-".join(part[:1].upper() + part[1:].lower() for part in word.split("-")))
        else:
            out.append(word)
    return " ".join(out)


def spell_out(name: str) -> str:
    """A name with its abbreviated words written out (edition.NAME_ABBREVIATIONS).

    spell_out("MRS. PAGE") -> "Mistress PAGE"; spell_out("M. AEMIL. LEPIDUS") -> "Mark Aemilius LEPIDUS"
    """

    def word(m: re.Match[str]) -> str:
        full = edition.NAME_ABBREVIATIONS.get(m[1].lower())
        return f"{full} " if full else m[0]

    return re.sub(r"\b([A-Za-z]+)\.\s*(?=[A-Za-z])", word, name).strip()


def name_tokens(name: str) -> list[str]:
    """Lower-case tokens of a name or heading, split on spaces and periods.

    name_tokens("Lady M.") -> ["lady", "m"]; name_tokens("MRS. FORD") -> ["mistress", "ford"]
    """
    tokens = [t for t in re.split(r"[\s.]+", name.lower()) if t]
    if len(tokens) > 1 and tokens[0] == "mrs":
        tokens[0] = "mistress"  # only "Mrs.": a lone "M." in a heading may be Macbeth's wife
    return tokens


def singular(word: str) -> str:
    """Naive singular of an English plural noun (lower case).

    singular("Witches") -> "witch"; singular("ladies") -> "lady"; singular("Laertes") -> "laertes"
    """
    w = word.lower()
    if w in edition.NOT_PLURAL:
        return w
    if w.endswith("men"):
        return w[:-3] + "man"
    if w.endswith("ies") and len(w) > 4:
        return w[:-3] + "y"
    if w.endswith(("ches", "shes", "sses", "xes")):
        return w[:-2]
    if w.endswith("s") and not w.endswith(("ss", "us", "is")):
        return w[:-1]
    return w
