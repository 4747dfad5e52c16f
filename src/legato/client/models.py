"""Read-only views of what the server answers: workflows, tasks, search results.

Each view keeps the server's full JSON in `raw`, so a field this SDK does not name is still
there. Statuses are Conductor's strings; these enums are the SDK's own copies (the SDK does not
import the server) and a test pins them to the server's.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Generic, TypeVar

__all__ = ["BulkResult", "SearchResult", "Task", "TaskStatus", "Workflow", "WorkflowStatus"]

_T = TypeVar("_T")


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
        return self not in (TaskStatus.SCHEDULED, TaskStatus.IN_PROGRESS)


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


def _status(enum: type[StrEnum], value: Any) -> Any:
    try:
        return enum(value)
    except ValueError:
        return value  # a status from a newer server: kept as the plain string


@dataclass(frozen=True, slots=True)
class Task:
    """One task execution (Conductor's Task JSON)."""

    task_id: str
    task_type: str
    reference_task_name: str
    status: TaskStatus
    workflow_instance_id: str
    input_data: dict[str, Any]
    output_data: dict[str, Any]
    retry_count: int = 0
    poll_count: int = 0
    seq: int = 0
    reason_for_incompletion: str | None = None
    worker_id: str | None = None
    workflow_type: str = ""
    task_def_name: str = ""
    domain: str | None = None
    response_timeout_seconds: int = 0
    callback_after_seconds: int = 0
    scheduled_time: int = 0
    start_time: int = 0
    end_time: int = 0
    update_time: int = 0
    iteration: int = 0
    sub_workflow_id: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Task:
        return cls(
            task_id=data.get("taskId", ""),
            task_type=data.get("taskType", ""),
            reference_task_name=data.get("referenceTaskName", ""),
            status=_status(TaskStatus, data.get("status", "")),
            workflow_instance_id=data.get("workflowInstanceId", ""),
            input_data=data.get("inputData") or {},
            output_data=data.get("outputData") or {},
            retry_count=data.get("retryCount", 0),
            poll_count=data.get("pollCount", 0),
            seq=data.get("seq", 0),
            reason_for_incompletion=data.get("reasonForIncompletion"),
            worker_id=data.get("workerId"),
            workflow_type=data.get("workflowType", ""),
            task_def_name=data.get("taskDefName", ""),
            domain=data.get("domain"),
            response_timeout_seconds=data.get("responseTimeoutSeconds", 0),
            callback_after_seconds=data.get("callbackAfterSeconds", 0),
            scheduled_time=data.get("scheduledTime", 0),
            start_time=data.get("startTime", 0),
            end_time=data.get("endTime", 0),
            update_time=data.get("updateTime", 0),
            iteration=data.get("iteration", 0),
            sub_workflow_id=data.get("subWorkflowId"),
            raw=data,
        )


@dataclass(frozen=True, slots=True)
class Workflow:
    """One workflow execution (Conductor's Workflow JSON)."""

    workflow_id: str
    name: str
    version: int
    status: WorkflowStatus
    input: dict[str, Any]
    output: dict[str, Any]
    tasks: tuple[Task, ...] = ()
    correlation_id: str | None = None
    reason_for_incompletion: str | None = None
    variables: dict[str, Any] = field(default_factory=dict)
    create_time: int = 0
    update_time: int = 0
    end_time: int = 0
    parent_workflow_id: str | None = None
    failed_reference_task_names: tuple[str, ...] = ()
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Workflow:
        return cls(
            workflow_id=data.get("workflowId", ""),
            name=data.get("workflowName") or data.get("workflowType") or "",
            version=data.get("workflowVersion", data.get("version", 0)),
            status=_status(WorkflowStatus, data.get("status", "")),
            input=data.get("input") or {},
            output=data.get("output") or {},
            tasks=tuple(Task.from_json(t) for t in data.get("tasks") or ()),
            correlation_id=data.get("correlationId"),
            reason_for_incompletion=data.get("reasonForIncompletion"),
            variables=data.get("variables") or {},
            create_time=data.get("createTime", 0),
            update_time=data.get("updateTime", 0),
            end_time=data.get("endTime", 0),
            parent_workflow_id=data.get("parentWorkflowId"),
            failed_reference_task_names=tuple(data.get("failedReferenceTaskNames") or ()),
            raw=data,
        )

    @property
    def terminal(self) -> bool:
        return isinstance(self.status, WorkflowStatus) and self.status.terminal

    def attempts(self, ref: str) -> list[Task]:
        """Every attempt of the task with this reference name, oldest first."""
        return [t for t in self.tasks if t.reference_task_name == ref]

    def find_task(self, ref: str) -> Task | None:
        """The latest attempt of the task with this reference name, or None."""
        for task in reversed(self.tasks):
            if task.reference_task_name == ref:
                return task
        return None

    def task(self, ref: str) -> Task:
        """The latest attempt of the task with this reference name; KeyError if none."""
        found = self.find_task(ref)
        if found is None:
            refs = ", ".join(dict.fromkeys(t.reference_task_name for t in self.tasks)) or "none"
            raise KeyError(f"workflow {self.workflow_id} has no task {ref!r} (tasks: {refs})")
        return found


@dataclass(frozen=True, slots=True)
class SearchResult(Generic[_T]):
    """One page of a search: `total_hits` matches in all, `results` on this page."""

    total_hits: int
    results: list[_T]

    def __iter__(self) -> Iterator[_T]:
        return iter(self.results)

    def __len__(self) -> int:
        return len(self.results)


@dataclass(frozen=True, slots=True)
class BulkResult:
    """Conductor's BulkResponse: the ids it applied to, and an error message per other id."""

    successful: list[str]
    errors: dict[str, str]

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> BulkResult:
        return cls(
            [str(x) for x in data.get("bulkSuccessfulResults") or ()],
            {str(k): str(v) for k, v in (data.get("bulkErrorResults") or {}).items()},
        )
