"""`evaluate`: eval loss, perplexity and a before/after view on held-out examples.

The same model answers each question twice: with the adapter (fine-tuned) and with
the adapter disabled (the base model), so the two are compared on equal terms.
"""

from __future__ import annotations

import json
from pathlib import Path

from .config import load_config
from .data import IGNORE, PadCollator, encode_all, ensure_chat_template, read_examples, to_messages
from .errors import TrainerError
from .events import emit
from .metrics import perplexity


def _eval_loss(model, dataset, pad_id: int, batch_size: int) -> float | None:
    import torch

    if len(dataset) == 0:
        return None
    collator = PadCollator(pad_id)
    total, count = 0.0, 0
    model.eval()
    with torch.no_grad():
        for start in range(0, len(dataset), batch_size):
            batch = collator([dataset[i] for i in range(start, min(len(dataset), start + batch_size))])
            batch = {k: v.to(model.device) for k, v in batch.items()}
            n = int((batch["labels"][:, 1:] != IGNORE).sum())
            total += float(model(**batch).loss) * n
            count += n
    return total / count if count else None


def _answer(model, tokenizer, messages: list[dict], max_new_tokens: int, template_kwargs: dict) -> str:
    import torch

    prompt = tokenizer.apply_chat_template(messages[:-1], tokenize=False, add_generation_prompt=True, **template_kwargs)
    ids = tokenizer(prompt, add_special_tokens=False, return_tensors="pt").to(model.device)
    with torch.no_grad():
        out = model.generate(
            **ids, max_new_tokens=max_new_tokens, do_sample=False, pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id
        )
    return tokenizer.decode(out[0][ids["input_ids"].shape[1]:], skip_special_tokens=True).strip()


def run(run_dir: str, samples: int = 5, max_new_tokens: int = 128) -> int:
    from peft import PeftModel

    from .loading import load_model, load_tokenizer

    run_path = Path(run_dir)
    adapter = run_path / "adapter"
    if not (adapter / "adapter_config.json").exists():
        raise TrainerError("no_adapter", f"No trained adapter in {adapter}.", "Train the model first.")
    cfg = load_config(run_path / "run_config.json")
    device = "cuda" if __import__("torch").cuda.is_available() else "cpu"
    tokenizer = load_tokenizer(cfg)
    ensure_chat_template(tokenizer)
    rows = read_examples(cfg.eval_file) if cfg.eval_file else read_examples(cfg.train_file)[: max(samples, 20)]
    emit("progress", progress_pct=5.0, message="loading the model")
    model = PeftModel.from_pretrained(load_model(cfg, device, for_training=False), str(adapter))
    dataset, _ = encode_all(tokenizer, rows, cfg.max_seq_length, cfg.system_prompt, cfg.chat_template_kwargs)
    loss = _eval_loss(model, dataset, tokenizer.pad_token_id, cfg.per_device_batch_size)
    emit("progress", progress_pct=40.0, message="eval loss computed")
    results = []
    picked = rows[:samples]
    for i, row in enumerate(picked):
        messages = to_messages(row, cfg.system_prompt)
        fine_tuned = _answer(model, tokenizer, messages, max_new_tokens, cfg.chat_template_kwargs)
        with model.disable_adapter():
            base = _answer(model, tokenizer, messages, max_new_tokens, cfg.chat_template_kwargs)
        results.append({"question": messages[-2]["content"], "expected": messages[-1]["content"], "fine_tuned": fine_tuned, "base": base})
        emit("progress", progress_pct=round(40 + 60 * (i + 1) / len(picked), 2), message=f"sample {i + 1}/{len(picked)}")
    evaluation = {"eval_loss": loss, "perplexity": perplexity(loss), "samples": results}
    (run_path / "evaluation.json").write_text(json.dumps(evaluation, indent=2, ensure_ascii=False))
    emit("complete", adapter_path=str(adapter), metrics={"eval_loss": loss, "perplexity": evaluation["perplexity"], "samples": len(results)})
    return 0
