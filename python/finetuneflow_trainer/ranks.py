"""Several processes (DDP through torchrun): who speaks, and agreeing on a stop.

`train` with num_processes > 1 re-launches itself under torchrun (never home-made
distribution) and relays rank 0's event stream; each rank is an ordinary `train`.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

from .errors import EXIT_CANCELLED, EXIT_OK


def rank() -> int:
    return int(os.environ.get("RANK", "0"))


def world_size() -> int:
    return int(os.environ.get("WORLD_SIZE", "1"))


def in_launched_rank() -> bool:
    return "RANK" in os.environ and "WORLD_SIZE" in os.environ


def visible_gpus() -> int:
    import torch

    return torch.cuda.device_count() if torch.cuda.is_available() else 0


def any_rank(flag: bool) -> bool:
    """True on every rank when it is true on one (a cancel seen by one rank stops all at the same step)."""
    import torch
    import torch.distributed as dist

    if world_size() <= 1 or not (dist.is_available() and dist.is_initialized()):
        return flag
    device = f"cuda:{torch.cuda.current_device()}" if dist.get_backend() == "nccl" else "cpu"
    value = torch.tensor([1 if flag else 0], device=device)
    dist.all_reduce(value, op=dist.ReduceOp.MAX)
    return bool(value.item())


# Terminal event -> exit code, as a single-process trainer would have exited.
_EXIT_FOR = {"complete": EXIT_OK, "cancelled": EXIT_CANCELLED}


def launch(processes: int, argv: list[str], protocol) -> int:
    """Runs `python -m finetuneflow_trainer <argv>` on `processes` ranks and relays rank 0's
    events. Signals are forwarded; torchrun passes them to every rank."""
    cmd = [
        sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={processes}",
        "-m", "finetuneflow_trainer", *argv,
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=None, text=True, bufsize=1)

    def forward(signum, _frame):
        proc.send_signal(signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    code: int | None = None
    assert proc.stdout is not None
    for line in proc.stdout:
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            sys.stderr.write(line)  # the launcher's own chatter is log, not protocol
            continue
        protocol.write(line if line.endswith("\n") else line + "\n")
        protocol.flush()
        kind = event.get("event") if isinstance(event, dict) else None
        if kind in _EXIT_FOR:
            code = _EXIT_FOR[kind]
        elif kind == "error":
            code = 4 if event.get("error_code") == "cuda_oom" else 2
    launcher_code = proc.wait()
    if code is None:
        return launcher_code or 2
    return code
