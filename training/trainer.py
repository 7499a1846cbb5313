"""LoRA training with peft on the fp32 copy of the GGUF base, on CPU.

Micro-batches of one example (no padding work), gradient accumulation, AdamW on the
adapter weights only, linear warm-up then a constant rate (transformers' schedule), a wall-clock budget, and
validation perplexity (validation scenes only) before and after. Loss counts only the
target speech tokens (and the end-of-turn token that stops generation when serving).

Deterministic for a seed and a step count: the example order, the LoRA initialisation
and dropout all come from `seed`. A `max_minutes` budget can end a run at a step that
depends on the machine's speed; the step reached is recorded with the adapter.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from dramatis.agents.character import AgentSettings
from dramatis.agents.formats import get_format
from dramatis.training.dataset import DataConfig, Dataset, Example

DEFAULT_TARGETS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


@dataclass(frozen=True)
class AdapterConfig:
    # r=8 on all seven projections: the same validation perplexity as r=16 in a 10-minute
    # CPU budget at half the size (~4.9 MB f16), which keeps four adapters within 10% of
    # the serving process's memory (docs/training.md).
    r: int = 8
    alpha: int = 16
    dropout: float = 0.05
    target_modules: tuple[str, ...] = DEFAULT_TARGETS


@dataclass(frozen=True)
class TrainConfig:
    adapter: AdapterConfig = field(default_factory=AdapterConfig)
    data: DataConfig = field(default_factory=DataConfig)
    lr: float = 3e-4
    grad_accum: int = 8  # examples per optimizer step
    max_steps: int | None = None  # optimizer steps; None: `epochs` over the training set
    epochs: float = 1.0
    # Wall-clock budget of the training loop alone: loading, validation and export come
    # on top (on a busy machine they once took a whole whole-run budget, leaving 0 steps).
    # The first step always runs. None: no budget (`--steps N` then trains N steps).
    max_minutes: float | None = 10.0
    warmup_steps: int = 4
    # Longer speeches are cut (and get no end): the agents' own token limit per speech.
    max_target_tokens: int = AgentSettings().max_tokens
    val_examples: int = 24  # validation pairs scored for perplexity (None-like: 0 = all)
    gradient_checkpointing: bool = False
    prompt_grad: bool = False  # True: backprop through the prompt too (~2.5x slower)
    threads: int | None = None  # torch threads; None leaves torch's default
    seed: int = 0

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["adapter"]["target_modules"] = list(self.adapter.target_modules)
        return out


@dataclass
class Encoded:
    input_ids: list[int]
    n_prompt: int  # tokens before the target; they carry no loss


@dataclass
class TrainResult:
    model: Any  # the peft model, adapter "default" trained
    steps: int
    examples_seen: int
    seconds: float
    stopped_by: str  # "steps" | "budget"
    val_loss_before: float
    val_loss_after: float
    losses: list[float]

    @property
    def ppl_before(self) -> float:
        return math.exp(self.val_loss_before)

    @property
    def ppl_after(self) -> float:
        return math.exp(self.val_loss_after)


def target_text(example: Example) -> str:
    """The completion the served model should write after the prompt: on a page, the
    speech after the heading's colon and the line break that ends it (the next heading
    then stops the turn); in chat, the speech alone (the end-of-turn token follows).

    target_text(Example(..., prompt="...HAMLET:", target="Ay, madam.")) -> " Ay, madam.\n"
    """
    return (
        f" {example.target}\n" if get_format(example.prompt_format).page_target else example.target
    )


def encode(tokenizer, example: Example, max_target_tokens: int) -> Encoded:
    """Prompt tokens + target tokens, tokenized apart as llama.cpp sees them when it
    serves (the prompt first, then what it samples). A target that fits ends as served
    (its line break on a page, the end-of-turn token in chat); a longer one is cut."""
    prompt = tokenizer(example.prompt, add_special_tokens=False)["input_ids"]
    target = tokenizer(target_text(example), add_special_tokens=False)["input_ids"]
    if len(target) <= max_target_tokens:
        ends = [] if get_format(example.prompt_format).page_target else [tokenizer.eos_token_id]
        target = [*target, *ends]
    else:
        target = target[:max_target_tokens]
    return Encoded(list(prompt) + list(target), len(prompt))


def example_loss(model, enc: Encoded, *, prompt_grad: bool = True):
    """Mean cross-entropy over the target tokens of one example (a scalar tensor).

    With `prompt_grad=False` all but the last prompt token run once without gradients
    (adapter on); the last prompt token, which predicts the first target token, and the
    target tokens run with them, attending to the cached keys and values: ~2.5x faster
    on our ~550-token prompts, at the cost of not training the adapter through its
    effect on the earlier prompt tokens' keys and values. Every target token, the
    first included, gets a gradient.
    """
    import torch

    ids = torch.tensor([enc.input_ids])
    targets = ids[0, enc.n_prompt :]
    if prompt_grad or enc.n_prompt < 2:
        logits = model(input_ids=ids).logits[0, enc.n_prompt - 1 : -1]  # predicts n_prompt..
        return torch.nn.functional.cross_entropy(logits, targets)
    with torch.no_grad():
        head = model(input_ids=ids[:, : enc.n_prompt - 1], use_cache=True)
    tail = model(input_ids=ids[:, enc.n_prompt - 1 : -1], past_key_values=head.past_key_values)
    return torch.nn.functional.cross_entropy(tail.logits[0], targets)  # [n_target, vocab]


def validation(tokenizer, data: Dataset, cfg: TrainConfig) -> list[Encoded]:
    """The validation pairs `train` scores, encoded: the first `cfg.val_examples` (0: all)."""
    val_set = data.val[: cfg.val_examples] if cfg.val_examples else data.val
    return [encode(tokenizer, e, cfg.max_target_tokens) for e in val_set]


def mean_loss(model, encoded: Sequence[Encoded]) -> float:
    """Token-weighted mean target loss over `encoded`, no gradients."""
    import torch

    total, count = 0.0, 0
    with torch.no_grad():
        for enc in encoded:
            n = len(enc.input_ids) - enc.n_prompt
            total += float(example_loss(model, enc)) * n
            count += n
    return total / max(1, count)


def attach_lora(base_model, cfg: AdapterConfig, seed: int):
    """The base wrapped by peft with a fresh adapter named "default"."""
    import torch
    from peft import LoraConfig, get_peft_model

    torch.manual_seed(seed)
    lora = LoraConfig(
        r=cfg.r,
        lora_alpha=cfg.alpha,
        lora_dropout=cfg.dropout,
        target_modules=list(cfg.target_modules),
        bias="none",
        task_type="CAUSAL_LM",
    )
    return get_peft_model(base_model, lora)


Progress = Callable[[int, int, float, float], None]  # step, total steps, loss, seconds


EXPORT_SECONDS = 15.0  # reserved for saving + GGUF export after the loop (measured ~5 s)


@dataclass
class Loop:
    """What the optimizer loop did: losses per step, examples seen, why it stopped."""

    losses: list[float] = field(default_factory=list)
    seen: int = 0
    stopped_by: str = "steps"  # "steps" | "budget"
    seconds: float = 0.0


def train(
    base_model,
    tokenizer,
    data: Dataset,
    cfg: TrainConfig,
    progress: Progress | None = None,
) -> TrainResult:
    """Train a LoRA adapter on `data.train`; score `data.val` before and after. The
    budget (`cfg.max_minutes`) counts the training loop only."""
    import torch

    torch.manual_seed(cfg.seed)
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    train_enc = [encode(tokenizer, e, cfg.max_target_tokens) for e in data.train]
    val_enc = validation(tokenizer, data, cfg)
    model = prepare_model(base_model, cfg)
    before = mean_loss(model, val_enc)  # LoRA B starts at zero: this is `base_model` as given
    budget = cfg.max_minutes * 60 if cfg.max_minutes else math.inf
    loop = fit(model, train_enc, cfg, budget, progress)
    model.eval()
    after = mean_loss(model, val_enc)
    return TrainResult(
        model, len(loop.losses), loop.seen, loop.seconds, loop.stopped_by, before, after,
        loop.losses,
    )  # fmt: skip


def prepare_model(base_model, cfg: TrainConfig):
    """The base with a fresh LoRA adapter (and gradient checkpointing if asked), in eval mode."""
    with warnings.catch_warnings():  # peft asks transformers a deprecated question
        warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*")
        model = attach_lora(base_model, cfg.adapter, cfg.seed)
    if cfg.gradient_checkpointing:
        model.gradient_checkpointing_enable()
        model.enable_input_require_grads()
    return model.eval()


def fit(
    model, train_enc: Sequence[Encoded], cfg: TrainConfig, budget: float, progress: Progress | None
) -> Loop:
    """AdamW steps over `train_enc` in order, cycling, with a linear warm-up to a constant
    rate, until `cfg` has its steps or `budget` seconds are spent."""
    import torch

    total = cfg.max_steps or max(1, math.ceil(cfg.epochs * len(train_enc) / cfg.grad_accum))
    params = [p for p in model.parameters() if p.requires_grad]
    opt, schedule = optimizer(params, cfg)
    loop, start = Loop(), time.perf_counter()
    model.train()
    for step in range(total):
        if step and time.perf_counter() - start > budget:  # the first step always runs
            loop.stopped_by = "budget"
            break
        step_loss, done = accumulate(model, train_enc, loop.seen, cfg, start + budget)
        loop.seen += done
        if done < cfg.grad_accum:  # the budget ended the step early: average over what it saw
            loop.stopped_by = "budget"
            for p in params:
                p.grad.mul_(cfg.grad_accum / done)
            step_loss *= cfg.grad_accum / done
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        schedule.step()
        opt.zero_grad(set_to_none=True)
        loop.losses.append(step_loss)
        if progress:
            progress(step + 1, total, step_loss, time.perf_counter() - start)
        if loop.stopped_by == "budget":
            break
    loop.seconds = time.perf_counter() - start
    return loop


def optimizer(params: list, cfg: TrainConfig):
    """(AdamW, its schedule): a linear warm-up over `cfg.warmup_steps`, then `cfg.lr`.

    The schedule starts one step in, so step 0 already learns: for 4 warm-up steps the
    rates are lr/4, lr/2, 3lr/4, lr, lr, ...
    """
    import torch
    from transformers import get_constant_schedule_with_warmup

    opt = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=0.0)
    for group in opt.param_groups:
        group["initial_lr"] = cfg.lr  # what a schedule resumed at step 1 expects
    return opt, get_constant_schedule_with_warmup(opt, cfg.warmup_steps, last_epoch=0)


def accumulate(
    model, train_enc: Sequence[Encoded], seen: int, cfg: TrainConfig, deadline: float
) -> tuple[float, int]:
    """Backpropagate up to `cfg.grad_accum` examples from position `seen` on (at least
    one, then none past `deadline`); returns (the step's loss, examples used)."""
    step_loss, done = 0.0, 0
    for i in range(cfg.grad_accum):
        if done and time.perf_counter() > deadline:
            break
        enc = train_enc[(seen + i) % len(train_enc)]
        loss = example_loss(model, enc, prompt_grad=cfg.prompt_grad) / cfg.grad_accum
        loss.backward()
        step_loss += loss.item()
        done += 1
    return step_loss, done
