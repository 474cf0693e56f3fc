"""`train`: LoRA / QLoRA with transformers' Trainer and peft, reporting as JSON lines.

Layout of a run directory (config.output_dir):
  run_config.json      the validated config (evaluate/export read it)
  checkpoints/         Trainer checkpoints (resumable)
  adapter/             the trained adapter (PeftModel.from_pretrained loads it as is)
  log_history.json     every logged metric, for export's report and curve
  run_summary.json     final metrics, device, versions, timings
"""

from __future__ import annotations

import json
import math
import signal
import time
from pathlib import Path

from dataclasses import dataclass

from . import liger, packing, ranks
from .config import TrainConfig
from .loading import load_model, load_tokenizer, ready_for_training
from .data import EncodedDataset, PadCollator, encode_all, ensure_chat_template, read_examples
from .errors import OOM_ADVICE, TrainerError
from .events import emit, log
from .metrics import perplexity

DIVERGED_ADVICE = "Lower the learning rate (try a third of it), keep gradient clipping on, and check the data for empty or garbled answers."


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


def _json_callback(cfg: TrainConfig, cancel: CancelFlag, collator, checkpoints: Path, started_at: float):
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


@dataclass
class ModelSetup:
    """The wrapped model and how it runs: attention, packing and Liger, each with why."""

    model: object
    trainable: int
    attn_implementation: str
    packing: bool
    packing_reason: str
    liger: bool
    liger_reason: str


@dataclass
class Setup:
    """Everything a training run (or a probe, or the GPU benchmark) is built from."""

    built: ModelSetup
    tokenizer: object
    train_ds: EncodedDataset
    eval_ds: EncodedDataset
    dropped: int
    had_template: bool
    collator: object
    device: str


def prepare(cfg: TrainConfig, train_rows: list[dict] | None = None, eval_rows: list[dict] | None = None) -> Setup:
    """Data, model, attention, packing, Liger and the LoRA wrapper, as every run builds them."""
    import torch
    from transformers import AutoConfig

    device = "cuda" if torch.cuda.is_available() else "cpu"
    train_rows = read_examples(cfg.train_file) if train_rows is None else train_rows
    if eval_rows is None:
        eval_rows = read_examples(cfg.eval_file) if cfg.eval_file else []
    tokenizer = load_tokenizer(cfg)
    had_template = ensure_chat_template(tokenizer)
    if not had_template:
        log("the tokenizer has no chat template: using the generic instruction template")
    train_ds, dropped = encode_all(tokenizer, train_rows, cfg.max_seq_length, cfg.system_prompt, cfg.chat_template_kwargs)
    eval_ds, _ = encode_all(tokenizer, eval_rows, cfg.max_seq_length, cfg.system_prompt, cfg.chat_template_kwargs)
    if dropped:
        log(f"{dropped} example(s) dropped: their answer starts beyond max_seq_length={cfg.max_seq_length}")
    if len(train_ds) == 0:
        raise TrainerError("invalid_dataset", "No training example fits in max_seq_length.", "Raise max_seq_length or shorten the examples.")

    try:
        model_config = AutoConfig.from_pretrained(cfg.base_model, trust_remote_code=cfg.trust_remote_code)
    except OSError as e:
        raise TrainerError("model_load_failed", f"Could not load the base model {cfg.base_model}: {e}", "Check the path or id, and HF_TOKEN for gated models.") from e
    wrapped = prepare_model(cfg, device, model_config, lambda attn: load_model(cfg, device, for_training=False, attn_implementation=attn))
    collator = packing.PackedCollator() if wrapped.packing else PadCollator(tokenizer.pad_token_id)
    return Setup(wrapped, tokenizer, train_ds, eval_ds, dropped, had_template, collator, device)


def prepare_model(cfg: TrainConfig, device: str, model_config, load) -> ModelSetup:
    """Attention, packing, Liger, k-bit/checkpointing and the LoRA wrapper around `load(attn)`'s model.
    The GPU benchmark passes its own loader (random weights of a real shape)."""
    from peft import LoraConfig, get_peft_model

    attn = packing.choose_attention(device, model_config)
    packed, packing_reason = packing.decide(cfg.packing, model_config, attn, cfg.trust_remote_code)
    log(f"attention: {attn}; packing {'on' if packed else 'off'}: {packing_reason}")
    model = load(attn)
    # A KV cache in training is useless, and with one transformers stops isolating packed sequences.
    model.config.use_cache = False
    liger_on, liger_reason = liger.apply(model, cfg.use_liger, device)
    log(f"liger {'on' if liger_on else 'off'}: {liger_reason}")
    model = ready_for_training(model, cfg)
    lora = LoraConfig(
        r=cfg.lora_r, lora_alpha=cfg.lora_alpha, lora_dropout=cfg.lora_dropout, target_modules=cfg.target_modules, task_type="CAUSAL_LM"
    )
    model = get_peft_model(model, lora)
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return ModelSetup(model, trainable, attn, packed, packing_reason, liger_on, liger_reason)


def training_arguments(cfg: TrainConfig, setup: Setup, output_dir: Path, **overrides):
    import torch
    from transformers import TrainingArguments

    cuda = setup.device == "cuda"
    bf16 = cuda and torch.cuda.is_bf16_supported()
    planned = planned_steps(cfg, len(setup.train_ds))
    has_eval = len(setup.eval_ds) > 0
    kwargs = dict(
        output_dir=str(output_dir),
        num_train_epochs=cfg.num_epochs,
        max_steps=cfg.max_steps,
        per_device_train_batch_size=cfg.per_device_batch_size,
        per_device_eval_batch_size=cfg.per_device_batch_size,
        gradient_accumulation_steps=cfg.gradient_accumulation_steps,
        learning_rate=cfg.learning_rate,
        warmup_steps=cfg.warmup_ratio,
        lr_scheduler_type="cosine",
        logging_steps=cfg.logging_steps,
        logging_first_step=True,
        # The default filter hides a NaN loss behind the running mean: we must see it.
        logging_nan_inf_filter=False,
        eval_strategy="steps" if has_eval else "no",
        eval_steps=cfg.eval_steps or max(1, planned // 10),
        save_strategy="steps",
        save_steps=cfg.save_steps or max(1, planned // 5),
        save_total_limit=2,
        bf16=bf16,
        fp16=cuda and not bf16,
        use_cpu=not cuda,
        optim="adamw_torch_fused" if cuda else "adamw_torch",
        report_to="none",
        disable_tqdm=True,
        seed=cfg.seed,
        data_seed=cfg.seed,
        # Padded batches waste least when lengths are grouped; packed batches have no padding,
        # so they keep the random order that trains best.
        train_sampling_strategy="random" if setup.built.packing else "group_by_length",
        remove_unused_columns=False,
        dataloader_num_workers=0,
        # LoRA leaves most parameters frozen on purpose; DDP must not hunt for them.
        ddp_find_unused_parameters=False,
        ddp_backend=("nccl" if cuda else "gloo") if ranks.world_size() > 1 else None,
    )
    kwargs.update(overrides)
    return TrainingArguments(**kwargs)


def planned_steps(cfg: TrainConfig, examples: int) -> int:
    per_step = cfg.per_device_batch_size * cfg.gradient_accumulation_steps * ranks.world_size()
    steps_per_epoch = max(1, math.ceil(examples / per_step))
    return cfg.max_steps if cfg.max_steps > 0 else math.ceil(steps_per_epoch * cfg.num_epochs)


def run(cfg: TrainConfig, resume: bool = False) -> int:
    import torch
    from transformers import Trainer, set_seed

    cancel = CancelFlag()
    cancel.install()
    out = Path(cfg.output_dir)
    checkpoints = out / "checkpoints"
    out.mkdir(parents=True, exist_ok=True)
    if ranks.rank() == 0:
        (out / "run_config.json").write_text(json.dumps(cfg.to_json(), indent=2))

    resume_from = latest_checkpoint(checkpoints) if resume else None
    if resume and resume_from is None:
        raise TrainerError("no_checkpoint", f"No checkpoint to resume from in {checkpoints}.", "Start a new run instead.")

    set_seed(cfg.seed)
    setup = prepare(cfg)
    built = setup.built
    model, tokenizer, train_ds, eval_ds, collator = built.model, setup.tokenizer, setup.train_ds, setup.eval_ds, setup.collator
    device, dropped, had_template, trainable = setup.device, setup.dropped, setup.had_template, built.trainable
    cuda = device == "cuda"
    planned = planned_steps(cfg, len(train_ds))
    args = training_arguments(cfg, setup, checkpoints)
    started_at = time.monotonic()
    callback = _json_callback(cfg, cancel, collator, checkpoints, started_at)
    trainer = Trainer(
        model=model,
        args=args,
        train_dataset=train_ds,
        eval_dataset=eval_ds if len(eval_ds) else None,
        data_collator=collator,
        processing_class=tokenizer,
        callbacks=[callback],
    )
    resumed_step = int(resume_from.name.split("-")[-1]) if resume_from else None
    emit(
        "started",
        total_steps=planned,
        num_train_examples=len(train_ds),
        num_eval_examples=len(eval_ds),
        device=torch.cuda.get_device_name(0) if cuda else "cpu",
        method=cfg.method,
        trainable_params=trainable,
        resumed_from_step=resumed_step,
        world_size=ranks.world_size(),
        packing=built.packing,
        attn_implementation=built.attn_implementation,
        liger=built.liger,
    )
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    try:
        trainer.train(resume_from_checkpoint=str(resume_from) if resume_from else None)
    except torch.cuda.OutOfMemoryError as e:
        raise TrainerError("cuda_oom", "The GPU ran out of memory during training.", OOM_ADVICE, exit_code=4) from e
    except RuntimeError as e:
        if "out of memory" in str(e).lower():
            raise TrainerError("cuda_oom", "The GPU ran out of memory during training.", OOM_ADVICE, exit_code=4) from e
        raise

    if callback.diverged:
        what, step = callback.diverged
        raise TrainerError("loss_not_finite", f"The {what} at step {step}: training stopped.", DIVERGED_ADVICE)

    adapter_dir = out / "adapter"
    trainer.save_model(str(adapter_dir))  # rank 0 writes (args.should_save)
    if ranks.rank() == 0:
        tokenizer.save_pretrained(str(adapter_dir))
        (out / "log_history.json").write_text(json.dumps(trainer.state.log_history, indent=1))

    if cancel.requested:
        last = latest_checkpoint(checkpoints)
        emit("cancelled", step=trainer.state.global_step, checkpoint_path=str(last) if last else None, adapter_path=str(adapter_dir))
        return 3

    # A final evaluation, unless the schedule just made one at this step (it emits via on_log).
    if len(eval_ds) and (callback.last_eval is None or callback.last_eval[0] != trainer.state.global_step):
        trainer.evaluate()
    eval_loss = callback.last_eval[1] if callback.last_eval else None
    elapsed = time.monotonic() - started_at
    metrics = {
        "final_train_loss": callback.last_train_loss,
        "eval_loss": eval_loss,
        "perplexity": perplexity(eval_loss),
        "total_steps": trainer.state.global_step,
        "epochs": round(float(trainer.state.epoch or 0), 4),
        "duration_seconds": round(elapsed, 2),
        "tokens_per_second": round(collator.tokens_seen / elapsed, 2) if elapsed > 0 else None,
        "num_train_examples": len(train_ds),
        "num_eval_examples": len(eval_ds),
        "dropped_examples": dropped,
        "trainable_params": trainable,
        "peak_vram_gb": round(torch.cuda.max_memory_allocated() / 1024**3, 3) if cuda else None,
        "device": torch.cuda.get_device_name(0) if cuda else "cpu",
        "chat_template": "model" if had_template else "generic",
        "world_size": ranks.world_size(),
        "packing": built.packing,
        "packing_reason": built.packing_reason,
        "attn_implementation": built.attn_implementation,
        "liger": built.liger,
        "liger_reason": built.liger_reason,
    }
    if ranks.rank() == 0:
        (out / "run_summary.json").write_text(json.dumps({"config": cfg.to_json(), "metrics": metrics}, indent=2))
    emit("complete", adapter_path=str(adapter_dir), metrics=metrics)
    return 0
