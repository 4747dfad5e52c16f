"""Facts: what happened to a workflow. The decider turns each into a Decision."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from legato.model import TaskStatus, WorkflowStatus


@dataclass(frozen=True, slots=True)
class Start:
    """A workflow was just created: schedule its first tasks."""


@dataclass(frozen=True, slots=True)
class Reevaluate:
    """Decide again with nothing new (the decide endpoint, repairs)."""


@dataclass(frozen=True, slots=True)
class Tick:
    """A timer fired: check timeouts, WAIT deadlines and delays."""


@dataclass(frozen=True, slots=True)
class TaskUpdate:
    """A worker, a runner or an operator reported on a task."""

    task_id: str
    status: TaskStatus
    output_data: dict[str, Any] | None = None
    reason_for_incompletion: str | None = None
    callback_after_seconds: int = 0
    worker_id: str | None = None
    extend_lease: bool = False
    logs: tuple[str, ...] = field(default_factory=tuple)
    retry_after_seconds: int | None = None


@dataclass(frozen=True, slots=True)
class ChildFinished:
    """A sub-workflow started by task `task_id` reached a terminal status."""

    task_id: str
    child_id: str
    status: WorkflowStatus
    output: dict[str, Any]
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class Terminate:
    """An operator (or a parent) ends the workflow."""

    reason: str | None = None


Fact = Start | Reevaluate | Tick | TaskUpdate | ChildFinished | Terminate
