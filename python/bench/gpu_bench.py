"""GPU trainer benchmark: the plain Trainer recipe against ours, feature by feature.

    python bench/gpu_bench.py --config path/to/Llama-3.1-8B/config.json [--predictions p.json] [--out DIR]
    python bench/gpu_bench.py --smoke            # the same code on the CPU with toy shapes (tests)
    python bench/gpu_bench.py --config ... --cases bench/cases/estimator-holdout.json   # shapes the estimator was never fitted on

Models are randomly initialised at the real shapes (nothing can be downloaded): the
Llama-3.1-8B config as is, and a ~1B shape derived from it with Llama-3.2-1B's
dimensions. Data is synthetic token ids with a realistic length mix (log-normal,
median ~300 tokens, capped at max_seq_length, the first ~40% of each example is
prompt and carries no loss). Each case runs in its own process (clean peak-memory
counters, no kernel patch leaking into the next case): warm-up steps, then timed steps.

tokens/s counts real tokens only (padding is waste, not throughput). peak GiB is
torch.cuda.max_memory_allocated over the timed run, weights included.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

GB = 1024**3
THREE_B = {"hidden_size": 3072, "intermediate_size": 8192, "num_hidden_layers": 28, "num_attention_heads": 24, "num_key_value_heads": 8, "tie_word_embeddings": True}
ONE_B = {"hidden_size": 2048, "intermediate_size": 8192, "num_hidden_layers": 16, "num_attention_heads": 32, "num_key_value_heads": 8, "tie_word_embeddings": True}
TOY = {"hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2, "vocab_size": 512, "tie_word_embeddings": False}

# name, shape, method, recipe, packing, liger, checkpointing ("all", "none", "auto" or a layer count).
# `auto` cases take their layer count from the predictions file (the app's estimator: the
# fewest layers that keep the peak within the plain Trainer's, `layersToCheckpoint`).
CASES = [
    # The goal's pair first, then checkpointing all / none beside auto, then QLoRA and the 1B shape.
    ("8B LoRA · plain Trainer", "8b", "lora", "baseline", False, False, "all"),
    ("8B LoRA · ours: packing + Liger, auto checkpointing", "8b", "lora", "ours", True, True, "auto"),
    ("8B LoRA · ours: packing + Liger, every layer checkpointed", "8b", "lora", "ours", True, True, "all"),
    ("8B LoRA · ours: packing + Liger, no checkpointing", "8b", "lora", "ours", True, True, "none"),
    ("8B QLoRA · plain Trainer", "8b", "qlora", "baseline", False, False, "all"),
    ("8B QLoRA · ours: packing + Liger, auto checkpointing", "8b", "qlora", "ours", True, True, "auto"),
    ("1B LoRA · plain Trainer", "1b", "lora", "baseline", False, False, "all"),
    ("1B LoRA · ours: packing + Liger, auto checkpointing", "1b", "lora", "ours", True, True, "auto"),
    ("1B QLoRA · ours: packing + Liger, auto checkpointing", "1b", "qlora", "ours", True, True, "auto"),
]
# Optional per-case fields a --cases file may set (see bench/cases/).
CASE_FIELDS = ("liger_kernels", "timed", "lora_r", "max_seq_length", "median_tokens", "checkpoint_layers", "compile", "dataloader_workers")


def synthetic_items(n: int, vocab: int, max_len: int, seed: int = 0, median: int = 300) -> list[dict]:
    rng = random.Random(seed)
    items = []
    for _ in range(n):
        length = max(24, min(max_len, int(rng.lognormvariate(math.log(median), 0.8))))
        ids = [rng.randrange(10, vocab) for _ in range(length)]
        prompt = int(length * 0.4)
        items.append({"input_ids": ids, "labels": [-100] * prompt + ids[prompt:]})
    return items


def model_config(shape: str, llama_config: dict):
    from transformers import LlamaConfig

    raw = {k: v for k, v in llama_config.items() if k not in ("architectures", "model_type", "transformers_version")}
    raw.update({"1b": ONE_B, "3b": THREE_B, "toy": TOY}.get(shape, {}))
    return LlamaConfig(**raw)


def random_loader(config, method: str, device: str):
    """Builds the model at random weights on the device; QLoRA quantises its linear layers to NF4 as loading would."""

    def load(attn: str):
        import torch
        from transformers import AutoModelForCausalLM

        dtype = torch.bfloat16 if device == "cuda" else torch.float32
        torch.manual_seed(0)
        with torch.device(device):
            model = AutoModelForCausalLM.from_config(config, dtype=dtype, attn_implementation=attn)
        if method == "qlora":
            _quantize_nf4(model, dtype)
        return model

    return load


def _quantize_nf4(model, dtype) -> None:
    import bitsandbytes as bnb
    import torch

    for module in list(model.modules()):
        for name, child in list(module.named_children()):
            if isinstance(child, torch.nn.Linear) and name != "lm_head":
                q = bnb.nn.Linear4bit(child.in_features, child.out_features, bias=child.bias is not None, compute_dtype=dtype, compress_statistics=True, quant_type="nf4", device="meta")
                q.weight = bnb.nn.Params4bit(child.weight.data, requires_grad=False, compress_statistics=True, quant_type="nf4").to("cuda")
                setattr(module, name, q)
                del child
    torch.cuda.empty_cache()
    model.is_loaded_in_4bit = True


def run_case(spec: dict) -> dict:
    """One case, in this process: build, warm up, time."""
    import torch
    from transformers import Trainer, TrainerCallback

    from finetuneflow_trainer.config import parse_config
    from finetuneflow_trainer.data import EncodedDataset, PadCollator
    from finetuneflow_trainer.packing import PackedCollator
    from finetuneflow_trainer.train import ModelSetup, Setup, prepare_model, training_arguments

    device = "cuda" if torch.cuda.is_available() else "cpu"
    config = model_config(spec["shape"], spec["llama_config"])
    steps = spec["warmup"] + spec["timed"]
    batch = spec["batch"]
    items = synthetic_items(steps * batch, config.vocab_size, spec["max_seq_length"], seed=1, median=spec.get("median_tokens", 300))
    ckpt = spec["checkpointing"]
    layers = ckpt if isinstance(ckpt, int) else spec.get("checkpoint_layers")
    cfg = parse_config({
        "base_model": "(random)", "output_dir": "-", "train_file": "-", "method": spec["method"], "max_steps": steps, "per_device_batch_size": batch,
        "gradient_accumulation_steps": 1, "max_seq_length": spec["max_seq_length"], "lora_r": spec.get("lora_r", 16), "lora_alpha": 2 * spec.get("lora_r", 16),
        "checkpointing": "auto" if isinstance(ckpt, int) else ckpt, "checkpoint_layers": layers if ckpt == "auto" or isinstance(ckpt, int) else None,
        "packing": spec["packing"], "use_liger": spec["liger"], "logging_steps": 100_000, "save_steps": 10**6, "learning_rate": 1e-4,
        "compile": spec.get("compile", "none"), "dataloader_workers": spec.get("dataloader_workers", 0),
    })
    load = random_loader(config, spec["method"], device)
    if spec.get("liger_kernels"):
        import finetuneflow_trainer.liger as liger_module

        plain_apply = liger_module.apply
        liger_module.apply = lambda model, wanted, dev: plain_apply(model, wanted, dev, kernels=spec["liger_kernels"])
    if spec["recipe"] == "ours":
        built = prepare_model(cfg, device, config, load)
    else:
        from peft import LoraConfig, get_peft_model, prepare_model_for_kbit_training

        # The recipe from the peft docs: sdpa, pad to the longest of a random batch, checkpointing.
        model = load("sdpa")
        if spec["method"] == "qlora":
            model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=True, gradient_checkpointing_kwargs={"use_reentrant": False})
        else:
            model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
            model.enable_input_require_grads()
        model = get_peft_model(model, LoraConfig(r=cfg.lora_r, lora_alpha=cfg.lora_alpha, lora_dropout=cfg.lora_dropout, target_modules="all-linear", task_type="CAUSAL_LM"))
        built = ModelSetup(model, 0, "sdpa", False, "plain recipe", False, "plain recipe")
    model, attn, packed, liger_on = built.model, built.attn_implementation, built.packing, built.liger
    checkpointed = built.checkpointed_layers if spec["recipe"] == "ours" else config.num_hidden_layers
    collator = PackedCollator() if packed else PadCollator(0)
    dataset = EncodedDataset(items)
    setup = Setup(built, None, dataset, EncodedDataset([]), 0, True, collator, device)

    class Clock(TrainerCallback):
        def __init__(self):
            self.t0 = None
            self.tokens0 = 0
            self.t1 = None

        def on_step_end(self, args, state, control, **kw):
            if device == "cuda":
                torch.cuda.synchronize()
            if state.global_step == spec["warmup"]:
                self.t0, self.tokens0 = time.monotonic(), collator.tokens_seen
                if device == "cuda":
                    torch.cuda.reset_peak_memory_stats()
            self.t1 = time.monotonic()

    with tempfile.TemporaryDirectory() as tmp:
        args = training_arguments(cfg, setup, Path(tmp), save_strategy="no", eval_strategy="no", train_sampling_strategy="random", disable_tqdm=True)
        clock = Clock()
        trainer = Trainer(model=model, args=args, train_dataset=dataset, data_collator=collator, callbacks=[clock])
        trainer.train()
    seconds = clock.t1 - clock.t0
    tokens = collator.tokens_seen - clock.tokens0
    padded = sum(max(len(x["input_ids"]) for x in items[i : i + batch]) * batch for i in range(spec["warmup"] * batch, steps * batch, batch))
    return {
        "tokens_per_second": round(tokens / seconds, 1),
        "step_seconds": round(seconds / spec["timed"], 4),
        "peak_gb": round(torch.cuda.max_memory_allocated() / GB, 2) if device == "cuda" else None,
        "real_tokens": tokens,
        "padded_tokens": tokens if packed else padded,
        "attn": attn,
        "packing": packed,
        "liger": liger_on,
        "checkpointed_layers": checkpointed,
        "decoder_layers": config.num_hidden_layers,
        "device": torch.cuda.get_device_name(0) if device == "cuda" else "cpu",
    }


def case_spec(case: tuple, llama: dict, smoke: bool, extra: dict | None = None) -> dict:
    name, shape, method, recipe, packing, liger, checkpointing = case
    return {
        "shape": shape, "method": method, "recipe": recipe, "packing": packing, "liger": liger, "checkpointing": checkpointing,
        "llama_config": llama, "batch": 4, "max_seq_length": 2048 if not smoke else 256,
        "warmup": 2 if not smoke else 1, "timed": 8 if not smoke else 2, **(extra or {}),
    }


def geometry(case: tuple, llama: dict, smoke: bool, extra: dict | None = None) -> dict:
    """The model config and the largest batch of the timed steps, as the estimator needs them."""
    spec = case_spec(case, llama, smoke, extra)
    config = model_config(spec["shape"], llama)
    b, steps = spec["batch"], spec["warmup"] + spec["timed"]
    items = synthetic_items(steps * b, config.vocab_size, spec["max_seq_length"], seed=1, median=spec.get("median_tokens", 300))
    batches = [[len(x["input_ids"]) for x in items[i : i + b]] for i in range(spec["warmup"] * b, steps * b, b)]
    # Peak memory is measured from the first step on (optimizer state exists from then), so every batch counts.
    all_batches = [[len(x["input_ids"]) for x in items[i : i + b]] for i in range(0, steps * b, b)]
    return {
        "name": case[0], "method": spec["method"], "recipe": spec["recipe"], "packing": spec["packing"], "liger": spec["liger"], "checkpointing": spec["checkpointing"],
        "lora_r": spec.get("lora_r", 16), "config": config.to_dict(), "batch": b,
        "padded_seq_max": max(max(x) for x in batches), "packed_tokens_max": max(sum(x) for x in batches),
        "padded_seq_max_all": max(max(x) for x in all_batches), "packed_tokens_max_all": max(sum(x) for x in all_batches),
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", help="Llama-3.1-8B config.json (../shared/fixtures/hf/meta-llama__Llama-3.1-8B-Instruct)")
    parser.add_argument("--predictions", help="JSON {case name: predicted peak GiB} from the app's estimator")
    parser.add_argument("--out", default=None)
    parser.add_argument("--budget-seconds", type=float, default=480)
    parser.add_argument("--only", default=None, help="run the cases whose name contains this")
    parser.add_argument("--smoke", action="store_true", help="toy shapes on whatever device, two cases (tests)")
    parser.add_argument("--case", help=argparse.SUPPRESS)
    parser.add_argument("--cases", help="JSON file of cases [{name, shape, method, recipe, packing, liger, checkpointing, liger_kernels?, timed?, lora_r?, max_seq_length?}] run instead (bench/cases/)")
    parser.add_argument("--geometry", action="store_true", help="print each case's model config and largest timed batch (for the estimator)")
    args = parser.parse_args()
    if args.case:
        print("RESULT " + json.dumps(run_case(json.loads(args.case))), flush=True)
        return 0

    llama = json.loads(Path(args.config).read_text()) if args.config else {}
    predictions = json.loads(Path(args.predictions).read_text()) if args.predictions else {}
    # auto cases: the layer count the app's estimator chose for each (predictions["checkpoint_layers"]).
    auto_layers = predictions.pop("checkpoint_layers", {})
    cases = CASES
    if args.smoke:
        cases = [
            ("toy LoRA · plain Trainer", "toy", "lora", "baseline", False, False, "all"),
            ("toy LoRA · ours: packing + Liger", "toy", "lora", "ours", True, True, "all"),
            ("toy LoRA · ours: packing + Liger, 1 of 2 layers checkpointed", "toy", "lora", "ours", True, True, 1),
        ]
        llama = llama or {"vocab_size": 512, "max_position_embeddings": 2048, "rms_norm_eps": 1e-5, "rope_theta": 500000.0}
    overrides = {}
    if args.cases:
        extra = json.loads(Path(args.cases).read_text())
        cases = [(c["name"], c["shape"], c["method"], c["recipe"], c["packing"], c["liger"], c["checkpointing"]) for c in extra]
        overrides = {c["name"]: {k: c[k] for k in CASE_FIELDS if k in c} for c in extra}
    for name, k in auto_layers.items():
        overrides.setdefault(name, {})["checkpoint_layers"] = k
    if args.only:
        cases = [c for c in cases if args.only in c[0]]
    if args.geometry:
        print(json.dumps([geometry(c, llama, args.smoke, overrides.get(c[0])) for c in cases]))
        return 0
    out = Path(args.out) if args.out else None
    if out:
        out.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + args.budget_seconds
    results = []
    for name, shape, method, recipe, packing, liger, checkpointing in cases:
        left = deadline - time.monotonic()
        if left < 20:
            results.append({"name": name, "error": "skipped: out of time budget"})
            continue
        spec = case_spec((name, shape, method, recipe, packing, liger, checkpointing), llama, args.smoke, overrides.get(name))
        started = time.monotonic()
        try:
            p = subprocess.run([sys.executable, __file__, "--case", json.dumps(spec)], capture_output=True, text=True, timeout=left)
            line = next((l for l in p.stdout.splitlines() if l.startswith("RESULT ")), None)
            if line is None:
                tail = (p.stderr or "").strip().splitlines()[-3:]
                result = {"name": name, "error": f"exit {p.returncode}: {' | '.join(tail)[-400:]}"}
            else:
                result = {"name": name, **json.loads(line[7:])}
        except subprocess.TimeoutExpired:
            result = {"name": name, "error": "timed out"}
        result["wall_seconds"] = round(time.monotonic() - started, 1)
        if name in predictions and result.get("peak_gb"):
            result["predicted_gb"] = predictions[name]
            result["prediction_error_pct"] = round(100 * (predictions[name] - result["peak_gb"]) / result["peak_gb"], 1)
        results.append(result)
        print(json.dumps(result), file=sys.stderr, flush=True)
        if out:
            (out / "gpu-bench.json").write_text(json.dumps(results, indent=1))
    table = render(results)
    print(table)
    if out:
        (out / "gpu-bench.md").write_text(table + "\n")
    return 0 if all("error" not in r for r in results) else 1


def render(results: list[dict]) -> str:
    lines = ["| case | tokens/s | × plain | peak GiB | estimate GiB (error) | padding | attention | checkpointed | s/step |", "|---|---|---|---|---|---|---|---|---|"]
    base = {}
    for r in results:
        key = r["name"].split(" · ")[0]
        if "plain Trainer" in r["name"] and r.get("tokens_per_second"):
            base[key] = r["tokens_per_second"]
    for r in results:
        if "error" in r:
            lines.append(f"| {r['name']} | {r['error']} | | | | | | | |")
            continue
        key = r["name"].split(" · ")[0]
        speedup = f"{r['tokens_per_second'] / base[key]:.2f}×" if key in base else "–"
        waste = 1 - r["real_tokens"] / r["padded_tokens"] if r["padded_tokens"] else 0
        est = f"{r['predicted_gb']} ({r['prediction_error_pct']:+.1f}%)" if "predicted_gb" in r else "–"
        peak = r["peak_gb"] if r["peak_gb"] is not None else "–"
        ckpt = f"{r['checkpointed_layers']}/{r['decoder_layers']}" if r.get("decoder_layers") else "–"
        lines.append(f"| {r['name']} | {r['tokens_per_second']:,.0f} | {speedup} | {peak} | {est} | {100 * waste:.0f}% | {r['attn']}{' + Liger' if r['liger'] else ''} | {ckpt} | {r['step_seconds']} |")
    device = next((r["device"] for r in results if "device" in r), "?")
    lines.append("")
    lines.append(f"device: {device}; batch 4 × up to 2048 tokens, random order, bf16, LoRA r=16 all-linear")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
