"""Examples in, token ids and labels out.

Each example becomes a chat (system?, user, assistant) rendered with the model's
own chat template; the loss is computed on the assistant's tokens only, found by
character offsets so a template that merges tokens at the boundary cannot shift it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator

import torch

from .errors import TrainerError

IGNORE = -100

# Used only when the tokenizer ships no chat template (base models). One file, read by
# the app's readiness check too (src/models/chat-encoding.ts), so both render the same.
FALLBACK_TEMPLATE = (Path(__file__).parent / "fallback_template.jinja").read_text(encoding="utf-8")


def jsonl_rows(p: Path, what: str, advice: str | None, line_advice: str) -> Iterator[tuple[int, Any]]:
    """Each non-blank line of a JSONL file, parsed, with its number; a missing file or a
    line that is not JSON is an `invalid_dataset` error naming it."""
    if not p.exists():
        raise TrainerError("invalid_dataset", f"The {what} {p} does not exist.", advice)
    with p.open(encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                yield number, json.loads(line)
            except json.JSONDecodeError as e:
                raise TrainerError("invalid_dataset", f"{p.name} line {number} is not valid JSON ({e.msg}).", line_advice) from e


def read_examples(path: str | Path) -> list[dict]:
    """Reads a JSONL file of {instruction, input?, output} or {messages: [...]} rows."""
    p = Path(path)
    rows: list[dict] = []
    for number, row in jsonl_rows(p, "dataset file", None, "Fix or remove that line, or export the dataset again from the Review step."):
        problem = _row_problem(row)
        if problem:
            raise TrainerError("invalid_dataset", f"{p.name} line {number}: {problem}.", "Fix or remove that line.")
        rows.append(row)
    if not rows:
        raise TrainerError("invalid_dataset", f"{p.name} holds no examples.")
    return rows


def _row_problem(row: Any) -> str | None:
    if not isinstance(row, dict):
        return "each line must be a JSON object"
    if "messages" in row:
        msgs = row["messages"]
        if not isinstance(msgs, list) or not msgs or not all(
            isinstance(m, dict) and isinstance(m.get("role"), str) and isinstance(m.get("content"), str) for m in msgs
        ):
            return "messages must be a list of {role, content} objects"
        if msgs[-1]["role"] != "assistant":
            return "the last message must be the assistant's"
        return None
    for key in ("instruction", "output"):
        if not isinstance(row.get(key), str) or not row[key].strip():
            return f"missing {key}"
    return None


def to_messages(row: dict, system_prompt: str | None) -> list[dict]:
    if "messages" in row:
        msgs = [dict(role=m["role"], content=m["content"]) for m in row["messages"]]
    else:
        user = row["instruction"].strip()
        if row.get("input", "").strip():
            user += "\n\n" + row["input"].strip()
        msgs = [{"role": "user", "content": user}, {"role": "assistant", "content": row["output"].strip()}]
    if system_prompt and msgs[0]["role"] != "system":
        msgs.insert(0, {"role": "system", "content": system_prompt})
    return msgs


def ensure_chat_template(tokenizer) -> bool:
    """Gives the tokenizer a generic template when it has none; says whether it had one."""
    if getattr(tokenizer, "chat_template", None):
        return True
    tokenizer.chat_template = FALLBACK_TEMPLATE
    return False


def encode(tokenizer, messages: list[dict], max_len: int, template_kwargs: dict | None = None) -> dict | None:
    """input_ids and labels for one chat; None when truncation would leave no answer.

    The app's readiness check (src/models/chat-encoding.ts) applies this same rule to
    show what will be trained; tests/readiness-parity checks them token for token.
    `template_kwargs` are the model family's template switches (Qwen3: enable_thinking).
    """
    kwargs = template_kwargs or {}
    prompt_text = tokenizer.apply_chat_template(messages[:-1], tokenize=False, add_generation_prompt=True, **kwargs)
    full_text = tokenizer.apply_chat_template(messages, tokenize=False, **kwargs)
    if not full_text.startswith(prompt_text):
        # A template that renders the prompt differently once the answer is there:
        # fall back to concatenation, which keeps the prompt/answer boundary exact.
        full_text = prompt_text + messages[-1]["content"] + (tokenizer.eos_token or "")
    enc = tokenizer(full_text, add_special_tokens=False, return_offsets_mapping=True, truncation=True, max_length=max_len)
    boundary = len(prompt_text)
    labels = [tok if start >= boundary else IGNORE for tok, (start, _end) in zip(enc["input_ids"], enc["offset_mapping"])]
    if all(label == IGNORE for label in labels):
        return None
    return {"input_ids": enc["input_ids"], "labels": labels}


class EncodedDataset(torch.utils.data.Dataset):
    def __init__(self, items: list[dict]):
        self.items = items

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int) -> dict:
        return self.items[i]


def encode_all(
    tokenizer, rows: list[dict], max_len: int, system_prompt: str | None, template_kwargs: dict | None = None
) -> tuple[EncodedDataset, int]:
    items, dropped = [], 0
    for row in rows:
        item = encode(tokenizer, to_messages(row, system_prompt), max_len, template_kwargs)
        if item is None:
            dropped += 1
        else:
            items.append(item)
    return EncodedDataset(items), dropped


def write_encoding(cfg, out_path: str) -> dict:
    """The train file as training encodes it, one JSON line per row (null when dropped)."""
    from .loading import load_tokenizer

    tokenizer = load_tokenizer(cfg)
    ensure_chat_template(tokenizer)
    rows = read_examples(cfg.train_file)
    dropped = 0
    with open(out_path, "w", encoding="utf-8") as out:
        for row in rows:
            item = encode(tokenizer, to_messages(row, cfg.system_prompt), cfg.max_seq_length, cfg.chat_template_kwargs)
            dropped += item is None
            out.write(json.dumps(item) + "\n")
    return {"encoded_file": str(out_path), "examples": len(rows), "dropped": dropped}


class PadCollator:
    """Pads a batch to its longest example and counts the real tokens it carries."""

    def __init__(self, pad_id: int):
        self.pad_id = pad_id
        self.tokens_seen = 0

    def __call__(self, batch: list[dict]) -> dict:
        width = max(len(b["input_ids"]) for b in batch)
        ids, labels, mask = [], [], []
        for b in batch:
            pad = width - len(b["input_ids"])
            ids.append(b["input_ids"] + [self.pad_id] * pad)
            labels.append(b["labels"] + [IGNORE] * pad)
            mask.append([1] * len(b["input_ids"]) + [0] * pad)
            self.tokens_seen += len(b["input_ids"])
        return {
            "input_ids": torch.tensor(ids, dtype=torch.long),
            "labels": torch.tensor(labels, dtype=torch.long),
            "attention_mask": torch.tensor(mask, dtype=torch.long),
        }
