"""`probe`: a few real optimizer steps at the planned settings, longest batches first.

It measures what the planner can only estimate: the peak GPU memory and the tokens
per second of this model, data and GPU. When the planned settings run out of memory
it backs off in the order that costs the least quality — batch size, then sequence
length, then gradient checkpointing, then QLoRA — and says what it chose.
"""

from __future__ import annotations

import dataclasses
import gc
import tempfile
import time
from pathlib import Path

from .config import TrainConfig
from .data import EncodedDataset, read_examples
from .events import emit, log
from .train import prepare, training_arguments

MIN_SEQ_LENGTH = 256
GB = 1024**3


def _settings(cfg: TrainConfig) -> dict:
    return {
        "per_device_batch_size": cfg.per_device_batch_size,
        "max_seq_length": cfg.max_seq_length,
        "checkpointing": cfg.checkpointing,
        "method": cfg.method,
    }


def back_off(settings: dict, qlora_possible: bool) -> tuple[dict, str] | None:
    """The next, smaller settings after an out-of-memory, and what changed; None when nothing is left."""
    s = dict(settings)
    if s["per_device_batch_size"] > 1:
        s["per_device_batch_size"] = max(1, s["per_device_batch_size"] // 2)
        return s, f"batch size {settings['per_device_batch_size']} → {s['per_device_batch_size']}"
    if s["max_seq_length"] > MIN_SEQ_LENGTH:
        s["max_seq_length"] = max(MIN_SEQ_LENGTH, s["max_seq_length"] // 2)
        return s, f"max sequence length {settings['max_seq_length']} → {s['max_seq_length']}"
    if s["checkpointing"] != "all":
        s["checkpointing"] = "all"
        return s, "activation checkpointing on every layer"
    if s["method"] == "lora" and qlora_possible:
        s["method"] = "qlora"
        return s, "QLoRA (4-bit base weights)"
    return None


def _is_oom(err: BaseException) -> bool:
    import torch

    return isinstance(err, torch.cuda.OutOfMemoryError) or (isinstance(err, RuntimeError) and "out of memory" in str(err).lower())


def _timing_callback():
    from transformers import TrainerCallback

    class StepClock(TrainerCallback):
        """Times steps after the first (kernel selection, allocator warm-up, Triton compiles)."""

        def __init__(self) -> None:
            self.first_end: float | None = None
            self.last_end: float | None = None
            self.tokens_at_first = 0
            self.collator = None

        def on_step_end(self, args, state, control, **kw):
            import torch

            if torch.cuda.is_available():
                torch.cuda.synchronize()
            now = time.monotonic()
            if self.first_end is None:
                self.first_end = now
                self.tokens_at_first = self.collator.tokens_seen
            self.last_end = now

    return StepClock()


def attempt(cfg: TrainConfig, rows: list[dict], steps: int) -> dict:
    """One try at these settings: ok with measurements, or oom."""
    import torch
    from transformers import Trainer

    cuda = torch.cuda.is_available()
    setup = trainer = None
    try:
        setup = prepare(cfg, train_rows=rows, eval_rows=[])
        items = sorted(setup.train_ds.items, key=lambda item: -len(item["input_ids"]))
        needed = steps * cfg.per_device_batch_size
        # Longest first, repeated if the dataset is small: the peak is the run's worst batch.
        setup.train_ds = EncodedDataset([items[i % len(items)] for i in range(needed)])
        with tempfile.TemporaryDirectory(prefix="ftf-probe-") as tmp:
            args = training_arguments(
                cfg, setup, Path(tmp),
                max_steps=steps, gradient_accumulation_steps=1, train_sampling_strategy="sequential",
                save_strategy="no", eval_strategy="no", logging_steps=steps, logging_first_step=False,
            )
            clock = _timing_callback()
            clock.collator = setup.collator
            trainer = Trainer(model=setup.built.model, args=args, train_dataset=setup.train_ds, data_collator=setup.collator, callbacks=[clock])
            if cuda:
                torch.cuda.reset_peak_memory_stats()
            trainer.train()
        timed = (clock.last_end or 0) - (clock.first_end or 0)
        tokens = setup.collator.tokens_seen - clock.tokens_at_first
        return {
            "outcome": "ok",
            "peak_vram_gb": round(torch.cuda.max_memory_allocated() / GB, 3) if cuda else None,
            "peak_reserved_gb": round(torch.cuda.max_memory_reserved() / GB, 3) if cuda else None,
            "tokens_per_second": round(tokens / timed, 1) if timed > 0 and steps > 1 else None,
            "step_seconds": round(timed / (steps - 1), 4) if steps > 1 and timed > 0 else None,
            "packing": setup.built.packing,
            "liger": setup.built.liger,
            "attn_implementation": setup.built.attn_implementation,
        }
    except Exception as e:  # noqa: BLE001 - only an out-of-memory is an answer; anything else is re-raised
        if not _is_oom(e):
            raise
        return {"outcome": "oom", "peak_vram_gb": round(torch.cuda.max_memory_allocated() / GB, 3) if cuda else None}
    finally:
        del trainer, setup
        gc.collect()
        if cuda:
            torch.cuda.empty_cache()


def run(cfg: TrainConfig, steps: int = 6) -> int:
    import torch

    steps = max(2, min(steps, 20))
    cuda = torch.cuda.is_available()
    rows = read_examples(cfg.train_file)
    qlora_possible = cuda and _bnb_importable()
    settings = _settings(cfg)
    attempts: list[dict] = []
    changes: list[str] = []
    result: dict | None = None
    total = 1
    while True:
        emit("progress", progress_pct=min(95.0, 100.0 * len(attempts) / (total + 1)), message=_describe(settings))
        tried = dataclasses.replace(cfg, **settings)
        outcome = attempt(tried, rows, steps)
        attempts.append({**settings, "outcome": outcome["outcome"], "peak_vram_gb": outcome.get("peak_vram_gb")})
        if outcome["outcome"] == "ok":
            result = outcome
            break
        nxt = back_off(settings, qlora_possible)
        log(f"out of GPU memory at {_describe(settings)}")
        if nxt is None:
            break
        settings, change = nxt
        changes.append(change)
        total += 1
    free_gb = round(torch.cuda.mem_get_info(0)[0] / GB, 2) if cuda else None
    total_gb = round(torch.cuda.mem_get_info(0)[1] / GB, 2) if cuda else None
    metrics = {
        "fits": result is not None,
        "chosen": settings if result is not None else None,
        "changes": changes,
        "steps": steps,
        "peak_vram_gb": result["peak_vram_gb"] if result else None,
        "peak_reserved_gb": result["peak_reserved_gb"] if result else None,
        "tokens_per_second": result["tokens_per_second"] if result else None,
        "step_seconds": result["step_seconds"] if result else None,
        "packing": result["packing"] if result else None,
        "liger": result["liger"] if result else None,
        "attn_implementation": result["attn_implementation"] if result else None,
        "device": torch.cuda.get_device_name(0) if cuda else "cpu",
        "vram_total_gb": total_gb,
        "vram_free_gb": free_gb,
        "attempts": attempts,
    }
    emit("progress", progress_pct=100.0, message="measured" if result else "nothing fits")
    emit("complete", adapter_path=None, metrics=metrics)
    return 0


def _describe(s: dict) -> str:
    gc_text = {"all": "checkpointing every layer", "none": "no checkpointing", "auto": "checkpointing as memory needs"}[s["checkpointing"]]
    return f"{s['method']} · batch {s['per_device_batch_size']} · {s['max_seq_length']} tokens · {gc_text}"


def _bnb_importable() -> bool:
    try:
        import bitsandbytes  # noqa: F401

        return True
    except Exception:  # noqa: BLE001
        return False
