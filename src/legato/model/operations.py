"""Request bodies of the workflow operations (Conductor's JSON, camelCase on the wire)."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import Field

from legato.model.definitions import ConductorModel, StartWorkflowRequest


class IdempotencyStrategy(StrEnum):
    """What a start with an idempotency key already used does (Orkes)."""

    FAIL = "FAIL"  # refused, whatever the earlier execution's status
    RETURN_EXISTING = "RETURN_EXISTING"  # answers the earlier execution's id
    FAIL_ON_RUNNING = "FAIL_ON_RUNNING"  # refused only while the earlier one is RUNNING/PAUSED


class ReturnStrategy(StrEnum):
    """What a synchronous execute or signal answers (`WorkflowSignalReturnStrategy`)."""

    TARGET_WORKFLOW = "TARGET_WORKFLOW"
    BLOCKING_WORKFLOW = "BLOCKING_WORKFLOW"
    BLOCKING_TASK = "BLOCKING_TASK"
    BLOCKING_TASK_INPUT = "BLOCKING_TASK_INPUT"


class RerunWorkflowRequest(ConductorModel):
    re_run_from_workflow_id: str | None = None
    workflow_input: dict[str, Any] | None = None
    re_run_from_task_id: str | None = None
    task_input: dict[str, Any] | None = None
    correlation_id: str | None = None


class SkipTaskRequest(ConductorModel):
    task_input: dict[str, Any] | None = None
    task_output: dict[str, Any] | None = None


class UpgradeWorkflowRequest(ConductorModel):
    name: str
    version: int | None = None
    workflow_input: dict[str, Any] | None = None
    task_output: dict[str, dict[str, Any]] | None = None


class CorrelationIdsSearchRequest(ConductorModel):
    workflow_names: list[str] = Field(default_factory=list)
    correlation_ids: list[str] = Field(default_factory=list)


class TaskMock(ConductorModel):
    """One mocked result of a task in a test run."""

    status: str = "COMPLETED"
    output: dict[str, Any] | None = None
    execution_time: int = Field(default=0, ge=0)  # ms the task appears to have run
    queue_wait_time: int = Field(default=0, ge=0)  # ms it appears to have waited in its queue


class WorkflowTestRequest(StartWorkflowRequest):
    name: str = ""  # a sub-workflow's test request needs none; a test names one or has a def
    task_ref_to_mock_output: dict[str, list[TaskMock]] = Field(default_factory=dict)
    sub_workflow_test_request: dict[str, WorkflowTestRequest] = Field(default_factory=dict)
