"""The training run's configuration: a JSON file in, validated field by field.

Every problem is reported at once, each naming its field, so a user fixing a
config sees the whole list rather than one error per attempt.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from .errors import TrainerError


@dataclass
class TrainConfig:
    base_model: str
    output_dir: str
    train_file: str
    eval_file: str | None = None
    method: str = "lora"
    num_epochs: float = 3.0
    max_steps: int = -1
    learning_rate: float = 2e-4
    per_device_batch_size: int = 4
    gradient_accumulation_steps: int = 4
    max_seq_length: int = 2048
    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.05
    target_modules: Any = "all-linear"
    warmup_ratio: float = 0.03
    logging_steps: int = 10
    eval_steps: int | None = None
    save_steps: int | None = None
    seed: int = 42
    gradient_checkpointing: bool = True
    system_prompt: str | None = None
    # The model family's chat-template switches (Qwen3: {"enable_thinking": false}),
    # passed to every apply_chat_template call so training and the app render alike.
    chat_template_kwargs: dict = field(default_factory=dict)
    trust_remote_code: bool = False
    # Padding-free packing, where the isolation check passes for the architecture (packing.py).
    packing: bool = True
    # Liger kernels on CUDA for the families Liger supports (liger.py).
    use_liger: bool = True
    # Ranks (DDP through torchrun); None = every visible GPU, 1 on a CPU-only machine.
    num_processes: int | None = None

    def to_json(self) -> dict:
        return asdict(self)


_REQUIRED = ("base_model", "output_dir", "train_file")

# field -> (type, minimum, maximum); bounds are inclusive.
_RANGES: dict[str, tuple[type, float | None, float | None]] = {
    "num_epochs": (float, 0.01, 100),
    "max_steps": (int, -1, 10_000_000),
    "learning_rate": (float, 1e-8, 1.0),
    "per_device_batch_size": (int, 1, 1024),
    "gradient_accumulation_steps": (int, 1, 1024),
    "max_seq_length": (int, 16, 262_144),
    "lora_r": (int, 1, 1024),
    "lora_alpha": (int, 1, 8192),
    "lora_dropout": (float, 0.0, 0.9),
    "warmup_ratio": (float, 0.0, 0.5),
    "logging_steps": (int, 1, 100_000),
    "seed": (int, 0, 2**32 - 1),
}


def _check_number(name: str, value: Any, kind: type, lo: float | None, hi: float | None) -> str | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return f"{name}: must be a number"
    if kind is int and not float(value).is_integer():
        return f"{name}: must be a whole number"
    if lo is not None and value < lo or hi is not None and value > hi:
        return f"{name}: must be between {lo} and {hi} (got {value})"
    return None


def parse_config(raw: Any) -> TrainConfig:
    if not isinstance(raw, dict):
        raise TrainerError("invalid_config", "The config must be a JSON object.")
    problems: list[str] = []
    known = {f.name for f in fields(TrainConfig)}
    unknown = sorted(set(raw) - known)
    if unknown:
        problems.append(f"unknown field(s): {', '.join(unknown)}")
    for name in _REQUIRED:
        value = raw.get(name)
        if not isinstance(value, str) or not value.strip():
            problems.append(f"{name}: required, a non-empty string")
    if raw.get("method", "lora") not in ("lora", "qlora"):
        problems.append(f"method: must be 'lora' or 'qlora' (got {raw.get('method')!r})")
    for name, (kind, lo, hi) in _RANGES.items():
        if name in raw:
            problem = _check_number(name, raw[name], kind, lo, hi)
            if problem:
                problems.append(problem)
    for name in ("eval_steps", "save_steps"):
        if raw.get(name) is not None:
            problem = _check_number(name, raw[name], int, 1, 10_000_000)
            if problem:
                problems.append(problem)
    if raw.get("num_processes") is not None:
        problem = _check_number("num_processes", raw["num_processes"], int, 1, 64)
        if problem:
            problems.append(problem)
    for name in ("gradient_checkpointing", "trust_remote_code", "packing", "use_liger"):
        if name in raw and not isinstance(raw[name], bool):
            problems.append(f"{name}: must be true or false")
    tm = raw.get("target_modules", "all-linear")
    if not (tm == "all-linear" or (isinstance(tm, list) and tm and all(isinstance(m, str) for m in tm))):
        problems.append("target_modules: must be 'all-linear' or a list of module names")
    kw = raw.get("chat_template_kwargs", {})
    if not (isinstance(kw, dict) and all(isinstance(k, str) and isinstance(v, (bool, int, float, str)) for k, v in kw.items())):
        problems.append("chat_template_kwargs: must be an object of names to true/false, numbers or strings")
    if "eval_file" in raw and raw["eval_file"] is not None and not isinstance(raw["eval_file"], str):
        problems.append("eval_file: must be a path or null")
    if problems:
        raise TrainerError(
            "invalid_config",
            "The training config is invalid: " + "; ".join(problems) + ".",
            "Fix the fields listed and start again.",
        )
    cfg = TrainConfig(**{k: raw[k] for k in raw if k in known})
    for name, (kind, _, _) in _RANGES.items():
        setattr(cfg, name, kind(getattr(cfg, name)))
    return cfg


def load_config(path: str | Path) -> TrainConfig:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as e:
        raise TrainerError("invalid_config", f"Cannot read the config file {p}: {e.strerror}.") from e
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as e:
        raise TrainerError("invalid_config", f"The config file {p} is not valid JSON (line {e.lineno}: {e.msg}).") from e
    return parse_config(raw)
