"""The merged model's config.json, readable by converters that predate transformers 5.

transformers 5 writes RoPE settings only as `rope_parameters` ({"rope_theta": ..., "rope_type":
...} or one such dict per attention kind). Ollama's converter (v0.17.4 and before) and older
llama.cpp scripts read the legacy top-level keys `rope_theta`, `rope_scaling` and Gemma's
`rope_local_base_freq`; without them they fall back to a base of 10,000. SmolLM2 uses 100,000:
converted that way the model loses its positions after a few dozen tokens (found by the real
Ollama's parity check: answers parted and ran on where the tuned model ended). transformers
reads both forms, so the legacy keys are added beside the new ones, never instead of them.
"""

from __future__ import annotations

import json
from pathlib import Path


def _legacy_from(params: dict) -> dict:
    out: dict = {}
    if "rope_theta" in params:
        out["rope_theta"] = params["rope_theta"]
    rope_type = params.get("rope_type") or params.get("type")
    if rope_type and rope_type != "default":
        out["rope_scaling"] = {k: v for k, v in params.items() if k != "rope_theta"} | {"rope_type": rope_type, "type": rope_type}
    return out


def legacy_rope_keys(config: dict) -> dict:
    """The legacy keys this config lacks, derived from its `rope_parameters` ({} when none)."""
    params = config.get("rope_parameters")
    if not isinstance(params, dict):
        return {}
    nested = {k: v for k, v in params.items() if isinstance(v, dict)}
    if nested:
        # One dict per attention kind (Gemma 3): global layers give rope_theta, sliding ones the local base.
        legacy = _legacy_from(nested.get("full_attention") or next(iter(nested.values())))
        if isinstance(nested.get("sliding_attention"), dict) and "rope_theta" in nested["sliding_attention"]:
            legacy["rope_local_base_freq"] = nested["sliding_attention"]["rope_theta"]
    else:
        legacy = _legacy_from(params)
    return {k: v for k, v in legacy.items() if config.get(k) is None}


def add_legacy_rope_keys(model_dir: Path) -> dict:
    """Rewrite model_dir/config.json with the legacy RoPE keys; returns what was added."""
    path = model_dir / "config.json"
    config = json.loads(path.read_text(encoding="utf-8"))
    added = legacy_rope_keys(config)
    if added:
        path.write_text(json.dumps({**config, **added}, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return added
