"""Padding-free packing: a batch's examples end to end in one row, no pad tokens.

Each example's position ids restart at 0. transformers derives the attention mask from
those resets (masking_utils.find_packed_sequence_indices) so no token attends across an
example boundary, with flash-attention varlen, SDPA, eager and flex alike. That
derivation only happens when no 2-D attention mask is passed *and no KV cache exists*:
a model called with use_cache=True (the config default) silently lets packed sequences
see each other (loss off by ~1e-2 on the tiny model). The trainer turns the cache off,
and `isolation_check` proves the property on the very architecture and transformers
version in use before packing is switched on.
"""

from __future__ import annotations

import copy

import torch

from .data import IGNORE

# Measured on a tiny fp32 copy: isolated packing matches to ~1e-7; mixing shows ~1e-2.
ISOLATION_TOLERANCE = 1e-4


class PackedCollator:
    """One row per batch: input ids, answer-only labels and restarting position ids.

    The first label of each example is ignored so the last token of the previous
    example is never asked to predict the next example's first token.
    """

    def __init__(self) -> None:
        self.tokens_seen = 0

    def __call__(self, batch: list[dict]) -> dict:
        ids: list[int] = []
        labels: list[int] = []
        positions: list[int] = []
        for b in batch:
            n = len(b["input_ids"])
            ids.extend(b["input_ids"])
            labels.append(IGNORE)
            labels.extend(b["labels"][1:])
            positions.extend(range(n))
            self.tokens_seen += n
        return {
            "input_ids": torch.tensor([ids], dtype=torch.long),
            "labels": torch.tensor([labels], dtype=torch.long),
            "position_ids": torch.tensor([positions], dtype=torch.long),
        }


def _shrunk(config):
    """The same architecture at toy size: what is checked is the code path, not the weights."""
    small = copy.deepcopy(config)
    text = small.get_text_config() if hasattr(small, "get_text_config") else small
    heads = 4
    for name, value in (
        ("hidden_size", 64),
        ("intermediate_size", 128),
        ("num_hidden_layers", 2),
        ("num_attention_heads", heads),
        ("num_key_value_heads", 2),
        ("head_dim", 16),
        ("vocab_size", 512),
        ("max_position_embeddings", 256),
    ):
        if hasattr(text, name):
            setattr(text, name, value)
    layer_types = getattr(text, "layer_types", None)
    if isinstance(layer_types, list):
        text.layer_types = layer_types[:2]
    for name in ("sliding_window",):
        if getattr(text, name, None):
            setattr(text, name, 128)
    for name in ("pad_token_id", "bos_token_id", "eos_token_id"):
        token = getattr(text, name, None)
        if isinstance(token, int) and token >= 512:
            setattr(text, name, 0)
        elif isinstance(token, list):
            setattr(text, name, [t if t < 512 else 0 for t in token])
    return small


def isolation_check(config, attn_implementation: str = "sdpa", seed: int = 0) -> tuple[bool, str]:
    """Packs three random sequences and compares the loss with the token-weighted mean of
    each sequence's loss alone, in fp32 on the CPU. (ok, what was measured)."""
    from transformers import AutoModelForCausalLM

    # flash-attention needs a GPU; its varlen path isolates by construction: check the mask path instead.
    impl = "sdpa" if attn_implementation.startswith("flash") else attn_implementation
    try:
        torch.manual_seed(seed)
        model = AutoModelForCausalLM.from_config(_shrunk(config), attn_implementation=impl, dtype=torch.float32)
        model.eval()
        generator = torch.Generator().manual_seed(seed)
        seqs = [torch.randint(3, 500, (n,), generator=generator) for n in (7, 13, 5)]
        collated = PackedCollator()([{"input_ids": s.tolist(), "labels": s.tolist()} for s in seqs])
        with torch.no_grad():
            total, counted = 0.0, 0
            for s in seqs:
                labels = s.clone()
                labels[0] = IGNORE
                n = len(s) - 1
                total += model(input_ids=s[None], labels=labels[None], use_cache=False).loss.item() * n
                counted += n
            packed = model(**collated, use_cache=False).loss.item()
    except Exception as e:  # noqa: BLE001 - an architecture we cannot check is one we do not pack
        return False, f"the isolation check could not run ({type(e).__name__}: {str(e)[:160]})"
    gap = abs(packed - total / counted)
    if gap <= ISOLATION_TOLERANCE:
        return True, f"packed sequences verified isolated ({impl}, |Δloss| {gap:.1e})"
    return False, f"packed sequences leak into each other with {impl} in this transformers version (|Δloss| {gap:.1e})"


def choose_attention(device: str, config) -> str:
    """flash-attention 2 where installed on a GPU (varlen kernels), else PyTorch's SDPA,
    else eager for the architectures that have no SDPA path (Gemma 2)."""
    from transformers import AutoModelForCausalLM

    model_class = AutoModelForCausalLM._model_mapping.get(type(config), None)
    if device == "cuda" and getattr(model_class, "_supports_flash_attn", False):
        try:
            import flash_attn  # noqa: F401

            return "flash_attention_2"
        except ImportError:
            pass
    return "sdpa" if model_class is None or getattr(model_class, "_supports_sdpa", False) else "eager"


def decide(wanted: bool, config, attn_implementation: str, remote_code: bool) -> tuple[bool, str]:
    """Whether this run packs, and why (the `started` event and the run summary say it)."""
    if not wanted:
        return False, "packing is off in the training config"
    if remote_code:
        return False, "the model runs its own code (trust_remote_code), whose masking cannot be verified"
    return isolation_check(config, attn_implementation)
