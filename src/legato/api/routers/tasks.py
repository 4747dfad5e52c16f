"""`/api/tasks`: workers poll and report; operators read tasks, logs and queues.

Polls and updates are the hot paths: bodies are parsed with orjson plus one pydantic
validation and answered with pre-rendered bytes. Parameter names are Conductor's exactly
(`workerid`, `taskType`, ...), hence the non-PEP 8 argument names.
"""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query, Request, Response

from legato.api import responses
from legato.api.bodies import read_object, task_result
from legato.api.context import services_of
from legato.api.openapi import (
    ERRORS,
    array_of,
    json_body,
    json_response,
    text_body,
    text_response,
)
from legato.errors import FieldProblem, NotFoundError, ValidationError
from legato.model import Task
from legato.service.tasks import queue_name

router = APIRouter(prefix="/api/tasks", tags=["tasks"])

_OUTPUT_MAP = json_body({"type": "object", "additionalProperties": True}, required=False)
_NO_TASK: dict[int | str, Any] = {204: {"description": "No task is available"}}


def _tasks_json(tasks: list[Task]) -> bytes:
    return responses.dumps([t.to_json() for t in tasks])


def _poll_data(items: list[dict[str, Any]], task_type: str | None) -> list[dict[str, Any]]:
    """Conductor's PollData names the task type in `queueName`; our queues carry the domain."""
    out = []
    for item in items:
        name = item["queueName"]
        domain = item.get("domain")
        if domain and name.startswith(f"{domain}:"):
            name = name[len(domain) + 1 :]
        if task_type is None or name == task_type:
            out.append({**item, "queueName": name})
    return out


# ------------------------------------------------------------------------------ polling
async def batch_poll_endpoint(request: Request) -> Response:
    """The batch poll itself, as a plain Starlette endpoint (see `HOT_ROUTES`)."""
    query = request.query_params
    tasks = await services_of(request).tasks.poll(
        request.path_params["tasktype"],
        worker_id=query.get("workerid"),
        domain=query.get("domain"),
        count=_int_param(query.get("count"), "count", 1),
        timeout_ms=_int_param(query.get("timeout"), "timeout", 100),
        client_gone=request.is_disconnected,
    )
    return Response(_tasks_json(tasks), media_type=responses.JSON)


def _int_param(raw: str | None, name: str, default: int) -> int:
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ValidationError(
            f"Invalid value for query parameter {name}",
            [FieldProblem(name, "must be an integer", raw)],
        ) from None


@router.get(
    "/poll/batch/{tasktype}",
    summary="Claim up to `count` tasks, waiting up to `timeout` ms for the first",
    responses={**json_response(array_of("Task")), **ERRORS},
)
async def batch_poll(
    request: Request,
    tasktype: str,
    workerid: str | None = None,
    domain: str | None = None,
    count: int = 1,
    timeout: int = 100,
) -> Response:
    return await batch_poll_endpoint(request)


@router.get(
    "/poll/{tasktype}",
    summary="Claim one task (204 when none)",
    responses={**json_response("Task"), **_NO_TASK, **ERRORS},
)
async def poll(
    request: Request, tasktype: str, workerid: str | None = None, domain: str | None = None
) -> Response:
    tasks = await services_of(request).tasks.poll(tasktype, worker_id=workerid, domain=domain)
    if not tasks:
        return responses.no_content()
    return Response(responses.dumps(tasks[0].to_json()), media_type=responses.JSON)


# ------------------------------------------------------------------------------ queues
@router.get(
    "/queue/size",
    summary="Entries waiting in one task queue",
    responses=json_response({"type": "integer"}),
)
async def queue_size(
    request: Request,
    taskType: Annotated[str, Query()],
    domain: str | None = None,
    # Accepted for compatibility; Legato has no isolation groups or execution namespaces.
    isolationGroupId: str | None = None,
    executionNamespace: str | None = None,
) -> Response:
    name = queue_name(taskType, domain or None)
    sizes = await services_of(request).tasks.queue_sizes([name])
    return responses.json(sizes.get(name, 0))


@router.get(
    "/queue/sizes",
    summary="Entries waiting per task type (deprecated in Conductor)",
    responses=json_response({"type": "object", "additionalProperties": {"type": "integer"}}),
)
async def queue_sizes(
    request: Request,
    taskType: Annotated[list[str] | None, Query()] = None,
) -> Response:
    return responses.json(await services_of(request).tasks.queue_sizes(taskType or None))


@router.get(
    "/queue/all",
    summary="Entries waiting in every queue",
    responses=json_response({"type": "object", "additionalProperties": {"type": "integer"}}),
)
async def queue_all(request: Request) -> Response:
    return responses.json(await services_of(request).tasks.queue_sizes(None))


@router.get(
    "/queue/all/verbose",
    summary="Entries waiting in every queue, in Conductor's verbose shape",
    responses=json_response({"type": "object", "additionalProperties": True}),
)
async def queue_all_verbose(request: Request) -> Response:
    sizes = await services_of(request).tasks.queue_sizes(None)
    return responses.json({name: {"a": {"size": n, "uacked": 0}} for name, n in sizes.items()})


@router.post(
    "/queue/requeue/{taskType}",
    summary="Put every SCHEDULED task of a type back in its queue; answers how many were missing",
    responses={**text_response("Count"), **ERRORS},
)
async def requeue_pending(request: Request, taskType: str) -> Response:
    added = await services_of(request).admin.requeue_pending(taskType)
    return responses.text(str(added))


@router.get(
    "/queue/polldata",
    summary="The last poll of each worker of a task type",
    responses=json_response(array_of("PollData")),
)
async def poll_data(request: Request, taskType: Annotated[str, Query()]) -> Response:
    items = await services_of(request).store.list_poll_data(None)
    return responses.json(_poll_data(items, taskType))


@router.get(
    "/queue/polldata/all",
    summary="The last poll of every worker",
    responses=json_response(array_of("PollData")),
)
async def poll_data_all(request: Request) -> Response:
    items = await services_of(request).store.list_poll_data(None)
    return responses.json(_poll_data(items, None))


# ------------------------------------------------------------------------------ updates
@router.post(
    "",
    summary="Report a task result; answers the task id as text",
    openapi_extra=json_body("TaskResult"),
    responses={**text_response("The task id"), **ERRORS},
)
async def update_task(request: Request) -> Response:
    result = task_result(await request.body())
    _task, ignored = await services_of(request).tasks.update(result)
    return Response(result.task_id.encode(), media_type=responses.TEXT, headers=_ignored(ignored))


def _ignored(reason: str | None) -> dict[str, str] | None:
    """A result for a task that had already ended changes nothing; Conductor still answers 200
    (its SDK workers would otherwise retry for a minute), so the reason goes in a header."""
    return {IGNORED_HEADER: reason} if reason else None


IGNORED_HEADER = "X-Legato-Ignored"


@router.post(
    "/update-v2",
    summary="Report a task result and claim the next task of the same type (204 when none)",
    openapi_extra=json_body("TaskResult"),
    responses={**json_response("Task"), **_NO_TASK, **ERRORS},
)
async def update_task_v2(request: Request) -> Response:
    result = task_result(await request.body())
    tasks = services_of(request).tasks
    updated, _ignored_reason = await tasks.update(result)
    following = await tasks.poll(
        updated.task_type, worker_id=result.worker_id, domain=updated.domain
    )
    if not following:
        return responses.no_content()
    return Response(responses.dumps(following[0].to_json()), media_type=responses.JSON)


@router.post(
    "/{workflowId}/{taskRefName}/{status}/sync",
    summary="Update the pending task with this reference name; answers the workflow",
    openapi_extra=_OUTPUT_MAP,
    responses={**json_response("Workflow"), **ERRORS},
)
async def update_task_by_ref_sync(
    request: Request,
    workflowId: str,
    taskRefName: str,
    status: str,
    workerid: str | None = None,
) -> Response:
    output = await read_object(request, "task output", optional=True)
    services = services_of(request)
    task_id = await services.tasks.update_by_ref(workflowId, taskRefName, status, output, workerid)
    if task_id is None:
        raise NotFoundError(
            f"Found no running task {taskRefName} of workflow {workflowId} to update"
        )
    wf = await services.workflows.get(workflowId)
    return responses.json(services.workflows.workflow_json(wf))


@router.post(
    "/{workflowId}/{taskRefName}/{status}",
    summary="Update the pending task with this reference name; answers its id as text",
    openapi_extra=_OUTPUT_MAP,
    responses={**text_response("The task id, empty when no task was pending"), **ERRORS},
)
async def update_task_by_ref(
    request: Request,
    workflowId: str,
    taskRefName: str,
    status: str,
    workerid: str | None = None,
) -> Response:
    output = await read_object(request, "task output", optional=True)
    task_id = await services_of(request).tasks.update_by_ref(
        workflowId, taskRefName, status, output, workerid
    )
    return responses.text(task_id or "")


# ------------------------------------------------------------------------------ reading
@router.get(
    "/{taskId}/log",
    summary="A task's execution log",
    responses={**json_response(array_of("TaskExecLog")), **ERRORS},
)
async def get_task_logs(request: Request, taskId: str) -> Response:
    logs = await services_of(request).tasks.logs(taskId)
    return responses.json(
        [{"log": e.log, "taskId": e.task_id, "createdTime": e.created_time} for e in logs]
    )


@router.post(
    "/{taskId}/log",
    summary="Append a line to a task's execution log",
    openapi_extra=text_body(),
    responses=ERRORS,
)
async def add_task_log(request: Request, taskId: str) -> Response:
    line = _log_line(await request.body())
    await services_of(request).tasks.add_log(taskId, line)
    return responses.empty()


def _log_line(body: bytes) -> str:
    """The raw body; a JSON string (what most SDKs send) is unquoted."""
    try:
        text = body.decode()
    except UnicodeDecodeError as exc:
        raise ValidationError(f"The log line is not UTF-8: {exc}") from exc
    if text.startswith('"'):
        try:
            value = orjson.loads(body)
        except orjson.JSONDecodeError:
            value = None
        if isinstance(value, str):
            text = value
    if not text.strip():
        raise ValidationError(
            "The log line must not be empty", [FieldProblem("log", "must not be empty", text)]
        )
    return text


@router.get(
    "/{taskId}",
    summary="A task",
    responses={**json_response("Task"), **ERRORS},
)
async def get_task(request: Request, taskId: str) -> Response:
    tasks = services_of(request).tasks
    task = await tasks.get(taskId)
    return responses.json(await tasks.task_json(task))


# The worker hot paths, served as plain Starlette routes ahead of the FastAPI ones (which stay
# for the OpenAPI document): no dependency solving, no nested router matching per request.
HOT_ROUTES: list[tuple[str, Any, list[str]]] = [
    ("/api/tasks/poll/batch/{tasktype}", batch_poll_endpoint, ["GET"]),
    ("/api/tasks", update_task, ["POST"]),
    ("/api/tasks/update-v2", update_task_v2, ["POST"]),
]
