"""Facts: what happened to a workflow. The decider turns each into a Decision."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from legato.model import TaskStatus, WorkflowDef, WorkflowStatus


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
    # Start the definition's failureWorkflow, as an engine-driven failure would (Orkes).
    trigger_failure_workflow: bool = False


@dataclass(frozen=True, slots=True)
class UpdateVariables:
    """Values merged into `workflow.variables` (an event handler's update_workflow_variables).
    With `append_array`, a value for a key that holds an array is appended to it."""

    variables: dict[str, Any]
    append_array: bool = False


# ---------------------------------------------------------------------------- operator facts
# What an operator does to an execution; their logic is in engine/operations.py. The service
# checks that an operation is allowed before deciding (a refusal is a 4xx): the decider never
# raises.


@dataclass(frozen=True, slots=True)
class Pause:
    """RUNNING -> PAUSED: nothing new is scheduled; running tasks may still finish."""


@dataclass(frozen=True, slots=True)
class Resume:
    """PAUSED -> RUNNING, then decide what the pause held back."""


@dataclass(frozen=True, slots=True)
class Retry:
    """An ended workflow runs again from its failed tasks: each gets a new attempt."""


@dataclass(frozen=True, slots=True)
class Restart:
    """An ended workflow runs again from the start under the same id; the run that ended is
    archived in `history`. `definition` replaces the execution's definition when given."""

    definition: WorkflowDef | None = None


@dataclass(frozen=True, slots=True)
class Rerun:
    """An ended workflow runs again from task `task_id` (from the start when None); the run
    that ended is archived in `history`."""

    task_id: str | None = None
    task_input: dict[str, Any] | None = None
    workflow_input: dict[str, Any] | None = None
    correlation_id: str | None = None
    # When the task is in a sub-workflow of the workflow the operator named, that workflow's
    # id: `workflow_input` and `correlation_id` are for it (it is revived as a parent).
    overrides_for: str | None = None


@dataclass(frozen=True, slots=True)
class ChildRevived:
    """Sub-workflow `child_id` of task `task_id` runs again (retried, restarted or rerun): the
    task waits for it again, and an ended parent runs again too. A rerun's `workflow_input`
    and `correlation_id` apply when this workflow is `overrides_for`."""

    task_id: str
    child_id: str
    operation: str  # "retried", "restarted", "reran": for the task's log
    workflow_input: dict[str, Any] | None = None
    correlation_id: str | None = None
    overrides_for: str | None = None


@dataclass(frozen=True, slots=True)
class SkipTask:
    """Pass over `ref` when the workflow reaches it: a SKIPPED task stands in for it."""

    ref: str
    task_input: dict[str, Any] = field(default_factory=dict)
    task_output: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Upgrade:
    """The execution continues under another definition; top-level tasks of the new definition
    before the furthest one reached are SKIPPED (their output from `task_output`)."""

    definition: WorkflowDef
    workflow_input: dict[str, Any] = field(default_factory=dict)
    task_output: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ResetCallbacks:
    """Worker tasks waiting out a callback (or retry) delay become pollable now."""


OperatorFact = (
    Pause | Resume | Retry | Restart | Rerun | ChildRevived | SkipTask | Upgrade | ResetCallbacks
)
OPERATOR_FACTS = (
    Pause,
    Resume,
    Retry,
    Restart,
    Rerun,
    ChildRevived,
    SkipTask,
    Upgrade,
    ResetCallbacks,
)

Fact = (
    Start
    | Reevaluate
    | Tick
    | TaskUpdate
    | ChildFinished
    | Terminate
    | UpdateVariables
    | OperatorFact
)
