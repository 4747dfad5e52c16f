"""`/api/tasks/{workflowId}/{status}/signal[/sync]`: resolve the task a workflow waits on.

A signal completes (or fails) the first WAIT task of the workflow that has not ended, looking
into running sub-workflows when the workflow itself has none, with the body merged into the
task's output. The synchronous form then waits, up to `timeoutMillis`, until the workflow ends
or blocks again and answers a SignalResponse (see `service/signals.py`). Registered before the
`/api/tasks/{workflowId}/{taskRefName}/{status}` routes, which would otherwise take `signal`
for a status.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from legato.api import responses
from legato.api.bodies import read_object
from legato.api.context import services_of
from legato.api.openapi import ERRORS, json_body, json_response
from legato.api.routers.tasks import IGNORED_HEADER
from legato.api.routers.workflows import SIGNAL_RESPONSE
from legato.model.operations import ReturnStrategy

router = APIRouter(prefix="/api/tasks", tags=["tasks"])

_OUTPUT = json_body({"type": "object", "additionalProperties": True}, required=False)


@router.post(
    "/{workflowId}/{status}/signal/sync",
    summary="Signal the task the workflow waits on, then answer when it ends or blocks again",
    openapi_extra=_OUTPUT,
    responses={**json_response(SIGNAL_RESPONSE), **ERRORS},
)
async def signal_sync(
    request: Request,
    workflowId: str,
    status: str,
    returnStrategy: ReturnStrategy = ReturnStrategy.TARGET_WORKFLOW,
    timeoutMillis: Annotated[int, Query(ge=0)] = 5000,
) -> Response:
    output = await read_object(request, "task output", optional=True)
    answer = await services_of(request).operations.signal_sync(
        workflowId, status, output, returnStrategy, timeoutMillis / 1000
    )
    return responses.json(answer)


@router.post(
    "/{workflowId}/{status}/signal",
    summary="Signal the task the workflow waits on (200 also when none waits)",
    openapi_extra=_OUTPUT,
    responses=ERRORS,
)
async def signal(request: Request, workflowId: str, status: str) -> Response:
    output = await read_object(request, "task output", optional=True)
    task_id = await services_of(request).operations.signal(workflowId, status, output)
    if task_id is None:
        return Response(
            status_code=200,
            headers={IGNORED_HEADER: f"Workflow {workflowId} has no task waiting for a signal"},
        )
    return responses.empty()
