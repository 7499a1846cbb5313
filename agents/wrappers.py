"""Wrappers that work around any backend: retry on a transient failure, best of n.

A backend says what is worth another try by raising `Transient` (a busy or unreachable
server); it does not retry itself. `Retrying` tries again with doubling waits, and a
stream only before its first piece arrived, so no text is ever said twice. `best_of`
draws candidates with other seeds until `want` of them are acceptable (or `extra`
draws more were made) and keeps the one `rank` scores highest; the agents' best-of-n
(`CharacterAgent.speak`) is this function over their own draws, and `BestOf` is the
same around a backend's `generate`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from typing import Any, TypeVar

from dramatis.agents.model import Completion, LanguageModel, Message, Sampling
from dramatis.core.errors import DramatisError

T = TypeVar("T")
SEED_STEP = 7919  # a draw's seed: the turn's seed + SEED_STEP * attempt


class Transient(DramatisError):
    """A failure another try may cure: the server was busy, slow or not reachable.
    The message is the whole one-line error shown when the tries run out."""


class ModelWrapper(LanguageModel):
    """A LanguageModel that passes everything to `inner` (adapters, counts, template):
    the base of every wrapper, which overrides only what it changes."""

    def __init__(self, inner: LanguageModel) -> None:
        self.inner = inner
        self.name = inner.name
        self.supports = inner.supports

    def __getattr__(self, key: str) -> Any:  # path, endpoint, last_model...: the inner's
        return getattr(self.inner, key)

    def stream(self, prompt: str, sampling: Sampling) -> Iterator[str]:
        return self.inner.stream(prompt, sampling)

    def generate(self, prompt: str, sampling: Sampling) -> Completion:
        return self.inner.generate(prompt, sampling)

    def count_tokens(self, text: str) -> int:
        return self.inner.count_tokens(text)

    def render_chat(self, messages: Sequence[Message]) -> str | None:
        return self.inner.render_chat(messages)

    @property
    def context_length(self) -> int:
        return self.inner.context_length

    @property
    def adapters(self) -> tuple[str, ...]:
        return self.inner.adapters

    def load_adapter(self, name: str, path: str, **options: object) -> None:
        self.inner.load_adapter(name, path, **options)

    def stack_under(self, name: str, scale: float = 1.0) -> None:
        self.inner.stack_under(name, scale)

    def close(self) -> None:
        close = getattr(self.inner, "close", None)
        if close is not None:
            close()


class Retrying(ModelWrapper):
    """`inner`, with each request that fails `Transient` tried again up to `retries`
    times, after waits of `backoff`, 2 x `backoff`, ... seconds."""

    def __init__(self, inner: LanguageModel, retries: int = 2, backoff: float = 0.5) -> None:
        super().__init__(inner)
        self.retries = retries
        self.backoff = backoff
        self.waited: list[float] = []  # the waits made, in order (what a test checks)

    def _again(self, attempt: int, err: Transient) -> None:
        if attempt >= self.retries:
            raise DramatisError(str(err)) from None
        wait = self.backoff * 2**attempt
        self.waited.append(wait)
        time.sleep(wait)

    def generate(self, prompt: str, sampling: Sampling) -> Completion:
        for attempt in range(self.retries + 1):
            try:
                return self.inner.generate(prompt, sampling)
            except Transient as err:
                self._again(attempt, err)
        raise AssertionError("unreachable")  # _again raises on the last attempt

    def stream(self, prompt: str, sampling: Sampling) -> Iterator[str]:
        for attempt in range(self.retries + 1):
            pieces = self.inner.stream(prompt, sampling)
            try:
                first = next(pieces, None)
            except Transient as err:
                self._again(attempt, err)
                continue
            if first is not None:
                yield first
                yield from pieces  # once a piece is out, a failure is final
            return


def best_of(
    draw: Callable[[int], T],
    accept: Callable[[T], bool],
    rank: Callable[[list[T]], int],
    *,
    want: int = 1,
    extra: int = 0,
    flaws: Callable[[T], int] | None = None,
    redraws: int = 0,
    replace: int = 0,
) -> tuple[T | None, int]:
    """(the kept candidate or None, draws made). `draw(attempt)` makes one candidate;
    drawing stops once `want` acceptable ones count (below) or `want + extra` draws, and
    one more for each flawed one replaced, were made; `rank` gives the index of the one to
    keep among the acceptable (not asked for one alone).

    `flaws` counts what is wrong with an acceptable candidate (0: nothing): only those
    with the fewest are ranked, and while every one found has some, up to `redraws` more
    draws are made once `want` were found. With `replace`, up to that many flawed
    candidates are each drawn again in their place: they stay among those found but do
    not count toward `want`, so that up to `want` clean ones are ranked and the longer
    candidates, likelier to hold a flaw, are not simply dropped. At most
    `want + extra + replace + redraws` draws."""
    if want + extra <= 0:
        return None, 0
    found: list[T] = []
    marks: list[int] = []
    counted, replaced = 0, 0  # acceptable ones that count toward `want`; flawed redrawn
    attempts, reached = 0, 0  # reached: the draws made when the `want`-th was found
    while True:
        attempts += 1
        candidate = draw(attempts - 1)
        if accept(candidate):
            found.append(candidate)
            marks.append(flaws(candidate) if flaws else 0)
            if marks[-1] and replaced < replace:
                replaced += 1  # drawn again in its place
            else:
                counted += 1
            reached = reached or (attempts if counted == want else 0)
        if reached:
            if min(marks) == 0 or attempts - reached >= redraws:
                break
        elif attempts >= want + extra + replaced:
            break
    if not found:
        return None, attempts
    least = [c for c, m in zip(found, marks, strict=True) if m == min(marks)]
    return (least[0] if len(least) == 1 else least[rank(least)]), attempts


class BestOf(ModelWrapper):
    """`inner`, whose `generate` draws `n` completions (seeds seed, seed + SEED_STEP,
    ...) and keeps the one `score` rates highest; those `accept` refuses never win, and
    `extra` more draws are made to replace them. A stream gives the kept one whole."""

    def __init__(
        self,
        inner: LanguageModel,
        n: int,
        score: Callable[[str], float],
        accept: Callable[[str], bool] = lambda text: bool(text.strip()),
        extra: int = 0,
    ) -> None:
        super().__init__(inner)
        self.n, self.score, self.accept, self.extra = n, score, accept, extra

    def generate(self, prompt: str, sampling: Sampling) -> Completion:
        seed = sampling.seed or 0

        def draw(attempt: int) -> Completion:
            return self.inner.generate(prompt, replace(sampling, seed=seed + SEED_STEP * attempt))

        def rank(found: list[Completion]) -> int:
            scores = [self.score(c.text) for c in found]
            return scores.index(max(scores))

        def accept(candidate: Completion) -> bool:
            return self.accept(candidate.text)

        kept, _ = best_of(draw, accept, rank, want=self.n, extra=self.extra)
        if kept is None:
            raise DramatisError(
                f"{self.name}: none of {self.n + self.extra} draws was acceptable; try "
                "another seed or fewer constraints"
            )
        return kept

    def stream(self, prompt: str, sampling: Sampling) -> Iterator[str]:
        yield self.generate(prompt, sampling).text
