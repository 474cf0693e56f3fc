"""The training run's configuration: a JSON file in, validated field by field.

Field names, types, bounds and defaults come from run-config.schema.json, generated from
the app's zod source (src/training/run-config.ts): one definition for both sides. The
checks here read that schema, and report every problem at once, each naming its field, so
a user fixing a config sees the whole list rather than one error per attempt.
"""

from __future__ import annotations

import copy
import json
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from .errors import TrainerError

SCHEMA: dict = json.loads((Path(__file__).parent / "run-config.schema.json").read_text(encoding="utf-8"))
_PROPERTIES: dict[str, dict] = SCHEMA["properties"]


@dataclass
class TrainConfig:
    """run.json, checked. Defaults and bounds: run-config.schema.json (see the zod source)."""

    base_model: str
    output_dir: str
    train_file: str
    eval_file: str | None
    method: str
    num_epochs: float
    max_steps: int
    learning_rate: float
    per_device_batch_size: int
    gradient_accumulation_steps: int
    max_seq_length: int
    lora_r: int
    lora_alpha: int
    lora_dropout: float
    target_modules: Any
    warmup_ratio: float
    logging_steps: int
    eval_steps: int | None
    save_steps: int | None
    seed: int
    checkpointing: str
    checkpoint_layers: int | None
    compile: str
    dataloader_workers: int
    system_prompt: str | None
    chat_template_kwargs: dict
    trust_remote_code: bool
    packing: bool
    use_liger: bool
    num_processes: int | None
    stage: str
    start_adapter: str | None
    dpo_beta: float

    def to_json(self) -> dict:
        return asdict(self)


def _types(schema: dict) -> list[str]:
    t = schema.get("type", [])
    return t if isinstance(t, list) else [t]


def _describe(schema: dict) -> str:
    """What a value must be, in words, for the error message."""
    if "const" in schema:
        return repr(schema["const"])
    if "enum" in schema:
        return "one of " + ", ".join(repr(v) for v in schema["enum"])
    if "anyOf" in schema:
        return " or ".join(_describe(s) for s in schema["anyOf"])
    words = {"string": "a string", "integer": "a whole number", "number": "a number", "boolean": "true or false", "null": "null", "array": "a list", "object": "an object"}
    described = " or ".join(words.get(t, t) for t in _types(schema))
    if "minimum" in schema and "maximum" in schema:
        described += f" between {schema['minimum']} and {schema['maximum']}"
    return described


def _fits_type(value: Any, kind: str) -> bool:
    if kind == "null":
        return value is None
    if kind == "boolean":
        return isinstance(value, bool)
    if kind in ("number", "integer"):
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind == "string":
        return isinstance(value, str)
    if kind == "array":
        return isinstance(value, list)
    if kind == "object":
        return isinstance(value, dict)
    return False


def _problem(value: Any, schema: dict) -> str | None:
    """Why value does not fit schema (the subset of JSON Schema zod writes for run.json), or None."""
    if "anyOf" in schema:
        if any(_problem(value, s) is None for s in schema["anyOf"]):
            return None
        return f"must be {_describe(schema)}"
    if "const" in schema and value != schema["const"]:
        return f"must be {schema['const']!r}"
    if "enum" in schema and value not in schema["enum"]:
        return f"must be {_describe(schema)} (got {value!r})"
    kinds = _types(schema)
    if kinds and not any(_fits_type(value, k) for k in kinds):
        numeric = [k for k in kinds if k in ("number", "integer")]
        return f"must be {'a number' if numeric else _describe(schema)}"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if "integer" in kinds and "number" not in kinds and not float(value).is_integer():
            return "must be a whole number"
        if value < schema.get("minimum", value) or value > schema.get("maximum", value):
            return f"must be between {schema['minimum']} and {schema['maximum']} (got {value})"
    if isinstance(value, str) and len(value.strip()) < schema.get("minLength", 0):
        return "must not be empty"
    if isinstance(value, list):
        if len(value) < schema.get("minItems", 0):
            return "must not be empty"
        if "items" in schema and any(_problem(v, schema["items"]) for v in value):
            return f"must be a list of {_describe(schema['items'])}s"
    if isinstance(value, dict) and isinstance(schema.get("additionalProperties"), dict):
        if any(_problem(v, schema["additionalProperties"]) for v in value.values()):
            return f"must be an object of names to {_describe(schema['additionalProperties'])}"
    return None


def _typed(value: Any, schema: dict) -> Any:
    """JSON numbers as the field's Python type: 3 -> 3.0 for a 'number', 2.0 -> 2 for an 'integer'."""
    kinds = _types(schema) or [k for s in schema.get("anyOf", []) for k in _types(s)]
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value) if "number" in kinds else int(value)
    return value


def _upgrade(raw: dict) -> dict:
    """A config written before `checkpointing` (run summaries of older runs, re-read by export and resume)."""
    if "checkpointing" not in raw and isinstance(raw.get("gradient_checkpointing"), bool):
        upgraded = {k: v for k, v in raw.items() if k != "gradient_checkpointing"}
        upgraded["checkpointing"] = "all" if raw["gradient_checkpointing"] else "none"
        return upgraded
    return raw


def parse_config(raw: Any) -> TrainConfig:
    if not isinstance(raw, dict):
        raise TrainerError("invalid_config", "The config must be a JSON object.")
    raw = _upgrade(raw)
    problems: list[str] = []
    unknown = sorted(set(raw) - set(_PROPERTIES))
    if unknown:
        problems.append(f"unknown field(s): {', '.join(unknown)}")
    for name in SCHEMA.get("required", []):
        value = raw.get(name)
        if not isinstance(value, str) or not value.strip():
            problems.append(f"{name}: required, a non-empty string")
    for name, schema in _PROPERTIES.items():
        if name in raw and name not in SCHEMA.get("required", []):
            problem = _problem(raw[name], schema)
            if problem:
                problems.append(f"{name}: {problem}")
    if problems:
        raise TrainerError(
            "invalid_config",
            "The training config is invalid: " + "; ".join(problems) + ".",
            "Fix the fields listed and start again.",
        )
    values = {name: _typed(raw[name], schema) if name in raw else copy.deepcopy(schema.get("default")) for name, schema in _PROPERTIES.items()}
    return TrainConfig(**values)


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
