"""Loading the base model and its tokenizer, the same way for train, evaluate and export."""

from __future__ import annotations

import os

from .config import TrainConfig
from .errors import TrainerError


def load_tokenizer(cfg: TrainConfig):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(cfg.base_model, trust_remote_code=cfg.trust_remote_code)
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def load_model(cfg: TrainConfig, device: str, for_training: bool = True, attn_implementation: str | None = None):
    import torch
    from transformers import AutoModelForCausalLM

    cuda = device == "cuda"
    dtype = (torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16) if cuda else torch.float32
    kwargs: dict = {"dtype": dtype, "trust_remote_code": cfg.trust_remote_code}
    if attn_implementation:
        kwargs["attn_implementation"] = attn_implementation
    if cfg.method == "qlora":
        if not cuda:
            raise TrainerError("qlora_needs_gpu", "QLoRA needs a CUDA GPU; none was found.", "Use LoRA, or train on a machine with an NVIDIA GPU.")
        try:
            import bitsandbytes  # noqa: F401
            from transformers import BitsAndBytesConfig
        except ImportError as e:
            raise TrainerError("bnb_missing", "bitsandbytes is not installed, so QLoRA cannot run.", "Install bitsandbytes or use LoRA.") from e
        kwargs["quantization_config"] = BitsAndBytesConfig(
            load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True, bnb_4bit_compute_dtype=dtype
        )
    if cuda:
        # Under torchrun each rank holds its own copy on its own GPU.
        kwargs["device_map"] = {"": int(os.environ.get("LOCAL_RANK", "0"))}
    try:
        model = AutoModelForCausalLM.from_pretrained(cfg.base_model, **kwargs)
    except OSError as e:
        raise TrainerError("model_load_failed", f"Could not load the base model {cfg.base_model}: {e}", "Check the path or id, and HF_TOKEN for gated models.") from e
    return ready_for_training(model, cfg)[0] if for_training else model


def ready_for_training(model, cfg: TrainConfig) -> tuple[object, int, int]:
    """k-bit preparation (QLoRA) and activation checkpointing of as many layers as the config
    asks (checkpointing.py): the model, how many decoder layers are checkpointed, of how many."""
    import torch

    from . import checkpointing

    layers = len(checkpointing.decoder_layers(model))
    n = checkpointing.layers_to_checkpoint(cfg.checkpointing, cfg.checkpoint_layers, layers, torch.cuda.is_available())
    if cfg.method == "qlora":
        from peft import prepare_model_for_kbit_training

        model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=False)
    return model, checkpointing.apply(model, n), layers
