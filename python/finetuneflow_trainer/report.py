"""What `export` writes besides the adapter: metrics.json, report.md, loss_curve.svg, Modelfile."""

from __future__ import annotations

from html import escape

# Chat templates in Ollama's Go template language, for the families whose safetensors
# adapters Ollama can load (ADAPTER), with their stop tokens.
OLLAMA_FAMILIES = {
    "llama": (
        '{{- if .System }}<|start_header_id|>system<|end_header_id|>\n\n{{ .System }}<|eot_id|>{{ end }}'
        '{{- range .Messages }}<|start_header_id|>{{ .Role }}<|end_header_id|>\n\n{{ .Content }}<|eot_id|>{{ end }}'
        '<|start_header_id|>assistant<|end_header_id|>\n\n',
        ["<|eot_id|>", "<|end_of_text|>"],
    ),
    "mistral": (
        "{{- range .Messages }}{{- if eq .Role \"user\" }}[INST] {{ .Content }}[/INST]{{ else }} {{ .Content }}</s>{{ end }}{{ end }}",
        ["[INST]", "[/INST]", "</s>"],
    ),
    "gemma": (
        "{{- range .Messages }}<start_of_turn>{{ if eq .Role \"assistant\" }}model{{ else }}{{ .Role }}{{ end }}\n{{ .Content }}<end_of_turn>\n{{ end }}<start_of_turn>model\n",
        ["<end_of_turn>", "<start_of_turn>"],
    ),
}

MODEL_TYPE_FAMILY = {"llama": "llama", "mistral": "mistral", "gemma": "gemma", "gemma2": "gemma", "gemma3": "gemma", "gemma3_text": "gemma"}


def modelfile(base_model: str, model_type: str, derived: tuple[str, list[str]] | None = None) -> tuple[str | None, str]:
    """The Modelfile text, or None with the reason when Ollama cannot load this adapter.

    `derived` is the (template, stops) translated from the model's own chat template
    (ollama.go_template), the same the one-click publish uses; the per-family table is
    the fallback when the template cannot be expressed in Ollama's form.
    """
    family = MODEL_TYPE_FAMILY.get(model_type)
    if family is None:
        return None, f"Ollama loads safetensors adapters for Llama, Mistral and Gemma models only; this model is {model_type}."
    template, stops = derived or OLLAMA_FAMILIES[family]
    lines = [
        "# Run the fine-tuned model in Ollama:",
        "#   ollama create my-model -f Modelfile   (from this folder)",
        "# FROM must be the same base model the adapter was trained on: a local folder of its",
        "# safetensors weights, or the matching Ollama library model at full precision.",
        "# The Export step's \"Run in Ollama\" does this in one click and checks the result.",
        f"FROM {base_model}",
        "ADAPTER .",
        f'TEMPLATE """{template}"""',
        *[f'PARAMETER stop "{s}"' for s in stops],
        "",
    ]
    source = "from the model's chat template" if derived else f"Ollama {family} family"
    return "\n".join(lines), source


def loss_curve_svg(train: list[tuple[int, float]], evals: list[tuple[int, float]], width: int = 720, height: int = 360) -> str:
    pad = 48
    points = train + evals
    if not points:
        return f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}"><text x="20" y="30">No loss recorded</text></svg>'
    max_step = max(s for s, _ in points) or 1
    lo = min(v for _, v in points)
    hi = max(v for _, v in points)
    span = (hi - lo) or 1.0

    def xy(step: int, value: float) -> str:
        x = pad + (width - 2 * pad) * step / max_step
        y = height - pad - (height - 2 * pad) * (value - lo) / span
        return f"{x:.1f},{y:.1f}"

    def line(series, colour):
        return f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{" ".join(xy(s, v) for s, v in series)}"/>' if series else ""

    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="12">'
        f'<rect width="100%" height="100%" fill="white"/>'
        f'<line x1="{pad}" y1="{height - pad}" x2="{width - pad}" y2="{height - pad}" stroke="#888"/>'
        f'<line x1="{pad}" y1="{pad}" x2="{pad}" y2="{height - pad}" stroke="#888"/>'
        f'<text x="{pad}" y="{pad - 12}">loss ({hi:.3f} top, {lo:.3f} bottom) vs step (0–{max_step})</text>'
        f"{line(train, '#4f46e5')}{line(evals, '#d97706')}"
        f'<text x="{width - pad - 150}" y="{pad}" fill="#4f46e5">— train loss</text>'
        f'<text x="{width - pad - 150}" y="{pad + 16}" fill="#d97706">— eval loss</text>'
        "</svg>"
    )


def report_markdown(summary: dict, evaluation: dict | None, hardware: str, provenance: dict | None) -> str:
    cfg, m = summary["config"], summary["metrics"]

    def fmt(v):
        return "—" if v is None else (f"{v:.4f}" if isinstance(v, float) else str(v))

    lines = [
        "# FineTuneFlow training report",
        "",
        f"- **Base model:** `{cfg['base_model']}`",
        f"- **Method:** {cfg['method'].upper()} (r={cfg['lora_r']}, alpha={cfg['lora_alpha']}, dropout={cfg['lora_dropout']})",
        f"- **Hardware:** {hardware}",
        f"- **Duration:** {fmt(m.get('duration_seconds'))} s over {fmt(m.get('total_steps'))} steps ({fmt(m.get('epochs'))} epochs)",
        "",
        "## Results",
        "",
        "| metric | value |",
        "|---|---|",
        f"| final train loss | {fmt(m.get('final_train_loss'))} |",
        f"| eval loss | {fmt((evaluation or {}).get('eval_loss', m.get('eval_loss')))} |",
        f"| perplexity | {fmt((evaluation or {}).get('perplexity', m.get('perplexity')))} |",
        f"| tokens / second | {fmt(m.get('tokens_per_second'))} |",
        f"| peak VRAM (GB) | {fmt(m.get('peak_vram_gb'))} |",
        "",
        "## Data",
        "",
        f"- Training examples: {fmt(m.get('num_train_examples'))}; evaluation examples: {fmt(m.get('num_eval_examples'))}; dropped (too long): {fmt(m.get('dropped_examples'))}",
    ]
    for key, value in (provenance or {}).items():
        lines.append(f"- {key}: {value}")
    lines += ["", "## Hyperparameters", "", "| name | value |", "|---|---|"]
    for key in ("num_epochs", "learning_rate", "per_device_batch_size", "gradient_accumulation_steps", "max_seq_length", "warmup_ratio", "seed"):
        lines.append(f"| {key} | {cfg.get(key)} |")
    samples = (evaluation or {}).get("samples") or []
    if samples:
        lines += ["", "## Sample outputs", ""]
        for i, s in enumerate(samples, 1):
            lines += [
                f"### {i}. {escape(s['question'][:200])}",
                "",
                f"- **Expected:** {escape(s['expected'])}",
                f"- **Fine-tuned:** {escape(s['fine_tuned'])}",
                f"- **Base model:** {escape(s['base'])}",
                "",
            ]
    lines += [
        "",
        "## Using the adapter",
        "",
        "```python",
        "from peft import PeftModel",
        "from transformers import AutoModelForCausalLM, AutoTokenizer",
        f'base = AutoModelForCausalLM.from_pretrained("{cfg["base_model"]}")',
        'model = PeftModel.from_pretrained(base, "path/to/this/folder")',
        "```",
        "",
    ]
    return "\n".join(lines)
