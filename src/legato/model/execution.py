"""Executions: workflow and task instances as the engine holds them.

Plain slotted dataclasses (not pydantic): they live on the hot path. `to_json()` renders
Conductor's Task / Workflow JSON; `to_doc()` / `from_doc()` are the storage form.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from legato.model.definitions import WorkflowDef, WorkflowTask
from legato.model.status import TaskStatus, WorkflowStatus

LOOP_SEPARATOR = "__"


def base_ref(ref: str) -> str:
    """A task reference name without its loop iteration suffix (`ref__3` -> `ref`)."""
    i = ref.rfind(LOOP_SEPARATOR)
    if i > 0 and ref[i + 2 :].isdigit():
        return ref[:i]
    return ref


@dataclass(slots=True)
class Task:
    task_id: str
    workflow_instance_id: str
    task_type: str
    task_def_name: str
    reference_task_name: str
    status: TaskStatus
    seq: int
    input_data: dict[str, Any] = field(default_factory=dict)
    output_data: dict[str, Any] = field(default_factory=dict)
    workflow_type: str = ""
    correlation_id: str | None = None
    retry_count: int = 0
    poll_count: int = 0
    scheduled_time: int = 0
    start_time: int = 0
    end_time: int = 0
    update_time: int = 0
    start_delay_in_seconds: int = 0
    retried_task_id: str | None = None
    retried: bool = False
    executed: bool = False
    callback_from_worker: bool = True
    response_timeout_seconds: int = 0
    callback_after_seconds: int = 0
    worker_id: str | None = None
    reason_for_incompletion: str | None = None
    domain: str | None = None
    workflow_priority: int = 0
    iteration: int = 0
    sub_workflow_id: str | None = None
    first_start_time: int = 0
    # Engine-internal (not in Conductor's Task JSON).
    wait_timeout: int = 0
    first_scheduled_time: int = 0
    # A worker's own retry delay for this failure (Legato's `retryAfterSeconds`).
    retry_after_seconds: int | None = None
    # Set for tasks whose WorkflowTask is not in the definition (dynamic forks).
    dynamic_task: dict[str, Any] | None = None

    @property
    def base_ref(self) -> str:
        return base_ref(self.reference_task_name)

    def to_doc(self) -> dict[str, Any]:
        doc: dict[str, Any] = {}
        for f in _TASK_FIELDS:
            v = getattr(self, f)
            if v is not None:
                doc[f] = v
        return doc

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> Task:
        t = cls(**doc)
        t.status = TaskStatus(t.status)
        return t

    def to_json(self, workflow_task: WorkflowTask | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {
            "taskType": self.task_type,
            "status": self.status.value,
            "inputData": self.input_data,
            "referenceTaskName": self.reference_task_name,
            "retryCount": self.retry_count,
            "seq": self.seq,
            "pollCount": self.poll_count,
            "taskDefName": self.task_def_name,
            "scheduledTime": self.scheduled_time,
            "startTime": self.start_time,
            "endTime": self.end_time,
            "updateTime": self.update_time,
            "startDelayInSeconds": self.start_delay_in_seconds,
            "retried": self.retried,
            "executed": self.executed,
            "callbackFromWorker": self.callback_from_worker,
            "responseTimeoutSeconds": self.response_timeout_seconds,
            "workflowInstanceId": self.workflow_instance_id,
            "workflowType": self.workflow_type,
            "taskId": self.task_id,
            "callbackAfterSeconds": self.callback_after_seconds,
            "outputData": self.output_data,
            "workflowPriority": self.workflow_priority,
            "iteration": self.iteration,
            "firstStartTime": self.first_start_time,
            "queueWaitTime": (self.start_time - self.scheduled_time)
            if self.start_time and self.scheduled_time
            else 0,
            "loopOverTask": self.iteration > 0,
            "subworkflowChanged": False,
        }
        if self.correlation_id is not None:
            out["correlationId"] = self.correlation_id
        if self.retried_task_id is not None:
            out["retriedTaskId"] = self.retried_task_id
        if self.worker_id is not None:
            out["workerId"] = self.worker_id
        if self.reason_for_incompletion is not None:
            out["reasonForIncompletion"] = self.reason_for_incompletion
        if self.domain is not None:
            out["domain"] = self.domain
        if self.sub_workflow_id is not None:
            out["subWorkflowId"] = self.sub_workflow_id
        if workflow_task is not None:
            out["workflowTask"] = workflow_task.to_json()
            if workflow_task.task_definition is not None:
                out["taskDefinition"] = workflow_task.task_definition.to_json()
        return out


_TASK_FIELDS = tuple(f.name for f in fields(Task))


@dataclass(slots=True)
class Workflow:
    workflow_id: str
    workflow_name: str
    workflow_version: int
    status: WorkflowStatus
    definition: WorkflowDef
    input: dict[str, Any] = field(default_factory=dict)
    output: dict[str, Any] = field(default_factory=dict)
    tasks: list[Task] = field(default_factory=list)
    correlation_id: str | None = None
    reason_for_incompletion: str | None = None
    create_time: int = 0
    update_time: int = 0
    end_time: int = 0
    last_retried_time: int = 0
    parent_workflow_id: str | None = None
    parent_workflow_task_id: str | None = None
    variables: dict[str, Any] = field(default_factory=dict)
    priority: int = 0
    task_to_domain: dict[str, str] = field(default_factory=dict)
    failed_reference_task_names: list[str] = field(default_factory=list)
    failed_task_names: list[str] = field(default_factory=list)
    event: str | None = None
    re_run_from_workflow_id: str | None = None
    created_by: str | None = None
    idempotency_key: str | None = None
    # Earlier runs kept readable after a restart or rerun (the store's archived runs, rendered
    # as Conductor's `history`); 0 when there are none.
    archived_runs: int = 0
    # Storage bookkeeping: optimistic-concurrency revision and next timer.
    rev: int = 0
    next_wake_at: int | None = None

    def to_doc(self) -> dict[str, Any]:
        """Storage form of the workflow row (tasks and definition are stored apart)."""
        doc: dict[str, Any] = {}
        for name in _WORKFLOW_DOC_FIELDS:
            v = getattr(self, name)
            if v is not None:
                doc[name] = v
        return doc

    @classmethod
    def from_doc(cls, doc: dict[str, Any], definition: WorkflowDef, tasks: list[Task]) -> Workflow:
        wf = cls(definition=definition, tasks=tasks, **doc)
        wf.status = WorkflowStatus(wf.status)
        return wf

    def to_json(self, *, include_tasks: bool = True, task_lookup: Any = None) -> dict[str, Any]:
        out: dict[str, Any] = {
            "workflowId": self.workflow_id,
            "workflowName": self.workflow_name,
            "workflowVersion": self.workflow_version,
            "workflowType": self.workflow_name,
            "version": self.workflow_version,
            "status": self.status.value,
            "input": self.input,
            "output": self.output,
            "createTime": self.create_time,
            "startTime": self.create_time,
            "updateTime": self.update_time,
            "endTime": self.end_time,
            "lastRetriedTime": self.last_retried_time,
            "variables": self.variables,
            "priority": self.priority,
            "taskToDomain": self.task_to_domain,
            "failedReferenceTaskNames": self.failed_reference_task_names,
            "failedTaskNames": self.failed_task_names,
            "workflowDefinition": self.definition.to_json(),
            "schemaVersion": self.definition.schema_version,
        }
        for key, value in (
            ("correlationId", self.correlation_id),
            ("reasonForIncompletion", self.reason_for_incompletion),
            ("parentWorkflowId", self.parent_workflow_id),
            ("parentWorkflowTaskId", self.parent_workflow_task_id),
            ("event", self.event),
            ("reRunFromWorkflowId", self.re_run_from_workflow_id),
            ("createdBy", self.created_by),
            ("idempotencyKey", self.idempotency_key),
        ):
            if value is not None:
                out[key] = value
        if include_tasks:
            out["tasks"] = [
                t.to_json(task_lookup(self, t) if task_lookup is not None else None)
                for t in self.tasks
            ]
        else:
            out["tasks"] = []
        return out


_WORKFLOW_DOC_FIELDS = tuple(
    f.name for f in fields(Workflow) if f.name not in ("definition", "tasks", "rev", "next_wake_at")
)
