"""Retry delays (TaskDef retryLogic)."""

from __future__ import annotations

from legato.model import RetryLogic, TaskDef

_INT_MAX = 2**31 - 1


def delay_ms(task_def: TaskDef, retry_count: int, rand: float) -> int:
    """Delay before attempt `retry_count + 1`, in ms; `rand` in [0, 1) draws the jitter."""
    base = task_def.retry_delay_seconds
    if task_def.retry_logic == RetryLogic.LINEAR_BACKOFF:
        seconds = base * task_def.backoff_scale_factor * (retry_count + 1)
    elif task_def.retry_logic == RetryLogic.EXPONENTIAL_BACKOFF:
        seconds = base * (2 ** min(retry_count, 62))
    else:
        seconds = base
    seconds = min(seconds, _INT_MAX)
    if task_def.max_retry_delay_seconds > 0:
        seconds = min(seconds, task_def.max_retry_delay_seconds)
    jitter = int(rand * (task_def.backoff_jitter_ms + 1)) if task_def.backoff_jitter_ms else 0
    return seconds * 1000 + jitter
