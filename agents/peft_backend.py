"""transformers + peft backend: the reference for adapter behaviour (slow, fp32, CPU).

It opens the same GGUF base that llama.cpp serves (through the fp32 copy that
training caches), loads several peft adapters onto one model, and switches with
`set_adapter` per request; `Sampling(adapter=None)` runs with adapters disabled.
Every call recomputes the prompt, so there is no cache that could leak across
adapters. Sampling is greedy at temperature 0, else seeded top-p.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from dramatis.agents.model import Completion, LanguageModel, Message, Sampling, stop_index
from dramatis.core.errors import DramatisError


class PeftModel(LanguageModel):
    def __init__(self, gguf: str | Path, cache_dir: Path, *, threads: int | None = None) -> None:
        import torch

        from dramatis.agents.hf_base import base_ref, load_base

        if threads:
            torch.set_num_threads(threads)
        self.ref = base_ref(Path(gguf), cache_dir)
        self.path = self.ref.path
        self.name = self.ref.path.stem
        self.base, self.tokenizer = load_base(self.ref, cache_dir)
        self.model: Any = None  # peft wrapper, made by the first load_adapter
        self._lock = threading.Lock()

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

    def next_token_logits(self, prompt: str, adapter: str | None = None):
        """Logits [vocab] for the token after `prompt` (for differential tests)."""
        import torch

        ids = torch.tensor([self.tokenizer(prompt, add_special_tokens=False)["input_ids"]])
        with self._lock, torch.no_grad():
            model, ctx = self._forward(adapter)
            with ctx:
                return model(input_ids=ids).logits[0, -1].float()

    def _tokens(self, prompt: str, sampling: Sampling) -> Iterator[int]:
        import torch

        ids = torch.tensor([self.tokenizer(prompt, add_special_tokens=False)["input_ids"]])
        gen = torch.Generator().manual_seed(sampling.seed or 0)
        model, ctx = self._forward(sampling.adapter)
        with ctx, torch.no_grad():
            out = model(input_ids=ids, use_cache=True)
            for _ in range(sampling.max_tokens):
                token = _pick(out.logits[0, -1], sampling, gen)
                if token == self.tokenizer.eos_token_id:
                    return
                yield token
                out = model(
                    input_ids=torch.tensor([[token]]),
                    past_key_values=out.past_key_values,
                    use_cache=True,
                )

    def stream(self, prompt: str, sampling: Sampling) -> Iterator[str]:
        with self._lock:
            ids: list[int] = []
            said = ""
            for token in self._tokens(prompt, sampling):
                ids.append(token)
                text = self.tokenizer.decode(ids, skip_special_tokens=True)
                cut = stop_index(text, sampling.stop)
                if cut >= 0:
                    if cut > len(said):
                        yield text[len(said) : cut]
                    return
                if len(text) > len(said) and not text.endswith("\ufffd"):
                    yield text[len(said) :]
                    said = text

    def generate(self, prompt: str, sampling: Sampling) -> Completion:
        pieces = list(self.stream(prompt, sampling))
        finish = "length" if len(pieces) >= sampling.max_tokens else "stop"
        return Completion("".join(pieces), len(pieces), finish)


def _pick(logits, sampling: Sampling, gen) -> int:
    """Greedy at temperature 0; otherwise top-p sampling at `temperature`."""
    import torch

    if sampling.temperature <= 0:
        return int(torch.argmax(logits))
    probs = torch.softmax(logits / sampling.temperature, dim=-1)
    sorted_p, order = torch.sort(probs, descending=True)
    keep = torch.cumsum(sorted_p, dim=-1) - sorted_p < sampling.top_p
    sorted_p = sorted_p * keep
    choice = torch.multinomial(sorted_p / sorted_p.sum(), 1, generator=gen)
    return int(order[choice])
