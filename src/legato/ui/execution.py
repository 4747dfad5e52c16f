"""One execution: header and repair actions, diagram by task status, tasks, timeline, I/O; live.

The page is cut into regions (`lg-head`, `lg-diagram`, ...). The page renders them all; the
live stream re-renders them from the store after each change and the page swaps them in.
"""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse

from legato.api.context import services_of
from legato.engine.decider import workflow_task_of
from legato.errors import NotFoundError
from legato.model import Task, Workflow, WorkflowStatus
from legato.ui.diagram import execution_state, render_svg
from legato.ui.live import LiveUpdates, workflow_stream
from legato.ui.render import error_page, page, pretty_json, render
from legato.ui.timeline import render_timeline

router = APIRouter(include_in_schema=False)

MAX_TASK_ROWS = 1000
_TERMINAL_NOT_COMPLETED = (
    WorkflowStatus.FAILED,
    WorkflowStatus.TIMED_OUT,
    WorkflowStatus.TERMINATED,
)


def _now() -> int:
    return int(time.time() * 1000)


def execution_href(workflow_id: str) -> str:
    return f"/executions/{workflow_id}"


def actions_for(wf: Workflow) -> dict[str, bool]:
    """Which repair actions apply to a workflow in its current status."""
    s = wf.status
    return {
        "pause": s == WorkflowStatus.RUNNING,
        "resume": s == WorkflowStatus.PAUSED,
        "terminate": s not in (WorkflowStatus.COMPLETED, WorkflowStatus.TERMINATED),
        "restart": s.terminal,
        "retry": s in _TERMINAL_NOT_COMPLETED,
        "rerun": s.terminal,
        "skip": s == WorkflowStatus.RUNNING,
    }


def _task_row(wf: Workflow, t: Task, now: int) -> dict[str, Any]:
    started, ended = t.start_time, t.end_time
    wait = ((started or now) - t.scheduled_time) if t.scheduled_time else 0
    if not started and t.status.terminal:
        wait = (ended or now) - t.scheduled_time if t.scheduled_time else 0
    run = ((ended or now) - started) if started else 0
    wt = workflow_task_of(wf, t)
    return {
        "task": t,
        "status": t.status.value,
        "attempt": t.retry_count + 1,
        "wait_ms": max(wait, 0),
        "run_ms": max(run, 0),
        "input": pretty_json(t.input_data),
        "output": pretty_json(t.output_data),
        "name": wt.name if wt is not None else t.task_def_name,
    }


def regions(wf: Workflow, now: int | None = None) -> dict[str, str]:
    """The HTML of each live region of the execution page."""
    now = now if now is not None else _now()
    states = execution_state(wf.definition, wf.tasks)
    scheduled_refs = {t.base_ref for t in wf.tasks}
    context: dict[str, Any] = {
        "wf": wf,
        "now": now,
        "actions": actions_for(wf),
        "duration_ms": ((wf.end_time or now) - wf.create_time) if wf.create_time else 0,
        "rows": [_task_row(wf, t, now) for t in wf.tasks[:MAX_TASK_ROWS]],
        "task_count": len(wf.tasks),
        "max_rows": MAX_TASK_ROWS,
        "sub_workflows": [
            (t.reference_task_name, t.sub_workflow_id) for t in wf.tasks if t.sub_workflow_id
        ],
        "skippable": [
            wt.task_reference_name
            for wt in wf.definition.walk()
            if wt.task_reference_name not in scheduled_refs
        ],
        "rerunnable": [(t.task_id, t.reference_task_name, t.status.value) for t in wf.tasks],
        "input": pretty_json(wf.input),
        "output": pretty_json(wf.output),
        "variables": pretty_json(wf.variables),
    }
    return {
        "lg-head": render("parts/execution_head.html", **context),
        "lg-diagram": render_svg(
            wf.definition,
            states,
            execution_href=execution_href,
            label=f"Diagram of execution {wf.workflow_id}, {wf.status.value}",
        ),
        "lg-tasks": render("parts/execution_tasks.html", **context),
        "lg-timeline": render_timeline(wf.tasks, now),
        "lg-io": render("parts/execution_io.html", **context),
    }


@router.get("/executions/{workflow_id}", response_class=HTMLResponse)
async def execution_page(request: Request, workflow_id: str) -> Response:
    try:
        wf = await services_of(request).workflows.get(workflow_id)
    except NotFoundError:
        return error_page(request, 404, f"No execution {workflow_id}.")
    return page(
        request,
        "execution.html",
        nav="executions",
        title=f"{wf.workflow_name} {wf.workflow_id[:8]}",
        wf=wf,
        parts=regions(wf),
        token=str(wf.rev),
    )


@router.get("/ui/events/executions/{workflow_id}")
async def execution_events(
    request: Request, workflow_id: str, since: str | None = None
) -> Response:
    """`since`: the version the page already shows (the browser's Last-Event-ID wins)."""
    services = services_of(request)
    live: LiveUpdates = request.app.state.ui_live

    async def snapshot() -> tuple[str, dict[str, object]] | None:
        try:
            wf = await services.workflows.get(workflow_id)
        except NotFoundError:
            return None
        payload: dict[str, object] = {
            "status": wf.status.value,
            "terminal": wf.status.terminal,
            "regions": regions(wf),
        }
        return str(wf.rev), payload

    stream = workflow_stream(
        live, workflow_id, snapshot, last_event_id=request.headers.get("last-event-id") or since
    )
    return StreamingResponse(
        stream,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
