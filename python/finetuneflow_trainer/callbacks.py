"""The Trainer callback that speaks the app's JSON-lines protocol, the cancel flag it obeys, and the run of a Trainer to its end."""

from __future__ import annotations

import math
import signal
import time
from pathlib import Path

from . import ranks
from .config import TrainConfig
from .errors import EXIT_OOM, OOM_ADVICE, TrainerError
from .events import emit, log
from .metrics import perplexity


class CancelFlag:
    """Set by SIGTERM/SIGINT; the callback stops training cleanly at the next step."""

    def __init__(self) -> None:
        self.requested = False

    def install(self) -> None:
        def handler(signum, _frame):
            self.requested = True
            log(f"signal {signum} received: stopping at the next step and saving a checkpoint")

        signal.signal(signal.SIGTERM, handler)
        signal.signal(signal.SIGINT, handler)


def latest_checkpoint(checkpoints: Path) -> Path | None:
    found = [p for p in checkpoints.glob("checkpoint-*") if p.is_dir() and p.name.split("-")[-1].isdigit()]
    return max(found, key=lambda p: int(p.name.split("-")[-1]), default=None)


def _preference(logs: dict) -> dict:
    """A preference round's (DPO) rewards as TRL logs them, under one key; nothing for SFT."""
    keys = {"rewards_chosen": "rewards/chosen", "rewards_rejected": "rewards/rejected", "margin": "rewards/margins", "accuracy": "rewards/accuracies"}
    if not all(k in logs for k in keys.values()):
        return {}
    return {"preference": {name: float(logs[key]) for name, key in keys.items()}}


def json_lines_callback(cfg: TrainConfig, cancel: CancelFlag, collator, checkpoints: Path, started_at: float):
    from transformers import TrainerCallback

    class JsonLinesCallback(TrainerCallback):
        """One `log`/`eval` event per logging step, `progress` as steps end, `checkpoint` on save."""

        def __init__(self) -> None:
            self.last_progress = 0.0
            self.last_train_loss: float | None = None
            self.last_eval: tuple[int, float] | None = None
            self.first_step: int | None = None
            # (metric, step) of the first non-finite value: training stops there.
            self.diverged: tuple[str, int] | None = None

        def _rate(self, state) -> tuple[float, float | None, float | None]:
            elapsed = time.monotonic() - started_at
            done = state.global_step - (self.first_step or 0)
            eta = (state.max_steps - state.global_step) * elapsed / done if done > 0 else None
            # Each rank counts its own tokens; ranks take equal shares of the batches.
            tps = collator.tokens_seen * ranks.world_size() / elapsed if elapsed > 0 else None
            return elapsed, eta, tps

        def on_train_begin(self, args, state, control, **kw):
            self.first_step = state.global_step

        def on_log(self, args, state, control, logs=None, **kw):
            logs = logs or {}
            elapsed, eta, tps = self._rate(state)
            for key, name in (("loss", "loss"), ("eval_loss", "eval loss")):
                if key in logs and not math.isfinite(float(logs[key])) and self.diverged is None:
                    # The curve keeps what came before; the run stops with advice.
                    self.diverged = (f"{name} became {'NaN' if math.isnan(float(logs[key])) else 'infinite'}", state.global_step)
                    control.should_training_stop = True
                    return
            if "loss" in logs:
                self.last_train_loss = float(logs["loss"])
                emit(
                    "log",
                    step=state.global_step,
                    total_steps=state.max_steps,
                    epoch=round(float(logs.get("epoch", state.epoch or 0.0)), 4),
                    train_loss=float(logs["loss"]),
                    learning_rate=float(logs.get("learning_rate", 0.0)),
                    grad_norm=float(logs["grad_norm"]) if logs.get("grad_norm") is not None else None,
                    tokens_per_second=round(tps, 2) if tps else None,
                    elapsed_seconds=round(elapsed, 2),
                    eta_seconds=round(eta, 1) if eta is not None else None,
                    **_preference(logs),
                )
            if "eval_loss" in logs:
                loss = float(logs["eval_loss"])
                self.last_eval = (state.global_step, loss)
                emit("eval", step=state.global_step, eval_loss=loss, perplexity=perplexity(loss))

        def on_step_end(self, args, state, control, **kw):
            now = time.monotonic()
            if now - self.last_progress >= 0.5 or state.global_step == state.max_steps:
                self.last_progress = now
                pct = 100.0 * state.global_step / max(1, state.max_steps)
                emit("progress", progress_pct=round(min(100.0, pct), 2), step=state.global_step, total_steps=state.max_steps)
            # Every rank must stop at the same step, or the others wait forever in a collective.
            if ranks.any_rank(cancel.requested or self.diverged is not None):
                cancel.requested = cancel.requested or self.diverged is None
                control.should_training_stop = True
                control.should_save = True

        def on_save(self, args, state, control, **kw):
            emit("checkpoint", step=state.global_step, path=str(checkpoints / f"checkpoint-{state.global_step}"))

    return JsonLinesCallback()


def train_to_end(trainer, callback, resume_from: Path | None, what: str, diverged_advice: str) -> None:
    """Runs `trainer` (the SFT Trainer or the round's DPOTrainer) with `callback` attached.

    Running out of GPU memory and a loss that stopped being finite are the user's errors,
    said with what to do; `what` names the run in them ("training", "the preference round").
    """
    try:
        trainer.train(resume_from_checkpoint=str(resume_from) if resume_from else None)
    except RuntimeError as e:  # torch.cuda.OutOfMemoryError is one, and says so
        if "out of memory" in str(e).lower():
            raise TrainerError("cuda_oom", f"The GPU ran out of memory during {what}.", OOM_ADVICE, exit_code=EXIT_OOM) from e
        raise
    if callback.diverged:
        metric, step = callback.diverged
        raise TrainerError("loss_not_finite", f"The {metric} at step {step}: {what} stopped.", diverged_advice)
