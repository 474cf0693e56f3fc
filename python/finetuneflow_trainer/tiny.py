"""`make-tiny-model DIR`: a small random Llama model with a real tokenizer and chat template.

For tests and demos where nothing can be downloaded: the architecture, tokenizer
files and chat template are those of a real Llama-family checkpoint, only tiny.
"""

from __future__ import annotations

from pathlib import Path

CHAT_TEMPLATE = (
    "{% for m in messages %}<|{{ m['role'] }}|>\n{{ m['content'] }}<|end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>\n{% endif %}"
)
SPECIALS = ["<pad>", "<|begin|>", "<|end|>", "<|system|>", "<|user|>", "<|assistant|>"]

CORPUS = [
    "The warranty covers parts and labour for two years from the date of purchase.",
    "To reset the device, hold the power button for ten seconds until the light blinks.",
    "What is the capital of France? The capital of France is Paris.",
    "Question answer instruction output input context document page chapter section summary.",
    "The quick brown fox jumps over the lazy dog while the model learns to answer questions.",
    "Numbers one two three four five six seven eight nine ten hundred thousand.",
]


def build(out_dir: str, hidden: int = 64, layers: int = 2, seed: int = 0) -> Path:
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=600, special_tokens=SPECIALS, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(CORPUS * 20, trainer=trainer)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token="<|begin|>", eos_token="<|end|>", pad_token="<pad>", chat_template=CHAT_TEMPLATE
    )
    tokenizer.save_pretrained(str(out))

    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden,
        intermediate_size=hidden * 2,
        num_hidden_layers=layers,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=1024,
        tie_word_embeddings=False,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    model = LlamaForCausalLM(config)
    model.save_pretrained(str(out), safe_serialization=True)
    return out
