"""Conductor's definitions and executions."""

from legato.model.definitions import (
    RetryLogic,
    StartWorkflowRequest,
    SubWorkflowParams,
    TaskDef,
    TaskExecLog,
    TaskResult,
    TaskTimeoutPolicy,
    TaskType,
    WorkflowDef,
    WorkflowTask,
    WorkflowTimeoutPolicy,
)
from legato.model.execution import Task, Workflow, base_ref
from legato.model.status import RESULT_STATUSES, TaskStatus, WorkflowStatus

__all__ = [
    "RESULT_STATUSES",
    "RetryLogic",
    "StartWorkflowRequest",
    "SubWorkflowParams",
    "Task",
    "TaskDef",
    "TaskExecLog",
    "TaskResult",
    "TaskStatus",
    "TaskTimeoutPolicy",
    "TaskType",
    "Workflow",
    "WorkflowDef",
    "WorkflowStatus",
    "WorkflowTask",
    "WorkflowTimeoutPolicy",
    "base_ref",
]
