"""The server that started us is gone (killed with SIGKILL, crashed): nobody reads our
events any more, and on a GPU we would hold video memory for nothing. A daemon thread
polls the server's pid (FTF_SUPERVISOR_PID, set by the supervisor); once it is gone it
asks the process to stop as a cancel would (SIGTERM: training checkpoints at the next
step end, so the restarted server can resume), and exits outright after a short grace.
Every process of a run polls, ranks included, so none outlives the server by more than
POLL_SECONDS + GRACE_SECONDS."""

from __future__ import annotations

import os
import signal
import threading
import time
from typing import Callable

from .errors import EXIT_CANCELLED

POLL_SECONDS = 0.5
GRACE_SECONDS = 3.5


def alive(pid: int) -> bool:
    """Running: not gone, and not a zombie (killed but not yet reaped by its parent)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by someone else
        return True
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):  # no /proc (macOS): signal 0 is all we know
        return True


def watch(
    pid: int,
    *,
    poll: float = POLL_SECONDS,
    grace: float = GRACE_SECONDS,
    stop: Callable[[], None] | None = None,
    exit_now: Callable[[int], None] = os._exit,
) -> threading.Thread:
    """Starts the daemon thread; `stop` defaults to SIGTERM to this process."""

    def ask_to_stop() -> None:
        os.kill(os.getpid(), signal.SIGTERM)

    def loop() -> None:
        while alive(pid):
            time.sleep(poll)
        (stop or ask_to_stop)()
        time.sleep(grace)
        exit_now(EXIT_CANCELLED)

    thread = threading.Thread(target=loop, name="ftf-supervisor-watchdog", daemon=True)
    thread.start()
    return thread


def watch_supervisor_from_env() -> None:
    raw = os.environ.get("FTF_SUPERVISOR_PID", "")
    if raw.isdigit() and int(raw) > 1:
        watch(int(raw))
