"""Endpoints the official Conductor SDKs call beyond Conductor OSS's own API.

Orkes' metadata tags, which `conductor-python`'s MetadataClient uses for
`add/get/set/delete_workflow_tag`, the task tag methods and the workflow rate limit helpers:

- `GET|POST|PUT|DELETE /api/metadata/workflow/{name}/tags`
- `GET|POST|PUT|DELETE /api/metadata/task/{taskName}/tags`
- `GET /api/metadata/tags`

and Orkes' workflow state update, WorkflowClient.update_state:

- `POST /api/workflow/{workflowId}/state?requestId&waitUntilTaskRef&waitForSeconds` with
  `{taskReferenceName, taskResult, variables}`: merge the variables, apply the task result to
  the pending task of that reference name, then answer a WorkflowRun as a synchronous execute
  does (when the workflow ends or blocks, or after `waitForSeconds`).

A tag is `{"key", "type", "value"}` (`type` is `METADATA` or `RATE_LIMIT` in the SDK). Tags are
kept, as in Orkes' `ExtendedWorkflowDef`/`ExtendedTaskDef`, in the definition's `tags` field: a
workflow's on its latest version, a task's on its definition. They are stored, listed and removed;
Legato does not act on them (a `RATE_LIMIT` tag does not limit anything).
"""

import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.types import DecoratedCallable

from legato.api import responses
from legato.api.bodies import kind_of, read_json, read_object
from legato.api.context import services_of
from legato.api.openapi import ERRORS, json_body, json_response
from legato.errors import FieldProblem, NotFoundError, ValidationError
from legato.model import TaskDef, WorkflowDef
from legato.model.operations import ReturnStrategy
from legato.service.definitions import DefinitionService

router = APIRouter(tags=["metadata"])

_TAG: dict[str, Any] = {
    "type": "object",
    "properties": {"key": {"type": "string"}, "type": {"type": "string"}, "value": {}},
    "required": ["key"],
}
_TAGS: dict[str, Any] = {"type": "array", "items": _TAG}
Tag = dict[str, Any]


# ------------------------------------------------------------------------------ tag values
def _tag(item: Any, path: str) -> Tag:
    if not isinstance(item, dict):
        raise ValidationError(
            f"A tag must be a JSON object, not {kind_of(item)}",
            [FieldProblem(path, "must be a JSON object")],
        )
    key = item.get("key")
    if not isinstance(key, str) or not key:
        raise ValidationError(
            "A tag needs a non-empty string key",
            [FieldProblem(f"{path}.key" if path else "key", "must be a non-empty string")],
        )
    tag: Tag = {"key": key, "type": item.get("type") or "METADATA"}
    if item.get("value") is not None:
        tag["value"] = item["value"]
    return tag


def _same(a: Tag, b: Tag) -> bool:
    """Tags match on key, type and value (values compared as text: `5` matches `"5"`)."""
    return (
        a["key"] == b["key"]
        and a.get("type", "METADATA") == b.get("type", "METADATA")
        and str(a.get("value")) == str(b.get("value"))
    )


def _tags_of(definition: WorkflowDef | TaskDef) -> list[Tag]:
    stored = (definition.model_extra or {}).get("tags")
    return [t for t in stored if isinstance(t, dict)] if isinstance(stored, list) else []


def _added(tags: list[Tag], tag: Tag) -> list[Tag]:
    return tags if any(_same(t, tag) for t in tags) else [*tags, tag]


def _removed(tags: list[Tag], tag: Tag) -> list[Tag]:
    return [t for t in tags if not _same(t, tag)]


async def _read_tag(request: Request) -> Tag:
    return _tag(await read_json(request), "")


async def _read_tags(request: Request) -> list[Tag]:
    data = await read_json(request)
    if not isinstance(data, list):
        raise ValidationError(
            f"The request body must be a JSON array of tags, not {kind_of(data)}",
            [FieldProblem("", "must be a JSON array")],
        )
    tags: list[Tag] = []
    for i, item in enumerate(data):
        tags = _added(tags, _tag(item, f"[{i}]"))
    return tags


# ------------------------------------------------------------------------------ storage
_Def = TypeVar("_Def", WorkflowDef, TaskDef)


def _with_tags(definition: _Def, tags: list[Tag]) -> _Def:
    """A copy of the definition whose `tags` (an extra field, kept like any other) are these."""
    updated = definition.model_copy(deep=True)
    extra = updated.__pydantic_extra__
    if extra is None:  # pragma: no cover - definitions allow extra fields
        raise TypeError(f"{type(definition).__name__} keeps no extra fields")
    extra["tags"] = tags
    return updated


async def _set_workflow_tags(definitions: DefinitionService, name: str, tags: list[Tag]) -> None:
    latest = await definitions.get_workflow_def(name)
    await definitions.register_workflow_def(_with_tags(latest, tags), overwrite=True)


async def _set_task_tags(definitions: DefinitionService, name: str, tags: list[Tag]) -> None:
    task_def = await definitions.get_task_def(name)
    await definitions.register_task_defs([_with_tags(task_def, tags)])


# ------------------------------------------------------------------------------ all tags
@router.get(
    "/api/metadata/tags",
    summary="Every tag on a workflow or task definition (Orkes)",
    responses=json_response(_TAGS),
)
async def all_tags(request: Request) -> Response:
    definitions = services_of(request).definitions
    out: list[Tag] = []
    owners: list[WorkflowDef | TaskDef] = [*definitions.latest_workflow_defs()]
    owners.extend(definitions.list_task_defs())
    for owner in owners:
        for tag in _tags_of(owner):
            out = _added(out, tag)
    return responses.json(out)


# ------------------------------------------------------------------------------ definition tags
def _tag_routes(
    kind: str,
    param: str,
    read: Callable[[DefinitionService, str], Awaitable[WorkflowDef | TaskDef]],
    write: Callable[[DefinitionService, str, list[Tag]], Awaitable[None]],
) -> None:
    """`GET|POST|PUT|DELETE /api/metadata/{kind}/{param}/tags`: the tags of the `kind`
    definition named by the path parameter `param`, read with `read` and stored with `write`.

    FastAPI reads the endpoints' annotations, and they name a local (`Name`): this module's
    annotations are evaluated when defined, not postponed."""
    path = f"/api/metadata/{kind}/{{{param}}}/tags"
    owner = f"{kind} definition (Orkes)"
    Name = Annotated[str, Path(alias=param)]

    async def change(
        request: Request, name: str, update: Callable[[list[Tag], Tag], list[Tag]]
    ) -> Response:
        tag = await _read_tag(request)
        definitions = services_of(request).definitions
        await write(definitions, name, update(_tags_of(await read(definitions, name)), tag))
        return responses.empty()

    def route(
        method: str, operation: str, summary: str, body: dict[str, Any]
    ) -> Callable[[DecoratedCallable], DecoratedCallable]:
        """The route of an endpoint of `path` that reads a JSON `body` and answers nothing."""
        return router.api_route(
            path,
            methods=[method],
            name=operation,
            summary=summary,
            openapi_extra=json_body(body),
            responses=ERRORS,
        )

    @router.get(
        path,
        name=f"get_{kind}_tags",
        summary=f"The tags of a {owner}",
        responses={**json_response(_TAGS), **ERRORS},
    )
    async def get_tags(request: Request, name: Name) -> Response:
        return responses.json(_tags_of(await read(services_of(request).definitions, name)))

    @route("POST", f"add_{kind}_tag", f"Add a tag to a {owner}", _TAG)
    async def add_tag(request: Request, name: Name) -> Response:
        return await change(request, name, _added)

    @route("PUT", f"set_{kind}_tags", f"Replace the tags of a {owner}", _TAGS)
    async def set_tags(request: Request, name: Name) -> Response:
        tags = await _read_tags(request)
        await write(services_of(request).definitions, name, tags)
        return responses.empty()

    @route("DELETE", f"delete_{kind}_tag", f"Remove a tag from a {owner}", _TAG)
    async def delete_tag(request: Request, name: Name) -> Response:
        return await change(request, name, _removed)


_tag_routes("workflow", "name", DefinitionService.get_workflow_def, _set_workflow_tags)
_tag_routes("task", "taskName", DefinitionService.get_task_def, _set_task_tags)


# ------------------------------------------------------------------------------ state update
_STATE_UPDATE: dict[str, Any] = {
    "type": "object",
    "properties": {
        "taskReferenceName": {"type": "string"},
        "taskResult": {"$ref": "#/components/schemas/TaskResult"},
        "variables": {"type": "object", "additionalProperties": True},
    },
}


def _object_field(body: dict[str, Any], name: str) -> dict[str, Any]:
    value = body.get(name)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValidationError(
            f"{name} must be a JSON object, not {kind_of(value)}",
            [FieldProblem(name, "must be a JSON object")],
        )
    return value


@router.post(
    "/api/workflow/{workflowId}/state",
    tags=["workflow"],
    summary="Update a workflow's variables and a pending task, then answer like execute (Orkes)",
    openapi_extra=json_body(_STATE_UPDATE),
    responses={**json_response({"type": "object"}), **ERRORS},
)
async def update_workflow_state(
    request: Request,
    workflowId: str,
    requestId: str | None = None,
    waitUntilTaskRef: str | None = None,
    waitForSeconds: Annotated[int, Query(ge=0)] = 10,
) -> Response:
    body = await read_object(request, "WorkflowStateUpdate")
    variables = _object_field(body, "variables")
    result = _object_field(body, "taskResult")
    ref = body.get("taskReferenceName")
    if ref is not None and not isinstance(ref, str):
        raise ValidationError(
            "taskReferenceName must be a string",
            [FieldProblem("taskReferenceName", "not a string")],
        )
    services = services_of(request)
    if variables:
        await services.operations.set_variables(workflowId, variables)
    if ref:
        status = result.get("status") or "COMPLETED"
        output = _object_field(result, "outputData")
        worker = result.get("workerId")
        task_id = await services.tasks.update_by_ref(
            workflowId, ref, str(status), output, worker if isinstance(worker, str) else None
        )
        if task_id is None:
            raise NotFoundError(f"Found no pending task {ref} in workflow {workflowId}")
    refs = [r.strip() for r in (waitUntilTaskRef or "").split(",") if r.strip()]
    answer = await services.operations.signals.respond(
        workflowId,
        refs,
        ReturnStrategy.TARGET_WORKFLOW,
        requestId or str(uuid.uuid4()),
        float(waitForSeconds),
    )
    return responses.json(answer)
