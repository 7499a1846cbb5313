"""Modern register: does a speech read like the plays, or like present-day English?

The diction and modern-words figures count forms and words; a sentence built from the
plays' words in a modern frame ("You're the king.", "I have to tell you my lord, that a
great thing is happening") passes both. This judge asks a model that knows present-day
English. SmolLM2-135M (bundled, trained on modern web text) reads the speech twice: once
as the next speech of a page of the plays (The Winter's Tale 1.2, Polixenes and Camillo),
once as the next speech of the same scene retold in present-day English (MODERN_PAGE,
written for this judge: the same people, events and order). The speech's `register` is
its mean log-likelihood per token after the modern page minus after the plays' page, over
the speech's own tokens (not the line's end, which would weigh in its length): above 0 it
fits the modern page better. A speech is read up to its first BODY_CAP tokens on both
pages. A Winter's Tale cast's lines of 1.2 would be read after themselves; no cast the
grids stage is of that play.

`modern_register`: the share of the cast's speeches above 0. Range 0-1, lower is
better. `register_mean`: the mean register. Calibration: docs/arena.md (the metric table)
and docs/fidelity.md, round 19. The fidelity table shows them (`pooled_voice`); they are
not among the per-run metrics, since the judge loads a second model.

The two pages are evaluated once per process and kept; a speech costs two short
evaluations, and scores are cached by (speaker, text), so the fidelity table's jackknife
scores each speech once. Not thread-safe: one judge, one caller at a time.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
from scipy.special import log_softmax

from dramatis.arena.context import Context
from dramatis.personas import load_play

if TYPE_CHECKING:
    import llama_cpp

PLAYS_PAGE = ("winters_tale", 99, 123)  # play, first and past-last speech: 1.2, after Leontes
BODY_CAP = 256  # tokens of a speech read (the plays' longest speech is about 790)
N_CTX = 1600  # the plays' page (about 1,240 tokens), a heading and BODY_CAP

MODERN_PAGE = """\
POLIXENES: This is weird. He acts like I'm not even here. He won't talk to me. Morning, Camillo.
CAMILLO: Good morning, sir.
POLIXENES: So what's new at court?
CAMILLO: Nothing much, really.
POLIXENES: The king looks like he just lost half his country. I ran into him a minute ago and \
said hi like I always do, and he just looked away, made a face and walked off. Now I'm trying \
to figure out what's going on.
CAMILLO: I'd rather not know, sir.
POLIXENES: What do you mean, you'd rather not? You do know, don't you? You just won't tell \
me. Come on, Camillo, it's written all over your face.
CAMILLO: There's something going around that's making people sick. I can't tell you what it \
is, but it's coming from you, and you seem totally fine.
POLIXENES: From me? What are you talking about? I've never hurt anybody just by looking at \
them.
CAMILLO: I can't answer that.
POLIXENES: I'm making people sick and I feel fine? No, you're going to tell me. Please, \
Camillo, I'm asking you as a friend. If something bad is coming my way, I need to know.
CAMILLO: Okay, I'll tell you. But you have to listen and do exactly what I say, right now, \
or we're both done for.
POLIXENES: Go ahead, Camillo.
CAMILLO: I'm supposed to kill you.
POLIXENES: Who told you to do that?
CAMILLO: The king.
POLIXENES: Why?
CAMILLO: He's convinced, and I mean completely convinced, that you've been sleeping with his \
wife.
POLIXENES: Oh my God. That's the worst thing anyone could say about me. If people believe \
that, my reputation is ruined forever.
CAMILLO: You can swear on anything you want, it won't change his mind. Once he gets an idea \
like this in his head, nothing anybody says is going to get it out.
POLIXENES: How did this even start?
CAMILLO: I have no idea. But honestly, it's safer to get out of here than to stand around \
asking how it started. If you trust me, we leave tonight. I'll quietly let your people know \
what's happening.
POLIXENES: I believe you. I could see it in his face. Give me your hand. Get me out of \
here and you'll always have a place with me. My ships are ready, and my people expected us \
to leave two days ago. This jealousy is about someone precious, and the more precious she \
is, the worse it gets.
CAMILLO: I've got the keys to every back gate. Please, sir, we have to go now. Come on, \
let's go.
"""


def plays_page() -> str:
    """The page of the plays the judge reads a speech after: one speech a line."""
    play, first, last = PLAYS_PAGE
    speeches = list(load_play(play).speeches())[first:last]
    return "".join(f"{s.speaker.upper()}: {' '.join(s.text.split())}\n" for s in speeches)


class _Page:
    """One page, evaluated once; a speech is scored as the page's next line."""

    def __init__(self, llm: llama_cpp.Llama, text: str) -> None:
        self.llm = llm
        self.tokens = llm.tokenize(text.encode(), add_bos=True)
        llm.eval(self.tokens)

    def log_likelihoods(self, speaker: str, text: str) -> np.ndarray:
        """Each token's log-probability of " text" (its first BODY_CAP tokens; `text`
        holds a word) after "SPEAKER:" on this page."""
        llm = self.llm
        head = llm.tokenize(f"{speaker.upper()}:".encode(), add_bos=False)
        body = llm.tokenize(f" {' '.join(text.split())}".encode(), add_bos=False)[:BODY_CAP]
        n = len(self.tokens)
        llm.n_tokens = n  # back to the page's end: what eval adds after it is dropped
        llm.eval(head + body)
        # row i of the scores: the logits after token i, so row n + len(head) - 1 predicts
        # the body's first token
        first = n + len(head) - 1
        rows = log_softmax(np.asarray(llm.scores[first : first + len(body)]), axis=1)
        return rows[np.arange(len(body)), body]


class RegisterJudge:
    """SmolLM2 reading a speech after the plays' page and after the modern one."""

    def __init__(self) -> None:
        import llama_cpp

        from dramatis.agents.catalog import resolve_model

        path = str(resolve_model("smollm2"))

        def page(text: str) -> _Page:
            llm = llama_cpp.Llama(
                path,
                n_ctx=N_CTX,
                n_batch=512,
                logits_all=True,
                n_threads=1,
                n_threads_batch=1,
                verbose=False,
            )
            return _Page(llm, text)

        self._plays = page(plays_page())
        self._modern = page(MODERN_PAGE)
        self._seen: dict[tuple[str, str], float] = {}

    def register(self, speaker: str, text: str) -> float:
        """Mean log-likelihood per token after the modern page minus after the plays':
        above 0, the speech fits present-day English better (0.0 for no words).

        register("Beatrice", "You're the king.") -> about +1.4
        """
        key = (speaker, text)
        if key not in self._seen:
            if not text.split():
                self._seen[key] = 0.0
            else:
                plays = self._plays.log_likelihoods(speaker, text)
                modern = self._modern.log_likelihoods(speaker, text)
                self._seen[key] = float((modern - plays).mean())
        return self._seen[key]


@functools.cache
def judge() -> RegisterJudge:
    """The process's one judge (two SmolLM2 contexts)."""
    return RegisterJudge()


def register_figures(turns: Sequence[dict], ctx: Context) -> dict[str, float]:
    """modern_register and register_mean over the turns of the cast that say something."""
    said = [t for t in turns if t["speaker"] in ctx.personas and t["text"].split()]
    if not said:
        return {}
    read = judge()
    values = [read.register(t["speaker"], t["text"]) for t in said]
    return {
        "modern_register": sum(v > 0 for v in values) / len(values),
        "register_mean": sum(values) / len(values),
    }
