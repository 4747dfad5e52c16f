"""Run a worker function on one polled task and say how it went, as a Conductor TaskResult.

Shared by the worker runtime (`Worker`), `legato.testing` and `legato.embedded`: the same
binding, the same outcomes, whatever delivers the task.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import traceback
from concurrent.futures import Executor
from typing import Any

from legato.worker.binding import InputError, output_of
from legato.worker.context import TaskContext
from legato.worker.outcome import InProgress, TaskError
from legato.worker.task import WorkerTask

__all__ = ["execute", "hand_back", "heartbeat_result"]

MAX_TRACEBACK_CHARS = 4000


def _base(task: dict[str, Any], worker_id: str) -> dict[str, Any]:
    return {
        "workflowInstanceId": task["workflowInstanceId"],
        "taskId": task["taskId"],
        "workerId": worker_id,
    }


async def execute(
    worker: WorkerTask[..., Any],
    task: dict[str, Any],
    context: TaskContext,
    executor: Executor | None = None,
) -> dict[str, Any]:
    """The TaskResult of running `worker` on `task` (sync functions run on `executor`)."""
    result = _base(task, context.worker_id)
    try:
        kwargs = worker.binding.bind(context.input, context)
        if worker.is_async:
            value = await worker.fn(**kwargs)
        else:
            call = functools.partial(contextvars.copy_context().run, worker.fn, **kwargs)
            value = await asyncio.get_running_loop().run_in_executor(executor, call)
    except InputError as exc:
        result["status"] = "FAILED_WITH_TERMINAL_ERROR"
        result["reasonForIncompletion"] = f"Invalid input for task {worker.name}: {exc}"
    except TaskError as exc:
        result["status"] = "FAILED_WITH_TERMINAL_ERROR" if exc.non_retryable else "FAILED"
        result["reasonForIncompletion"] = exc.message
        result["outputData"] = exc.output
        if exc.retry_after_seconds is not None and not exc.non_retryable:
            result["retryAfterSeconds"] = exc.retry_after_seconds
    except Exception as exc:
        result["status"] = "FAILED"
        result["reasonForIncompletion"] = f"{type(exc).__name__}: {exc}"
        context.log(traceback.format_exc()[-MAX_TRACEBACK_CHARS:])
    else:
        if isinstance(value, InProgress):
            result["status"] = "IN_PROGRESS"
            result["callbackAfterSeconds"] = value.callback_after_seconds
            result["outputData"] = value.output
        else:
            result["status"] = "COMPLETED"
            result["outputData"] = output_of(value)
    logs = context.drain_logs()
    if logs:
        result["logs"] = logs
    return result


def heartbeat_result(task: dict[str, Any], context: TaskContext) -> dict[str, Any]:
    """A heartbeat: IN_PROGRESS with `extendLease`, which only resets the response timeout
    (and carries the log lines written since the last one)."""
    result = _base(task, context.worker_id)
    result["status"] = "IN_PROGRESS"
    result["extendLease"] = True
    logs = context.drain_logs()
    if logs:
        result["logs"] = logs
    return result


def hand_back(task: dict[str, Any], worker_id: str, reason: str) -> dict[str, Any]:
    """Give a task back unfinished: IN_PROGRESS without `extendLease` puts it back on its
    queue, to be offered to a worker again at once."""
    result = _base(task, worker_id)
    result["status"] = "IN_PROGRESS"
    result["callbackAfterSeconds"] = 0
    result["logs"] = [{"log": reason}]
    return result
