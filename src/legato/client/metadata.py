"""Definitions: task definitions, workflow definitions, event handlers (`/api/metadata`, `/api/event`)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from legato.client import call as c
from legato.client.call import Call, operation


class MetadataOperations:
    @operation
    def register_task_defs(task_defs: Iterable[Any]) -> Call[None]:
        """Create or replace task definitions (mappings, or objects with `to_json()`)."""
        body = [c.definition(d) for d in task_defs]
        return Call("POST", "/api/metadata/taskdefs", c.no_content, body=c.dumps(body))

    @operation
    def update_task_def(task_def: Any) -> Call[None]:
        """Replace one task definition."""
        return Call(
            "PUT", "/api/metadata/taskdefs", c.no_content, body=c.dumps(c.definition(task_def))
        )

    @operation
    def get_task_def(name: str) -> Call[dict[str, Any]]:
        """A task definition; `NotFoundError` if there is none."""
        return Call("GET", f"/api/metadata/taskdefs/{c.seg(name)}", c.json_object)

    @operation
    def list_task_defs() -> Call[list[dict[str, Any]]]:
        return Call("GET", "/api/metadata/taskdefs", c.json_list)

    @operation
    def delete_task_def(name: str) -> Call[None]:
        return Call("DELETE", f"/api/metadata/taskdefs/{c.seg(name)}", c.no_content)

    @operation
    def register_workflow_def(definition: Any, *, overwrite: bool = False) -> Call[None]:
        """Register a workflow definition (a mapping or a `dsl.workflow(...)` builder);
        `ConflictError` if that name and version exist and `overwrite` is false."""
        return Call(
            "POST",
            "/api/metadata/workflow",
            c.no_content,
            params=c.query(overwrite=overwrite),
            body=c.dumps(c.definition(definition)),
        )

    @operation
    def update_workflow_defs(definitions: Iterable[Any]) -> Call[dict[str, Any]]:
        """Create or replace several workflow definitions; Conductor's BulkResponse."""
        body = [c.definition(d) for d in definitions]
        return Call("PUT", "/api/metadata/workflow", c.json_object, body=c.dumps(body))

    @operation
    def validate_workflow_def(definition: Any) -> Call[None]:
        """`BadRequestError` listing every problem, if the definition has any."""
        return Call(
            "POST",
            "/api/metadata/workflow/validate",
            c.no_content,
            body=c.dumps(c.definition(definition)),
        )

    @operation
    def get_workflow_def(name: str, version: int | None = None) -> Call[dict[str, Any]]:
        """A workflow definition, the latest version unless `version` is given."""
        return Call(
            "GET",
            f"/api/metadata/workflow/{c.seg(name)}",
            c.json_object,
            params=c.query(version=version),
        )

    @operation
    def list_workflow_defs() -> Call[list[dict[str, Any]]]:
        """Every version of every workflow definition."""
        return Call("GET", "/api/metadata/workflow", c.json_list)

    @operation
    def delete_workflow_def(name: str, version: int) -> Call[None]:
        return Call(
            "DELETE", f"/api/metadata/workflow/{c.seg(name)}/{c.seg(version)}", c.no_content
        )

    # ------------------------------------------------------------------ event handlers
    @operation
    def register_event_handler(handler: Any) -> Call[None]:
        return Call("POST", "/api/event", c.no_content, body=c.dumps(c.definition(handler)))

    @operation
    def update_event_handler(handler: Any) -> Call[None]:
        return Call("PUT", "/api/event", c.no_content, body=c.dumps(c.definition(handler)))

    @operation
    def list_event_handlers() -> Call[list[dict[str, Any]]]:
        return Call("GET", "/api/event", c.json_list)

    @operation
    def list_event_handlers_for(
        event: str, *, active_only: bool = True
    ) -> Call[list[dict[str, Any]]]:
        return Call(
            "GET", f"/api/event/{c.seg(event)}", c.json_list, params=c.query(activeOnly=active_only)
        )

    @operation
    def delete_event_handler(name: str) -> Call[None]:
        return Call("DELETE", f"/api/event/{c.seg(name)}", c.no_content)
