"""When the server that started the trainer is killed (SIGKILL, no chance to stop it),
the trainer notices within a second, checkpoints as a cancel would, and is gone within
5 s, ranks and all."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
import time

from finetuneflow_trainer import watchdog

from conftest import PYTHON_DIR, cli_command, make_config


def test_the_watchdog_stops_then_exits_once_the_supervisor_is_gone():
    server = subprocess.Popen(["sleep", "30"])
    calls: list[tuple[str, float]] = []
    watchdog.watch(server.pid, poll=0.05, grace=0.2, stop=lambda: calls.append(("stop", time.monotonic())), exit_now=lambda code: calls.append((f"exit {code}", time.monotonic())))
    time.sleep(0.3)
    assert calls == []  # the supervisor lives: nothing happens
    killed_at = time.monotonic()
    server.kill()
    server.wait()  # reaped, as init reaps a killed server
    deadline = time.monotonic() + 5
    while len(calls) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert [c[0] for c in calls] == ["stop", "exit 3"]
    assert calls[0][1] - killed_at < 0.5
    assert 0.2 <= calls[1][1] - calls[0][1] < 0.6


def test_a_training_run_is_gone_within_5_s_of_a_server_kill_9(tiny_model, dataset, tmp_path):
    train, evalf = dataset
    config = make_config(tmp_path, tiny_model, train, evalf, max_steps=5000, save_steps=100000, eval_steps=100000, logging_steps=1)
    # A stand-in server: it starts the trainer as the app does (FTF_SUPERVISOR_PID = its pid,
    # the trainer in its own process group), relays the trainer's pid, then waits forever.
    server_code = textwrap.dedent(
        f"""
        import os, subprocess, sys
        env = {{**os.environ, "PYTHONUNBUFFERED": "1", "FTF_SUPERVISOR_PID": str(os.getpid())}}
        p = subprocess.Popen({cli_command("train", "--config", str(config))!r}, cwd={str(PYTHON_DIR)!r}, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, start_new_session=True)
        print(p.pid, flush=True)
        for line in p.stdout:
            print(line, end="", flush=True)
        """
    )
    server = subprocess.Popen([sys.executable, "-c", server_code], stdout=subprocess.PIPE, text=True)
    assert server.stdout is not None
    trainer_pid = int(server.stdout.readline())
    for line in server.stdout:
        if json.loads(line).get("event") == "log":
            break
    server.send_signal(signal.SIGKILL)
    server.wait()
    killed_at = time.monotonic()
    # Orphaned, it is reparented; whether anyone reaps it or not, a zombie counts as gone.
    while watchdog.alive(trainer_pid) and time.monotonic() - killed_at < 10:
        time.sleep(0.05)
    gone_after = time.monotonic() - killed_at
    assert not watchdog.alive(trainer_pid), "the trainer outlived the server by 10 s"
    assert gone_after < 5, f"the trainer outlived the server by {gone_after:.1f} s"
