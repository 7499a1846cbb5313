"""Lexical evidence for recall: BM25 over the words a cue shares with a remembered line.

Sentence vectors blur names and rare words ("Yorick", "Wittenberg", "rapier"), which are
what most often ties a cue to the scene it echoes. BM25 weighs each shared word by how
rare it is in the play (its inverse document frequency over the play's speeches), with
the usual saturation of repeated words and the length of the line.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable

_WORD = re.compile(r"[a-z][a-z']*")
K1 = 1.2
B = 0.75


def words(text: str) -> list[str]:
    """Lower-case words of three letters or more: words("O, Yorick!") -> ["yorick"]"""
    return [w.strip("'") for w in _WORD.findall(text.lower()) if len(w.strip("'")) > 2]


class Lexicon:
    """Document frequencies of a body of texts (a play's speeches) and BM25 against it.

    >>> lex = Lexicon(["alas poor yorick", "good night sweet prince", "good my lord"])
    >>> lex.bm25(words("poor Yorick"), words("Alas, poor Yorick!")) > lex.bm25(
    ...     words("poor Yorick"), words("Good my lord."))
    True
    """

    def __init__(self, texts: Iterable[str]) -> None:
        self.df: Counter[str] = Counter()
        total = 0
        self.n = 0
        for text in texts:
            ws = words(text)
            self.df.update(set(ws))
            total += len(ws)
            self.n += 1
        self.avg = total / self.n if self.n else 1.0

    def idf(self, word: str) -> float:
        """A word the lexicon never saw counts as one seen once."""
        n = self.df.get(word, 1)
        return math.log(1 + (self.n - n + 0.5) / (n + 0.5))

    def bm25(self, query: list[str], line: list[str]) -> float:
        if not query or not line:
            return 0.0
        tf = Counter(line)
        norm = K1 * (1 - B + B * len(line) / self.avg)
        score = 0.0
        for w in set(query):
            f = tf.get(w, 0)
            if f:
                score += self.idf(w) * f * (K1 + 1) / (f + norm)
        return score
