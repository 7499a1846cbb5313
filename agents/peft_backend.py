"""transformers + peft backend: the reference for adapter behaviour (slow, fp32, CPU).

It opens the same GGUF base that llama.cpp serves (through the fp32 copy that
training caches), loads several peft adapters onto one model, and switches with
`set_adapter` per request; `Sampling(adapter=None)` runs with adapters disabled.
Every call recomputes the prompt, so there is no cache that could leak across
adapters. Generation is transformers' own `generate` (greedy at temperature 0, else
seeded top-p, with `repeat_penalty`), streamed through a `TextIteratorStreamer`;
of the optional sampling features it honours `repeat_penalty` alone.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from dramatis.agents.model import (
    Completion,
    LanguageModel,
    Message,
    Sampling,
    check_sampling,
    stop_index,
)
from dramatis.core.errors import DramatisError


class PeftModel(LanguageModel):
    """A transformers causal LM (+ peft adapters) behind the LanguageModel interface."""

    supports = frozenset({"repeat_penalty"})

    def __init__(self, base: Any, tokenizer: Any, *, path: Path | None = None) -> None:
        self.base, self.tokenizer = base, tokenizer
        self.path = path  # the GGUF file the base came from, when it did
        self.name = path.stem if path else type(base).__name__
        self.model: Any = None  # peft wrapper, made by the first load_adapter
        self._lock = threading.Lock()

    @classmethod
    def open(cls, gguf: str | Path, cache_dir: Path, *, threads: int | None = None) -> PeftModel:
        """The fp32 copy of a GGUF base (converted once, then cached under `cache_dir`)."""
        import torch

        from dramatis.agents.hf_base import base_ref, load_base

        if threads:
            torch.set_num_threads(threads)
        ref = base_ref(Path(gguf), cache_dir)
        base, tokenizer = load_base(ref, cache_dir)
        return cls(base, tokenizer, path=ref.path)

    @property
    def adapters(self) -> tuple[str, ...]:
        return tuple(self.model.peft_config) if self.model is not None else ()

    def load_adapter(self, name: str, path: str | Path, **_: object) -> None:
        """Load a peft adapter folder (adapter_model.safetensors + adapter_config.json)."""
        from peft import PeftModel as Peft

        path = Path(path)
        if not (path / "adapter_config.json").is_file():
            raise DramatisError(f"{path} is not a peft adapter folder (no adapter_config.json)")
        with self._lock:
            if name in self.adapters:
                return
            if self.model is None:
                self.model = Peft.from_pretrained(self.base, str(path), adapter_name=name)
            else:
                self.model.load_adapter(str(path), adapter_name=name)
            self.model.eval()

    def count_tokens(self, text: str) -> int:
        return len(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def render_chat(self, messages: Sequence[Message]) -> str | None:
        if not self.tokenizer.chat_template:
            return None
        rows = [{"role": m.role, "content": m.content} for m in messages]
        return self.tokenizer.apply_chat_template(rows, tokenize=False, add_generation_prompt=True)

    def _forward(self, adapter: str | None):
        """The callable model for `adapter`, and a context manager to run it under."""
        import contextlib

        if adapter is None:
            if self.model is None:
                return self.base, contextlib.nullcontext()
            return self.model, self.model.disable_adapter()
        if adapter not in self.adapters:
            loaded = ", ".join(self.adapters) or "none"
            raise DramatisError(f"adapter {adapter!r} is not loaded (loaded: {loaded})")
        self.model.set_adapter(adapter)
        return self.model, contextlib.nullcontext()

    def _generate(self, prompt: str, sampling: Sampling, streamer, halt: Halt) -> list[int]:
        """Run transformers' generate into `streamer`; the new token ids."""
        import torch

        ids = self.tokenizer(prompt, add_special_tokens=False, return_tensors="pt")
        model, ctx = self._forward(sampling.adapter)
        torch.manual_seed(sampling.seed or 0)
        with ctx, torch.no_grad():
            out = model.generate(
                **ids,
                generation_config=generation_config(sampling, self.tokenizer.eos_token_id),
                streamer=streamer,
                stopping_criteria=[halt],
            )
        return out[0, ids["input_ids"].shape[1] :].tolist()

    def _run(self, prompt: str, sampling: Sampling) -> Iterator[str | list[int]]:
        """Text pieces up to the first stop string, then the list of generated ids."""
        from transformers import TextIteratorStreamer

        check_sampling(self, sampling)
        streamer = TextIteratorStreamer(self.tokenizer, skip_prompt=True, skip_special_tokens=True)
        halt, result = Halt(), dict[str, Any]()

        def work() -> None:
            try:
                result["ids"] = self._generate(prompt, sampling, streamer, halt)
            except BaseException as err:  # re-raised in the caller's thread
                result["error"] = err
                streamer.end()

        with self._lock:
            worker = threading.Thread(target=work, daemon=True)
            worker.start()
            try:
                yield from until_stop(streamer, sampling.stop)
            finally:
                halt.set()
                worker.join()
        if "error" in result:
            raise result["error"]
        yield result["ids"]

    def stream(self, prompt: str, sampling: Sampling) -> Iterator[str]:
        for piece in self._run(prompt, sampling):
            if isinstance(piece, str):
                yield piece

    def generate(self, prompt: str, sampling: Sampling) -> Completion:
        *pieces, ids = list(self._run(prompt, sampling))
        text = "".join(str(p) for p in pieces)
        n_new = len(ids) - (ids[-1:] == [self.tokenizer.eos_token_id])
        if text != self.tokenizer.decode(ids[:n_new], skip_special_tokens=True):
            # a stop string cut it: the tokens of the text kept, not those generated past it
            return Completion(text, min(n_new, self.count_tokens(text)), "stop")
        finish = "length" if n_new >= sampling.max_tokens else "stop"
        return Completion(text, n_new, finish)


class Halt:
    """A stopping criterion the consumer sets, so generation ends once a stop string shows."""

    def __init__(self) -> None:
        self.event = threading.Event()

    def set(self) -> None:
        self.event.set()

    def __call__(self, input_ids, scores, **_: object):
        import torch

        return torch.full((input_ids.shape[0],), self.event.is_set(), dtype=torch.bool)


def generation_config(sampling: Sampling, eos_token_id: int):
    """transformers' settings for `sampling`: greedy at temperature 0, else top-p alone
    (top_k off), with the repetition penalty either way."""
    from transformers import GenerationConfig

    sample = sampling.temperature > 0
    return GenerationConfig(
        max_new_tokens=sampling.max_tokens,
        do_sample=sample,
        temperature=sampling.temperature if sample else None,
        top_p=sampling.top_p if sample else None,
        top_k=0 if sample else None,
        repetition_penalty=sampling.repeat_penalty,
        eos_token_id=eos_token_id,
        pad_token_id=eos_token_id,
    )


def held_back(text: str, stops: Sequence[str]) -> int:
    """How many trailing characters of `text` might begin a stop string (not shown yet).

    held_back("Ay.\nHOR", ["\nHORATIO:"]) -> 4; held_back("Ay.", ["\nHORATIO:"]) -> 0
    """
    longest = 0
    for stop in stops:
        for n in range(min(len(stop) - 1, len(text)), longest, -1):
            if stop.startswith(text[-n:]):
                longest = n
                break
    return longest


def until_stop(pieces: Iterable[str], stops: Sequence[str]) -> Iterator[str]:
    """The text of `pieces` up to the first stop string, never showing part of one.

    list(until_stop(["Ay.\nHOR", "ATIO: No"], ["\nHORATIO:"])) -> ["Ay."]
    """
    text, shown = "", 0
    for piece in pieces:
        text += piece
        if (cut := stop_index(text, stops)) >= 0:
            if cut > shown:
                yield text[shown:cut]
            return
        end = len(text) - held_back(text, stops)
        if end > shown:
            yield text[shown:end]
            shown = end
    if len(text) > shown:
        yield text[shown:]
