"""The real CLI on a tiny random Llama model, on CPU (and on GPU when present)."""

import json
import shutil
import zipfile
from pathlib import Path

import pytest
import torch

from conftest import capital_rows, make_config, run_cli, run_cli_until, validate_run_file, write_rows


@pytest.fixture(scope="module")
def trained(tiny_model, tmp_path_factory):
    """One real training run shared by the tests that only read its results."""
    tmp = tmp_path_factory.mktemp("trained")
    rows = capital_rows(60)
    train = write_rows(tmp / "train.jsonl", rows[:50])
    evalf = write_rows(tmp / "eval.jsonl", rows[50:])
    result = run_cli("train", "--config", str(make_config(tmp, tiny_model, train, evalf)))
    return tmp / "run", result


def test_training_streams_schema_valid_events_and_the_loss_goes_down(trained):
    run_dir, result = trained
    assert result.code == 0, result.stderr[-3000:]
    kinds = [e["event"] for e in result.events]
    assert kinds[0] == "started" and kinds[-1] == "complete"
    logs = result.of("log")
    assert [e["step"] for e in logs] == [1, 5, 10, 15, 20, 25, 30]
    assert logs[-1]["train_loss"] < logs[0]["train_loss"]
    evals = result.of("eval")
    assert evals and evals[-1]["eval_loss"] < 6.5
    assert {e["step"] for e in result.of("checkpoint")} == {10, 20, 30}
    assert result.of("progress")[-1]["progress_pct"] == 100
    complete = result.of("complete")[0]
    assert complete["metrics"]["total_steps"] == 30
    assert (run_dir / "adapter" / "adapter_model.safetensors").exists()


def test_nothing_but_json_lines_reach_stdout(trained):
    _, result = trained
    assert result.events  # parse_events already refused any non-JSON line
    assert "loss" in result.stderr  # the human log went to stderr


def test_the_adapter_loads_with_peft_and_generates(trained, tiny_model):
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    run_dir, _ = trained
    model = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(str(tiny_model)), str(run_dir / "adapter"))
    tok = AutoTokenizer.from_pretrained(str(run_dir / "adapter"))
    ids = tok.apply_chat_template([{"role": "user", "content": "What is the capital of Peru?"}], add_generation_prompt=True, return_tensors="pt", return_dict=True)
    out = model.generate(**ids, max_new_tokens=8, do_sample=False, pad_token_id=tok.pad_token_id)
    assert out.shape[1] > ids["input_ids"].shape[1]


def test_sigterm_stops_cleanly_with_a_checkpoint_and_resume_continues_the_curve(tiny_model, dataset, tmp_path):
    train, evalf = dataset
    config = make_config(tmp_path, tiny_model, train, evalf, max_steps=150, save_steps=500, eval_steps=500, logging_steps=1)
    first = run_cli_until(lambda e: e["event"] == "log" and e["step"] >= 12, "train", "--config", str(config))
    assert first.code == 3, first.stderr[-3000:]
    cancelled = first.of("cancelled")
    assert len(cancelled) == 1 and not first.of("error")
    stopped_at = cancelled[0]["step"]
    assert 12 <= stopped_at < 150
    assert Path(cancelled[0]["checkpoint_path"]).name == f"checkpoint-{stopped_at}"
    assert (Path(cancelled[0]["adapter_path"]) / "adapter_model.safetensors").exists()

    second = run_cli("train", "--config", str(config), "--resume")
    assert second.code == 0, second.stderr[-3000:]
    assert second.of("started")[0]["resumed_from_step"] == stopped_at
    steps = [e["step"] for e in second.of("log")]
    assert steps[0] == stopped_at + 1 and steps[-1] == 150
    assert second.of("complete")[0]["metrics"]["total_steps"] == 150


def test_resume_without_a_checkpoint_is_a_clear_error(tiny_model, dataset, tmp_path):
    train, evalf = dataset
    result = run_cli("train", "--config", str(make_config(tmp_path, tiny_model, train, evalf)), "--resume")
    assert result.code != 0
    assert result.of("error")[0]["error_code"] == "no_checkpoint"


def test_a_corrupt_dataset_line_is_an_error_event_naming_the_line(tiny_model, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"instruction": "a", "output": "b"}\n{"instruction": "broken"\n')
    result = run_cli("train", "--config", str(make_config(tmp_path, tiny_model, bad, None)))
    assert result.code == 2
    err = result.of("error")[0]
    assert err["error_code"] == "invalid_dataset" and "line 2" in err["message"] and err["advice"]


def test_a_bad_config_is_an_error_event_with_every_field(tmp_path):
    cfg = tmp_path / "c.json"
    cfg.write_text(json.dumps({"base_model": "/x", "output_dir": str(tmp_path), "train_file": "/t", "lora_r": -1, "method": "full"}))
    result = run_cli("train", "--config", str(cfg))
    assert result.code == 2
    err = result.of("error")[0]
    assert err["error_code"] == "invalid_config"
    assert "lora_r" in err["message"] and "method" in err["message"]


def test_a_missing_model_is_an_error_event_not_a_traceback(dataset, tmp_path):
    train, _ = dataset
    result = run_cli("train", "--config", str(make_config(tmp_path, tmp_path / "no-model", train, None)))
    assert result.code == 2
    assert result.of("error")[0]["error_code"] in ("model_load_failed", "internal_error")


def test_evaluate_compares_fine_tuned_and_base_answers(trained):
    run_dir, _ = trained
    result = run_cli("evaluate", "--run", str(run_dir), "--samples", "3", "--max-new-tokens", "8")
    assert result.code == 0, result.stderr[-3000:]
    evaluation = validate_run_file(run_dir, "evaluation.json")
    # The files the app reads after training: the shapes its zod schemas parse.
    validate_run_file(run_dir, "run_summary.json")
    assert validate_run_file(run_dir, "log_history.json")
    assert evaluation["eval_loss"] > 0 and evaluation["perplexity"] > 1
    assert len(evaluation["samples"]) == 3
    assert set(evaluation["samples"][0]) == {"question", "expected", "fine_tuned", "base"}
    assert result.of("complete")[0]["metrics"]["samples"] == 3


def test_export_writes_the_artifacts_and_one_zip_peft_can_load(trained, tiny_model, tmp_path):
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    run_dir, _ = trained
    result = run_cli("export", "--run", str(run_dir))
    assert result.code == 0, result.stderr[-3000:]
    out = run_dir / "export"
    names = {f["name"] for f in result.of("complete")[0]["metrics"]["files"]}
    assert {"adapter_model.safetensors", "adapter_config.json", "metrics.json", "report.md", "loss_curve.svg", "Modelfile", "finetuneflow_export.zip"} <= names
    report = (out / "report.md").read_text()
    assert "final train loss" in report and "PeftModel.from_pretrained" in report
    assert "FROM " in (out / "Modelfile").read_text() and "ADAPTER ." in (out / "Modelfile").read_text()
    metrics = json.loads((out / "metrics.json").read_text())
    assert len(metrics["history"]["train_loss"]) >= 5
    unzipped = tmp_path / "unzipped"
    with zipfile.ZipFile(out / "finetuneflow_export.zip") as zf:
        assert "adapter_model.safetensors" in zf.namelist()
        zf.extractall(unzipped)
    PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(str(tiny_model)), str(unzipped))


def test_a_merged_export_answers_as_the_adapter_and_names_its_rope_the_legacy_way(trained, tmp_path):
    """Ollama's converter reads rope_theta at the top level only (transformers 5 writes
    rope_parameters): without it a merged model loses its positions in Ollama."""
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    run_dir, _ = trained
    out = tmp_path / "merged-export"
    result = run_cli("export", "--run", str(run_dir), "--out", str(out), "--merge")
    assert result.code == 0, result.stderr[-3000:]
    config = json.loads((out / "merged" / "config.json").read_text())
    assert config["rope_theta"] == config["rope_parameters"]["rope_theta"]
    summary = json.loads((run_dir / "run_summary.json").read_text())
    base = AutoModelForCausalLM.from_pretrained(summary["config"]["base_model"])
    tuned = PeftModel.from_pretrained(base, str(run_dir / "adapter")).eval()
    merged = AutoModelForCausalLM.from_pretrained(str(out / "merged")).eval()
    ids = torch.arange(3, 40).unsqueeze(0)
    with torch.no_grad():
        assert torch.allclose(tuned(ids).logits, merged(ids).logits, atol=1e-4)


def test_export_before_training_finished_is_refused(tmp_path):
    result = run_cli("export", "--run", str(tmp_path))
    assert result.code == 2 and result.of("error")[0]["error_code"] == "no_adapter"


@pytest.mark.skipif(not torch.cuda.is_available(), reason="QLoRA needs a CUDA GPU with bitsandbytes; run on a GPU machine")
def test_qlora_trains_on_the_gpu(tiny_model, dataset, tmp_path):
    train, evalf = dataset
    result = run_cli("train", "--config", str(make_config(tmp_path, tiny_model, train, evalf, method="qlora")))
    assert result.code == 0, result.stderr[-3000:]
    assert result.of("complete")[0]["metrics"]["peak_vram_gb"] > 0


def test_qlora_on_cpu_is_refused_with_advice(tiny_model, dataset, tmp_path):
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    train, _ = dataset
    result = run_cli("train", "--config", str(make_config(tmp_path, tiny_model, train, None, method="qlora")))
    assert result.code == 2
    err = result.of("error")[0]
    assert err["error_code"] == "qlora_needs_gpu" and "LoRA" in err["advice"]


def test_a_loss_that_becomes_nan_stops_the_run_with_the_step_and_advice(tiny_model, dataset, tmp_path):
    """Weights with a NaN make every loss NaN: the run must say so, not stream nulls."""
    from safetensors.torch import load_file, save_file

    broken = tmp_path / "broken-model"
    shutil.copytree(tiny_model, broken)
    weights = load_file(str(broken / "model.safetensors"))
    weights["model.norm.weight"] = torch.full_like(weights["model.norm.weight"], float("nan"))
    save_file(weights, str(broken / "model.safetensors"), metadata={"format": "pt"})
    train, evalf = dataset
    result = run_cli("train", "--config", str(make_config(tmp_path, broken, train, evalf, logging_steps=1)))
    assert result.code == 2, result.stderr[-2000:]
    assert result.of("log") == []  # nothing finite to chart, and no null loss sent
    error = result.of("error")[0]
    assert error["error_code"] == "loss_not_finite"
    assert error["message"] == "The loss became NaN at step 1: training stopped."
    assert "learning rate" in error["advice"]


def test_answers_gives_base_and_fine_tuned_replies_per_question(trained, tmp_path):
    run_dir, _ = trained
    questions = tmp_path / "questions.jsonl"
    rows = [
        {"id": "q1", "messages": [{"role": "user", "content": "What does the warranty cover?"}]},
        {"id": "q2", "messages": [{"role": "system", "content": "Answer briefly."}, {"role": "user", "content": "How do I reset it?"}]},
    ]
    questions.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    out = tmp_path / "answers.jsonl"
    result = run_cli("answers", "--run", str(run_dir), "--questions", str(questions), "--out", str(out), "--max-new-tokens", "6")
    assert result.code == 0, result.stderr[-3000:]
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [line["id"] for line in lines] == ["q1", "q2"]
    for line in lines:
        assert set(line) == {"id", "tuned", "base", "tuned_stopped", "base_stopped"}
        assert isinstance(line["tuned"], str) and isinstance(line["base"], str)
        assert isinstance(line["tuned_stopped"], bool)
    assert result.of("complete")[0]["metrics"] == {"answers_file": str(out), "answered": 2}
    assert [e["message"] for e in result.of("progress")][-1] == "answered 2/2"
