"""`/api/workflow`: start, inspect, terminate and remove executions (Conductor's WorkflowResource).

Parameter names are Conductor's exactly (camelCase), hence the non-PEP 8 argument names.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from legato.api import responses
from legato.api.bodies import read_object, start_request
from legato.api.context import services_of
from legato.api.openapi import ERRORS, json_body, json_response, text_response
from legato.engine.decider import workflow_task_of
from legato.engine.facts import Reevaluate
from legato.errors import FieldProblem, ValidationError
from legato.model import StartWorkflowRequest, TaskStatus

router = APIRouter(prefix="/api/workflow", tags=["workflow"])

_TASK_STATUSES = frozenset(s.value for s in TaskStatus)


@router.post(
    "",
    summary="Start a workflow (StartWorkflowRequest); answers the workflow id as text",
    openapi_extra=json_body("StartWorkflowRequest"),
    responses={**text_response("The new workflow's id"), **ERRORS},
)
async def start_workflow(request: Request) -> Response:
    start = start_request(await read_object(request, "StartWorkflowRequest"))
    try:
        workflow_id = await services_of(request).workflows.start(start)
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
    workflow_id = await services_of(request).workflows.start(start)
    return responses.text(workflow_id)


@router.get(
    "/{workflowId}",
    summary="A workflow execution",
    responses={**json_response("Workflow"), **ERRORS},
)
async def get_workflow(
    request: Request,
    workflowId: str,
    includeTasks: bool = True,
) -> Response:
    workflows = services_of(request).workflows
    wf = await workflows.get(workflowId)
    return responses.json(workflows.workflow_json(wf, include_tasks=includeTasks))


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


@router.delete(
    "/{workflowId}",
    summary="Terminate a workflow",
    responses=ERRORS,
)
async def terminate_workflow(
    request: Request,
    workflowId: str,
    reason: str | None = None,
) -> Response:
    await services_of(request).workflows.terminate(workflowId, reason)
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
    await services_of(request).workflows.remove(workflowId)
    return responses.empty()


@router.delete(
    "/{workflowId}/terminate-remove",
    summary="Terminate a workflow, then remove it",
    responses=ERRORS,
)
async def terminate_remove_workflow(
    request: Request,
    workflowId: str,
    reason: str | None = None,
    archiveWorkflow: bool = True,
) -> Response:
    workflows = services_of(request).workflows
    await workflows.terminate(workflowId, reason)
    await workflows.remove(workflowId)
    return responses.empty()


@router.put(
    "/decide/{workflowId}",
    summary="Run the decider on a workflow now",
    responses=ERRORS,
)
async def decide_workflow(request: Request, workflowId: str) -> Response:
    await services_of(request).workflows.act(workflowId, Reevaluate())
    return responses.empty()
