"""`/api/metadata`: task and workflow definitions (Conductor's MetadataResource).

Parameter names are Conductor's exactly (camelCase), hence the non-PEP 8 argument names.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from legato.api import responses
from legato.api.bodies import read_array, read_json
from legato.api.context import services_of
from legato.api.openapi import (
    ERRORS,
    array_of,
    json_body,
    json_response,
    ref,
)
from legato.errors import FieldProblem, LegatoError, NotFoundError, ValidationError
from legato.model import WorkflowDef
from legato.model.validation import parse_task_def, parse_task_defs, parse_workflow_def

router = APIRouter(prefix="/api/metadata", tags=["metadata"])

BULK_MESSAGE = "Bulk Request has been processed."


def _summary(d: WorkflowDef) -> dict[str, Any]:
    out: dict[str, Any] = {"name": d.name, "version": d.version}
    if d.create_time is not None:
        out["createTime"] = d.create_time
    return out


# ------------------------------------------------------------------------------ task defs
@router.post(
    "/taskdefs",
    summary="Create or update task definitions",
    openapi_extra=json_body(array_of("TaskDef")),
    responses=ERRORS,
)
async def register_task_defs(request: Request) -> Response:
    defs = parse_task_defs(await read_json(request))
    await services_of(request).definitions.register_task_defs(defs)
    return responses.empty()


@router.put(
    "/taskdefs",
    summary="Update a task definition",
    openapi_extra=json_body("TaskDef"),
    responses=ERRORS,
)
async def update_task_def(request: Request) -> Response:
    task_def = parse_task_def(await read_json(request))
    await services_of(request).definitions.register_task_defs([task_def])
    return responses.empty()


@router.get(
    "/taskdefs",
    summary="All task definitions",
    responses=json_response(array_of("TaskDef")),
)
async def list_task_defs(request: Request) -> Response:
    return responses.json([d.to_json() for d in services_of(request).definitions.list_task_defs()])


@router.get(
    "/taskdefs/{tasktype}",
    summary="A task definition",
    responses={**json_response("TaskDef"), **ERRORS},
)
async def get_task_def(request: Request, tasktype: str) -> Response:
    task_def = await services_of(request).definitions.get_task_def(tasktype)
    return responses.json(task_def.to_json())


@router.delete("/taskdefs/{tasktype}", summary="Remove a task definition", responses=ERRORS)
async def delete_task_def(request: Request, tasktype: str) -> Response:
    await services_of(request).definitions.delete_task_def(tasktype)
    return responses.empty()


# ------------------------------------------------------------------------------ workflow defs
@router.post(
    "/workflow",
    summary="Create a workflow definition",
    openapi_extra=json_body("WorkflowDef"),
    responses=ERRORS,
)
async def register_workflow_def(
    request: Request,
    overwrite: Annotated[bool, Query(description="Replace an existing version")] = False,
) -> Response:
    definition = parse_workflow_def(await read_json(request))
    await services_of(request).definitions.register_workflow_def(definition, overwrite=overwrite)
    return responses.empty()


@router.post(
    "/workflow/validate",
    summary="Validate a workflow definition without storing it",
    openapi_extra=json_body("WorkflowDef"),
    responses=ERRORS,
)
async def validate_workflow_def(request: Request) -> Response:
    definition = parse_workflow_def(await read_json(request))
    services_of(request).definitions.validate_workflow_def(definition)
    return responses.empty()


@router.put(
    "/workflow",
    summary="Create or update workflow definitions",
    openapi_extra=json_body(array_of("WorkflowDef")),
    responses={**json_response("BulkResponse"), **ERRORS},
)
async def update_workflow_defs(request: Request) -> Response:
    # Like Conductor, the list is validated as a whole (400 naming `[i].field`), then each
    # definition is stored on its own and failures are reported per name.
    items = await read_array(request, "WorkflowDef[]")
    definitions = services_of(request).definitions
    parsed: list[WorkflowDef] = []
    problems: list[FieldProblem] = []
    for i, item in enumerate(items):
        try:
            definition = parse_workflow_def(item)
            definitions.validate_workflow_def(definition)
        except ValidationError as exc:
            problems.extend(
                FieldProblem(f"[{i}].{p.path}" if p.path else f"[{i}]", p.message, p.invalid_value)
                for p in exc.problems
            )
            if not exc.problems:
                problems.append(FieldProblem(f"[{i}]", exc.message))
            continue
        parsed.append(definition)
    if problems:
        raise ValidationError("Validation failed for workflow definitions", problems)
    succeeded: list[str] = []
    failed: dict[str, str] = {}
    for definition in parsed:
        try:
            await definitions.register_workflow_def(definition, overwrite=True)
        except LegatoError as exc:
            failed[definition.name] = exc.message
        else:
            succeeded.append(definition.name)
    return responses.json(
        {"bulkSuccessfulResults": succeeded, "bulkErrorResults": failed, "message": BULK_MESSAGE}
    )


@router.get(
    "/workflow",
    summary="All workflow definitions (every version)",
    responses=json_response(array_of("WorkflowDef")),
)
async def list_workflow_defs(request: Request) -> Response:
    defs = services_of(request).definitions.list_workflow_defs()
    return responses.json([d.to_json() for d in defs])


@router.get(
    "/workflow/latest-versions",
    summary="The latest version of every workflow definition",
    responses=json_response(array_of("WorkflowDef")),
)
async def latest_workflow_defs(request: Request) -> Response:
    defs = services_of(request).definitions.latest_workflow_defs()
    return responses.json([d.to_json() for d in defs])


@router.get(
    "/workflow/names-and-versions",
    summary="Every workflow name with its versions",
    responses=json_response(
        {"type": "object", "additionalProperties": array_of("WorkflowDefSummary")}
    ),
)
async def workflow_names_and_versions(request: Request) -> Response:
    out: dict[str, list[dict[str, Any]]] = {}
    for d in services_of(request).definitions.list_workflow_defs():
        out.setdefault(d.name, []).append(_summary(d))
    return responses.json(out)


@router.get(
    "/workflow/names",
    summary="Every workflow name",
    responses=json_response({"type": "array", "items": {"type": "string"}}),
)
async def workflow_names(request: Request) -> Response:
    defs = services_of(request).definitions.latest_workflow_defs()
    return responses.json([d.name for d in defs])


@router.get(
    "/workflow/{name}/versions",
    summary="The versions of one workflow definition",
    responses={**json_response(array_of("WorkflowDefSummary")), **ERRORS},
)
async def workflow_versions(request: Request, name: str) -> Response:
    defs = [d for d in services_of(request).definitions.list_workflow_defs() if d.name == name]
    if not defs:
        raise NotFoundError(f"No such workflow found by name: {name}")
    return responses.json([_summary(d) for d in defs])


@router.get(
    "/workflow/{name}",
    summary="A workflow definition (the latest version unless `version` is given)",
    responses={**json_response(ref("WorkflowDef")), **ERRORS},
)
async def get_workflow_def(
    request: Request, name: str, version: Annotated[int | None, Query(ge=0)] = None
) -> Response:
    definition = await services_of(request).definitions.get_workflow_def(name, version)
    return responses.json(definition.to_json())


@router.delete(
    "/workflow/{name}/{version}",
    summary="Remove a workflow definition version (executions are kept)",
    responses=ERRORS,
)
async def delete_workflow_def(request: Request, name: str, version: int) -> Response:
    await services_of(request).definitions.delete_workflow_def(name, version)
    return responses.empty()
