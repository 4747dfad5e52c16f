"""`/api/workflow`: start, inspect and operate executions (Conductor's WorkflowResource).

Parameter names are Conductor's exactly (camelCase), hence the non-PEP 8 argument names. Routes
with a fixed first segment (`/test`, `/execute/...`, `/running/...`, `/correlated/...`,
`/decide/...`) come before the `/{name}` and `/{workflowId}` ones that would otherwise take them.
"""

from __future__ import annotations

import ast
from typing import Annotated, Any, TypeVar

import orjson
import pydantic
from fastapi import APIRouter, Query, Request, Response

from legato.api import responses
from legato.api.bodies import read_array, read_json, read_object, start_request
from legato.api.context import services_of
from legato.api.openapi import ERRORS, json_body, json_response, text_response
from legato.engine.decider import workflow_task_of
from legato.engine.facts import Reevaluate
from legato.errors import FieldProblem, ValidationError
from legato.model import StartWorkflowRequest, TaskStatus
from legato.model.operations import (
    CorrelationIdsSearchRequest,
    RerunWorkflowRequest,
    ReturnStrategy,
    SkipTaskRequest,
    UpgradeWorkflowRequest,
    WorkflowTestRequest,
)
from legato.model.validation import pydantic_problems

router = APIRouter(prefix="/api/workflow", tags=["workflow"])

_TASK_STATUSES = frozenset(s.value for s in TaskStatus)
_M = TypeVar("_M", bound=pydantic.BaseModel)

# ------------------------------------------------------------------------------ schemas
_OBJECT: dict[str, Any] = {"type": "object", "additionalProperties": True}
_STRINGS: dict[str, Any] = {"type": "array", "items": {"type": "string"}}
_WORKFLOWS: dict[str, Any] = {"type": "array", "items": {"$ref": "#/components/schemas/Workflow"}}
_BY_CORRELATION_ID: dict[str, Any] = {"type": "object", "additionalProperties": _WORKFLOWS}
_NO_CONTENT: dict[int | str, Any] = {204: {"description": "Done"}}
SIGNAL_RESPONSE: dict[str, Any] = {
    "type": "object",
    "description": (
        "SignalResponse: a WorkflowRun (TARGET_WORKFLOW, BLOCKING_WORKFLOW) or a TaskRun "
        "(BLOCKING_TASK, BLOCKING_TASK_INPUT)"
    ),
    "properties": {
        "responseType": {"type": "string", "enum": [s.value for s in ReturnStrategy]},
        "targetWorkflowId": {"type": "string"},
        "targetWorkflowStatus": {"type": "string"},
        "requestId": {"type": "string"},
        "workflowId": {"type": "string"},
        "correlationId": {"type": "string"},
        "input": _OBJECT,
        "output": _OBJECT,
        "signalTimeout": {"type": "boolean"},
        "status": {"type": "string"},
        "tasks": {"type": "array", "items": {"$ref": "#/components/schemas/Task"}},
        "taskId": {"type": "string"},
        "referenceTaskName": {"type": "string"},
    },
}
_RERUN: dict[str, Any] = {
    "type": "object",
    "properties": {
        "reRunFromWorkflowId": {"type": "string"},
        "workflowInput": _OBJECT,
        "reRunFromTaskId": {"type": "string"},
        "taskInput": _OBJECT,
        "correlationId": {"type": "string"},
    },
}
_SKIP: dict[str, Any] = {
    "type": "object",
    "properties": {"taskInput": _OBJECT, "taskOutput": _OBJECT},
}
_UPGRADE: dict[str, Any] = {
    "type": "object",
    "required": ["name"],
    "properties": {
        "name": {"type": "string"},
        "version": {"type": "integer"},
        "workflowInput": _OBJECT,
        "taskOutput": {"type": "object", "additionalProperties": _OBJECT},
    },
}
_TEST_REQUEST: dict[str, Any] = {
    "allOf": [
        {"$ref": "#/components/schemas/StartWorkflowRequest"},
        {
            "type": "object",
            "properties": {
                "taskRefToMockOutput": {
                    "type": "object",
                    "additionalProperties": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {
                                "status": {"type": "string"},
                                "output": _OBJECT,
                                "executionTime": {"type": "integer"},
                                "queueWaitTime": {"type": "integer"},
                            },
                        },
                    },
                },
                "subWorkflowTestRequest": {"type": "object", "additionalProperties": _OBJECT},
            },
        },
    ]
}
_CORRELATION_BATCH: dict[str, Any] = {
    "type": "object",
    "properties": {"workflowNames": _STRINGS, "correlationIds": _STRINGS},
}


def parse(model: type[_M], data: Any, what: str) -> _M:
    try:
        return model.model_validate(data)
    except pydantic.ValidationError as exc:
        problems = pydantic_problems(exc, model)
        shown = "; ".join(f"{p.path}: {p.message}" for p in problems[:3])
        raise ValidationError(f"Invalid {what}: {shown}", problems) from exc


def strings(items: list[Any], what: str) -> list[str]:
    for i, item in enumerate(items):
        if not isinstance(item, str):
            raise ValidationError(
                f"The request body must be a JSON array of strings ({what})",
                [FieldProblem(f"[{i}]", "must be a string")],
            )
    return items


# ------------------------------------------------------------------------------ starting
@router.post(
    "",
    summary="Start a workflow (StartWorkflowRequest); answers the workflow id as text",
    openapi_extra=json_body("StartWorkflowRequest"),
    responses={**text_response("The new workflow's id"), **ERRORS},
)
async def start_workflow(request: Request) -> Response:
    start = start_request(await read_object(request, "StartWorkflowRequest"))
    try:
        workflow_id = await services_of(request).operations.start(start)
    except ValidationError as exc:
        if start.workflow_def is None:
            raise
        # An inline definition's problems are located inside the request body.
        raise ValidationError(
            exc.message,
            [
                FieldProblem(
                    f"workflowDef.{p.path}" if p.path else "workflowDef", p.message, p.invalid_value
                )
                for p in exc.problems
            ],
        ) from exc
    return responses.text(workflow_id)


@router.post(
    "/test",
    summary="Run a definition against mocked task results (in memory; nothing is stored)",
    openapi_extra=json_body(_TEST_REQUEST),
    responses={**json_response("Workflow"), **ERRORS},
)
async def test_workflow(request: Request) -> Response:
    body = parse(
        WorkflowTestRequest, await read_object(request, "WorkflowTestRequest"), "test request"
    )
    services = services_of(request)
    wf = await services.operations.test(body)
    return responses.json(services.workflows.workflow_json(wf))


@router.post(
    "/execute/{name}/{version}",
    summary="Start a workflow and answer when it ends or blocks (a SignalResponse)",
    openapi_extra=json_body("StartWorkflowRequest", required=False),
    responses={**json_response(SIGNAL_RESPONSE), **ERRORS},
)
async def execute_workflow(
    request: Request,
    name: str,
    version: int,
    requestId: str | None = None,
    waitUntilTaskRef: str | None = None,
    waitForSeconds: Annotated[int, Query(ge=0)] = 10,
    consistency: str = "DURABLE",  # accepted; every Legato execution is durable
    returnStrategy: ReturnStrategy = ReturnStrategy.TARGET_WORKFLOW,
) -> Response:
    data = await read_object(request, "StartWorkflowRequest", optional=True)
    start = start_request({**data, "name": name, "version": version or None})
    refs = [r.strip() for r in (waitUntilTaskRef or "").split(",") if r.strip()]
    answer = await services_of(request).operations.execute(
        start,
        request_id=requestId or None,
        wait_until_task_refs=refs,
        wait_for_seconds=waitForSeconds,
        strategy=returnStrategy,
    )
    return responses.json(answer)


# ------------------------------------------------------------------------------ finding
@router.get(
    "/running/{name}",
    summary="Ids of the RUNNING and PAUSED executions of a workflow version",
    responses={**json_response(_STRINGS), **ERRORS},
)
async def get_running_workflows(
    request: Request,
    name: str,
    version: int = 1,
    startTime: int | None = None,
    endTime: int | None = None,
) -> Response:
    ids = await services_of(request).operations.running(name, version, startTime, endTime)
    return responses.json(ids)


@router.post(
    "/correlated/batch",
    summary="Executions by correlation id, for several names and correlation ids",
    openapi_extra=json_body(_CORRELATION_BATCH),
    responses={**json_response(_BY_CORRELATION_ID), **ERRORS},
)
async def get_correlated_batch(
    request: Request, includeClosed: bool = False, includeTasks: bool = False
) -> Response:
    body = parse(
        CorrelationIdsSearchRequest,
        await read_object(request, "CorrelationIdsSearchRequest"),
        "correlation search",
    )
    found = await services_of(request).operations.correlated(
        body.workflow_names or None,
        body.correlation_ids,
        include_closed=includeClosed,
        include_tasks=includeTasks,
    )
    return responses.json(found)


@router.put(
    "/decide/{workflowId}",
    summary="Run the decider on a workflow now",
    responses=ERRORS,
)
async def decide_workflow(request: Request, workflowId: str) -> Response:
    await services_of(request).workflows.act(workflowId, Reevaluate())
    return responses.empty()


@router.get(
    "/{name}/correlated/{correlationId}",
    summary="Executions of a workflow with this correlation id",
    responses={**json_response(_WORKFLOWS), **ERRORS},
)
async def get_correlated(
    request: Request,
    name: str,
    correlationId: str,
    includeClosed: bool = False,
    includeTasks: bool = False,
) -> Response:
    found = await services_of(request).operations.correlated(
        [name], [correlationId], include_closed=includeClosed, include_tasks=includeTasks
    )
    return responses.json(found[correlationId])


@router.post(
    "/{name}/correlated",
    summary="Executions of a workflow for each correlation id in the body",
    openapi_extra=json_body(_STRINGS),
    responses={**json_response(_BY_CORRELATION_ID), **ERRORS},
)
async def get_correlated_many(
    request: Request, name: str, includeClosed: bool = False, includeTasks: bool = False
) -> Response:
    ids = strings(await read_array(request, "correlation ids"), "correlation ids")
    found = await services_of(request).operations.correlated(
        [name], ids, include_closed=includeClosed, include_tasks=includeTasks
    )
    return responses.json(found)


@router.post(
    "/{name}",
    summary="Start a workflow by name with the body as its input; answers the id as text",
    openapi_extra=json_body({"type": "object", "additionalProperties": True}, required=False),
    responses={**text_response("The new workflow's id"), **ERRORS},
)
async def start_workflow_by_name(
    request: Request,
    name: str,
    version: Annotated[int | None, Query(ge=0)] = None,
    correlationId: str | None = None,
    priority: Annotated[int, Query(ge=0, le=99)] = 0,
) -> Response:
    data = await read_object(request, "workflow input", optional=True)
    start = StartWorkflowRequest(
        name=name, version=version, correlation_id=correlationId, priority=priority, input=data
    )
    workflow_id = await services_of(request).operations.start(start)
    return responses.text(workflow_id)


# ------------------------------------------------------------------------------ reading one
@router.get(
    "/{workflowId}",
    summary="A workflow execution, with its earlier runs in `history`",
    responses={**json_response("Workflow"), **ERRORS},
)
async def get_workflow(
    request: Request,
    workflowId: str,
    includeTasks: bool = True,
) -> Response:
    services = services_of(request)
    wf = await services.workflows.get(workflowId)
    out = services.workflows.workflow_json(wf, include_tasks=includeTasks)
    out["history"] = await services.operations.history(wf)
    return responses.json(out)


@router.get(
    "/{workflowId}/status",
    summary="A workflow's status (and optionally its output and variables)",
    responses={**json_response("WorkflowStatus"), **ERRORS},
)
async def get_workflow_status(
    request: Request,
    workflowId: str,
    includeOutput: bool = False,
    includeVariables: bool = False,
) -> Response:
    wf = await services_of(request).workflows.get(workflowId)
    out: dict[str, Any] = {"workflowId": wf.workflow_id, "status": wf.status.value}
    if wf.correlation_id is not None:
        out["correlationId"] = wf.correlation_id
    if includeOutput:
        out["output"] = wf.output
    if includeVariables:
        out["variables"] = wf.variables
    return responses.json(out)


@router.get(
    "/{workflowId}/tasks",
    summary="A page of a workflow's tasks, optionally filtered by status",
    responses={**json_response("SearchResultTask"), **ERRORS},
)
async def get_workflow_tasks(
    request: Request,
    workflowId: str,
    start: Annotated[int, Query(ge=0)] = 0,
    count: Annotated[int, Query(ge=0)] = 15,
    status: Annotated[list[str] | None, Query()] = None,
) -> Response:
    wanted = set(status or ())
    bad = sorted(wanted - _TASK_STATUSES)
    if bad:
        raise ValidationError(
            f"Invalid task status {', '.join(bad)}",
            [FieldProblem("status", f"must be one of {', '.join(sorted(_TASK_STATUSES))}", bad[0])],
        )
    workflows = services_of(request).workflows
    wf = await workflows.get(workflowId)
    tasks = [t for t in wf.tasks if not wanted or t.status.value in wanted]
    page = tasks[start : start + count]
    return responses.json(
        {"totalHits": len(tasks), "results": [t.to_json(workflow_task_of(wf, t)) for t in page]}
    )


# ------------------------------------------------------------------------------ operating
@router.put("/{workflowId}/pause", summary="Pause a running workflow", responses=ERRORS)
async def pause_workflow(request: Request, workflowId: str) -> Response:
    await services_of(request).operations.pause(workflowId)
    return responses.empty()


@router.put("/{workflowId}/resume", summary="Resume a paused workflow", responses=ERRORS)
async def resume_workflow(request: Request, workflowId: str) -> Response:
    await services_of(request).operations.resume(workflowId)
    return responses.empty()


@router.put(
    "/{workflowId}/skiptask/{taskReferenceName}",
    summary="Skip a task the running workflow has not reached yet",
    openapi_extra=json_body(_SKIP, required=False),
    responses=ERRORS,
)
async def skip_task(
    request: Request,
    workflowId: str,
    taskReferenceName: str,
    skipTaskRequest: str | None = None,
    taskInput: str | None = None,
    taskOutput: str | None = None,
) -> Response:
    # Conductor binds the request from query parameters; the Python SDK sends the whole
    # SkipTaskRequest as `skipTaskRequest` (a dict's Python repr) with `{}` as the body. A JSON
    # body's fields win over the query's.
    fields = _query_object(skipTaskRequest, "skipTaskRequest") or {}
    for key, raw in (("taskInput", taskInput), ("taskOutput", taskOutput)):
        value = _query_object(raw, key)
        if value is not None:
            fields[key] = value
    body = await read_json(request, empty=None)
    if body is not None and not isinstance(body, dict):
        raise ValidationError(
            "The request body must be a JSON object (SkipTaskRequest)",
            [FieldProblem("", "must be a JSON object")],
        )
    skip = parse(SkipTaskRequest, {**fields, **(body or {})}, "skip task request")
    await services_of(request).operations.skip(workflowId, taskReferenceName, skip)
    return responses.empty()


def _query_object(raw: str | None, name: str) -> dict[str, Any] | None:
    if raw is None or not raw.strip():
        return None
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        try:
            value = ast.literal_eval(raw)
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            value = None
    if not isinstance(value, dict):
        raise ValidationError(
            f"Query parameter {name} must be a JSON object",
            [FieldProblem(name, "must be a JSON object", raw)],
        )
    return value


@router.post(
    "/{workflowId}/rerun",
    summary="Run an ended workflow again from a task (or the start); answers its id as text",
    openapi_extra=json_body(_RERUN),
    responses={**text_response("The workflow's id"), **ERRORS},
)
async def rerun_workflow(request: Request, workflowId: str) -> Response:
    body = parse(
        RerunWorkflowRequest,
        await read_object(request, "RerunWorkflowRequest", optional=True),
        "rerun request",
    )
    return responses.text(await services_of(request).operations.rerun(workflowId, body))


@router.post(
    "/{workflowId}/restart",
    summary="Run an ended workflow again from the start, under the same id",
    responses={**_NO_CONTENT, **ERRORS},
)
async def restart_workflow(
    request: Request, workflowId: str, useLatestDefinitions: bool = False
) -> Response:
    await services_of(request).operations.restart(
        workflowId, use_latest_definitions=useLatestDefinitions
    )
    return responses.no_content()


@router.post(
    "/{workflowId}/retry",
    summary="Run an ended workflow again from its failed tasks",
    responses={**_NO_CONTENT, **ERRORS},
)
async def retry_workflow(
    request: Request, workflowId: str, resumeSubworkflowTasks: bool = False
) -> Response:
    await services_of(request).operations.retry(
        workflowId, resume_subworkflow_tasks=resumeSubworkflowTasks
    )
    return responses.no_content()


@router.post(
    "/{workflowId}/resetcallbacks",
    summary="Make worker tasks waiting out a callback delay pollable now",
    responses={**_NO_CONTENT, **ERRORS},
)
async def reset_callbacks(request: Request, workflowId: str) -> Response:
    await services_of(request).operations.reset_callbacks(workflowId)
    return responses.no_content()


@router.post(
    "/{workflowId}/upgrade",
    summary="Move a running execution to another version of its definition",
    openapi_extra=json_body(_UPGRADE),
    responses=ERRORS,
)
async def upgrade_workflow(request: Request, workflowId: str) -> Response:
    body = parse(
        UpgradeWorkflowRequest,
        await read_object(request, "UpgradeWorkflowRequest"),
        "upgrade request",
    )
    await services_of(request).operations.upgrade(workflowId, body)
    return responses.empty()


@router.post(
    "/{workflowId}/variables",
    summary="Merge values into a running workflow's variables; answers the workflow",
    openapi_extra=json_body(_OBJECT),
    responses={**json_response("Workflow"), **ERRORS},
)
async def update_variables(request: Request, workflowId: str) -> Response:
    variables = await read_object(request, "variables")
    services = services_of(request)
    wf = await services.operations.set_variables(workflowId, variables)
    return responses.json(services.workflows.workflow_json(wf))


@router.delete(
    "/{workflowId}",
    summary="Terminate a workflow",
    responses=ERRORS,
)
async def terminate_workflow(
    request: Request,
    workflowId: str,
    reason: str | None = None,
    triggerFailureWorkflow: bool = False,
) -> Response:
    await services_of(request).operations.terminate(
        workflowId, reason, trigger_failure_workflow=triggerFailureWorkflow
    )
    return responses.empty()


@router.delete(
    "/{workflowId}/remove",
    summary="Remove a workflow execution",
    responses=ERRORS,
)
async def remove_workflow(
    request: Request,
    workflowId: str,
    archiveWorkflow: bool = True,  # accepted; there is no archive (index) to keep it in
) -> Response:
    await services_of(request).operations.remove(workflowId)
    return responses.empty()


@router.delete(
    "/{workflowId}/terminate-remove",
    summary="Terminate a workflow (unless it has ended), then remove it",
    responses=ERRORS,
)
async def terminate_remove_workflow(
    request: Request,
    workflowId: str,
    reason: str | None = None,
    archiveWorkflow: bool = True,
) -> Response:
    await services_of(request).operations.terminate_remove(workflowId, reason)
    return responses.empty()
