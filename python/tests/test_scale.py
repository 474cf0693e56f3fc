"""Speed and scale: padding-free packing, Liger, the probe, and training on two ranks.

CPU tests prove the wiring and the numerics in fp32; the GPU tests (skipped without
CUDA) check Liger's kernels and packing against the plain path on a real GPU.
"""

import json
from pathlib import Path

import pytest
import torch

from conftest import capital_rows, make_config, run_cli, run_cli_until, write_rows
from finetuneflow_trainer.packing import ISOLATION_TOLERANCE, PackedCollator, decide, isolation_check
from finetuneflow_trainer.probe import back_off

FIXTURES = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures" / "hf"
GPU = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU; run on a GPU machine")


def _config(name: str):
    from transformers import AutoConfig

    raw = json.loads((FIXTURES / name / "config.json").read_text())
    return AutoConfig.for_model(raw.pop("model_type"), **raw)


def test_the_packed_collator_concatenates_restarts_positions_and_masks_each_first_label():
    batch = PackedCollator()([{"input_ids": [5, 6, 7], "labels": [-100, 6, 7]}, {"input_ids": [8, 9], "labels": [8, 9]}])
    assert batch["input_ids"].tolist() == [[5, 6, 7, 8, 9]]
    assert batch["position_ids"].tolist() == [[0, 1, 2, 0, 1]]
    # The first token of the second example is never predicted from the first example.
    assert batch["labels"].tolist() == [[-100, 6, 7, -100, 9]]
    assert "attention_mask" not in batch  # a 2-D mask would stop transformers deriving the packed one


def test_packed_loss_equals_the_token_weighted_mean_of_each_example_alone(tiny_model):
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(str(tiny_model), dtype=torch.float32, attn_implementation="sdpa")
    model.eval()
    gen = torch.Generator().manual_seed(3)
    items = []
    for n in (9, 31, 4, 17):
        ids = torch.randint(6, 200, (n,), generator=gen).tolist()
        items.append({"input_ids": ids, "labels": [-100] * (n // 2) + ids[n // 2 :]})
    with torch.no_grad():
        total, counted = 0.0, 0
        for item in items:
            labels = torch.tensor([item["labels"]])
            labels[0, 0] = -100
            n = int((labels[0, 1:] != -100).sum())
            total += model(input_ids=torch.tensor([item["input_ids"]]), labels=labels, use_cache=False).loss.item() * n
            counted += n
        packed = model(**PackedCollator()(items), use_cache=False).loss.item()
        leaky = model(**PackedCollator()(items), use_cache=True).loss.item()
    assert abs(packed - total / counted) < 1e-4
    # The trap the trainer avoids: with a KV cache transformers does not isolate the sequences.
    assert abs(leaky - total / counted) > 1e-3


@pytest.mark.parametrize(
    "name",
    ["meta-llama__Llama-3.1-8B-Instruct", "mistralai__Mistral-7B-Instruct-v0.3", "Qwen__Qwen2.5-7B-Instruct", "microsoft__Phi-3-mini-4k-instruct", "google__gemma-2-2b-it", "HuggingFaceTB__SmolLM2-135M-Instruct"],
)
def test_the_isolation_check_passes_for_the_real_architectures(name):
    from finetuneflow_trainer.packing import choose_attention

    config = _config(name)
    ok, reason = isolation_check(config, choose_attention("cpu", config))
    assert ok, reason
    assert "verified isolated" in reason


def test_packing_is_refused_with_a_reason_when_unwanted_unverifiable_or_leaky(monkeypatch):
    config = _config("meta-llama__Llama-3.1-8B-Instruct")
    assert decide(False, config, "sdpa", False) == (False, "packing is off in the training config")
    ok, reason = decide(True, config, "sdpa", True)
    assert not ok and "trust_remote_code" in reason

    # An architecture whose masking ignores the packed position ids fails the check.
    import finetuneflow_trainer.packing as packing

    monkeypatch.setattr(packing.PackedCollator, "__call__", _leaky_collate)
    ok, reason = isolation_check(config, "sdpa")
    assert not ok and "leak" in reason and str(ISOLATION_TOLERANCE) not in reason


def _leaky_collate(self, batch):
    ids = [t for b in batch for t in b["input_ids"]]
    labels = [t for b in batch for t in [-100, *b["labels"][1:]]]
    # Positions that never restart: the mask sees one long sequence.
    return {"input_ids": torch.tensor([ids]), "labels": torch.tensor([labels]), "position_ids": torch.arange(len(ids))[None]}


def test_a_packed_run_reports_packing_and_trains_like_a_padded_one(tiny_model, tmp_path):
    rows = capital_rows(40)
    train = write_rows(tmp_path / "train.jsonl", rows)
    results = {}
    for packing in (True, False):
        d = tmp_path / str(packing)
        d.mkdir()
        # One batch holds every example, so both runs see the same batches whatever their sampler
        # (packed runs sample at random, padded ones group by length).
        result = run_cli("train", "--config", str(make_config(d, tiny_model, train, None, max_steps=6, logging_steps=2, per_device_batch_size=40, packing=packing)))
        assert result.code == 0, result.stderr[-2000:]
        results[packing] = result
    on, off = results[True], results[False]
    assert on.of("started")[0]["packing"] is True and off.of("started")[0]["packing"] is False
    assert on.of("started")[0]["attn_implementation"] == "sdpa" and on.of("started")[0]["world_size"] == 1
    assert on.of("started")[0]["liger"] is False  # CPU
    summary = on.of("complete")[0]["metrics"]
    assert "verified isolated" in summary["packing_reason"] and "CPU" in summary["liger_reason"]
    # Same examples, same order, same maths: the first loss matches to float summation order;
    # later ones drift a little (Adam magnifies last-bit differences in tiny gradients).
    logs_on, logs_off = on.of("log"), off.of("log")
    assert [e["step"] for e in logs_on] == [e["step"] for e in logs_off] == [1, 2, 4, 6]
    assert abs(logs_on[0]["train_loss"] - logs_off[0]["train_loss"]) < 1e-4
    for a, b in zip(logs_on, logs_off):
        assert abs(a["train_loss"] - b["train_loss"]) < 2e-2


def test_back_off_order_is_batch_then_length_then_checkpointing_then_qlora():
    s = {"per_device_batch_size": 4, "max_seq_length": 1024, "checkpointing": "none", "method": "lora"}
    seen = []
    while (nxt := back_off(s, qlora_possible=True)) is not None:
        s, change = nxt
        seen.append(change)
    assert seen == [
        "batch size 4 → 2", "batch size 2 → 1", "max sequence length 1024 → 512", "max sequence length 512 → 256",
        "activation checkpointing on every layer", "QLoRA (4-bit base weights)",
    ]
    assert back_off({**s, "method": "lora"}, qlora_possible=False) is None


def test_the_probe_measures_real_steps_on_the_longest_batches(tiny_model, dataset):
    train, _ = dataset
    result = run_cli("probe", "--config", str(make_config(train.parent, tiny_model, train, None)), "--steps", "4")
    assert result.code == 0, result.stderr[-2000:]
    metrics = result.of("complete")[0]["metrics"]
    assert metrics["fits"] is True and metrics["changes"] == []
    assert metrics["chosen"] == {"per_device_batch_size": 4, "max_seq_length": 128, "checkpointing": "none", "method": "lora"}
    assert metrics["tokens_per_second"] > 0 and metrics["step_seconds"] > 0
    assert metrics["attempts"] == [{**metrics["chosen"], "outcome": "ok", "peak_vram_gb": None}]
    assert metrics["device"] == "cpu" and metrics["peak_vram_gb"] is None
    assert not (train.parent / "run" / "adapter").exists()  # a probe trains nothing it keeps


def test_num_processes_beyond_the_gpus_is_a_clear_error(tiny_model, dataset, tmp_path, monkeypatch):
    if not torch.cuda.is_available():
        pytest.skip("on a CPU-only machine any number of gloo ranks is allowed")
    train, _ = dataset
    result = run_cli("train", "--config", str(make_config(tmp_path, tiny_model, train, None, num_processes=64)))
    assert result.code == 2 and "num_processes" in result.of("error")[0]["message"]


def test_two_ranks_train_cancel_together_and_resume(tiny_model, tmp_path):
    """Two processes on the gloo backend through torchrun: one event stream, a shared stop, resume."""
    train = write_rows(tmp_path / "train.jsonl", capital_rows(80))
    config = make_config(tmp_path, tiny_model, train, None, num_processes=2, max_steps=400, save_steps=1000, logging_steps=1, per_device_batch_size=2)
    first = run_cli_until(lambda e: e["event"] == "log" and e["step"] >= 6, "train", "--config", str(config))
    assert first.code == 3, first.stderr[-3000:]
    started = first.of("started")
    assert len(started) == 1 and started[0]["world_size"] == 2  # rank 1 stays silent
    cancelled = first.of("cancelled")
    assert len(cancelled) == 1 and not first.of("error")
    stopped_at = cancelled[0]["step"]
    assert Path(cancelled[0]["checkpoint_path"]).name == f"checkpoint-{stopped_at}"

    resumed = run_cli("train", "--config", str(make_config(tmp_path, tiny_model, train, None, num_processes=2, max_steps=stopped_at + 6, save_steps=1000, logging_steps=1, per_device_batch_size=2)), "--resume")
    assert resumed.code == 0, resumed.stderr[-3000:]
    assert resumed.of("started")[0]["resumed_from_step"] == stopped_at
    steps = [e["step"] for e in resumed.of("log")]
    assert steps == list(range(stopped_at + 1, stopped_at + 7))
    assert len(resumed.of("complete")) == 1
    assert (tmp_path / "run" / "adapter" / "adapter_model.safetensors").exists()


@GPU
def test_liger_matches_the_plain_path_on_the_gpu(tiny_model):
    """Same weights, same batch: loss and LoRA gradients with and without Liger's kernels."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    from finetuneflow_trainer.liger import apply

    gen = torch.Generator().manual_seed(0)
    ids = torch.randint(6, 200, (2, 48), generator=gen).cuda()
    results = []
    for use_liger in (False, True):
        torch.manual_seed(0)
        model = AutoModelForCausalLM.from_pretrained(str(tiny_model), dtype=torch.float32).cuda()
        applied, reason = apply(model, use_liger, "cuda")
        assert applied == use_liger, reason
        model = get_peft_model(model, LoraConfig(r=8, lora_alpha=16, target_modules="all-linear", task_type="CAUSAL_LM", init_lora_weights=False))
        out = model(input_ids=ids, labels=ids, use_cache=False)
        out.loss.backward()
        grads = torch.cat([p.grad.flatten() for n, p in model.named_parameters() if p.requires_grad])
        results.append((out.loss.item(), grads))
    (plain_loss, plain_grads), (liger_loss, liger_grads) = results
    assert abs(plain_loss - liger_loss) < 1e-3
    assert torch.allclose(plain_grads, liger_grads, rtol=1e-2, atol=1e-4)


@GPU
def test_packing_isolates_on_the_gpu_in_bf16(tiny_model):
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(str(tiny_model), dtype=torch.bfloat16, attn_implementation="sdpa").cuda().eval()
    gen = torch.Generator().manual_seed(1)
    items = [{"input_ids": (ids := torch.randint(6, 200, (n,), generator=gen).tolist()), "labels": ids} for n in (40, 13, 77)]
    with torch.no_grad():
        total, counted = 0.0, 0
        for item in items:
            labels = torch.tensor([item["labels"]]).cuda()
            labels[0, 0] = -100
            total += model(input_ids=torch.tensor([item["input_ids"]]).cuda(), labels=labels, use_cache=False).loss.item() * (len(item["labels"]) - 1)
            counted += len(item["labels"]) - 1
        batch = {k: v.cuda() for k, v in PackedCollator()(items).items()}
        packed = model(**batch, use_cache=False).loss.item()
    assert abs(packed - total / counted) < 2e-2  # bf16 rounding, not leakage (which moves it by far more)


@GPU
def test_the_probe_on_the_gpu_reports_peak_memory_and_liger(tiny_model, dataset):
    train, _ = dataset
    result = run_cli("probe", "--config", str(make_config(train.parent, tiny_model, train, None)), "--steps", "4")
    assert result.code == 0, result.stderr[-2000:]
    metrics = result.of("complete")[0]["metrics"]
    assert metrics["fits"] and metrics["peak_vram_gb"] > 0 and metrics["liger"] is True and metrics["packing"] is True


def test_the_gpu_benchmark_runs_its_cases_on_toy_shapes(tmp_path):
    """The device script, unchanged, on this machine: both recipes train, selective checkpointing runs, and the table prints."""
    import subprocess
    import sys

    from conftest import PYTHON_DIR

    p = subprocess.run([sys.executable, "bench/gpu_bench.py", "--smoke", "--out", str(tmp_path)], cwd=PYTHON_DIR, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr[-2000:]
    assert "| toy LoRA · plain Trainer |" in p.stdout and "| toy LoRA · ours: packing + Liger |" in p.stdout
    results = json.loads((tmp_path / "gpu-bench.json").read_text())
    assert [r["packing"] for r in results] == [False, True, True]
    assert results[0]["padded_tokens"] > results[0]["real_tokens"] == results[1]["real_tokens"] == results[1]["padded_tokens"]
    assert [(r["checkpointed_layers"], r["decoder_layers"]) for r in results] == [(2, 2), (2, 2), (1, 2)]


def test_the_gpu_case_files_read_and_name_every_field_the_bench_knows(tmp_path):
    """The GPU session runs these files as they are: each case must have the fields the bench reads."""
    import subprocess
    import sys

    from conftest import PYTHON_DIR

    for name in ("features.json", "estimator-holdout.json"):
        p = subprocess.run([sys.executable, "bench/gpu_bench.py", "--geometry", "--cases", f"bench/cases/{name}", "--config", str(PYTHON_DIR.parent.parent / "shared/fixtures/hf/meta-llama__Llama-3.1-8B-Instruct/config.json")], cwd=PYTHON_DIR, capture_output=True, text=True, timeout=120)
        assert p.returncode == 0, p.stderr[-2000:]
        cases = json.loads(p.stdout)
        assert len(cases) == len(json.loads((PYTHON_DIR / "bench" / "cases" / name).read_text()))
