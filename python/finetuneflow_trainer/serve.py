"""`serve --run RUN_DIR`: the playground's long-lived worker.

Loads the base model and the run's adapter once, then answers requests read as JSON
lines on stdin, streaming token by token on stdout:

  in   {"id", "messages": [{role, content}], "target": "tuned" | "base", "max_new_tokens",
        "min_new_tokens", "temperature", "time_limit_seconds", "max_prompt_tokens"}
       {"cancel": "<id>"}                               stop that request at its next token
  out  {"event": "ready", "device"}                     once loaded
       {"event": "token", "id", "text"}                 each new piece of text
       {"event": "done", "id", "tokens", "seconds", "stopped", "ended"}
       {"event": "error", "id", "error_code", "message"}

`ended` says why a reply ended: "stop" (the model ended it), "length" (max_new_tokens),
"cancelled" (the app sent a cancel: its client went away) or "time_limit". stdin is read
on its own thread, so a cancel reaches a request while it generates. A prompt longer
than `max_prompt_tokens` is refused (the app fits the conversation first; this is the
last word). "base" runs the same weights with the adapter disabled (no second copy in
memory). After `idle_seconds` without a request the worker exits; the app starts it again.
"""

from __future__ import annotations

import json
import queue
import sys
import threading
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


class Inbox:
    """stdin read on a thread: requests queue up in order, cancels take effect at once."""

    def __init__(self, stream) -> None:
        self.requests: queue.Queue[dict | None] = queue.Queue()
        self.cancelled: set[str] = set()
        self._stream = stream
        threading.Thread(target=self._read, name="ftf-serve-inbox", daemon=True).start()

    def _read(self) -> None:
        for line in self._stream:
            if not line.strip():
                continue
            try:
                message = json.loads(line)
                if not isinstance(message, dict):
                    raise ValueError("a request is a JSON object")
            except ValueError as e:
                emit("error", id=None, error_code="bad_request", message=f"Unreadable request: {e}")
                continue
            if "cancel" in message:
                self.cancelled.add(str(message["cancel"]))
            else:
                self.requests.put(message)
        self.requests.put(None)  # the app closed our stdin

    def next(self, idle_seconds: float) -> dict | None:
        """The next request; None when idle too long or stdin closed."""
        try:
            return self.requests.get(timeout=idle_seconds)
        except queue.Empty:
            return None


def _stop_when(should_stop):
    """A stopping criterion from a plain predicate, checked after each new token."""
    import torch
    from transformers import StoppingCriteria

    class _Stop(StoppingCriteria):
        def __call__(self, input_ids, scores, **kwargs):
            return torch.full((input_ids.shape[0],), bool(should_stop()), dtype=torch.bool, device=input_ids.device)

    return _Stop()


def answer(model, tokenizer, request: dict, template_kwargs: dict, cancelled: set[str] | None = None) -> None:
    import torch
    from transformers import StoppingCriteriaList

    cancelled = cancelled if cancelled is not None else set()
    rid = str(request.get("id", ""))
    messages = request["messages"]
    max_new = max(1, min(int(request.get("max_new_tokens", 256)), 4096))
    temperature = float(request.get("temperature", 0.0))
    time_limit = float(request["time_limit_seconds"]) if request.get("time_limit_seconds") is not None else 600.0
    # At least this many tokens before the model may end (the end-of-sequence token is held back).
    min_new = max(0, min(int(request.get("min_new_tokens", 0)), max_new))
    started = time.monotonic()
    if rid in cancelled:
        cancelled.discard(rid)
        emit("done", id=rid, tokens=0, seconds=0.0, stopped=False, ended="cancelled")
        return
    text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True, **template_kwargs)
    ids = tokenizer(text, add_special_tokens=False, return_tensors="pt").to(model.device)
    prompt_tokens = int(ids["input_ids"].shape[1])
    limit = request.get("max_prompt_tokens")
    if isinstance(limit, int) and prompt_tokens > limit:
        emit("error", id=rid, error_code="prompt_too_long", message=f"The conversation is {prompt_tokens} tokens; this worker reads at most {limit}.")
        return
    streamer = _PieceStreamer(tokenizer, rid, prompt_tokens)
    sampling = {"do_sample": True, "temperature": temperature, "top_p": 0.95} if temperature > 0 else {"do_sample": False}
    ended: list[str] = []

    def should_stop() -> bool:
        if rid in cancelled:
            ended.append("cancelled")
        elif time.monotonic() - started > time_limit:
            ended.append("time_limit")
        return bool(ended)

    stopping = StoppingCriteriaList([_stop_when(should_stop)])
    with torch.no_grad():
        kwargs = dict(max_new_tokens=max_new, min_new_tokens=min_new, streamer=streamer, stopping_criteria=stopping, pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id, **sampling)
        if request.get("target") == "base":
            with model.disable_adapter():
                model.generate(**ids, **kwargs)
        else:
            model.generate(**ids, **kwargs)
    cancelled.discard(rid)
    seconds = time.monotonic() - started
    eos = bool(streamer.ids) and streamer.ids[-1] == tokenizer.eos_token_id
    why = ended[0] if ended else ("stop" if eos or len(streamer.ids) < max_new else "length")
    emit("done", id=rid, tokens=len(streamer.ids), seconds=round(seconds, 4), stopped=why == "stop", ended=why)


def run(run_dir: str, idle_seconds: float = 600.0) -> int:
    from .evaluate import _load_tuned

    cfg, tokenizer, model, _ = _load_tuned(Path(run_dir))
    model.eval()
    emit("ready", device=str(model.device))
    inbox = Inbox(sys.stdin)
    while True:
        request = inbox.next(idle_seconds)
        if request is None:
            return 0  # idle or stdin closed: the app starts a new worker on the next request
        if not isinstance(request.get("messages"), list) or not request["messages"]:
            emit("error", id=None, error_code="bad_request", message="Unreadable request: a request needs messages")
            continue
        try:
            answer(model, tokenizer, request, cfg.chat_template_kwargs, inbox.cancelled)
        except Exception as e:  # noqa: BLE001 - one bad request must not end the worker
            emit("error", id=str(request.get("id", "")), error_code="generation_failed", message=f"{type(e).__name__}: {e}"[:500])
