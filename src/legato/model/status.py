"""Task and workflow statuses, with Conductor's exact string values."""

from __future__ import annotations

from enum import StrEnum


class TaskStatus(StrEnum):
    SCHEDULED = "SCHEDULED"
    IN_PROGRESS = "IN_PROGRESS"
    COMPLETED = "COMPLETED"
    COMPLETED_WITH_ERRORS = "COMPLETED_WITH_ERRORS"
    FAILED = "FAILED"
    FAILED_WITH_TERMINAL_ERROR = "FAILED_WITH_TERMINAL_ERROR"
    TIMED_OUT = "TIMED_OUT"
    CANCELED = "CANCELED"
    SKIPPED = "SKIPPED"

    @property
    def terminal(self) -> bool:
        return self not in _TASK_ACTIVE

    @property
    def successful(self) -> bool:
        return self in _TASK_SUCCESSFUL

    @property
    def retriable(self) -> bool:
        return self not in _TASK_NOT_RETRIABLE


_TASK_ACTIVE = frozenset({TaskStatus.SCHEDULED, TaskStatus.IN_PROGRESS})
_TASK_SUCCESSFUL = frozenset(
    {
        TaskStatus.SCHEDULED,
        TaskStatus.IN_PROGRESS,
        TaskStatus.COMPLETED,
        TaskStatus.COMPLETED_WITH_ERRORS,
        TaskStatus.SKIPPED,
    }
)
_TASK_NOT_RETRIABLE = frozenset(
    {TaskStatus.FAILED_WITH_TERMINAL_ERROR, TaskStatus.CANCELED, TaskStatus.SKIPPED}
)

# What a worker may report in a TaskResult.
RESULT_STATUSES = frozenset(
    {
        TaskStatus.IN_PROGRESS,
        TaskStatus.COMPLETED,
        TaskStatus.FAILED,
        TaskStatus.FAILED_WITH_TERMINAL_ERROR,
    }
)


class WorkflowStatus(StrEnum):
    RUNNING = "RUNNING"
    PAUSED = "PAUSED"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    TIMED_OUT = "TIMED_OUT"
    TERMINATED = "TERMINATED"

    @property
    def terminal(self) -> bool:
        return self not in (WorkflowStatus.RUNNING, WorkflowStatus.PAUSED)

    @property
    def successful(self) -> bool:
        return self in (WorkflowStatus.PAUSED, WorkflowStatus.COMPLETED)
