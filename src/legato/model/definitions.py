"""Workflow and task definitions: Conductor's JSON DSL as pydantic models.

Field names on the wire are Conductor's (camelCase); Python attributes are snake_case.
Unknown fields are kept, so a definition round-trips through Legato unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr
from pydantic.alias_generators import to_camel

_T = TypeVar("_T")


class ConductorModel(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        extra="allow",
        ser_json_inf_nan="null",
    )

    def to_json(self) -> dict[str, Any]:
        """Conductor JSON: camelCase names, nulls omitted."""
        return self.model_dump(by_alias=True, exclude_none=True, mode="json")


class RetryLogic(StrEnum):
    FIXED = "FIXED"
    LINEAR_BACKOFF = "LINEAR_BACKOFF"
    EXPONENTIAL_BACKOFF = "EXPONENTIAL_BACKOFF"


class TaskTimeoutPolicy(StrEnum):
    RETRY = "RETRY"
    TIME_OUT_WF = "TIME_OUT_WF"
    ALERT_ONLY = "ALERT_ONLY"


class WorkflowTimeoutPolicy(StrEnum):
    TIME_OUT_WF = "TIME_OUT_WF"
    ALERT_ONLY = "ALERT_ONLY"


class TaskType(StrEnum):
    SIMPLE = "SIMPLE"
    DYNAMIC = "DYNAMIC"
    FORK_JOIN = "FORK_JOIN"
    FORK_JOIN_DYNAMIC = "FORK_JOIN_DYNAMIC"
    DECISION = "DECISION"
    SWITCH = "SWITCH"
    JOIN = "JOIN"
    DO_WHILE = "DO_WHILE"
    SUB_WORKFLOW = "SUB_WORKFLOW"
    START_WORKFLOW = "START_WORKFLOW"
    EVENT = "EVENT"
    WAIT = "WAIT"
    HUMAN = "HUMAN"
    USER_DEFINED = "USER_DEFINED"
    HTTP = "HTTP"
    LAMBDA = "LAMBDA"
    INLINE = "INLINE"
    EXCLUSIVE_JOIN = "EXCLUSIVE_JOIN"
    TERMINATE = "TERMINATE"
    KAFKA_PUBLISH = "KAFKA_PUBLISH"
    JSON_JQ_TRANSFORM = "JSON_JQ_TRANSFORM"
    SET_VARIABLE = "SET_VARIABLE"
    NOOP = "NOOP"
    # The execution type of a FORK_JOIN / FORK_JOIN_DYNAMIC task.
    FORK = "FORK"


class TaskDef(ConductorModel):
    name: str
    description: str | None = None
    retry_count: int = Field(default=3, ge=0)
    retry_logic: RetryLogic = RetryLogic.FIXED
    retry_delay_seconds: int = Field(default=60, ge=0)
    backoff_scale_factor: int = Field(default=1, ge=1)
    max_retry_delay_seconds: int = Field(default=0, ge=0)
    backoff_jitter_ms: int = Field(default=0, ge=0)
    timeout_seconds: int = Field(default=0, ge=0)
    timeout_policy: TaskTimeoutPolicy = TaskTimeoutPolicy.TIME_OUT_WF
    response_timeout_seconds: int = Field(default=3600, ge=0)
    poll_timeout_seconds: int | None = Field(default=None, ge=0)
    total_timeout_seconds: int = Field(default=0, ge=0)
    rate_limit_per_frequency: int | None = Field(default=None, ge=0)
    rate_limit_frequency_in_seconds: int | None = Field(default=None, ge=0)
    concurrent_exec_limit: int | None = Field(default=None, ge=0)
    input_keys: list[str] = Field(default_factory=list)
    output_keys: list[str] = Field(default_factory=list)
    input_template: dict[str, Any] = Field(default_factory=dict)
    isolation_group_id: str | None = None
    execution_name_space: str | None = None
    owner_email: str | None = None
    owner_app: str | None = None
    base_type: str | None = None
    task_status_listener_enabled: bool | None = None
    create_time: int | None = None
    update_time: int | None = None
    created_by: str | None = None
    updated_by: str | None = None


class SubWorkflowParams(ConductorModel):
    name: str | None = None
    version: int | None = None
    task_to_domain: dict[str, str] | None = None
    # An inline WorkflowDef (a dict), or a "${...}" expression resolving to one.
    workflow_definition: dict[str, Any] | str | None = None
    idempotency_key: str | None = None
    idempotency_strategy: str | None = None
    priority: int | str | None = None


class WorkflowTask(ConductorModel):
    name: str
    task_reference_name: str
    description: str | None = None
    type: str = TaskType.SIMPLE.value
    input_parameters: dict[str, Any] = Field(default_factory=dict)
    optional: bool = False
    start_delay: int = Field(default=0, ge=0)
    async_complete: bool = False
    retry_count: int | None = Field(default=None, ge=0)
    task_definition: TaskDef | None = None
    rate_limited: bool | None = None
    decision_cases: dict[str, list[WorkflowTask]] = Field(default_factory=dict)
    default_case: list[WorkflowTask] = Field(default_factory=list)
    evaluator_type: str | None = None
    expression: str | None = None
    case_value_param: str | None = None
    case_expression: str | None = None
    script_expression: str | None = None
    fork_tasks: list[list[WorkflowTask]] = Field(default_factory=list)
    join_on: list[str] = Field(default_factory=list)
    default_exclusive_join_task: list[str] = Field(default_factory=list)
    join_mode: str | None = None
    permissive: bool = False
    loop_condition: str | None = None
    loop_over: list[WorkflowTask] = Field(default_factory=list)
    items: str | None = None
    sub_workflow_param: SubWorkflowParams | None = None
    dynamic_task_name_param: str | None = None
    dynamic_fork_tasks_param: str | None = None
    dynamic_fork_tasks_input_param_name: str | None = None
    dynamic_fork_join_tasks_param: str | None = None
    sink: str | None = None
    on_state_change: dict[str, Any] | None = None
    cache_config: dict[str, Any] | None = None
    metadata: dict[str, Any] | None = None

    def children(self) -> list[list[WorkflowTask]]:
        """Every nested task list: switch branches, fork branches, loop body."""
        lists: list[list[WorkflowTask]] = list(self.decision_cases.values())
        if self.default_case:
            lists.append(self.default_case)
        lists.extend(self.fork_tasks)
        if self.loop_over:
            lists.append(self.loop_over)
        return lists


class WorkflowDef(ConductorModel):
    name: str
    description: str | None = None
    version: int = Field(default=1, ge=0)
    tasks: list[WorkflowTask]
    input_parameters: list[str] = Field(default_factory=list)
    output_parameters: dict[str, Any] = Field(default_factory=dict)
    failure_workflow: str | None = None
    failure_workflow_version: int | None = None
    schema_version: int = 2
    restartable: bool = True
    workflow_status_listener_enabled: bool = False
    workflow_status_listener_sink: str | None = None
    owner_email: str | None = None
    owner_app: str | None = None
    timeout_policy: WorkflowTimeoutPolicy = WorkflowTimeoutPolicy.ALERT_ONLY
    timeout_seconds: int = Field(default=0, ge=0)
    variables: dict[str, Any] = Field(default_factory=dict)
    input_template: dict[str, Any] = Field(default_factory=dict)
    rate_limit_config: dict[str, Any] | None = None
    input_schema: dict[str, Any] | None = None
    output_schema: dict[str, Any] | None = None
    enforce_schema: bool | None = None
    metadata: dict[str, Any] | None = None
    cache_config: dict[str, Any] | None = None
    masked_fields: list[str] | None = None
    create_time: int | None = None
    update_time: int | None = None
    created_by: str | None = None
    updated_by: str | None = None

    _derived: dict[str, tuple[int, Any]] = PrivateAttr(default_factory=dict)

    def derived(self, key: str, build: Callable[[WorkflowDef], _T]) -> _T:
        """A value computed from this definition once per object (an index, a content hash).

        Definitions in use are never mutated. A copy (`model_copy`) shares the cache dict of
        its original, so entries remember which object they were built for.
        """
        entry = self._derived.get(key)
        if entry is not None and entry[0] == id(self):
            return entry[1]  # type: ignore[no-any-return]
        value = build(self)
        self._derived[key] = (id(self), value)
        return value

    def walk(self) -> list[WorkflowTask]:
        """Every task of the definition, depth first, in definition order."""
        out: list[WorkflowTask] = []

        def visit(tasks: list[WorkflowTask]) -> None:
            for t in tasks:
                out.append(t)
                for branch in t.children():
                    visit(branch)

        visit(self.tasks)
        return out


class StartWorkflowRequest(ConductorModel):
    name: str
    version: int | None = None
    correlation_id: str | None = None
    input: dict[str, Any] = Field(default_factory=dict)
    task_to_domain: dict[str, str] = Field(default_factory=dict)
    workflow_def: WorkflowDef | None = None
    external_input_payload_storage_path: str | None = None
    priority: int = Field(default=0, ge=0, le=99)
    created_by: str | None = None
    idempotency_key: str | None = None
    idempotency_strategy: str | None = None


class TaskExecLog(ConductorModel):
    log: str
    task_id: str | None = None
    created_time: int | None = None


class TaskResult(ConductorModel):
    workflow_instance_id: str
    task_id: str
    status: str
    output_data: dict[str, Any] = Field(default_factory=dict)
    reason_for_incompletion: str | None = None
    callback_after_seconds: int = Field(default=0, ge=0)
    worker_id: str | None = None
    logs: list[TaskExecLog] = Field(default_factory=list)
    external_output_payload_storage_path: str | None = None
    sub_workflow_id: str | None = None
    extend_lease: bool = False
    # Legato extension: with FAILED, retry after this many seconds instead of the TaskDef delay.
    retry_after_seconds: int | None = Field(default=None, ge=0)
