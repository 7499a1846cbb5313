"""DPO on a character's LoRA with TRL's `DPOTrainer`, on CPU, within a time budget.

The policy is the character's adapter: its active version when one exists (weights read
from the version's safetensors), else a fresh LoRA. TRL keeps a frozen copy of that
starting adapter as the DPO reference. Sequences are encoded as SFT encodes them
(`trainer.encode`: prompt and reply tokenized apart, as llama.cpp serves them; a page
reply ends in its line break, with no end-of-text token), so the two stages train on
the same tokens.

Measured on validation pairs before and after (`PairMetrics`):
- perplexity of the chosen (real) lines: SFT's measure (`trainer.mean_loss`) on the
  same examples, so `pipeline.better` decides activation as for SFT;
- preference accuracy: the share of pairs whose implicit reward
  log pi(y|x) - log pi_base(y|x) is higher for the chosen line than for the rejected
  one, against the base model (adapter off), the yardstick every version shares; a tie
  counts half, so the base itself scores 0.5;
- the DPO loss and accuracy against the starting adapter (TRL's reference), after.
"""

from __future__ import annotations

import copy
import math
import shutil
import tempfile
import time
import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from dramatis.agents.character import AgentSettings
from dramatis.core.errors import DramatisError
from dramatis.training.dataset import DataConfig
from dramatis.training.preference import PairConfig, PreferencePair, PreferenceSet
from dramatis.training.trainer import (
    EXPORT_SECONDS,
    AdapterConfig,
    Progress,
    TrainConfig,
    encode,
    optimizer,
    prepare_model,
)

SAMPLE_T = AgentSettings().temperature  # own replies are sampled as the agents sample


@dataclass(frozen=True)
class DPOTrainConfig:
    adapter: AdapterConfig = field(default_factory=AdapterConfig)  # a fresh LoRA only
    data: DataConfig = field(default_factory=DataConfig)
    pairs: PairConfig = field(default_factory=PairConfig)
    beta: float = 0.1  # how far from the reference the policy may move (higher: less)
    # Weight of an SFT term on the chosen lines (TRL's "sft" loss beside "sigmoid": RPO),
    # which keeps DPO from making the real lines less likely while it pushes the
    # rejected ones down (measured on Hamlet: docs/training.md); 0: plain DPO.
    sft_weight: float = 1.0
    lr: float = 5e-4
    grad_accum: int = 2  # pairs per optimizer step (~10-25 s a pair on one core)
    max_steps: int | None = None  # None: `epochs` over the training pairs
    epochs: float = 1.0
    max_minutes: float | None = 5.0  # the whole run with `train_dpo(started=...)`
    warmup_steps: int = 2  # lr/2, lr, lr, ... (SFT's schedule, started one step in)
    max_target_tokens: int = TrainConfig().max_target_tokens
    val_pairs: int = 8  # validation pairs scored before and after (0: all)
    threads: int | None = None
    seed: int = 0

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["adapter"]["target_modules"] = list(self.adapter.target_modules)
        return out


@dataclass(frozen=True)
class PairLogps:
    """Summed log-probabilities of a pair's two replies under one model."""

    chosen: float
    rejected: float
    chosen_tokens: int


@dataclass(frozen=True)
class PairMetrics:
    val_loss: float  # mean NLL per chosen token: SFT's validation loss
    accuracy: float  # implicit reward against the base ranks chosen first (ties: half)

    @property
    def ppl(self) -> float:
        return math.exp(self.val_loss)


@dataclass
class DPOResult:
    model: Any  # the peft model, adapter "default" trained
    steps: int
    pairs_seen: int
    seconds: float
    stopped_by: str  # "steps" | "budget"
    before: PairMetrics
    after: PairMetrics
    dpo_loss_after: float  # validation DPO loss against the starting adapter (log 2 at the start)
    dpo_accuracy_after: float  # the same reference, ties half
    val_pairs: int = 0
    losses: list[float] = field(default_factory=list)  # training loss per step


def load_adapter(base_model, folder: Path):
    """The base wrapped by peft with the adapter saved in `folder` (its config and
    safetensors weights; nothing pickled is read), trainable, as adapter "default"."""
    from peft import LoraConfig, get_peft_model, set_peft_model_state_dict
    from safetensors.torch import load_file

    weights = folder / "adapter_model.safetensors"
    if not weights.is_file():
        raise DramatisError(f"{folder} has no adapter_model.safetensors: retrain that version")
    config = LoraConfig.from_json_file(str(folder / "adapter_config.json"))
    config.pop("peft_type", None)
    config["inference_mode"] = False  # saved for serving; here it trains on
    with warnings.catch_warnings():  # peft asks transformers a deprecated question
        warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*")
        model = get_peft_model(base_model, LoraConfig(**config))
    result: Any = set_peft_model_state_dict(model, load_file(str(weights)))
    if [k for k in result.unexpected_keys if "lora_" in k]:
        raise DramatisError(f"{weights} does not fit the base model: retrain that version")
    return model.eval()


def fresh_adapter(base_model, cfg: DPOTrainConfig):
    """The base with a new LoRA ("default", B = 0: the base's outputs), as SFT starts."""
    return prepare_model(base_model, TrainConfig(adapter=cfg.adapter, seed=cfg.seed))


def pair_logps(
    model, tokenizer, pairs: Sequence[PreferencePair], max_tokens: int
) -> list[PairLogps]:
    """Each pair's chosen and rejected log-probabilities, no gradients: the prompt runs
    once and both replies continue from a copy of its keys and values."""
    import torch

    out = []
    with torch.no_grad():
        for pair in pairs:
            chosen = encode(tokenizer, pair.as_example("chosen"), max_tokens)
            rejected = encode(tokenizer, pair.as_example("rejected"), max_tokens)
            n = chosen.n_prompt  # both share the prompt tokens
            head = model(input_ids=torch.tensor([chosen.input_ids[: n - 1]]), use_cache=True)
            sums = []
            for enc, cache in ((chosen, copy.deepcopy(head.past_key_values)),
                               (rejected, head.past_key_values)):  # fmt: skip
                ids = torch.tensor([enc.input_ids[n - 1 :]])  # last prompt token + reply
                logits = model(input_ids=ids[:, :-1], past_key_values=cache).logits[0]
                logp = torch.log_softmax(logits, -1).gather(1, ids[0, 1:, None])  # [n_reply, 1]
                sums.append(float(logp.sum()))
            out.append(PairLogps(sums[0], sums[1], len(chosen.input_ids) - n))
    return out


def preference_accuracy(policy: Sequence[PairLogps], reference: Sequence[PairLogps]) -> float:
    """Share of pairs where the implicit reward ranks chosen above rejected; ties half.

    ([(c=-1, r=-5)], [(c=-2, r=-4)]) -> 1.0 (chosen gained 1, rejected lost 1)
    """
    score = 0.0
    for p, r in zip(policy, reference, strict=True):
        margin = (p.chosen - r.chosen) - (p.rejected - r.rejected)
        score += 1.0 if margin > 1e-6 else 0.5 if margin >= -1e-6 else 0.0
    return score / max(1, len(policy))


def dpo_loss(policy: Sequence[PairLogps], reference: Sequence[PairLogps], beta: float) -> float:
    """Mean sigmoid DPO loss, -log sigmoid(beta * margin); log 2 when policy = reference."""
    total = 0.0
    for p, r in zip(policy, reference, strict=True):
        margin = beta * ((p.chosen - r.chosen) - (p.rejected - r.rejected))
        total += math.log1p(math.exp(-margin)) if margin > -30 else -margin
    return total / max(1, len(policy))


def metrics(policy: Sequence[PairLogps], base: Sequence[PairLogps]) -> PairMetrics:
    """Chosen-line loss (token-weighted, as `trainer.mean_loss`) and accuracy vs the base."""
    tokens = sum(p.chosen_tokens for p in policy)
    loss = -sum(p.chosen for p in policy) / max(1, tokens)
    return PairMetrics(loss, preference_accuracy(policy, base))


def train_rows(tokenizer, pairs: Sequence[PreferencePair], max_tokens: int) -> list[dict]:
    """TRL's tokenized columns, encoded as SFT encodes (prompt and reply apart)."""
    rows = []
    for pair in pairs:
        chosen = encode(tokenizer, pair.as_example("chosen"), max_tokens)
        rejected = encode(tokenizer, pair.as_example("rejected"), max_tokens)
        n = chosen.n_prompt
        rows.append({"prompt_ids": chosen.input_ids[:n], "chosen_ids": chosen.input_ids[n:],
                     "rejected_ids": rejected.input_ids[n:]})  # fmt: skip
    return rows


def trl_trainer(model, tokenizer, rows: list[dict], cfg: DPOTrainConfig, total: int, callbacks):
    """TRL's DPOTrainer on our rows: fp32 on CPU, no checkpoints, no hub, no reports, and
    SFT's optimizer (AdamW with a warm-up that already learns on the first step)."""
    try:
        from datasets import Dataset
        from transformers import PrinterCallback
        from trl import DPOConfig, DPOTrainer
    except ImportError as err:
        raise DramatisError(
            f"DPO needs trl and datasets ({err.name} is missing): run `make install-dev`"
        ) from err

    class ServedDPOTrainer(DPOTrainer):
        """Takes rows already tokenized as served (TRL would re-tokenize the text and
        append an end-of-text token the page format never serves)."""

        def _prepare_dataset(self, dataset, processing_class, args, dataset_name):
            return dataset

    params = [p for p in model.parameters() if p.requires_grad]  # before TRL adds its "ref"
    sft = TrainConfig(lr=cfg.lr, warmup_steps=cfg.warmup_steps)
    with warnings.catch_warnings():  # TRL and peft ask transformers for renamed flags
        warnings.filterwarnings("ignore", category=FutureWarning)
        trainer = ServedDPOTrainer(
            model=model,
            args=dpo_args(DPOConfig, cfg, total),
            train_dataset=Dataset.from_list(rows),
            processing_class=tokenizer,
            callbacks=callbacks,
            optimizers=optimizer(params, sft),
        )
    trainer.remove_callback(PrinterCallback)  # progress is ours to show
    return trainer


def dpo_args(DPOConfig, cfg: DPOTrainConfig, total: int):
    """TRL's arguments: fp32 on CPU, one pair per micro-batch, nothing saved or reported."""
    return DPOConfig(
        output_dir=tempfile.mkdtemp(prefix="dramatis-dpo-"),
        beta=cfg.beta,
        loss_type=["sigmoid", "sft"] if cfg.sft_weight else ["sigmoid"],
        loss_weights=[1.0, cfg.sft_weight] if cfg.sft_weight else None,
        learning_rate=cfg.lr,
        per_device_train_batch_size=1,  # one pair: its chosen and rejected sequences
        gradient_accumulation_steps=cfg.grad_accum,
        max_steps=total,
        max_length=None,  # prompts are already within the agents' history budget
        bf16=False,  # fp32: bf16 is slow on this CPU
        use_cpu=True,
        gradient_checkpointing=False,
        logging_steps=1,
        save_strategy="no",
        report_to="none",
        disable_tqdm=True,
        dataloader_num_workers=0,
        seed=cfg.seed,
        data_seed=cfg.seed,
    )


def train_dpo(
    model,
    tokenizer,
    prefs: PreferenceSet,
    cfg: DPOTrainConfig,
    progress: Progress | None = None,
    *,
    started: float | None = None,
) -> DPOResult:
    """DPO on `model`'s "default" adapter over `prefs.train`; `prefs.val` scored before
    and after. With `started` the budget covers the whole run (as SFT's does)."""
    import torch

    torch.manual_seed(cfg.seed)
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    val = prefs.val[: cfg.val_pairs] if cfg.val_pairs else prefs.val
    val_start = time.perf_counter()
    with model.disable_adapter():
        base = pair_logps(model, tokenizer, val, cfg.max_target_tokens)
    one_pass = time.perf_counter() - val_start
    start = pair_logps(model, tokenizer, val, cfg.max_target_tokens) if trained(model) else base
    budget = cfg.max_minutes * 60 if cfg.max_minutes else math.inf
    if started is not None:  # loading and scoring so far, the last pass and export share it
        budget -= (time.perf_counter() - started) + one_pass + EXPORT_SECONDS
    total = cfg.max_steps or max(1, math.ceil(cfg.epochs * len(prefs.train) / cfg.grad_accum))
    clock = budget_callback(budget, progress)
    rows = train_rows(tokenizer, prefs.train, cfg.max_target_tokens)
    trainer = trl_trainer(model, tokenizer, rows, cfg, total, [clock])
    trainer.train()
    shutil.rmtree(trainer.args.output_dir, ignore_errors=True)  # nothing is saved there
    model = trainer.model
    if "ref" in model.peft_config:  # TRL's frozen copy of the start: not part of the version
        model.delete_adapter("ref")
    model.set_adapter("default")
    model.eval()
    after = pair_logps(model, tokenizer, val, cfg.max_target_tokens)
    return DPOResult(
        model=model,
        steps=len(clock.losses),
        pairs_seen=len(clock.losses) * cfg.grad_accum,
        seconds=round(clock.seconds, 1),
        stopped_by=clock.stopped_by,
        before=metrics(start, base),
        after=metrics(after, base),
        dpo_loss_after=dpo_loss(after, start, cfg.beta),
        dpo_accuracy_after=preference_accuracy(after, start),
        val_pairs=len(val),
        losses=clock.losses,
    )


def trained(model) -> bool:
    """Whether the "default" adapter already changes the base (any LoRA B non-zero)."""
    return any(p.abs().sum() > 0 for n, p in model.named_parameters() if "lora_B" in n)


def budget_callback(seconds: float, progress: Progress | None):
    """A transformers callback that stops TRL's loop before a step that would not fit in
    `seconds` (judged by the slowest step so far), reports progress after every step and
    keeps each step's loss (`.losses`, `.stopped_by`, `.seconds`)."""
    from transformers import TrainerCallback

    class Budget(TrainerCallback):
        def __init__(self) -> None:
            self.losses: list[float] = []
            self.stopped_by = "steps"
            self.began = self.last = time.perf_counter()
            self.slowest = self.seconds = 0.0

        def on_train_begin(self, args, state, control, **kwargs):
            self.began = self.last = time.perf_counter()

        def on_step_end(self, args, state, control, **kwargs):
            now = time.perf_counter()
            self.slowest, self.last = max(self.slowest, now - self.last), now
            self.seconds = now - self.began
            if state.global_step < state.max_steps and self.seconds + self.slowest > seconds:
                self.stopped_by = "budget"
                control.should_training_stop = True

        def on_log(self, args, state, control, logs=None, **kwargs):
            if logs and "loss" in logs:
                self.losses.append(float(logs["loss"]))
                if progress:
                    progress(state.global_step, state.max_steps, logs["loss"], self.seconds)

    return Budget()


def own_reply(model, tokenizer, max_tokens: int, seed: int):
    """A `preference.Reply`: the model's own next speech for a page, sampled (seeded) as
    the agents sample, up to the page's line break."""
    import torch

    def reply(prompt: str) -> str:
        torch.manual_seed(seed)
        ids = torch.tensor([tokenizer(prompt, add_special_tokens=False)["input_ids"]])
        with torch.no_grad():
            out = model.generate(input_ids=ids, attention_mask=torch.ones_like(ids),
                                 max_new_tokens=max_tokens, do_sample=True, temperature=SAMPLE_T,
                                 top_p=0.95, pad_token_id=tokenizer.eos_token_id)  # fmt: skip
        text = tokenizer.decode(out[0, ids.shape[1] :], skip_special_tokens=True)
        return text.strip().split("\n")[0]

    return reply
