"""A resumed scene says what the uninterrupted run said: a prompt's completion does not
depend on what the llama.cpp context evaluated before it (agents/llama_backend.py).

The cause of the one real-model crash-harness divergence: llama.cpp's logits depend on
how a prompt was cut into batches, and an uninterrupted scene kept the previous turn's
prompt and evaluated only the new tail, where a resumed process (new) evaluated the whole
prompt at once. Prompts are now evaluated in blocks at fixed positions and only whole
blocks are kept."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from dramatis.agents.llama_backend import _block_aligned


class Context:
    """A stand-in for `llama_cpp.Llama`'s prefix reuse: `generate` keeps the first
    `n_tokens` evaluated tokens (the caller checked they match), evaluates the rest,
    then makes one token."""

    n_batch = 4

    def __init__(self) -> None:
        self.input_ids = np.zeros(64, dtype=np.intc)
        self.n_tokens = 0
        self.kept: list[int] = []  # per call: how much of the earlier evaluation was kept

    def generate(self, tokens, *args, **kwargs):
        n = self.n_tokens
        assert list(self.input_ids[:n]) == list(tokens[:n])  # only a matching prefix is kept
        self.kept.append(n)
        self.input_ids[n : len(tokens)] = tokens[n:]
        self.n_tokens = len(tokens)
        yield 99
        self.input_ids[self.n_tokens] = 99
        self.n_tokens += 1


def run(llm, tokens: list[int]) -> None:
    for _ in llm.generate(tokens):
        pass


def aligned(base=Context):
    """`base` block-aligned, without the saved logits of `_again` (a stand-in has none)."""
    llm = _block_aligned(base)()
    llm.reuse = False
    return llm


def test_only_whole_blocks_of_an_earlier_prompt_are_kept():
    llm = aligned()
    first = list(range(1, 11))  # 10 tokens: blocks [0, 4), [4, 8) whole, [8, 10) not
    run(llm, first)
    assert llm.kept == [0] and llm.whole == 8
    run(llm, [*first, 99, 50, 51])  # the same prompt and the made token, then more
    assert llm.kept[-1] == 8  # not 11: token 8 on was evaluated in a part block
    assert llm.whole == 12
    run(llm, [*first[:6], 70, 71, 72])  # differs from token 6: the block before it stays
    assert llm.kept[-1] == 4
    run(llm, first[:8])  # all of it kept would leave nothing to evaluate: the last block
    assert llm.kept[-1] == 4  # is evaluated again, as a new process evaluates it
    run(llm, [5, 6, 7])  # nothing shared
    assert llm.kept[-1] == 0 and llm.whole == 0


def test_a_completion_that_fails_before_its_prompt_is_evaluated_claims_no_new_blocks():
    class Failing(Context):
        def generate(self, tokens, *args, **kwargs):
            self.n_tokens = len(tokens) // 2  # partly evaluated, then llama.cpp failed
            raise RuntimeError("llama_decode returned -1")
            yield  # a generator, as the real one is

    llm = aligned(Failing)
    llm.whole, llm.n_tokens = 8, 8
    with pytest.raises(RuntimeError):
        run(llm, [0] * 6 + [1] * 10)  # shares 6 tokens with what was evaluated
    assert llm.whole == 4  # the one whole block kept, not the new prompt's four


def test_a_run_on_or_retry_keeps_what_its_draw_evaluated_and_no_more_blocks():
    llm = aligned()
    first = list(range(1, 11))
    run(llm, first)  # evaluated: the 10 prompt tokens and the made 99
    llm.continues = True
    run(llm, [*first, 99, 50])  # the prompt, what it made, then the run-on's own text
    assert llm.kept[-1] == 11  # all of it, not only the two whole blocks
    assert llm.whole == 8 and not llm.continues  # its blocks stay the first prompt's
    llm.continues = True
    run(llm, first)  # a retry of the draw: all of its prompt but the token that samples
    assert llm.kept[-1] == 9 and llm.whole == 8
    run(llm, [*first, 99, 50, 99, 60, 61])  # a later prompt without the hint: blocks only
    assert llm.kept[-1] == 8


def test_a_run_on_hint_after_another_prompt_keeps_only_whole_blocks():
    llm = aligned()
    first = list(range(1, 11))
    run(llm, first)
    run(llm, [*first[:6], 70, 71, 72])  # another completion came between
    llm.continues = True
    run(llm, [*first, 99, 50])  # does not extend the last prompt: the whole block only
    assert llm.kept[-1] == 4


class Logits(Context):
    """The stand-in with logits: each evaluated prompt's last token's, then each made one's."""

    def __init__(self) -> None:
        super().__init__()
        self.buffer = np.zeros(3, dtype=np.float32)
        self.evaluated: list[int] = []  # per call: the tokens evaluated before the first draw

    def generate(self, tokens, *args, **kwargs):
        self.evaluated.append(len(tokens) - self.n_tokens)
        if len(tokens) > self.n_tokens:
            self.buffer[:] = [len(tokens), sum(tokens), 0]  # as if from the prompt
        yield from super().generate(tokens, *args, **kwargs)
        self.buffer[:] = [-1, -1, -1]  # the made token's, once it is evaluated


def test_a_turns_next_draw_keeps_its_whole_prompt_and_the_prompts_logits():
    class Llm(_block_aligned(Logits)):
        def _logits(self):
            return self.buffer

    llm = Llm()
    first = list(range(1, 11))
    run(llm, first)
    saved = llm.buffer.copy()
    assert llm.last is not None and llm.buffer.tolist() == [-1, -1, -1]
    run(llm, first)  # the next candidate: nothing evaluated again, the logits put back
    assert llm.evaluated[-1] == 0 and llm.kept[-1] == 10
    assert llm.whole == 8 and llm.anchor == 10
    run(llm, [*first, 99, 50])  # another prompt: blocks only, as before
    assert llm.kept[-1] == 8 and llm.evaluated[-1] == 4
    llm.buffer[:] = saved
    run(llm, first)  # the old prompt, no longer the anchor's: its part block again
    assert llm.kept[-1] == 8 and llm.evaluated[-1] == 2


@pytest.mark.model
def test_a_turns_next_draw_says_what_a_new_process_says():
    """Real path: a second draw of a prompt on a model that just drew from it (the prompt
    kept whole, its logits put back) makes the same tokens as that draw in a new process,
    and evaluates no prompt token again."""
    from dramatis.agents.catalog import parse_model
    from dramatis.agents.length import real_speeches
    from dramatis.agents.llama_backend import LlamaCppModel
    from dramatis.agents.model import Sampling
    from dramatis.core.settings import Settings

    gguf = parse_model(None).gguf(Settings.load().cache_dir)
    page = "\n\n".join(f"HAMLET: {s}" for s in real_speeches("hamlet", "Hamlet")[:12])
    prompt = page + "\n\nHORATIO:"
    first, second = (Sampling(max_tokens=16, temperature=1.0, top_p=0.95, seed=s) for s in (3, 4))
    one = LlamaCppModel(gguf, n_threads=1)
    one.generate(prompt, first)
    sizes: list[int] = []
    evaluate = one.llama.eval
    one.llama.eval = lambda tokens: sizes.append(len(tokens)) or evaluate(tokens)
    again = one.generate(prompt, second).text
    assert again == LlamaCppModel(gguf, n_threads=1).generate(prompt, second).text
    assert sizes and max(sizes) == 1  # only the made tokens, one at a time


@pytest.mark.model
@pytest.mark.slow  # four loads of Gemma 3 270M, twelve completions: ~1 min of CPU, 5 on a busy machine
def test_a_prompt_says_the_same_after_earlier_prompts_as_in_a_new_process(monkeypatch):
    """Gemma 3 270M (the default model), one thread, sampled at temperature 1: three
    prompts that share a long prefix, as a scene's turns do, each with a retry and a
    run-on, on one model say exactly what each says on a new model. Control: with the evaluation as it was (512-token
    batches, any shared prefix kept) the same chain says something else."""
    from dramatis.agents import llama_backend
    from dramatis.agents.catalog import parse_model
    from dramatis.agents.length import real_speeches
    from dramatis.agents.llama_backend import LlamaCppModel
    from dramatis.agents.model import Sampling
    from dramatis.core.settings import Settings

    gguf = parse_model(None).gguf(Settings.load().cache_dir)
    lines = [f"HAMLET: {s}" for s in real_speeches("hamlet", "Hamlet")[:40]]
    page = "\n\n".join(lines)
    base = len(page) // 3
    prompts = [page[: base + k] + "\n\nHORATIO:" for k in (300, 420, 800)]
    sampling = Sampling(max_tokens=24, temperature=1.0, top_p=0.95, seed=3)
    retry = replace(sampling, seed=4, continues=True)
    run_on = replace(sampling, max_tokens=12, continues=True)

    def said(model: LlamaCppModel, prompt: str) -> str:
        """A draw, a retry and the retry's run-on (these two keep what the draw evaluated)."""
        made = model.generate(prompt, sampling).text
        again = model.generate(prompt, retry).text
        return made + "|" + again + "|" + model.generate(prompt + again, run_on).text

    def chain_and_fresh() -> tuple[list[str], list[str]]:
        one = LlamaCppModel(gguf, n_threads=1)
        chain = [said(one, p) for p in prompts]
        fresh = [said(LlamaCppModel(gguf, n_threads=1), p) for p in prompts]
        return chain, fresh

    chain, fresh = chain_and_fresh()
    assert chain == fresh
    monkeypatch.setattr(llama_backend, "_block_aligned", lambda base: base)
    monkeypatch.setattr(llama_backend, "BLOCK", 512)
    chain, fresh = chain_and_fresh()
    assert chain != fresh
