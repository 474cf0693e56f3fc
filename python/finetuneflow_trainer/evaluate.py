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


def _reply(model, tokenizer, prompt: list[dict], max_new_tokens: int, template_kwargs: dict) -> tuple[str, bool]:
    """The greedy reply to a conversation that ends with the user's turn, and whether it
    ended by itself (an end-of-sequence token) rather than at the token limit."""
    import torch

    text = tokenizer.apply_chat_template(prompt, tokenize=False, add_generation_prompt=True, **template_kwargs)
    ids = tokenizer(text, add_special_tokens=False, return_tensors="pt").to(model.device)
    with torch.no_grad():
        out = model.generate(
            **ids, max_new_tokens=max_new_tokens, do_sample=False, pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id
        )
    new = out[0][ids["input_ids"].shape[1]:]
    stopped = len(new) < max_new_tokens or (len(new) > 0 and int(new[-1]) == tokenizer.eos_token_id)
    return tokenizer.decode(new, skip_special_tokens=True).strip(), stopped


def _answer(model, tokenizer, messages: list[dict], max_new_tokens: int, template_kwargs: dict) -> str:
    return _reply(model, tokenizer, messages[:-1], max_new_tokens, template_kwargs)[0]


def _load_tuned(run_path: Path):
    """The run's config, tokenizer and base model with its adapter, on the GPU when there is one."""
    from peft import PeftModel

    from .loading import load_model, load_tokenizer

    adapter = run_path / "adapter"
    if not (adapter / "adapter_config.json").exists():
        raise TrainerError("no_adapter", f"No trained adapter in {adapter}.", "Train the model first.")
    cfg = load_config(run_path / "run_config.json")
    device = "cuda" if __import__("torch").cuda.is_available() else "cpu"
    tokenizer = load_tokenizer(cfg)
    ensure_chat_template(tokenizer)
    emit("progress", progress_pct=5.0, message="loading the model")
    model = PeftModel.from_pretrained(load_model(cfg, device, for_training=False), str(adapter))
    return cfg, tokenizer, model, adapter


def answers(run_dir: str, questions_file: str, out_file: str, max_new_tokens: int = 256) -> int:
    """`answers`: the fine-tuned and the base model's greedy answers to each question.

    Input: JSON lines `{"id", "messages"}` ending with the user's turn. Output: JSON lines
    `{"id", "tuned", "base", "tuned_stopped", "base_stopped"}`, one per question, in order.
    The same weights answer twice, with the adapter and with it disabled, so the two are
    compared on equal terms (the judged evaluation reads them).
    """
    cfg, tokenizer, model, adapter = _load_tuned(Path(run_dir))
    rows = [json.loads(line) for line in Path(questions_file).read_text(encoding="utf-8").splitlines() if line.strip()]
    with open(out_file, "w", encoding="utf-8") as out:
        for i, row in enumerate(rows):
            tuned, tuned_stopped = _reply(model, tokenizer, row["messages"], max_new_tokens, cfg.chat_template_kwargs)
            with model.disable_adapter():
                base, base_stopped = _reply(model, tokenizer, row["messages"], max_new_tokens, cfg.chat_template_kwargs)
            out.write(json.dumps({"id": row["id"], "tuned": tuned, "base": base, "tuned_stopped": tuned_stopped, "base_stopped": base_stopped}, ensure_ascii=False) + "\n")
            out.flush()
            emit("progress", progress_pct=round(5 + 95 * (i + 1) / len(rows), 2), message=f"answered {i + 1}/{len(rows)}")
    emit("complete", adapter_path=str(adapter), metrics={"answers_file": out_file, "answered": len(rows)})
    return 0


def run(run_dir: str, samples: int = 5, max_new_tokens: int = 128) -> int:
    run_path = Path(run_dir)
    cfg, tokenizer, model, adapter = _load_tuned(run_path)
    rows = read_examples(cfg.eval_file) if cfg.eval_file else read_examples(cfg.train_file)[: max(samples, 20)]
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
