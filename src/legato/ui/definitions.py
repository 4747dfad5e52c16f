"""Definition pages: the list with versions; one definition with its diagram, JSON and a start form."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from legato.api.context import services_of
from legato.model import WorkflowDef
from legato.ui.diagram import render_svg
from legato.ui.render import page, pretty_json

router = APIRouter(include_in_schema=False)


@router.get("/definitions", response_class=HTMLResponse)
async def definitions_page(request: Request) -> Response:
    defs = services_of(request).definitions
    rows: dict[str, dict[str, Any]] = {}
    for d in defs.list_workflow_defs():  # by name, then version
        row = rows.setdefault(d.name, {"name": d.name, "versions": []})
        row["versions"].append(d.version)
        row["latest"] = d
    workflows = []
    for row in rows.values():
        latest: WorkflowDef = row["latest"]
        workflows.append(
            {
                "name": row["name"],
                "versions": row["versions"],
                "latest": latest.version,
                "description": latest.description or "",
                "tasks": len(latest.walk()),
                "owner": latest.owner_email or "",
                "updated": latest.update_time or latest.create_time or 0,
            }
        )
    return page(
        request,
        "definitions.html",
        nav="definitions",
        title="Definitions",
        workflows=workflows,
        task_defs=defs.list_task_defs(),
    )


@router.get("/definitions/{name}", response_class=HTMLResponse)
async def definition_page(request: Request, name: str, version: int | None = None) -> Response:
    defs = services_of(request).definitions
    definition = defs.workflow_def(name, version)
    if definition is None:
        from legato.ui.render import error_page

        suffix = f" version {version}" if version else ""
        return error_page(request, 404, f"No workflow definition {name}{suffix}.")
    versions = sorted(d.version for d in defs.list_workflow_defs() if d.name == name)
    return page(
        request,
        "definition.html",
        nav="definitions",
        title=f"{definition.name} v{definition.version}",
        definition=definition,
        versions=versions,
        svg=render_svg(definition),
        json_text=pretty_json(definition.to_json()),
        input_text=pretty_json(sample_input(definition), sort_keys=False),
    )


def sample_input(definition: WorkflowDef) -> dict[str, Any]:
    """A starting point for the start form: the declared input keys, then the input template."""
    sample: dict[str, Any] = dict.fromkeys(definition.input_parameters)
    sample.update(definition.input_template)
    return sample
