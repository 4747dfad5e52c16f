"""Executions search: filters (type, status, time range, correlation id, free text), paging,
and bulk repair actions on the selected results.

The filters become a Conductor search (`query` + `freeText`) answered by the search service,
so the page finds exactly what `GET /api/workflow/search` would.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from legato.api.context import services_of
from legato.errors import LegatoError
from legato.model import Workflow
from legato.service.container import Services
from legato.ui.render import WORKFLOW_STATUSES, page

router = APIRouter(include_in_schema=False)

PAGE_SIZES = (25, 50, 100)
LOOKBACKS: dict[str, tuple[str, int]] = {
    "1h": ("last hour", 3_600_000),
    "24h": ("last 24 hours", 86_400_000),
    "7d": ("last 7 days", 7 * 86_400_000),
    "30d": ("last 30 days", 30 * 86_400_000),
}
SORTS = {
    "startTime:DESC": "newest first",
    "startTime:ASC": "oldest first",
    "endTime:DESC": "recently ended first",
    "updateTime:DESC": "recently updated first",
}


@dataclass(slots=True)
class Filters:
    workflow_type: str = ""
    statuses: list[str] = field(default_factory=list)
    lookback: str = ""
    start_from: int | None = None  # epoch ms, inclusive
    start_to: int | None = None  # epoch ms, exclusive
    correlation_id: str = ""
    free_text: str = ""
    sort: str = "startTime:DESC"
    start: int = 0
    size: int = PAGE_SIZES[0]

    def query(self, now: int) -> str:
        """Conductor's `query` grammar for these filters ('' when none)."""
        parts: list[str] = []
        if self.workflow_type:
            parts.append(f"workflowType = {quote(self.workflow_type)}")
        if self.statuses:
            parts.append(f"status IN ({', '.join(self.statuses)})")
        since, until = self.time_range(now)
        if since is not None:
            parts.append(f"startTime >= {since}")
        if until is not None:
            parts.append(f"startTime < {until}")
        if self.correlation_id:
            parts.append(f"correlationId = {quote(self.correlation_id)}")
        return " AND ".join(parts)

    def time_range(self, now: int) -> tuple[int | None, int | None]:
        if self.lookback in LOOKBACKS:
            return now - LOOKBACKS[self.lookback][1], None
        return self.start_from, self.start_to

    def params(self, **changes: Any) -> str:
        """The URL query of these filters, with `changes` applied (for paging links)."""
        values: dict[str, Any] = {
            "workflowType": self.workflow_type,
            "status": self.statuses,
            "lookback": self.lookback,
            "startFrom": self.start_from,
            "startTo": self.start_to,
            "correlationId": self.correlation_id,
            "q": self.free_text,
            "sort": self.sort if self.sort != "startTime:DESC" else "",
            "size": self.size if self.size != PAGE_SIZES[0] else "",
            "start": self.start or "",
        }
        values.update(changes)
        pairs: list[tuple[str, Any]] = []
        for key, value in values.items():
            if isinstance(value, list):
                pairs.extend((key, v) for v in value)
            elif value not in (None, ""):
                pairs.append((key, value))
        return urlencode(pairs)


def quote(value: str) -> str:
    """A value of the `query` grammar: single-quoted, backslash escaping `'` and `\\`."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _epoch(text: str | None) -> int | None:
    """Epoch ms, or a `datetime-local` value read as UTC."""
    if not text:
        return None
    if text.isdigit():
        return int(text)
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return int(value.timestamp() * 1000)


def _local(ms: int | None) -> str:
    if ms is None:
        return ""
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M")


async def search_workflows(
    services: Services, filters: Filters, now: int
) -> tuple[int, list[Workflow]]:
    """(total hits, the workflows of one page), from the search service."""
    found = await services.search.workflows(
        query=filters.query(now) or None,
        free_text=filters.free_text or None,
        sort=filters.sort,
        start=filters.start,
        size=filters.size,
    )
    return found.total_hits, found.results


def _row(wf: Workflow) -> dict[str, Any]:
    """What the results table shows of one workflow."""
    return {
        "id": wf.workflow_id,
        "type": wf.workflow_name,
        "version": wf.workflow_version,
        "status": wf.status.value,
        "start": wf.create_time,
        "end": wf.end_time,
        "duration": (wf.end_time - wf.create_time) if wf.end_time else 0,
        "correlation_id": wf.correlation_id or "",
        "reason": wf.reason_for_incompletion or "",
        "parent": wf.parent_workflow_id or "",
    }


@router.get("/executions", response_class=HTMLResponse)
async def executions_page(
    request: Request,
    workflowType: str = "",
    status: list[str] | None = Query(default=None),  # noqa: B008 (FastAPI's idiom)
    lookback: str = "",
    startFrom: str | None = None,
    startTo: str | None = None,
    correlationId: str = "",
    q: str = "",
    sort: str = "startTime:DESC",
    start: int = 0,
    size: int = PAGE_SIZES[0],
) -> Response:
    services = services_of(request)
    filters = Filters(
        workflow_type=workflowType.strip(),
        statuses=[s for s in (status or []) if s in WORKFLOW_STATUSES],
        lookback=lookback if lookback in LOOKBACKS else "",
        start_from=_epoch(startFrom),
        start_to=_epoch(startTo),
        correlation_id=correlationId.strip(),
        free_text=q.strip(),
        sort=sort if sort in SORTS else "startTime:DESC",
        start=max(start, 0),
        size=size if size in PAGE_SIZES else PAGE_SIZES[0],
    )
    now = int(time.time() * 1000)
    error = ""
    total, rows = 0, []
    began = time.perf_counter()
    try:
        total, results = await search_workflows(services, filters, now)
        rows = [_row(wf) for wf in results]
    except LegatoError as exc:
        error = exc.message
    took_ms = (time.perf_counter() - began) * 1000
    last_start = max((total - 1) // filters.size * filters.size, 0)
    return page(
        request,
        "executions.html",
        nav="executions",
        title="Executions",
        f=filters,
        rows=rows,
        total=total,
        error=error,
        took_ms=took_ms,
        names=sorted({d.name for d in services.definitions.list_workflow_defs()}),
        lookbacks=LOOKBACKS,
        sorts=SORTS,
        page_sizes=PAGE_SIZES,
        start_from_local=_local(filters.start_from) if not filters.lookback else "",
        start_to_local=_local(filters.start_to) if not filters.lookback else "",
        prev_link=filters.params(start=max(filters.start - filters.size, 0) or "")
        if filters.start
        else None,
        next_link=filters.params(start=filters.start + filters.size)
        if filters.start + filters.size < total
        else None,
        first_link=filters.params(start="") if filters.start else None,
        last_link=filters.params(start=last_start) if filters.start < last_start else None,
    )
