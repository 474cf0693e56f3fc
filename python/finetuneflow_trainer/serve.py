"""`serve --run RUN_DIR`: the playground's long-lived worker.

Loads the base model and the run's adapter once, then answers requests read as JSON
lines on stdin, streaming token by token on stdout:

  in   {"id", "messages": [{role, content}], "target": "tuned" | "base", "max_new_tokens", "temperature"}
  out  {"event": "ready", "device"}                     once loaded
       {"event": "token", "id", "text"}                 each new piece of text
       {"event": "done", "id", "tokens", "seconds", "stopped"}
       {"event": "error", "id", "error_code", "message"}

"base" runs the same weights with the adapter disabled (no second copy in memory).
After `idle_seconds` without a request the worker exits; the app starts it again.
"""

from __future__ import annotations

import json
import select
import sys
import time
from pathlib import Path

from .events import emit


class _PieceStreamer:
    """Emits the text each new token adds, decoding only a short window (the incremental
    detokenisation of inference servers): text = decode(prefix..new) minus decode(prefix..read),
    held back while it ends in a partial multi-byte character."""

    def __init__(self, tokenizer, request_id: str, prompt_len: int) -> None:
        self.tokenizer, self.id, self.prompt_len = tokenizer, request_id, prompt_len
        self.ids: list[int] = []
        self.prefix = self.read = 0
        self.first = True

    def put(self, value) -> None:
        if self.first:  # generate() passes the prompt first
            self.first = False
            return
        self.ids.extend(int(t) for t in value.reshape(-1).tolist())
        decode = self.tokenizer.decode
        before = decode(self.ids[self.prefix:self.read], skip_special_tokens=True)
        after = decode(self.ids[self.prefix:], skip_special_tokens=True)
        if len(after) > len(before) and not after.endswith("\ufffd"):
            emit("token", id=self.id, text=after[len(before):])
            self.prefix, self.read = self.read, len(self.ids)

    def end(self) -> None:
        pass


def answer(model, tokenizer, request: dict, template_kwargs: dict) -> None:
    import torch

    rid = str(request.get("id", ""))
    messages = request["messages"]
    max_new = max(1, min(int(request.get("max_new_tokens", 256)), 4096))
    temperature = float(request.get("temperature", 0.0))
    text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True, **template_kwargs)
    ids = tokenizer(text, add_special_tokens=False, return_tensors="pt").to(model.device)
    streamer = _PieceStreamer(tokenizer, rid, ids["input_ids"].shape[1])
    sampling = {"do_sample": True, "temperature": temperature, "top_p": 0.95} if temperature > 0 else {"do_sample": False}
    started = time.monotonic()
    with torch.no_grad():
        if request.get("target") == "base":
            with model.disable_adapter():
                model.generate(**ids, max_new_tokens=max_new, streamer=streamer, pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id, **sampling)
        else:
            model.generate(**ids, max_new_tokens=max_new, streamer=streamer, pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id, **sampling)
    seconds = time.monotonic() - started
    stopped = len(streamer.ids) < max_new or (streamer.ids and streamer.ids[-1] == tokenizer.eos_token_id)
    emit("done", id=rid, tokens=len(streamer.ids), seconds=round(seconds, 4), stopped=bool(stopped))


def run(run_dir: str, idle_seconds: float = 600.0) -> int:
    from .evaluate import _load_tuned

    cfg, tokenizer, model, _ = _load_tuned(Path(run_dir))
    model.eval()
    emit("ready", device=str(model.device))
    while True:
        readable, _, _ = select.select([sys.stdin], [], [], idle_seconds)
        if not readable:
            return 0  # idle: the app starts a new worker on the next request
        line = sys.stdin.readline()
        if not line:
            return 0  # the app closed our stdin
        if not line.strip():
            continue
        try:
            request = json.loads(line)
            if not isinstance(request, dict) or not isinstance(request.get("messages"), list) or not request["messages"]:
                raise ValueError("a request needs messages")
        except ValueError as e:
            emit("error", id=None, error_code="bad_request", message=f"Unreadable request: {e}")
            continue
        try:
            answer(model, tokenizer, request, cfg.chat_template_kwargs)
        except Exception as e:  # noqa: BLE001 - one bad request must not end the worker
            emit("error", id=str(request.get("id", "")), error_code="generation_failed", message=f"{type(e).__name__}: {e}"[:500])
