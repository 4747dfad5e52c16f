"""The start page: what needs attention (failed, paused, running executions; unattended
queues) and where to go next."""

from __future__ import annotations

import asyncio
import time

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from legato.api.context import services_of
from legato.errors import LegatoError
from legato.ui.executions import Filters, search_workflows
from legato.ui.queues import queue_rows
from legato.ui.render import page

router = APIRouter(include_in_schema=False)

# (label, filters) of the counters on the start page.
COUNTERS = (
    ("Failed in the last 24 hours", Filters(statuses=["FAILED", "TIMED_OUT"], lookback="24h")),
    ("Running", Filters(statuses=["RUNNING"])),
    ("Paused", Filters(statuses=["PAUSED"])),
    ("Completed in the last 24 hours", Filters(statuses=["COMPLETED"], lookback="24h")),
)


@router.get("/", response_class=HTMLResponse)
async def home_page(request: Request) -> Response:
    services = services_of(request)
    now = int(time.time() * 1000)
    counters: list[tuple[str, int | None, str]] = [
        (label, None, filters.params()) for label, filters in COUNTERS
    ]
    error = ""
    try:
        totals = await asyncio.gather(
            *(search_workflows(services, _count_only(f), now) for _, f in COUNTERS)
        )
        counters = [
            (label, total, f.params())
            for (label, f), (total, _) in zip(COUNTERS, totals, strict=True)
        ]
    except LegatoError as exc:
        error = exc.message
    rows = await queue_rows(services, now)
    unattended = [r for r in rows if r.pending and r.unattended(now)]
    return page(
        request,
        "home.html",
        title="Overview",
        counters=counters,
        error=error,
        unattended=unattended,
        definitions=len(services.definitions.latest_workflow_defs()),
        now=now,
    )


def _count_only(filters: Filters) -> Filters:
    return Filters(statuses=list(filters.statuses), lookback=filters.lookback, start=0, size=0)
