"""Failures the trainer reports as an `error` event with a code and advice, and its exit codes."""

from __future__ import annotations

# The process's exit codes, as the app's supervisor reads them (src/training/supervisor.ts).
EXIT_OK = 0
EXIT_ERROR = 2
EXIT_CANCELLED = 3
EXIT_OOM = 4


class TrainerError(Exception):
    def __init__(self, error_code: str, message: str, advice: str | None = None, exit_code: int = EXIT_ERROR):
        super().__init__(message)
        self.error_code = error_code
        self.message = message
        self.advice = advice
        self.exit_code = exit_code


OOM_ADVICE = (
    "Lower per_device_batch_size (raise gradient_accumulation_steps to keep the effective batch), "
    "lower max_seq_length, or switch to QLoRA."
)
