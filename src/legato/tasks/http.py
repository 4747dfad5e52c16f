"""HTTP: queued for the in-server HTTP runner, never called inside a decision.

A runner's hold on a task is a lease: unless the task definition sets responseTimeoutSeconds,
the task gets one that covers the call's own time limits (connection and read timeouts) plus a
margin, and the runner gives up on a call before it ends. A task still IN_PROGRESS when it
ends was held by a runner that stopped (its node died): the decider offers it again instead of
timing it out (see engine/timeouts.py), so a node's death strands no HTTP task.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from legato.model import TaskType
from legato.tasks.base import Handler

if TYPE_CHECKING:
    from legato.engine.decider import Run
    from legato.model import Task, WorkflowTask

QUEUE = TaskType.HTTP.value
DEFAULT_TIMEOUT_MS = 3000  # connection and read timeouts when the request sets none
LEASE_MARGIN_MS = 30_000  # a runner's lease outlasts the call's time limits by this much


def request_of(data: dict[str, Any]) -> dict[str, Any]:
    """The request an HTTP task's input describes (`http_request`, or the input itself)."""
    request = data.get("http_request")
    return request if isinstance(request, dict) else data


def timeouts_ms(request: dict[str, Any]) -> tuple[int, int]:
    """(connection timeout, read timeout) of a request, in ms."""
    return _ms(request.get("connectionTimeOut")), _ms(request.get("readTimeOut"))


def call_limit_ms(data: dict[str, Any]) -> int:
    """How long a runner lets one call of this input take at most, in all."""
    connect_ms, read_ms = timeouts_ms(request_of(data))
    return connect_ms + read_ms + LEASE_MARGIN_MS // 2


def lease_seconds(data: dict[str, Any]) -> int:
    connect_ms, read_ms = timeouts_ms(request_of(data))
    return math.ceil((connect_ms + read_ms + LEASE_MARGIN_MS) / 1000)


def _ms(value: Any) -> int:
    try:
        ms = int(value)
    except (TypeError, ValueError):
        return DEFAULT_TIMEOUT_MS
    return ms if ms > 0 else DEFAULT_TIMEOUT_MS


def schedule(
    run: Run, wt: WorkflowTask, iteration: int, retry_of: Task | None, delay_ms: int
) -> None:
    task = run.new_task(wt, iteration, task_type=QUEUE, retry_of=retry_of)
    if task.response_timeout_seconds <= 0:
        task.response_timeout_seconds = lease_seconds(task.input_data)
    delay_ms = max(delay_ms, wt.start_delay * 1000)
    task.callback_after_seconds = delay_ms // 1000
    run.enqueue(task, delay_ms=delay_ms, queue_name=QUEUE)


HANDLER = Handler(schedule=schedule, queued=True, runner_lease=True)
