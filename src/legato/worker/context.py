"""`TaskContext`: what a worker function may ask of the running task (declare a parameter
typed `TaskContext` to receive it)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from legato.client.models import Task

__all__ = ["TaskContext"]


def _wall_ms() -> int:
    return time.time_ns() // 1_000_000


class TaskContext:
    """The task being executed, its log, and its heartbeat. Safe to use from the worker
    function's thread (sync functions run in a thread pool)."""

    def __init__(
        self,
        task: dict[str, Any],
        worker_id: str,
        *,
        on_heartbeat: Callable[[], object] | None = None,
        now_ms: Callable[[], int] = _wall_ms,
    ) -> None:
        self.raw = task
        self.worker_id = worker_id
        self._on_heartbeat = on_heartbeat
        self._now_ms = now_ms
        self._logs: list[dict[str, Any]] = []
        self._view: Task | None = None
        self.stopping = False  # set when the worker shuts down: finish soon

    @property
    def task(self) -> Task:
        """The task as polled (a `legato.client.Task`)."""
        if self._view is None:
            self._view = Task.from_json(self.raw)
        return self._view

    @property
    def task_id(self) -> str:
        return str(self.raw.get("taskId", ""))

    @property
    def workflow_id(self) -> str:
        return str(self.raw.get("workflowInstanceId", ""))

    @property
    def retry_count(self) -> int:
        """0 on the first attempt, 1 on the first retry, ..."""
        return int(self.raw.get("retryCount") or 0)

    @property
    def poll_count(self) -> int:
        return int(self.raw.get("pollCount") or 0)

    @property
    def input(self) -> dict[str, Any]:
        """The task's raw input."""
        data = self.raw.get("inputData")
        return data if isinstance(data, dict) else {}

    def log(self, message: str) -> None:
        """Append a line to the task's execution log (sent with the next heartbeat or the
        result; read it with `GET /api/tasks/{taskId}/log`)."""
        self._logs.append({"log": str(message), "createdTime": self._now_ms()})

    def heartbeat(self) -> None:
        """Tell the server the task is alive now (resets its response timeout). Long tasks
        also get automatic heartbeats; this is for functions that want to say it themselves."""
        if self._on_heartbeat is not None:
            self._on_heartbeat()

    def drain_logs(self) -> list[dict[str, Any]]:
        """The log lines not sent yet (for the worker runtime)."""
        logs, self._logs = self._logs, []
        return logs

    def restore_logs(self, logs: list[dict[str, Any]]) -> None:
        """Put back lines a failed heartbeat did not deliver (for the worker runtime)."""
        self._logs[:0] = logs
