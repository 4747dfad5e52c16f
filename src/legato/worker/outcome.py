"""What a worker function can say besides returning its output: fail, or ask to be called back."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

__all__ = ["InProgress", "TaskError"]


def _seconds(value: timedelta | float | None) -> int | None:
    if value is None:
        return None
    seconds = value.total_seconds() if isinstance(value, timedelta) else float(value)
    return max(0, round(seconds))


class TaskError(Exception):
    """Raise to fail the task with this message as its `reasonForIncompletion`.

    `non_retryable=True` reports FAILED_WITH_TERMINAL_ERROR: the engine does not retry, and
    the workflow fails (unless the task is optional). Otherwise the task is FAILED and the
    engine retries it as its TaskDef says; `retry_after` (seconds or a timedelta) replaces
    the TaskDef's delay for this retry (Legato's `retryAfterSeconds`; other servers ignore
    it). `output` becomes the failed task's output.
    """

    def __init__(
        self,
        message: str,
        *,
        non_retryable: bool = False,
        retry_after: timedelta | float | None = None,
        output: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.non_retryable = non_retryable
        self.retry_after_seconds = _seconds(retry_after)
        self.output = dict(output or {})


class InProgress:
    """Return this to say "not done yet": the task goes back to its queue and is offered to a
    worker again after `callback_after` (Conductor's poll-later pattern), with `output` as
    its output so far."""

    def __init__(
        self,
        callback_after: timedelta | float = 0,
        *,
        output: Mapping[str, Any] | None = None,
    ) -> None:
        self.callback_after_seconds = _seconds(callback_after) or 0
        self.output = dict(output or {})

    def __repr__(self) -> str:
        return f"InProgress(callback_after={self.callback_after_seconds}, output={self.output!r})"
