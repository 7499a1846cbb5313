"""Retry and best-of work around any backend: a flaky one, the fake, the agents' own
draws, and (tests/test_openai_backend.py) the server backend as `open_model` wraps it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from dramatis.agents.fake_backend import FakeModel
from dramatis.agents.model import Completion, Sampling
from dramatis.agents.wrappers import SEED_STEP, BestOf, Retrying, Transient, best_of
from dramatis.core.errors import DramatisError


class Flaky(FakeModel):
    """Fails `Transient` on its first `fails` requests, then answers as the fake does;
    with `break_after`, a stream breaks off after that many pieces."""

    def __init__(self, fails: int, replies=(), break_after: int | None = None) -> None:
        super().__init__(replies)
        self.fails, self.calls, self.break_after = fails, 0, break_after

    def stream(self, prompt: str, sampling: Sampling) -> Iterator[str]:
        self.calls += 1
        if self.calls <= self.fails:
            raise Transient("server busy: try later")
        for i, piece in enumerate(super().stream(prompt, sampling)):
            if self.break_after is not None and i == self.break_after:
                raise Transient("the stream broke off")
            yield piece

    def generate(self, prompt: str, sampling: Sampling) -> Completion:
        pieces = list(self.stream(prompt, sampling))
        return Completion("".join(pieces), len(pieces))


def test_retrying_tries_a_transient_failure_again_with_doubling_waits():
    model = Retrying(Flaky(2, ["Ay, my lord."]), retries=2, backoff=0.001)
    assert model.generate("p", Sampling()).text == "Ay, my lord."
    assert model.inner.calls == 3 and model.waited == [0.001, 0.002]
    streamed = Retrying(Flaky(1, ["Good night."]), retries=1, backoff=0.001)
    assert "".join(streamed.stream("p", Sampling())) == "Good night."


def test_retrying_gives_up_in_one_line_and_never_repeats_streamed_text():
    with pytest.raises(DramatisError) as err:
        Retrying(Flaky(5), retries=2, backoff=0.001).generate("p", Sampling())
    assert str(err.value) == "server busy: try later" and err.type is DramatisError
    broken = Retrying(Flaky(0, ["One two three four."], break_after=2), backoff=0.001)
    said: list[str] = []
    with pytest.raises(Transient):
        for piece in broken.stream("p", Sampling()):
            said.append(piece)
    assert len(said) == 2 and broken.inner.calls == 1  # no second try once text is out


def test_retrying_passes_everything_else_to_the_backend():
    inner = FakeModel(chat=False)
    model = Retrying(inner)
    assert model.count_tokens("a b c") == inner.count_tokens("a b c")
    assert model.render_chat([]) is None and model.supports == inner.supports
    assert model.prompts is inner.prompts  # attributes of the backend itself


def test_best_of_keeps_the_top_ranked_acceptable_candidate_within_its_draws():
    drawn: list[int] = []

    def draw(attempt: int) -> str:
        drawn.append(attempt)
        return ["", "short", "a longer one", "longest of them all"][attempt]

    kept, made = best_of(
        draw,
        bool,
        lambda found: max(range(len(found)), key=lambda i: len(found[i])),
        want=2,
        extra=1,
    )
    assert (kept, made) == ("a longer one", 3) and drawn == [0, 1, 2]
    assert best_of(lambda a: "", bool, lambda f: 0, want=1, extra=2) == (None, 3)
    assert best_of(lambda a: "x", bool, lambda f: 0, want=0) == (None, 0)  # nothing asked


def test_best_of_around_a_backend_draws_other_seeds_and_keeps_the_best():
    inner = FakeModel(["Ay.", "My lord, the night is cold.", "No."])
    model = BestOf(inner, 3, score=lambda text: len(text))
    out = model.generate("p", Sampling(seed=5))
    assert out.text == "My lord, the night is cold."
    assert [s.seed for s in inner.samplings] == [5, 5 + SEED_STEP, 5 + 2 * SEED_STEP]
    refused = BestOf(FakeModel(["", " "]), 1, score=len, extra=1)
    with pytest.raises(DramatisError, match="none of 2 draws was acceptable"):
        refused.generate("p", Sampling())


def test_best_of_ranks_only_the_least_flawed_and_redraws_while_all_are_flawed():
    def flaws(text: str) -> int:
        return text.count("!")

    def longest(found: list[str]) -> int:
        return max(range(len(found)), key=lambda i: len(found[i]))

    texts = ["loud!!", "", "quiet", "the longest, but loud!", "longer and quiet"]
    kept, made = best_of(lambda a: texts[a], bool, longest, want=2, extra=1, flaws=flaws, redraws=2)
    assert (kept, made) == ("quiet", 3)  # a clean one among the two wanted: no redraw
    texts = ["loud!!", "louder!!!", "", "still loud!", "quiet at last"]
    kept, made = best_of(lambda a: texts[a], bool, longest, want=2, extra=1, flaws=flaws, redraws=3)
    assert (kept, made) == ("quiet at last", 5)  # redraws until a clean one
    kept, made = best_of(lambda a: texts[a], bool, longest, want=2, extra=1, flaws=flaws, redraws=2)
    assert (kept, made) == ("still loud!", 4)  # two redraws, one refused: the least flawed
    kept, made = best_of(lambda a: texts[a], bool, longest, want=2, flaws=flaws)
    assert (kept, made) == ("loud!!", 2)  # no redraws: the fewer marks beats the longer
    # a refused redraw counts: three empty redraws end the turn
    assert best_of(
        lambda a: ["x!"][a] if a == 0 else "", bool, longest, flaws=flaws, redraws=3
    ) == (
        "x!",
        4,
    )
