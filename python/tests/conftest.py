"""Shared fixtures: a tiny random Llama model built on the fly (nothing is downloaded),
a small dataset, and a helper that runs the real CLI and checks every stdout line
against the event schema."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import jsonschema
import pytest

PYTHON_DIR = Path(__file__).resolve().parents[1]
SCHEMA = json.loads((PYTHON_DIR / "finetuneflow_trainer" / "events.schema.json").read_text())
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)
RUN_FILES_SCHEMA = json.loads((PYTHON_DIR / "finetuneflow_trainer" / "run-files.schema.json").read_text())
SERVE_SCHEMA = json.loads((PYTHON_DIR / "finetuneflow_trainer" / "serve-protocol.schema.json").read_text())


def serve_event(line: str) -> dict:
    """One line of the serve worker's stdout, checked against the protocol the app parses it with."""
    event = json.loads(line)
    jsonschema.Draft202012Validator(SERVE_SCHEMA["$defs"]["event"]).validate(event)
    return event


def serve_request(request: dict) -> str:
    """A request line for the serve worker, checked against the protocol the app writes it with."""
    jsonschema.Draft202012Validator(SERVE_SCHEMA["$defs"]["request"]).validate(request)
    return json.dumps(request) + "\n"


def validate_run_file(run_dir: Path, name: str) -> object:
    """A file of the run's folder, checked against the schema the app parses it with."""
    value = json.loads((run_dir / name).read_text())
    jsonschema.Draft202012Validator(RUN_FILES_SCHEMA["$defs"][name]).validate(value)
    return value

COUNTRIES = [
    ("France", "Paris"), ("Spain", "Madrid"), ("Italy", "Rome"), ("Germany", "Berlin"), ("Japan", "Tokyo"),
    ("Egypt", "Cairo"), ("Peru", "Lima"), ("Chile", "Santiago"), ("Kenya", "Nairobi"), ("Canada", "Ottawa"),
]


def parse_events(stdout: str) -> list[dict]:
    events = []
    for line in stdout.splitlines():
        event = json.loads(line)  # a non-JSON line on stdout is a protocol bug
        VALIDATOR.validate(event)
        events.append(event)
    return events


class CliResult:
    def __init__(self, code: int, stdout: str, stderr: str):
        self.code, self.stderr = code, stderr
        self.events = parse_events(stdout)

    def of(self, kind: str) -> list[dict]:
        return [e for e in self.events if e["event"] == kind]


def cli_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "finetuneflow_trainer", *args]


def run_cli(*args: str, timeout: float = 300) -> CliResult:
    p = subprocess.run(cli_command(*args), cwd=PYTHON_DIR, capture_output=True, text=True, timeout=timeout, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    return CliResult(p.returncode, p.stdout, p.stderr)


def run_cli_until(predicate, *args: str, sig=signal.SIGTERM, timeout: float = 300) -> CliResult:
    """Runs the CLI and sends `sig` once an event satisfies `predicate`."""
    proc = subprocess.Popen(cli_command(*args), cwd=PYTHON_DIR, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines, sent, deadline = [], False, time.monotonic() + timeout
    assert proc.stdout is not None
    for line in proc.stdout:
        lines.append(line)
        if not sent and predicate(json.loads(line)):
            proc.send_signal(sig)
            sent = True
        if time.monotonic() > deadline:
            proc.kill()
            break
    code = proc.wait(timeout=60)
    stderr = proc.stderr.read() if proc.stderr else ""
    assert sent, f"the run ended before the signal could be sent:\n{stderr[-2000:]}"
    return CliResult(code, "".join(lines), stderr)


def write_rows(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def capital_rows(n: int) -> list[dict]:
    return [
        {"instruction": f"What is the capital of {c}?", "input": "", "output": f"The capital of {c} is {k}."}
        for c, k in (COUNTRIES[i % len(COUNTRIES)] for i in range(n))
    ]


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("tiny-model")
    result = run_cli("make-tiny-model", str(out))
    assert result.code == 0, result.stderr[-2000:]
    return out


@pytest.fixture
def dataset(tmp_path) -> tuple[Path, Path]:
    rows = capital_rows(60)
    return write_rows(tmp_path / "train.jsonl", rows[:50]), write_rows(tmp_path / "eval.jsonl", rows[50:])


def make_config(tmp_path: Path, model: Path, train: Path, evalf: Path | None, **overrides) -> Path:
    cfg = {
        "base_model": str(model),
        "output_dir": str(tmp_path / "run"),
        "train_file": str(train),
        "eval_file": str(evalf) if evalf else None,
        "max_steps": 30,
        "learning_rate": 5e-3,
        "per_device_batch_size": 4,
        "gradient_accumulation_steps": 1,
        "logging_steps": 5,
        "eval_steps": 10,
        "save_steps": 10,
        "checkpointing": "none",
        "max_seq_length": 128,
        "lora_r": 8,
        "lora_alpha": 16,
        **overrides,
    }
    path = tmp_path / "config.json"
    path.write_text(json.dumps(cfg))
    return path
