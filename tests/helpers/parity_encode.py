"""Builds small tokenizers of the vocabularies real models use, each with a real
chat template, and writes the trainer's own encoding of the same rows with them.

Used by tests/readiness/parity.test.ts: the app's readiness render
(src/models/chat-encoding.ts) must match `finetuneflow_trainer.data.encode` token
for token. Input: a JSON spec on argv[1]:
  {"out": DIR, "rows": PATH, "templates": {NAME: {"template": str|null, "bos": str|null, "eos": str}},
   "kinds": [...], "max_lengths": [...], "kwargs": {NAME: {...}}}
Output: DIR/<kind>-<template>/ (tokenizer files) and DIR/<kind>-<template>-<max>.jsonl.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
from transformers import PreTrainedTokenizerFast

from finetuneflow_trainer.config import load_config
from finetuneflow_trainer.data import write_encoding

SPECIALS = [
    "<pad>", "<s>", "</s>", "<|begin_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>",
    "<|im_start|>", "<|im_end|>", "<|endoftext|>", "[INST]", "[/INST]", "<|user|>", "<|assistant|>", "<|end|>",
    "<|begin|>", "<|system|>", "<think>", "</think>",
]
CORPUS = [
    "The warranty covers parts and labour for two years from the date of purchase.",
    "To reset the device, hold the power button for ten seconds until the light blinks.",
    "What is the capital of France? The capital of France is Paris. Answer the question.",
    "Cutting Knowledge Date: December 2023 Today Date: 26 Jul 2024 You are a helpful assistant.",
    "system user assistant Instruction Response ### café naïve 日本語 emoji",
]


def build_tokenizer(kind: str) -> Tokenizer:
    if kind.startswith("byte"):
        tok = Tokenizer(models.BPE())
        tok.normalizer = normalizers.NFC()
        tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
        tok.decoder = decoders.ByteLevel()
        if kind == "byte_trim":
            tok.post_processor = processors.ByteLevel(trim_offsets=True)
        alphabet = pre_tokenizers.ByteLevel.alphabet()
    else:
        tok = Tokenizer(models.BPE(byte_fallback=True, unk_token=None))
        tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="first")
        tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="first")
        alphabet = []
    trainer = trainers.BpeTrainer(vocab_size=900, special_tokens=SPECIALS, initial_alphabet=alphabet, show_progress=False)
    tok.train_from_iterator(CORPUS * 20, trainer=trainer)
    if kind == "metaspace":
        # SentencePiece vocabularies hold the 256 byte tokens in the model itself.
        data = json.loads(tok.to_str())
        vocab = data["model"]["vocab"]
        for b in range(256):
            vocab.setdefault(f"<0x{b:02X}>", len(vocab))
        merges = [tuple(m.split(" ")) if isinstance(m, str) else tuple(m) for m in data["model"]["merges"]]
        rebuilt = Tokenizer(models.BPE(vocab, merges, byte_fallback=True))
        rebuilt.pre_tokenizer, rebuilt.decoder = tok.pre_tokenizer, tok.decoder
        rebuilt.add_special_tokens(SPECIALS)
        return rebuilt
    return tok


def main() -> None:
    spec = json.loads(Path(sys.argv[1]).read_text())
    out = Path(spec["out"])
    for kind in spec["kinds"]:
        base = build_tokenizer(kind)
        for name, t in spec["templates"].items():
            folder = out / f"{kind}-{name}"
            tokenizer = PreTrainedTokenizerFast(
                tokenizer_object=base, bos_token=t.get("bos"), eos_token=t["eos"], pad_token="<pad>", chat_template=t.get("template")
            )
            tokenizer.save_pretrained(str(folder))
            for max_len in spec["max_lengths"]:
                config = out / f"{kind}-{name}-{max_len}.json"
                config.write_text(json.dumps({
                    "base_model": str(folder), "output_dir": str(out), "train_file": spec["rows"], "max_seq_length": max_len,
                    "chat_template_kwargs": spec.get("kwargs", {}).get(name, {}),
                }))
                write_encoding(load_config(config), str(out / f"{kind}-{name}-{max_len}.jsonl"))


if __name__ == "__main__":
    main()
