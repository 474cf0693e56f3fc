"""Liger kernels (Triton): the fused linear cross-entropy.

The fused linear cross-entropy never materialises the batch × sequence × vocabulary
logits, the largest single tensor when a 128k-vocabulary model trains, so it saves
memory and time together. CUDA only; a family Liger does not know trains as is.

Liger's other kernels (RoPE, RMSNorm, SwiGLU/GeGLU) are off: on an H200 with packed
batches and gradient checkpointing they made training slower, not faster (8B LoRA:
2,016 tokens/s with the fused loss alone, 1,441 adding RMSNorm and SwiGLU, 1,097 with
RoPE too; docs/decisions/0008).
"""


from __future__ import annotations

# What we apply; names Liger's per-family functions do not take are filtered out by Liger.
KERNELS = {"fused_linear_cross_entropy": True, "cross_entropy": False, "rope": False, "rms_norm": False, "swiglu": False, "geglu": False, "layer_norm": False}


def apply(model, wanted: bool, device: str, kernels: dict | None = None) -> tuple[bool, str]:
    """Patches the model in place before peft wraps it; (applied, why)."""
    if not wanted:
        return False, "use_liger is off in the training config"
    if device != "cuda":
        return False, "Liger kernels are GPU (Triton) kernels: not used on the CPU"
    try:
        from liger_kernel.transformers import _apply_liger_kernel_to_instance
        from liger_kernel.transformers.monkey_patch import MODEL_TYPE_TO_APPLY_LIGER_FN
    except ImportError as e:
        return False, f"liger-kernel is not installed ({e})"
    model_type = getattr(model.config, "model_type", None)
    if model_type not in MODEL_TYPE_TO_APPLY_LIGER_FN:
        return False, f"Liger has no kernels for the {model_type} family"
    try:
        _apply_liger_kernel_to_instance(model=model, **(KERNELS if kernels is None else {**KERNELS, **kernels}))
    except Exception as e:  # noqa: BLE001 - the plain path still trains
        return False, f"Liger could not patch {model_type}: {type(e).__name__}: {str(e)[:200]}"
    on = [name for name, value in (KERNELS if kernels is None else {**KERNELS, **kernels}).items() if value]
    return True, f"Liger on {model_type}: {', '.join(on).replace('_', ' ')}"
