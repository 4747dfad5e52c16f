"""`/api/workflow/bulk`: one operation on up to 1,000 workflows (Conductor's WorkflowBulkResource).

The body is a JSON array of workflow ids (1 to 1,000, else 400). Each id is operated on by
itself; the answer is a BulkResponse: the ids that succeeded, an error message per id that did
not, and Conductor's fixed `message`. Registered before the `/api/workflow/{workflowId}/...`
routes, which would otherwise take `bulk` for a workflow id.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from legato.api import responses
from legato.api.bodies import read_array
from legato.api.context import services_of
from legato.api.openapi import ERRORS, json_body, json_response
from legato.service.operations import check_bulk_ids

router = APIRouter(prefix="/api/workflow/bulk", tags=["workflow-bulk"])

_IDS = json_body({"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 1000})
_BULK: dict[int | str, Any] = {**json_response("BulkResponse"), **ERRORS}
_BULK_WORKFLOWS: dict[int | str, Any] = {
    **json_response(
        {
            "type": "object",
            "properties": {
                "bulkSuccessfulResults": {
                    "type": "array",
                    "items": {"$ref": "#/components/schemas/Workflow"},
                },
                "bulkErrorResults": {
                    "type": "object",
                    "additionalProperties": {"type": "string"},
                },
                "message": {"type": "string"},
            },
        }
    ),
    **ERRORS,
}


async def _ids(request: Request) -> list[str]:
    return check_bulk_ids(await read_array(request, "workflow ids"))


@router.put("/pause", summary="Pause workflows", openapi_extra=_IDS, responses=_BULK)
async def bulk_pause(request: Request) -> Response:
    ops = services_of(request).operations
    return responses.json(await ops.bulk(await _ids(request), ops.pause))


@router.put("/resume", summary="Resume paused workflows", openapi_extra=_IDS, responses=_BULK)
async def bulk_resume(request: Request) -> Response:
    ops = services_of(request).operations
    return responses.json(await ops.bulk(await _ids(request), ops.resume))


@router.post("/restart", summary="Restart ended workflows", openapi_extra=_IDS, responses=_BULK)
async def bulk_restart(request: Request, useLatestDefinitions: bool = False) -> Response:
    ops = services_of(request).operations

    async def restart(workflow_id: str) -> None:
        await ops.restart(workflow_id, use_latest_definitions=useLatestDefinitions)

    return responses.json(await ops.bulk(await _ids(request), restart))


@router.post("/retry", summary="Retry ended workflows", openapi_extra=_IDS, responses=_BULK)
async def bulk_retry(request: Request) -> Response:
    ops = services_of(request).operations

    async def retry(workflow_id: str) -> None:
        await ops.retry(workflow_id)

    return responses.json(await ops.bulk(await _ids(request), retry))


@router.post("/terminate", summary="Terminate workflows", openapi_extra=_IDS, responses=_BULK)
async def bulk_terminate(
    request: Request, reason: str | None = None, triggerFailureWorkflow: bool = False
) -> Response:
    ops = services_of(request).operations

    async def terminate(workflow_id: str) -> None:
        await ops.terminate(workflow_id, reason, trigger_failure_workflow=triggerFailureWorkflow)

    return responses.json(await ops.bulk(await _ids(request), terminate))


@router.delete("/remove", summary="Remove workflows", openapi_extra=_IDS, responses=_BULK)
async def bulk_remove(request: Request, archiveWorkflow: bool = True) -> Response:
    ops = services_of(request).operations
    return responses.json(await ops.bulk(await _ids(request), ops.remove))


@router.delete(
    "/terminate-remove",
    summary="Terminate workflows (those not ended), then remove them",
    openapi_extra=_IDS,
    responses=_BULK,
)
async def bulk_terminate_remove(
    request: Request, reason: str | None = None, archiveWorkflow: bool = True
) -> Response:
    ops = services_of(request).operations

    async def terminate_remove(workflow_id: str) -> None:
        await ops.terminate_remove(workflow_id, reason)

    return responses.json(await ops.bulk(await _ids(request), terminate_remove))


@router.post(
    "/search",
    summary="Workflows by id (BulkResponse of Workflow)",
    openapi_extra=_IDS,
    responses=_BULK_WORKFLOWS,
)
async def bulk_search(request: Request, includeTasks: bool = True) -> Response:
    services = services_of(request)

    async def get(workflow_id: str) -> dict[str, Any]:
        wf = await services.workflows.get(workflow_id)
        return services.workflows.workflow_json(wf, include_tasks=includeTasks)

    return responses.json(await services.operations.bulk(await _ids(request), get))
