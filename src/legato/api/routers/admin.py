"""`/api/admin`: Conductor's operator endpoints (repairs, queue contents, configuration)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from legato.api import responses
from legato.api.context import services_of
from legato.api.openapi import ERRORS, array_of, json_response, text_response

router = APIRouter(prefix="/api/admin", tags=["admin"])


@router.get(
    "/config",
    summary="This node's configuration",
    responses=json_response({"type": "object", "additionalProperties": True}),
)
async def config(request: Request) -> Response:
    return responses.json(services_of(request).admin.config())


@router.get(
    "/task/{tasktype}",
    summary="Tasks waiting in a task type's queue",
    responses={**json_response(array_of("Task")), **ERRORS},
)
async def pending_tasks(
    request: Request, tasktype: str, start: int = 0, count: int = 100, domain: str | None = None
) -> Response:
    tasks = await services_of(request).admin.pending(tasktype, domain or None, start, count)
    return responses.json([t.to_json() for t in tasks])


@router.post(
    "/sweep/requeue/{workflowId}",
    summary="Decide a workflow again now; answers its id",
    responses={**text_response("The workflow id"), **ERRORS},
)
async def sweep(request: Request, workflowId: str) -> Response:
    await services_of(request).admin.repair(workflowId)
    return responses.text(workflowId)


@router.post(
    "/consistency/verifyAndRepair/{workflowId}",
    summary="Decide a workflow again and restore missing queue entries; answers true",
    responses={**text_response("true"), **ERRORS},
)
async def verify_and_repair(request: Request, workflowId: str) -> Response:
    await services_of(request).admin.repair(workflowId)
    return responses.text("true")
