"""`/api/event`: event handlers (Conductor's EventResource).

Parameter names are Conductor's exactly (camelCase), hence the non-PEP 8 argument names.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from legato.api import responses
from legato.api.bodies import read_json
from legato.api.context import services_of
from legato.api.openapi import ERRORS, json_body, json_response
from legato.events.validation import parse_event_handler

router = APIRouter(prefix="/api/event", tags=["event"])

_OBJECT: dict[str, Any] = {"type": "object", "additionalProperties": True}
EVENT_HANDLER: dict[str, Any] = {
    **_OBJECT,
    "properties": {
        "name": {"type": "string"},
        "event": {"type": "string", "description": "conductor:<workflowName>:<queue>"},
        "condition": {"type": "string"},
        "evaluatorType": {"type": "string", "enum": ["javascript", "graaljs", "value-param"]},
        "active": {"type": "boolean"},
        "actions": {
            "type": "array",
            "items": {
                **_OBJECT,
                "properties": {
                    "action": {
                        "type": "string",
                        "enum": [
                            "start_workflow",
                            "complete_task",
                            "fail_task",
                            "terminate_workflow",
                            "update_workflow_variables",
                        ],
                    },
                    "start_workflow": _OBJECT,
                    "complete_task": _OBJECT,
                    "fail_task": _OBJECT,
                    "terminate_workflow": _OBJECT,
                    "update_workflow_variables": _OBJECT,
                    "expandInlineJSON": {"type": "boolean"},
                },
            },
        },
    },
    "required": ["name", "event", "actions"],
}
_HANDLERS = json_response({"type": "array", "items": EVENT_HANDLER})


@router.post(
    "",
    summary="Add an event handler (409 if the name exists)",
    openapi_extra=json_body(EVENT_HANDLER),
    responses=ERRORS,
)
async def add_event_handler(request: Request) -> Response:
    handler = parse_event_handler(await read_json(request))
    await services_of(request).events.create(handler)
    return responses.empty()


@router.put(
    "",
    summary="Update an event handler (404 if there is none by its name)",
    openapi_extra=json_body(EVENT_HANDLER),
    responses=ERRORS,
)
async def update_event_handler(request: Request) -> Response:
    handler = parse_event_handler(await read_json(request))
    await services_of(request).events.update(handler)
    return responses.empty()


@router.get("", summary="All event handlers", responses=_HANDLERS)
async def get_event_handlers(request: Request) -> Response:
    handlers = services_of(request).events.list_handlers()
    return responses.json([h.to_json() for h in handlers])


@router.get(
    "/{event}",
    summary="The event handlers of an event (only the active ones unless activeOnly=false)",
    responses=_HANDLERS,
)
async def get_event_handlers_for_event(
    request: Request, event: str, activeOnly: bool = True
) -> Response:
    handlers = services_of(request).events.for_event(event, active_only=activeOnly)
    return responses.json([h.to_json() for h in handlers])


@router.delete("/{name}", summary="Remove an event handler", responses=ERRORS)
async def remove_event_handler(request: Request, name: str) -> Response:
    await services_of(request).events.delete(name)
    return responses.empty()
