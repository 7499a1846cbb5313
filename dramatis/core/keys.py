"""One slug rule for every key we derive from a name: play keys, cast lookups,
adapter folders and thread ids."""

from __future__ import annotations

import re


def slug(text: str, sep: str = "-") -> str:
    """Lower-case letters and digits, each run of anything else one `sep`; apostrophes dropped.

    slug("Lady Macbeth") -> "lady-macbeth"; slug("All's Well", "_") -> "alls_well";
    slug("Lady M.", "") -> "ladym"
    """
    words = re.sub(r"[^a-z0-9]+", " ", text.lower().replace("'", "").replace("\u2019", ""))
    return sep.join(words.split())
