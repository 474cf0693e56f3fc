"""What this machine can train with, and LoRA vs QLoRA for a model of a given size."""

from __future__ import annotations

import os
from importlib import metadata

GB = 1024**3


def _version(pkg: str) -> str | None:
    try:
        return metadata.version(pkg)
    except metadata.PackageNotFoundError:
        return None


def _ram_gb() -> float | None:
    try:
        return round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / GB, 1)
    except (ValueError, OSError, AttributeError):
        return None


def probe_bnb(cuda: bool) -> tuple[bool, str | None]:
    """Really runs a 4-bit layer on the GPU: an import can succeed where kernels are missing."""
    if not cuda:
        return False, "bitsandbytes 4-bit needs a CUDA GPU."
    try:
        import bitsandbytes as bnb
        import torch

        layer = bnb.nn.Linear4bit(64, 64, compute_dtype=torch.float16, quant_type="nf4").cuda()
        out = layer(torch.randn(2, 64, dtype=torch.float16, device="cuda"))
        torch.cuda.synchronize()
        if out.shape != (2, 64):
            return False, "bitsandbytes returned a wrongly shaped result."
        return True, None
    except Exception as e:  # noqa: BLE001 - any failure means QLoRA is not usable here
        return False, f"bitsandbytes is not usable: {type(e).__name__}: {e}".strip()[:300]


def rule_of_thumb_need_gb(params: float, method: str) -> float:
    """Used only when the caller gives no estimate (the server passes its own, src/models/vram.ts)."""
    bytes_per_param = 2.0 if method == "lora" else 0.55
    return params * bytes_per_param / GB * 1.15 + 1.0


def recommend(info: dict, params: float | None, need_lora_gb: float | None, need_qlora_gb: float | None) -> tuple[str | None, str, list[str]]:
    warnings: list[str] = []
    size = f"{params / 1e9:.1f}B" if params and params >= 1e9 else (f"{params / 1e6:.0f}M" if params else "this")
    if params:
        need_lora_gb = need_lora_gb or rule_of_thumb_need_gb(params, "lora")
        need_qlora_gb = need_qlora_gb or rule_of_thumb_need_gb(params, "qlora")
    if not info["cuda_available"]:
        warnings.append("No CUDA GPU: training runs on the CPU, which is only practical for tiny models and is very slow.")
        if params is not None and params > 500e6:
            return None, f"A {size} model cannot reasonably be trained without a GPU.", warnings
        return "lora", "No GPU was found; LoRA on the CPU works for tiny models only (QLoRA needs CUDA).", warnings
    free = info["vram_free_gb"] or 0.0
    if info["gpu_count"] > 1:
        warnings.append(f"{info['gpu_count']} GPUs found; training uses one unless started with accelerate/torchrun.")
    if need_lora_gb is None:
        return "lora", "LoRA in 16-bit is the default when the model size is not known.", warnings
    if free >= need_lora_gb:
        return "lora", f"A {size} model in 16-bit needs ~{need_lora_gb:.0f} GB and {free:.0f} GB are free: LoRA keeps full precision.", warnings
    if info["bnb_available"] and need_qlora_gb is not None and free >= need_qlora_gb:
        return (
            "qlora",
            f"A {size} model in 16-bit needs ~{need_lora_gb:.0f} GB but only {free:.0f} GB are free → QLoRA (4-bit) needs ~{need_qlora_gb:.0f} GB.",
            warnings,
        )
    if not info["bnb_available"]:
        warnings.append(info["bnb_error"] or "bitsandbytes is not available, so QLoRA cannot be used.")
    return None, f"A {size} model needs ~{min(need_lora_gb, need_qlora_gb or need_lora_gb):.0f} GB but only {free:.0f} GB are free: pick a smaller model.", warnings


def check(params: float | None = None, need_lora_gb: float | None = None, need_qlora_gb: float | None = None) -> dict:
    import torch

    cuda = torch.cuda.is_available()
    info: dict = {
        "gpu_name": None,
        "gpu_count": 0,
        "vram_total_gb": None,
        "vram_free_gb": None,
        "cuda_available": cuda,
        "cuda_version": torch.version.cuda if cuda else None,
        "torch_version": torch.__version__,
        "transformers_version": _version("transformers"),
        "peft_version": _version("peft"),
        "bnb_available": False,
        "bnb_error": None,
        "bf16_supported": False,
        "cpu_count": os.cpu_count() or 1,
        "ram_total_gb": _ram_gb(),
    }
    if cuda:
        free, total = torch.cuda.mem_get_info(0)
        info.update(
            gpu_name=torch.cuda.get_device_name(0),
            gpu_count=torch.cuda.device_count(),
            vram_total_gb=round(total / GB, 2),
            vram_free_gb=round(free / GB, 2),
            bf16_supported=bool(torch.cuda.is_bf16_supported()),
        )
    info["bnb_available"], info["bnb_error"] = probe_bnb(cuda)
    method, reason, warnings = recommend(info, params, need_lora_gb, need_qlora_gb)
    info.update(recommended_method=method, recommendation_reason=reason, warnings=warnings)
    return info
