"""`/api/queue`: the default status queues (Conductor's QueueAdminResource).

A message published here completes (or fails) a pending task, the HUMAN / WAIT pattern: the
event runner applies it shortly after, like any message of the built-in queue. Parameter names
are Conductor's exactly (camelCase), hence the non-PEP 8 argument names.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from legato.api import responses
from legato.api.bodies import read_object
from legato.api.context import services_of
from legato.api.openapi import ERRORS, json_body, json_response

router = APIRouter(prefix="/api/queue", tags=["queue"])

_OUTPUT_MAP = json_body({"type": "object", "additionalProperties": True}, required=False)
_NAMES = json_response({"type": "object", "additionalProperties": {"type": "string"}})
_SIZES = json_response({"type": "object", "additionalProperties": {"type": "integer"}})


@router.get("/", summary="The default queues, by the task status they set", responses=_NAMES)
async def names(request: Request) -> Response:
    return responses.json(services_of(request).events.status_queues())


@router.get("/size", summary="Messages waiting in each default queue", responses=_SIZES)
async def size(request: Request) -> Response:
    return responses.json(await services_of(request).events.status_queue_sizes())


@router.post(
    "/update/{workflowId}/{taskRefName}/{status}",
    summary="Publish a message that marks the pending task with this reference name",
    openapi_extra=_OUTPUT_MAP,
    responses=ERRORS,
)
async def update_by_ref(
    request: Request, workflowId: str, taskRefName: str, status: str
) -> Response:
    output = await read_object(request, "task output", optional=True)
    await services_of(request).events.publish_task_update(
        workflowId, status, output, task_ref_name=taskRefName
    )
    return responses.empty()


@router.post(
    "/update/{workflowId}/task/{taskId}/{status}",
    summary="Publish a message that marks the pending task with this id",
    openapi_extra=_OUTPUT_MAP,
    responses=ERRORS,
)
async def update_by_task_id(
    request: Request, workflowId: str, taskId: str, status: str
) -> Response:
    output = await read_object(request, "task output", optional=True)
    await services_of(request).events.publish_task_update(
        workflowId, status, output, task_id=taskId
    )
    return responses.empty()
