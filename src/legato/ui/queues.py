"""Queues: per task type (and domain) the tasks waiting, the workers polling, the last poll.

A queue whose workers have not polled for `STALE_MS` (or never) is flagged: its tasks wait
for nobody. The page refreshes its table every few seconds.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from legato.api.context import services_of
from legato.service.container import Services
from legato.ui.render import page, render

router = APIRouter(include_in_schema=False)

STALE_MS = 60_000


@dataclass(slots=True)
class Worker:
    worker_id: str
    last_poll: int


@dataclass(slots=True)
class QueueRow:
    task_type: str
    domain: str | None
    pending: int = 0
    oldest_scheduled: int = 0
    workers: list[Worker] = field(default_factory=list)
    has_def: bool = False

    @property
    def queue_name(self) -> str:
        return f"{self.domain}:{self.task_type}" if self.domain else self.task_type

    @property
    def last_poll(self) -> int:
        return max((w.last_poll for w in self.workers), default=0)

    def active_workers(self, now: int) -> list[Worker]:
        return [w for w in self.workers if now - w.last_poll <= STALE_MS]

    def unattended(self, now: int) -> bool:
        """No worker has polled this queue within STALE_MS."""
        return not self.active_workers(now)


def _split(queue_name: str) -> tuple[str, str | None]:
    domain, sep, task_type = queue_name.partition(":")
    return (task_type, domain) if sep else (queue_name, None)


async def queue_rows(services: Services, now: int) -> list[QueueRow]:
    """Every queue worth showing: task definitions, queues with tasks, queues polled."""
    sizes, polls = await asyncio.gather(
        services.store.queue_sizes(None), services.store.list_poll_data(None)
    )
    rows: dict[str, QueueRow] = {}

    def row(queue_name: str) -> QueueRow:
        found = rows.get(queue_name)
        if found is None:
            task_type, domain = _split(queue_name)
            found = rows[queue_name] = QueueRow(task_type, domain)
        return found

    for task_def in services.definitions.list_task_defs():
        row(task_def.name).has_def = True
    for definition in services.definitions.latest_workflow_defs():
        for wt in definition.walk():
            if wt.type == "SIMPLE":
                row(wt.name)
    for queue_name, size in sizes.items():
        row(queue_name).pending = size
    for poll in polls:
        row(poll["queueName"]).workers.append(Worker(poll["workerId"], poll["lastPollTime"]))
    waiting = [r for r in rows.values() if r.pending]
    firsts = await asyncio.gather(*(services.store.list_queue(r.queue_name, 0, 1) for r in waiting))
    for r, first in zip(waiting, firsts, strict=True):
        if first:
            r.oldest_scheduled = first[0].scheduled_time
    for r in rows.values():
        r.workers.sort(key=lambda w: -w.last_poll)
    # Queues needing attention first: tasks waiting for nobody, then by size.
    return sorted(
        rows.values(),
        key=lambda r: (not (r.pending and r.unattended(now)), -r.pending, r.queue_name),
    )


def _context(rows: list[QueueRow], now: int) -> dict[str, Any]:
    return {
        "rows": rows,
        "now": now,
        "stale_s": STALE_MS // 1000,
        "unattended": [r for r in rows if r.unattended(now)],
    }


@router.get("/queues", response_class=HTMLResponse)
async def queues_page(request: Request) -> Response:
    now = int(time.time() * 1000)
    rows = await queue_rows(services_of(request), now)
    return page(request, "queues.html", nav="queues", title="Queues", **_context(rows, now))


@router.get("/ui/fragments/queues", response_class=HTMLResponse)
async def queues_fragment(request: Request) -> Response:
    """The queue table alone, for the page's periodic refresh."""
    now = int(time.time() * 1000)
    rows = await queue_rows(services_of(request), now)
    return HTMLResponse(render("parts/queues_table.html", **_context(rows, now)))
