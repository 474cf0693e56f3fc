"""`train` with `stage: "dpo"`: a preference round on a trained adapter, with TRL's DPOTrainer.

The policy starts as the run's adapter (`start_adapter`); TRL copies it into a frozen "ref"
adapter on the same base, so the reference is the model the user judged, not the bare base
(what DPO's KL term should hold the policy near). Only the trained "default" adapter is
saved: evaluate, export, publish and the playground load it like any other run's.

The pairs file is JSONL in TRL's conversational form, one pair per line:
  {"prompt": [{"role": "user", "content": ...}], "chosen": [{"role": "assistant", ...}], "rejected": [...]}
The same JSON lines as training come out (`started`, `log` with a `preference` part:
rewards of chosen and rejected, their margin, the share of pairs ranked right).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from . import ranks
from .callbacks import CancelFlag, json_lines_callback, latest_checkpoint, train_to_end
from .config import TrainConfig
from .data import ensure_chat_template, jsonl_rows
from .errors import EXIT_CANCELLED, EXIT_OK, TrainerError
from .events import emit, log
from .loading import load_model, load_tokenizer
from .train import planned_steps, schedule_arguments

PAIRS_ADVICE = "Export the feedback again from the Feedback page, or fix the line named."


def _turns(value, role: str) -> str | None:
    """Why a prompt/chosen/rejected value is not a list of {role, content} turns ending with `role`, or None."""
    if not isinstance(value, list) or not value:
        return "must be a non-empty list of messages"
    for turn in value:
        if not isinstance(turn, dict) or not isinstance(turn.get("role"), str) or not isinstance(turn.get("content"), str):
            return "must hold messages with a role and a content"
        if not turn["content"].strip():
            return "has an empty message"
    if value[-1]["role"] != role:
        return f"must end with a {role} message"
    return None


def read_pairs(path: str | Path) -> list[dict]:
    """The pairs file, each line checked: a user prompt, two different assistant replies."""
    p = Path(path)
    pairs: list[dict] = []
    for number, row in jsonl_rows(p, "preference file", PAIRS_ADVICE, PAIRS_ADVICE):
        if not isinstance(row, dict):
            raise TrainerError("invalid_dataset", f"{p.name} line {number}: a pair must be a JSON object.", PAIRS_ADVICE)
        for key, role in (("prompt", "user"), ("chosen", "assistant"), ("rejected", "assistant")):
            problem = _turns(row.get(key), role)
            if problem:
                raise TrainerError("invalid_dataset", f"{p.name} line {number}: {key} {problem}.", PAIRS_ADVICE)
        if row["chosen"][-1]["content"].strip() == row["rejected"][-1]["content"].strip():
            raise TrainerError("invalid_dataset", f"{p.name} line {number}: the chosen and rejected replies are the same.", PAIRS_ADVICE)
        pairs.append({"prompt": row["prompt"], "chosen": row["chosen"], "rejected": row["rejected"]})
    if not pairs:
        raise TrainerError("invalid_dataset", f"{p.name} holds no pairs.", PAIRS_ADVICE)
    return pairs


class _CountingCollator:
    """TRL's collator, counting the real tokens of each batch (chosen and rejected
    sequences, each with its prompt) as the shared callback reads `tokens_seen`."""

    def __init__(self, collate) -> None:
        self.collate = collate
        self.tokens_seen = 0

    def __call__(self, batch):
        out = self.collate(batch)
        self.tokens_seen += int(out["attention_mask"].sum())
        return out


def dpo_arguments(cfg: TrainConfig, checkpoints: Path, device: str, pairs: int):
    from trl import DPOConfig

    return DPOConfig(
        **schedule_arguments(cfg, device == "cuda", pairs),
        output_dir=str(checkpoints),
        beta=cfg.dpo_beta,
        loss_type=["sigmoid"],
        max_length=cfg.max_seq_length,
        gradient_checkpointing=cfg.checkpointing == "all",
    )


def run(cfg: TrainConfig, resume: bool = False) -> int:
    # What can be refused is refused before torch, transformers and TRL load (seconds).
    if not cfg.start_adapter or not (Path(cfg.start_adapter) / "adapter_config.json").exists():
        raise TrainerError("no_adapter", f"A preference round starts from a trained adapter; none at {cfg.start_adapter}.", "Train the model first, then improve it with feedback.")
    if cfg.method == "qlora":
        raise TrainerError("dpo_needs_lora", "Preference rounds run on LoRA adapters; this run asks for QLoRA.", "Start the round from a LoRA run.")
    pairs = read_pairs(cfg.train_file)

    import torch
    from datasets import Dataset
    from peft import PeftModel
    from transformers import set_seed
    from trl import DPOTrainer

    cancel = CancelFlag()
    cancel.install()
    out = Path(cfg.output_dir)
    checkpoints = out / "checkpoints"
    out.mkdir(parents=True, exist_ok=True)
    (out / "run_config.json").write_text(json.dumps(cfg.to_json(), indent=2))
    resume_from = latest_checkpoint(checkpoints) if resume else None
    if resume and resume_from is None:
        raise TrainerError("no_checkpoint", f"No checkpoint to resume from in {checkpoints}.", "Start a new round instead.")

    set_seed(cfg.seed)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    cuda = device == "cuda"
    tokenizer = load_tokenizer(cfg)
    had_template = ensure_chat_template(tokenizer)
    system = [{"role": "system", "content": cfg.system_prompt}] if cfg.system_prompt else []
    rows = [{**p, "prompt": system + p["prompt"], "chat_template_kwargs": cfg.chat_template_kwargs} for p in pairs]
    dataset = Dataset.from_list(rows)

    base = load_model(cfg, device, for_training=False)
    base.config.use_cache = False
    model = PeftModel.from_pretrained(base, cfg.start_adapter, is_trainable=True)
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    args = dpo_arguments(cfg, checkpoints, device, len(pairs))
    started_at = time.monotonic()
    trainer = DPOTrainer(model=model, args=args, train_dataset=dataset, processing_class=tokenizer)
    counter = trainer.data_collator = _CountingCollator(trainer.data_collator)
    callback = json_lines_callback(cfg, cancel, counter, checkpoints, started_at)
    trainer.add_callback(callback)
    resumed_step = int(resume_from.name.split("-")[-1]) if resume_from else None
    emit(
        "started",
        total_steps=planned_steps(cfg, len(dataset)),
        num_train_examples=len(dataset),
        num_eval_examples=0,
        device=torch.cuda.get_device_name(0) if cuda else "cpu",
        method=cfg.method,
        trainable_params=trainable,
        resumed_from_step=resumed_step,
        world_size=1,
    )
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    train_to_end(trainer, callback, resume_from, "the preference round", "Lower the learning rate or beta, and check the pairs.")

    adapter_dir = out / "adapter"
    # The frozen "ref" copy stays behind: the adapter is the trained policy alone.
    trainer.model.save_pretrained(str(adapter_dir), selected_adapters=["default"])
    tokenizer.save_pretrained(str(adapter_dir))
    (out / "log_history.json").write_text(json.dumps(trainer.state.log_history, indent=1))
    if cancel.requested:
        last = latest_checkpoint(checkpoints)
        emit("cancelled", step=trainer.state.global_step, checkpoint_path=str(last) if last else None, adapter_path=str(adapter_dir))
        return EXIT_CANCELLED

    elapsed = time.monotonic() - started_at
    metrics = {
        "final_train_loss": callback.last_train_loss,
        "eval_loss": None,
        "perplexity": None,
        "total_steps": trainer.state.global_step,
        "epochs": round(float(trainer.state.epoch or 0), 4),
        "duration_seconds": round(elapsed, 2),
        "tokens_per_second": round(counter.tokens_seen / elapsed, 2) if elapsed > 0 else None,
        "num_train_examples": len(dataset),
        "num_eval_examples": 0,
        "dropped_examples": 0,
        "trainable_params": trainable,
        "peak_vram_gb": round(torch.cuda.max_memory_allocated() / 1024**3, 3) if cuda else None,
        "device": torch.cuda.get_device_name(0) if cuda else "cpu",
        "chat_template": "model" if had_template else "generic",
        "world_size": 1,
    }
    if ranks.rank() == 0:
        (out / "run_summary.json").write_text(json.dumps({"config": cfg.to_json(), "metrics": metrics}, indent=2))
    log(f"preference round: {len(dataset)} pairs, beta {cfg.dpo_beta}, {trainer.state.global_step} steps")
    emit("complete", adapter_path=str(adapter_dir), metrics=metrics)
    return EXIT_OK

