"""`worker_task`: a function declared as the worker of one task type.

The decorator returns a `WorkerTask`: calling it calls the function (unit tests stay plain),
and it carries what the runtime needs (task name, concurrency, heartbeat, domain) and what a
definition needs (the task name, an optional `TaskDef`). Nothing is registered anywhere:
pass the worker tasks to `Worker([...])` (or list them in a module for `legato worker`).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, Generic, ParamSpec, TypeVar

from legato.worker.binding import Binding

__all__ = ["WorkerTask", "worker_task"]

P = ParamSpec("P")
R = TypeVar("R")

DEFAULT_CONCURRENCY = 10


class WorkerTask(Generic[P, R]):
    """A worker function and how to run it."""

    def __init__(
        self,
        fn: Callable[P, R],
        name: str,
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        heartbeat: bool | float = True,
        domain: str | None = None,
        task_def: Any = None,
    ) -> None:
        if concurrency < 1:
            raise ValueError(f"worker task {name}: concurrency must be at least 1")
        if not isinstance(heartbeat, bool) and heartbeat <= 0:
            raise ValueError(f"worker task {name}: heartbeat interval must be positive")
        self.fn = fn
        self.name = name
        self.concurrency = concurrency
        self.heartbeat = heartbeat
        self.domain = domain
        self.task_def = task_def
        self.is_async = inspect.iscoroutinefunction(fn)
        self.binding = Binding(fn)
        functools.update_wrapper(self, fn)

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        return self.fn(*args, **kwargs)

    def heartbeat_interval(self, response_timeout_seconds: int) -> float | None:
        """Seconds between automatic heartbeats for a task with this response timeout."""
        if self.heartbeat is False:
            return None
        if self.heartbeat is not True:
            return float(self.heartbeat)
        if response_timeout_seconds <= 0:
            return None
        return max(0.2, response_timeout_seconds / 3)

    def __repr__(self) -> str:
        kind = "async" if self.is_async else "sync"
        return f"<WorkerTask {self.name!r} ({kind}, concurrency {self.concurrency})>"


def worker_task(
    name: str,
    *,
    concurrency: int = DEFAULT_CONCURRENCY,
    heartbeat: bool | float = True,
    domain: str | None = None,
    task_def: Any = None,
) -> Callable[[Callable[P, R]], WorkerTask[P, R]]:
    """Declare a function (sync or `async def`) as the worker of task type `name`.

    - `concurrency`: tasks of this type run at once in one worker process (sync functions
      get a thread pool of that size; async ones share the event loop).
    - `heartbeat`: True (default) heartbeats a running task every third of its
      `responseTimeoutSeconds`, so a long task is not timed out while it works; a number of
      seconds sets the interval; False sends none (`TaskContext.heartbeat()` still does).
    - `domain`: poll this task domain only.
    - `task_def`: a `legato.client.TaskDef` (retries, timeouts) that `client.register(flow)`
      registers for this task type.
    """

    def decorate(fn: Callable[P, R]) -> WorkerTask[P, R]:
        return WorkerTask(
            fn,
            name,
            concurrency=concurrency,
            heartbeat=heartbeat,
            domain=domain,
            task_def=task_def,
        )

    return decorate
