"""Event handlers: Conductor's `EventHandler` JSON as pydantic models.

Action parameter objects keep Conductor's snake_case keys (`start_workflow`, `complete_task`,
...), while the fields inside them are camelCase (`workflowId`, `taskRefName`), exactly as the
official SDKs send them. Unknown fields are kept, so a handler round-trips unchanged.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import Field

from legato.model.definitions import ConductorModel


class ActionType(StrEnum):
    START_WORKFLOW = "start_workflow"
    COMPLETE_TASK = "complete_task"
    FAIL_TASK = "fail_task"
    # Orkes Conductor's actions.
    TERMINATE_WORKFLOW = "terminate_workflow"
    UPDATE_WORKFLOW_VARIABLES = "update_workflow_variables"


ACTION_TYPES = tuple(a.value for a in ActionType)


class StartWorkflowParams(ConductorModel):
    name: str | None = None
    version: int | None = None
    correlation_id: str | None = None
    input: dict[str, Any] = Field(default_factory=dict)
    task_to_domain: dict[str, str] | None = None


class TaskDetails(ConductorModel):
    workflow_id: str | None = None
    task_ref_name: str | None = None
    task_id: str | None = None
    output: dict[str, Any] = Field(default_factory=dict)
    # Legato (and Orkes): the reason a `fail_task` gives the task.
    reason_for_incompletion: str | None = None


class TerminateWorkflowParams(ConductorModel):
    workflow_id: str | None = None
    termination_reason: str | None = None


class UpdateWorkflowVariablesParams(ConductorModel):
    workflow_id: str | None = None
    variables: dict[str, Any] = Field(default_factory=dict)
    append_array: bool | None = None


class Action(ConductorModel):
    action: str
    start_workflow: StartWorkflowParams | None = Field(default=None, alias="start_workflow")
    complete_task: TaskDetails | None = Field(default=None, alias="complete_task")
    fail_task: TaskDetails | None = Field(default=None, alias="fail_task")
    terminate_workflow: TerminateWorkflowParams | None = Field(
        default=None, alias="terminate_workflow"
    )
    update_workflow_variables: UpdateWorkflowVariablesParams | None = Field(
        default=None, alias="update_workflow_variables"
    )
    expand_inline_json: bool = Field(default=False, alias="expandInlineJSON")


class EventHandler(ConductorModel):
    # Required, but checked by validation (to answer Conductor's messages).
    name: str = ""
    event: str = ""
    condition: str | None = None
    actions: list[Action] = Field(default_factory=list)
    # Conductor's default: a handler is inactive unless it says `"active": true`.
    active: bool = False
    evaluator_type: str | None = None
