"""The stdout protocol: one JSON object per line, flushed, snake_case keys.

Nothing else may reach stdout. Human-readable logs go to stderr (see `log`).
The schema lives in events.schema.json, generated from the server's zod source.
"""

from __future__ import annotations

import json
import math
import os
import sys
from typing import Any, TextIO

# The real stdout, kept before anything (a library's print) can write to it:
# cli.main() points sys.stdout at stderr so stray prints cannot corrupt the protocol.
_protocol_out: TextIO = sys.stdout


def use_protocol_stream(stream: TextIO) -> None:
    global _protocol_out
    _protocol_out = stream


def _clean(value: Any) -> Any:
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value


def protocol_stream() -> TextIO:
    return _protocol_out


def _speaks(event: str) -> bool:
    """Under torchrun only rank 0 reports progress; any rank may report the error that stops it."""
    return event == "error" or os.environ.get("RANK", "0") == "0"


def emit(event: str, **fields: Any) -> None:
    if not _speaks(event):
        return
    line = json.dumps(_clean({"event": event, **fields}), ensure_ascii=False, separators=(",", ":"))
    _protocol_out.write(line + "\n")
    _protocol_out.flush()


def log(message: str) -> None:
    sys.stderr.write(message.rstrip("\n") + "\n")
    sys.stderr.flush()


def emit_error(error_code: str, message: str, advice: str | None = None) -> None:
    emit("error", error_code=error_code, message=message, advice=advice)

