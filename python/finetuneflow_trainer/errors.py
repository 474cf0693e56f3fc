"""Failures the trainer reports as an `error` event with a code and advice."""

from __future__ import annotations


class TrainerError(Exception):
    def __init__(self, error_code: str, message: str, advice: str | None = None, exit_code: int = 2):
        super().__init__(message)
        self.error_code = error_code
        self.message = message
        self.advice = advice
        self.exit_code = exit_code


OOM_ADVICE = (
    "Lower per_device_batch_size (raise gradient_accumulation_steps to keep the effective batch), "
    "lower max_seq_length, or switch to QLoRA."
)
