"""Decision: everything one fact changes, for the service to persist in one transaction."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from legato.model import Task, WorkflowDef, WorkflowStatus
from legato.store.base import ArchivedRun, EventMessage, QueueEntry, TaskLog


@dataclass(slots=True)
class WorkflowStart:
    """A workflow the decision starts: a sub-workflow (parent set) or a failure workflow."""

    workflow_id: str
    definition: WorkflowDef
    input: dict[str, Any]
    correlation_id: str | None = None
    task_to_domain: dict[str, str] = field(default_factory=dict)
    priority: int = 0
    parent_workflow_id: str | None = None
    parent_workflow_task_id: str | None = None


@dataclass(slots=True)
class ParentNotice:
    """This (child) workflow ended; its parent's SUB_WORKFLOW task must learn of it."""

    parent_workflow_id: str
    parent_task_id: str
    child_id: str
    status: WorkflowStatus
    output: dict[str, Any]
    reason: str | None


@dataclass(slots=True)
class ParentRevival:
    """This (child) workflow runs again (retry, restart, rerun): its parent's SUB_WORKFLOW task
    waits for it again, and an ended parent runs again (engine/operations.py)."""

    parent_workflow_id: str
    parent_task_id: str
    child_id: str
    operation: str
    # A rerun's new workflow input and correlation id, for the workflow `overrides_for`.
    workflow_input: dict[str, Any] | None = None
    correlation_id: str | None = None
    overrides_for: str | None = None


@dataclass(slots=True)
class Decision:
    new_tasks: list[Task] = field(default_factory=list)
    updated_tasks: dict[str, Task] = field(default_factory=dict)
    enqueue: list[QueueEntry] = field(default_factory=list)
    dequeue: list[str] = field(default_factory=list)
    logs: list[TaskLog] = field(default_factory=list)
    start_workflows: list[WorkflowStart] = field(default_factory=list)
    terminate_workflows: list[tuple[str, str]] = field(default_factory=list)  # (id, reason)
    parent_notice: ParentNotice | None = None
    # Messages published on the built-in event queue (EVENT tasks), committed with the rest.
    events: list[EventMessage] = field(default_factory=list)
    # Operator changes (engine/operations.py): tasks dropped from the execution (restart,
    # rerun), the run that ended kept readable, a parent to run again, a new definition.
    removed_tasks: list[str] = field(default_factory=list)
    archived_runs: list[ArchivedRun] = field(default_factory=list)
    revive_parent: ParentRevival | None = None
    definition_changed: bool = False
    # The workflow row itself changed (status, output, variables, timers, ...).
    workflow_changed: bool = False
    # Set when the fact changed nothing (e.g. an update for a task that already ended).
    ignored: str | None = None

    @property
    def empty(self) -> bool:
        return not (
            self.new_tasks
            or self.updated_tasks
            or self.enqueue
            or self.dequeue
            or self.logs
            or self.start_workflows
            or self.terminate_workflows
            or self.parent_notice
            or self.events
            or self.removed_tasks
            or self.archived_runs
            or self.revive_parent
        )
