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
import time
from pathlib import Path

from dataclasses import dataclass

from . import checkpointing, liger, packing, ranks
from .config import TrainConfig
from .loading import load_model, load_tokenizer, ready_for_training
from .data import EncodedDataset, PadCollator, encode_all, ensure_chat_template, read_examples
from .callbacks import CancelFlag, json_lines_callback, latest_checkpoint, train_to_end
from .errors import EXIT_CANCELLED, EXIT_OK, TrainerError
from .events import emit, log
from .metrics import perplexity

DIVERGED_ADVICE = "Lower the learning rate (try a third of it), keep gradient clipping on, and check the data for empty or garbled answers."


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
    # Activation checkpointing: how many decoder layers recompute in backward, of how many.
    checkpointed_layers: int = 0
    decoder_layers: int = 0


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
    model, checkpointed, layers = ready_for_training(model, cfg)
    log(f"activation checkpointing: {checkpointed} of {layers} decoder layers ({cfg.checkpointing})")
    lora = LoraConfig(
        r=cfg.lora_r, lora_alpha=cfg.lora_alpha, lora_dropout=cfg.lora_dropout, target_modules=cfg.target_modules, task_type="CAUSAL_LM"
    )
    model = get_peft_model(model, lora)
    if cfg.compile == "layers":
        # Regional compilation: each decoder layer once (they share one graph), not the whole model.
        for layer in checkpointing.decoder_layers(model):
            layer.compile()
        log(f"compiled {layers} decoder layers (torch.compile)")
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return ModelSetup(model, trainable, attn, packed, packing_reason, liger_on, liger_reason, checkpointed, layers)


def schedule_arguments(cfg: TrainConfig, cuda: bool, examples: int) -> dict:
    """What every run's Trainer shares (SFT here, the preference round's DPOConfig too):
    the schedule, logging, checkpoints, precision and seeds."""
    import torch

    bf16 = cuda and torch.cuda.is_bf16_supported()
    return dict(
        num_train_epochs=cfg.num_epochs,
        max_steps=cfg.max_steps,
        per_device_train_batch_size=cfg.per_device_batch_size,
        gradient_accumulation_steps=cfg.gradient_accumulation_steps,
        learning_rate=cfg.learning_rate,
        warmup_steps=cfg.warmup_ratio,
        lr_scheduler_type="cosine",
        logging_steps=cfg.logging_steps,
        logging_first_step=True,
        # The default filter hides a NaN loss behind the running mean: we must see it.
        logging_nan_inf_filter=False,
        save_strategy="steps",
        save_steps=cfg.save_steps or max(1, planned_steps(cfg, examples) // 5),
        save_total_limit=2,
        bf16=bf16,
        fp16=cuda and not bf16,
        use_cpu=not cuda,
        report_to="none",
        disable_tqdm=True,
        seed=cfg.seed,
        data_seed=cfg.seed,
    )


def training_arguments(cfg: TrainConfig, setup: Setup, output_dir: Path, **overrides):
    from transformers import TrainingArguments

    cuda = setup.device == "cuda"
    planned = planned_steps(cfg, len(setup.train_ds))
    has_eval = len(setup.eval_ds) > 0
    kwargs = dict(
        **schedule_arguments(cfg, cuda, len(setup.train_ds)),
        output_dir=str(output_dir),
        per_device_eval_batch_size=cfg.per_device_batch_size,
        eval_strategy="steps" if has_eval else "no",
        eval_steps=cfg.eval_steps or max(1, planned // 10),
        optim="adamw_torch_fused" if cuda else "adamw_torch",
        # Padded batches waste least when lengths are grouped; packed batches have no padding,
        # so they keep the random order that trains best.
        train_sampling_strategy="random" if setup.built.packing else "group_by_length",
        remove_unused_columns=False,
        dataloader_num_workers=cfg.dataloader_workers,
        dataloader_pin_memory=cuda,
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
    callback = json_lines_callback(cfg, cancel, collator, checkpoints, started_at)
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
        checkpointed_layers=built.checkpointed_layers,
        decoder_layers=built.decoder_layers,
    )
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    train_to_end(trainer, callback, resume_from, "training", DIVERGED_ADVICE)

    adapter_dir = out / "adapter"
    trainer.save_model(str(adapter_dir))  # rank 0 writes (args.should_save)
    if ranks.rank() == 0:
        tokenizer.save_pretrained(str(adapter_dir))
        (out / "log_history.json").write_text(json.dumps(trainer.state.log_history, indent=1))

    if cancel.requested:
        last = latest_checkpoint(checkpoints)
        emit("cancelled", step=trainer.state.global_step, checkpoint_path=str(last) if last else None, adapter_path=str(adapter_dir))
        return EXIT_CANCELLED

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
        "checkpointed_layers": built.checkpointed_layers,
        "decoder_layers": built.decoder_layers,
    }
    if ranks.rank() == 0:
        (out / "run_summary.json").write_text(json.dumps({"config": cfg.to_json(), "metrics": metrics}, indent=2))
    emit("complete", adapter_path=str(adapter_dir), metrics=metrics)
    return EXIT_OK
