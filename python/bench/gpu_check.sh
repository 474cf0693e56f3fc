#!/usr/bin/env bash
# The GPU checks, from a clean checkout on a CUDA machine with the trainer's Python env:
# the GPU tests (QLoRA, bitsandbytes, Liger, packing, probe, selective checkpointing), then
# the GPU benchmark.
#   python/bench/gpu_check.sh [OUT_DIR]        (PYTHON=... to pick the interpreter)
#   CASES=bench/cases/estimator-holdout.json python/bench/gpu_check.sh   (the estimator's out-of-sample cases)
# Predictions (each case's estimated peak, and the layer count of each `auto` case) come from
# the app's estimator, committed beside the cases (bun bench/trainer-gpu.bench.ts
# --predictions-only; tests/gpu-predictions.test.ts keeps them current). Budget: tests
# ≤ 150 s + bench ≤ 270 s (no case starts once the budget is spent): under 8 minutes on an
# H200 (measured 8.1 min at 150 + 330).
set -u
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
OUT=${1:-/tmp/ftf-gpu-check}
CONFIG=${LLAMA_CONFIG:-../../shared/fixtures/hf/meta-llama__Llama-3.1-8B-Instruct/config.json}
CASES=${CASES:-}
PREDICTIONS=${PREDICTIONS:-$( [ -n "$CASES" ] && echo "${CASES%.json}.predictions.json" || echo bench/cases/predictions.json )}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee "$OUT/gpu.txt"
"$PY" -c "import torch, transformers, peft; print('torch', torch.__version__, 'transformers', transformers.__version__, 'peft', peft.__version__)" | tee -a "$OUT/gpu.txt"
if [ -z "${SKIP_TESTS:-}" ]; then
  timeout "${TEST_SECONDS:-150}" "$PY" -m pytest -q -p no:cacheprovider \
    tests/test_scale.py -k "gpu or liger or probe_on" \
    tests/test_checkpointing.py \
    tests/test_train.py::test_qlora_trains_on_the_gpu \
    tests/test_hardware.py::test_bnb_probe_runs_a_real_4bit_layer_on_the_gpu 2>&1 | tail -40 | tee "$OUT/gpu-tests.log"
fi
"$PY" bench/gpu_bench.py --config "$CONFIG" ${CASES:+--cases "$CASES"} --predictions "$PREDICTIONS" --out "$OUT" --budget-seconds "${BENCH_SECONDS:-270}" 2>&1 | tee "$OUT/gpu-bench.log"
