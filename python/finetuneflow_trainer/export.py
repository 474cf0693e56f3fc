"""`export`: the files a user takes away, and one zip holding them all."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

from .errors import TrainerError
from .events import emit
from .report import loss_curve_svg, modelfile, report_markdown

ADAPTER_FILES = ("adapter_model.safetensors", "adapter_config.json")
ZIP_NAME = "finetuneflow_export.zip"


def _read_json(path: Path) -> dict | list | None:
    return json.loads(path.read_text()) if path.exists() else None


def run(run_dir: str, out_dir: str | None = None, merge: bool = False, provenance_file: str | None = None) -> int:
    run_path = Path(run_dir)
    adapter = run_path / "adapter"
    if not all((adapter / f).exists() for f in ADAPTER_FILES):
        raise TrainerError("no_adapter", f"No trained adapter in {adapter}.", "Train the model first.")
    summary = _read_json(run_path / "run_summary.json")
    if not isinstance(summary, dict):
        raise TrainerError("run_incomplete", "This run did not finish, so there is nothing to export.", "Resume or restart the training.")
    out = Path(out_dir) if out_dir else run_path / "export"
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    emit("progress", progress_pct=10.0, message="copying the adapter")
    for name in ADAPTER_FILES:
        shutil.copy2(adapter / name, out / name)

    history = _read_json(run_path / "log_history.json") or []
    evaluation = _read_json(run_path / "evaluation.json")
    provenance = _read_json(Path(provenance_file)) if provenance_file else None
    train = [(int(h["step"]), float(h["loss"])) for h in history if "loss" in h and "step" in h]
    evals = [(int(h["step"]), float(h["eval_loss"])) for h in history if "eval_loss" in h and "step" in h]
    metrics = {**summary["metrics"], "evaluation": evaluation, "history": {"train_loss": train, "eval_loss": evals}}
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2, ensure_ascii=False))
    (out / "loss_curve.svg").write_text(loss_curve_svg(train, evals))
    report = report_markdown(summary, evaluation, summary["metrics"].get("device", "unknown"), provenance)
    # The judged scorecard, when the app evaluated this run before exporting it.
    scorecard = run_path / "evaluation" / "scorecard.md"
    if scorecard.exists():
        report = report.rstrip() + "\n\n" + scorecard.read_text(encoding="utf-8")
    # The Ollama parity check, when the model was published before exporting.
    parity = run_path / "ollama" / "parity.md"
    if parity.exists():
        report = report.rstrip() + "\n\n" + parity.read_text(encoding="utf-8")
    (out / "report.md").write_text(report)

    base_model = summary["config"]["base_model"]
    model_type = "unknown"
    config_path = Path(base_model) / "config.json"
    if config_path.exists():
        model_type = json.loads(config_path.read_text()).get("model_type", "unknown")
    else:
        adapter_cfg = json.loads((adapter / "adapter_config.json").read_text())
        model_type = (adapter_cfg.get("auto_mapping") or {}).get("model_type") or "unknown"
    from .ollama import modelfile_template

    derived = modelfile_template(adapter, summary["config"].get("chat_template_kwargs") or {})
    text, note = modelfile(base_model, model_type, derived)
    if text:
        (out / "Modelfile").write_text(text)
    emit("progress", progress_pct=50.0, message="report written")

    if merge:
        from peft import PeftModel

        from .config import parse_config
        from .loading import load_model, load_tokenizer
        from .merged_config import add_legacy_rope_keys

        cfg = parse_config({**summary["config"], "method": "lora"})
        merged = PeftModel.from_pretrained(load_model(cfg, "cpu", for_training=False), str(adapter)).merge_and_unload()
        merged.save_pretrained(str(out / "merged"))
        load_tokenizer(cfg).save_pretrained(str(out / "merged"))
        add_legacy_rope_keys(out / "merged")
        emit("progress", progress_pct=80.0, message="merged model saved")

    files = sorted(p for p in out.iterdir() if p.is_file())
    with zipfile.ZipFile(out / ZIP_NAME, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for p in files:
            zf.write(p, p.name)
    listing = [{"name": p.name, "path": str(p), "size_bytes": p.stat().st_size} for p in sorted(out.iterdir()) if p.is_file()]
    emit("complete", adapter_path=str(out / "adapter_model.safetensors"), metrics={"files": listing, "modelfile": note if text else None, "modelfile_note": None if text else note})
    return 0
