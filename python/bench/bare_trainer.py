"""Baseline for bench/trainer.bench.ts: the plain transformers + peft recipe on the same
model, data and hyperparameters as our CLI, timing trainer.train() alone."""

import json
import sys
import time

import torch
from peft import LoraConfig, get_peft_model
from transformers import AutoModelForCausalLM, AutoTokenizer, DataCollatorForSeq2Seq, Trainer, TrainingArguments


def main(model_dir: str, train_file: str, max_steps: int, out_dir: str) -> None:
    tok = AutoTokenizer.from_pretrained(model_dir)
    rows = [json.loads(line) for line in open(train_file)]
    data = []
    for r in rows:
        text = tok.apply_chat_template(
            [{"role": "user", "content": r["instruction"]}, {"role": "assistant", "content": r["output"]}], tokenize=False
        )
        ids = tok(text, add_special_tokens=False, truncation=True, max_length=128)["input_ids"]
        data.append({"input_ids": ids, "attention_mask": [1] * len(ids), "labels": list(ids)})
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    model = get_peft_model(model, LoraConfig(r=8, lora_alpha=16, lora_dropout=0.05, target_modules="all-linear", task_type="CAUSAL_LM"))
    args = TrainingArguments(
        output_dir=out_dir, max_steps=max_steps, per_device_train_batch_size=4, gradient_accumulation_steps=1,
        learning_rate=5e-3, logging_steps=5, save_strategy="no", report_to="none", disable_tqdm=True, use_cpu=True,
        optim="adamw_torch", seed=42,
    )
    trainer = Trainer(model=model, args=args, train_dataset=data, data_collator=DataCollatorForSeq2Seq(tok, padding=True))
    started = time.monotonic()
    trainer.train()
    seconds = time.monotonic() - started
    print(json.dumps({"steps": trainer.state.global_step, "seconds": seconds}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4])
