"""Train the stage voice as a language model of the canon (training/canon.py), on CPU,
in a run that can stop at any step and resume where it stopped.

Each optimizer step backpropagates `batch` packed sequences (one at a time, no padding)
and averages the loss over their supervised tokens. The output layer is the largest
cost and the largest memory: Gemma 3's 262,144-token vocabulary makes the logits of a
512-token sequence 0.5 GB in fp32. The loss is computed `chunk` positions at a time,
each chunk's logits recomputed in the backward pass instead of kept (torch checkpoint),
so memory stays at one chunk's logits (64 x 262k x 4 B = 67 MB).

A checkpoint folder holds the adapter and the optimizer state as safetensors and the
run's state as JSON (step, sequences seen, losses, validation history, seconds): no
pickle. A run with the same configuration and data resumes from it; one with another
configuration is refused, so two budgets never mix different runs.
"""

from __future__ import annotations

import json
import math
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from dramatis.core.errors import DramatisError
from dramatis.training.canon import HELD_OUT, CanonData, Sequence_

TARGETS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


@dataclass(frozen=True)
class LMVoiceConfig:
    r: int = 16  # every linear layer of the 18 blocks: ~3.8M parameters, ~7.6 MB in f16
    alpha: int = 32
    seq_tokens: int = 512  # a served page is ~650 tokens; most scenes' pages fit 512
    batch: int = 2  # sequences per optimizer step (~1,000 tokens)
    lr: float = 7e-4
    warmup_steps: int = 10
    chunk: int = 64  # positions per loss chunk
    val_sequences: int = 12  # ~6k supervised tokens of the held-out plays
    eval_every: int = 100  # steps between validation passes (each ~12k tokens, no grad)
    checkpoint_every: int = 10  # steps between checkpoints
    held_out: tuple[str, ...] = HELD_OUT
    seed: int = 0

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "held_out": list(self.held_out)}


@dataclass
class RunState:
    """Everything a resumed run needs besides the tensors (JSON)."""

    config: dict
    data_sha256: str
    step: int = 0
    seen: int = 0  # sequences backpropagated, in the packed order (cycling)
    tokens: int = 0  # tokens processed in training
    supervised: int = 0  # tokens that carried a loss
    seconds: float = 0.0  # training time over every run so far
    losses: list[float] = field(default_factory=list)
    val: list[list[float]] = field(default_factory=list)  # [step, loss] pairs
    runs: list[dict] = field(default_factory=list)  # one entry per (re)start: where, when

    @property
    def pages_changed(self) -> dict | None:
        """The runs entry of the last change of data (`load_checkpoint` with new_data):
        from its step on, validation is on that data's pages. None: never changed."""
        return next((r for r in reversed(self.runs) if "data_changed" in r), None)

    @property
    def ppl_before(self) -> float | None:
        """The base's validation perplexity on the pages validated on now: measured again
        when the data changed (`base_val`), else the run's first validation."""
        changed = self.pages_changed
        if changed is not None and "base_val" in changed:
            return math.exp(changed["base_val"])
        return math.exp(self.val[0][1]) if self.val else None

    @property
    def ppl_after(self) -> float | None:
        return math.exp(self.val[-1][1]) if self.val else None


def chunked_loss(base, ids, mask, chunk: int):
    """(sum of cross-entropy over supervised next-token positions, their count).

    base: the causal LM under the adapter (its `.model` body and `.lm_head`)
    ids, mask: [1, L] token ids and 0/1 loss mask (mask[t] = 1: token t is a target)
    """
    import torch
    from torch.utils.checkpoint import checkpoint

    hidden = base.model(input_ids=ids).last_hidden_state[0, :-1]  # [L-1, d] predicts 1..L-1
    targets = ids[0, 1:]
    weight = mask[0, 1:].to(hidden.dtype)
    cap = getattr(base.config, "final_logit_softcapping", None)

    def part(h, y, w):
        logits = base.lm_head(h).float()  # [chunk, vocab]
        if cap:
            logits = torch.tanh(logits / cap) * cap
        return (torch.nn.functional.cross_entropy(logits, y, reduction="none") * w).sum()

    total = hidden.new_zeros(())
    for i in range(0, hidden.shape[0], chunk):
        w = weight[i : i + chunk]
        if w.sum() == 0:
            continue
        total = total + checkpoint(
            part, hidden[i : i + chunk], targets[i : i + chunk], w, use_reentrant=False
        )
    return total, int(weight.sum())


def val_loss(base, val: Sequence[Sequence_], chunk: int) -> float:
    """Mean loss per supervised token over `val`, no gradients."""
    import torch

    total, count = 0.0, 0
    with torch.no_grad():
        for s in val:
            loss, n = chunked_loss(base, torch.tensor([s.ids]), torch.tensor([s.mask]), chunk)
            total += float(loss)
            count += n
    return total / max(1, count)


def attach(base_model, cfg: LMVoiceConfig):
    import torch
    from peft import LoraConfig, get_peft_model

    torch.manual_seed(cfg.seed)
    lora = LoraConfig(
        r=cfg.r,
        lora_alpha=cfg.alpha,
        lora_dropout=0.0,
        target_modules=list(TARGETS),
        bias="none",
        task_type="CAUSAL_LM",
    )
    return get_peft_model(base_model, lora)


# -- checkpoints ---------------------------------------------------------------------------


def save_checkpoint(folder: Path, model, opt, state: RunState) -> None:
    """Adapter, optimizer moments and run state, written aside and swapped in whole."""
    from peft import get_peft_model_state_dict
    from safetensors.torch import save_file

    tmp = folder.with_name(folder.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    lora = {k: v.detach().contiguous() for k, v in get_peft_model_state_dict(model).items()}
    save_file(lora, str(tmp / "adapter.safetensors"))
    moments = {}
    for i, p in enumerate(_params(model)):
        st = opt.state.get(p)
        if st:
            moments[f"{i}.exp_avg"] = st["exp_avg"].contiguous()
            moments[f"{i}.exp_avg_sq"] = st["exp_avg_sq"].contiguous()
    save_file(moments, str(tmp / "optimizer.safetensors"))
    (tmp / "state.json").write_text(json.dumps(asdict(state), indent=1) + "\n")
    old = folder.with_name(folder.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if folder.exists():
        folder.rename(old)
    tmp.rename(folder)
    shutil.rmtree(old, ignore_errors=True)


def load_checkpoint(
    folder: Path, model, opt, cfg: LMVoiceConfig, data_sha: str, new_data: bool = False
) -> RunState:
    """The run state of `folder`, with the adapter and optimizer restored into `model`/`opt`.
    A checkpoint of another configuration is a one-line error, and one of other data too
    unless `new_data` (the canon's parse changed: the run goes on over the new packing,
    and says so in its runs)."""
    import torch
    from peft import set_peft_model_state_dict
    from safetensors.torch import load_file

    try:
        raw = json.loads((folder / "state.json").read_text())
    except (OSError, ValueError) as exc:
        raise DramatisError(
            f"{folder}/state.json is damaged ({exc}): move the folder aside to start over"
        ) from exc
    state = RunState(**raw)
    if state.config != cfg.to_json() or (state.data_sha256 != data_sha and not new_data):
        raise DramatisError(
            f"{folder} holds a run with another configuration or other data: pass the same "
            "options to resume it (--new-data to go on over changed data), or another "
            "--checkpoint folder to start a new run"
        )
    if state.data_sha256 != data_sha:
        state.runs.append({"data_changed": [state.data_sha256, data_sha], "at_step": state.step})
        state.data_sha256 = data_sha
    set_peft_model_state_dict(model, load_file(str(folder / "adapter.safetensors")))
    if not (folder / "optimizer.safetensors").is_file():
        return state  # seeded from a shipped adapter: AdamW's moments start afresh
    moments = load_file(str(folder / "optimizer.safetensors"))
    for i, p in enumerate(_params(model)):
        if f"{i}.exp_avg" in moments:
            opt.state[p] = {
                "step": torch.tensor(float(state.step)),
                "exp_avg": moments[f"{i}.exp_avg"],
                "exp_avg_sq": moments[f"{i}.exp_avg_sq"],
            }
    return state


def _params(model) -> list:
    return [p for p in model.parameters() if p.requires_grad]


# -- the run -------------------------------------------------------------------------------

Progress = Callable[[RunState, float], None]  # state after a step, loss of that step


Segment = Sequence[float]  # (first step, steps) a cool-down; (first, steps, top) a re-warm


def learning_rate(step: int, cfg: LMVoiceConfig, schedule: Sequence[Segment] = ()) -> float:
    """Linear warm-up, then constant (a budget that spans runs has no known end). A
    `schedule` of segments (`schedule_of`), the last one begun by `step` applying:
    - a cool-down (first step, steps): from that step down in a line to a tenth of the
      rate over that many steps, and a tenth after;
    - a re-warm (first step, steps, top), after a cool-down: the rate climbs back from
      the tenth to `top` times the rate over `cfg.warmup_steps` steps, while the line
      from `top` down to a tenth runs from the first step.

    learning_rate(0, LMVoiceConfig(lr=1e-3, warmup_steps=4)) -> 2.5e-4
    learning_rate(15, LMVoiceConfig(lr=1e-3), [(10, 10)]) -> 5.5e-4
    learning_rate(20, LMVoiceConfig(lr=1e-3, warmup_steps=1), [(0, 10), (20, 10, 0.5)]) -> 5e-4
    """
    rate = cfg.lr * min(1.0, (step + 1) / max(1, cfg.warmup_steps))
    begun = [seg for seg in schedule if step >= seg[0]]
    if not begun:
        return rate
    seg = max(begun, key=lambda seg: seg[0])
    first, steps = int(seg[0]), int(seg[1])
    done = min(1.0, (step - first) / max(1, steps))
    if len(seg) < 3:
        return rate * (1.0 - 0.9 * done)
    top = float(seg[2])
    line = top - (top - 0.1) * done
    warm = min(1.0, (step - first + 1) / max(1, cfg.warmup_steps))
    return cfg.lr * (0.1 + (line - 0.1) * warm)


def schedule_of(state: RunState) -> list[tuple[float, ...]]:
    """The cool-downs and re-warms the runs of this checkpoint began, in order: a resumed
    run goes on with them. A segment's kind is its length, not its key: a re-warm made
    before the "rewarm" key existed is recorded as a 3-figure "cooldown"."""
    out: list[tuple[float, ...]] = []
    for entry in state.runs:
        out += [tuple(entry[key]) for key in ("cooldown", "rewarm") if key in entry]
        out += [tuple(seg) for seg in entry.get("rewarms", ())]
    return out


def run(
    base_model,
    data: CanonData,
    cfg: LMVoiceConfig,
    checkpoint: Path,
    *,
    minutes: float,
    max_steps: int | None = None,
    where: str = "cpu",
    progress: Progress | None = None,
    log: Callable[[str], None] = print,
    cooldown: int = 0,
    cooldown_from: int | None = None,
    new_data: bool = False,
    rewarm: float | None = None,
    rewarm_from: int | Sequence[int] | None = None,
):
    """Train (or resume) for `minutes` of wall time or until `max_steps` in all; returns
    (peft model, RunState). Validation runs at the start of a new run, every
    `eval_every` steps and at the end. `cooldown`: begin the cool-down now, over that
    many steps (`learning_rate`), unless the checkpoint began one (which goes on);
    `cooldown_from`: begin it at that step instead (the rate holds until then), so one
    schedule can be asked for from the start. `rewarm`: after the cool-down, raise the
    rate again to that fraction of `cfg.lr` at `rewarm_from` (or now) and bring it down
    once more to a tenth by `max_steps` (`learning_rate`'s re-warm); a checkpoint that
    began one goes on with it. Several steps in `rewarm_from` ask for several re-warms,
    each ending where the next begins; those that begin after the checkpoint's last
    re-warm has ended are added to its schedule.
    `new_data`: go on from a checkpoint of other data (`load_checkpoint`)."""
    import torch

    model = attach(base_model, cfg)
    params = _params(model)
    opt = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=0.0)
    if (checkpoint / "state.json").exists():
        state = load_checkpoint(checkpoint, model, opt, cfg, data.sha256, new_data)
        log(f"resuming at step {state.step} ({state.seconds / 60:.1f} min trained so far)")
    else:
        state = RunState(cfg.to_json(), data.sha256)
    state.runs.append({"where": where, "started": time.strftime("%Y-%m-%dT%H:%M:%S"),
                       "threads": torch.get_num_threads(), "from_step": state.step})  # fmt: skip
    schedule = schedule_of(state)
    cools = [seg for seg in schedule if len(seg) == 2]
    if not cools and cooldown > 0:
        first = state.step if cooldown_from is None else cooldown_from
        if first < state.step:
            raise DramatisError(
                f"{checkpoint}: a cool-down from step {first} cannot begin at step "
                f"{state.step}; ask for one from this step on (--cooldown-from {state.step} or later)"
            )
        cools = [(first, cooldown)]
        schedule.append(cools[0])
        state.runs[-1]["cooldown"] = list(cools[0])
        log(f"cooling down from step {first} over {cooldown} steps")
    elif cools and cooldown > 0:
        asked = (cools[0][0] if cooldown_from is None else cooldown_from, cooldown)
        if asked != tuple(cools[0]):
            log(f"the checkpoint's cool-down goes on (from step {cools[0][0]} over "
                f"{cools[0][1]} steps); the one asked for is not applied")  # fmt: skip
    warms = [seg for seg in schedule if len(seg) == 3]
    if max_steps is None and warms:  # a re-warm ends where its line reaches a tenth
        max_steps = int(warms[-1][0] + warms[-1][1])
    if rewarm is not None:
        added = _rewarms(checkpoint, state, cools, warms, rewarm, rewarm_from, max_steps, log)
        for seg in added:
            schedule.append(seg)
            log(f"re-warming to {rewarm:g} of the rate at step {int(seg[0])}, then "
                f"cooling down to a tenth by step {int(seg[0] + seg[1])}")  # fmt: skip
        if len(added) == 1:  # the key of one re-warm, as checkpoints before several had it
            state.runs[-1]["rewarm"] = list(added[0])
        elif added:
            state.runs[-1]["rewarms"] = [list(seg) for seg in added]
    base = model.get_base_model()
    changed = state.pages_changed
    if changed is not None and "base_val" not in changed:  # other pages: the base again
        model.eval()
        with model.disable_adapter():
            changed["base_val"] = val_loss(base, data.val, cfg.chunk)
        base_ppl = math.exp(changed["base_val"])
        log(f"the base's validation perplexity on the new pages: {base_ppl:.1f}")
    if not state.val:
        model.eval()
        state.val.append([0, val_loss(base, data.val, cfg.chunk)])
        log(f"validation perplexity before training: {math.exp(state.val[0][1]):.1f}")
    deadline = time.perf_counter() + minutes * 60
    model.train()
    while time.perf_counter() < deadline and (max_steps is None or state.step < max_steps):
        start = time.perf_counter()
        loss = one_step(base, opt, params, data.train, state, cfg, schedule)
        state.seconds += time.perf_counter() - start
        state.step += 1
        state.losses.append(round(loss, 4))
        if progress:
            progress(state, loss)
        if state.step % cfg.eval_every == 0:
            model.eval()
            state.val.append([state.step, val_loss(base, data.val, cfg.chunk)])
            model.train()
        if state.step % cfg.checkpoint_every == 0:
            save_checkpoint(checkpoint, model, opt, state)
    model.eval()
    if state.val[-1][0] != state.step:
        state.val.append([state.step, val_loss(base, data.val, cfg.chunk)])
    save_checkpoint(checkpoint, model, opt, state)
    return model, state


def check_rewarm_top(top: float) -> None:
    """Refuse a re-warm's top rate outside (0.1, 1]: it climbs back from a tenth."""
    if not 0.1 < top <= 1.0:
        raise DramatisError(f"--rewarm {top:g}: the top rate must lie above 0.1 and at most 1")


def _rewarms(
    checkpoint: Path,
    state: RunState,
    cools: Sequence[Segment],
    warms: Sequence[Segment],
    top: float,
    starts: int | Sequence[int] | None,
    max_steps: int | None,
    log: Callable[[str], None],
) -> list[tuple[float, ...]]:
    """The re-warm segments asked for that the checkpoint has not begun, checked (`run`).
    Each of `starts` begins one; it ends where the next begins, the last at `max_steps`.
    Those that begin before the end of the checkpoint's last re-warm are the checkpoint's
    own business and must be its segments: if one differs, the checkpoint's schedule goes
    on, it is said which asked segment is not applied, and nothing asked for is added."""
    check_rewarm_top(top)
    ended = int(warms[-1][0] + warms[-1][1]) if warms else None
    if starts is None:  # from now: a new one only once the checkpoint's last has ended
        if ended is not None and (state.step < ended or (max_steps or 0) <= state.step):
            starts = [int(warms[-1][0])]
        else:
            starts = [state.step]
    starts = [starts] if isinstance(starts, int) else list(starts)
    if starts != sorted(set(starts)):
        raise DramatisError(
            f"--rewarm-from {','.join(map(str, starts))}: give the steps in rising order"
        )
    recorded = [tuple(w) for w in warms]
    asked = []
    for first, end in zip(starts, [*starts[1:], max_steps], strict=True):
        seg = _rewarm(checkpoint, state, cools, top, first, end)
        if ended is None or first >= ended:
            if first < state.step:
                raise DramatisError(
                    f"{checkpoint}: a re-warm from step {first} cannot begin at step "
                    f"{state.step}; ask for one from this step on (--rewarm-from {state.step} or later)"
                )
            asked.append(seg)
        elif seg not in recorded:
            w = max((w for w in recorded if w[0] <= first), key=lambda w: w[0], default=recorded[0])
            log(f"the checkpoint's re-warm goes on (from step {int(w[0])} over {int(w[1])} "
                f"steps, to {w[2]:g}); the one asked for from step {first} over {int(seg[1])} "
                "steps is not applied, nor any after it")  # fmt: skip
            return []
    return asked


def _rewarm(
    checkpoint: Path,
    state: RunState,
    cools: Sequence[Segment],
    top: float,
    first: int,
    end: int | None,
) -> tuple[float, ...]:
    """One re-warm segment asked for, from `first` to `end`, checked against the checkpoint
    (its top rate `_rewarms` checked once for all)."""
    if not cools:
        raise DramatisError(
            f"{checkpoint}: a re-warm follows a cool-down; ask for one with --cooldown"
        )
    ends = int(cools[0][0] + cools[0][1])
    if first < ends:
        raise DramatisError(
            f"{checkpoint}: its cool-down runs to step {ends}; a re-warm can begin only "
            f"after it (--rewarm-from {max(ends, state.step)} or later)"
        )
    if end is None or end <= first:
        raise DramatisError(
            f"a re-warm from step {first} cools down by --max-steps: ask for {first + 1} or more"
        )
    return (first, end - first, top)


def one_step(
    base, opt, params, train: Sequence[Sequence_], state: RunState, cfg, schedule=()
) -> float:
    """One optimizer step over the next `cfg.batch` sequences; the step's mean loss."""
    import torch

    total, count = 0.0, 0
    for _ in range(cfg.batch):
        s = train[state.seen % len(train)]
        state.seen += 1
        ids, mask = torch.tensor([s.ids]), torch.tensor([s.mask])
        loss, n = chunked_loss(base, ids, mask, cfg.chunk)
        (loss / (cfg.batch * 256)).backward()  # a fixed scale; the true mean is applied below
        total += float(loss.detach())
        count += n
        state.tokens += len(s.ids)
        state.supervised += n
    for p in params:  # gradients of the mean over the step's supervised tokens
        if p.grad is not None:
            p.grad.mul_(cfg.batch * 256 / max(1, count))
    torch.nn.utils.clip_grad_norm_(params, 1.0)
    for group in opt.param_groups:
        group["lr"] = learning_rate(state.step, cfg, schedule)
    opt.step()
    opt.zero_grad(set_to_none=True)
    return total / max(1, count)
