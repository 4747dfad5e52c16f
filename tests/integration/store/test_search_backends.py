"""Search answers alike on SQLite and PostgreSQL: the same data, the same requests, the same
pages (ids in order) and totals."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from store_factories import NOW, insert, task, workflow, workflow_def

import pg_testdb
from legato.model import TaskStatus, WorkflowStatus
from legato.search import SearchRequest, task_request, workflow_request, workflows_by_tasks_request
from legato.store import Store
from legato.store.postgres import PostgresStore
from legato.store.sqlite import SqliteStore

_STATUSES = [WorkflowStatus.RUNNING, WorkflowStatus.COMPLETED, WorkflowStatus.FAILED]
_INPUTS = [
    {"customer": {"id": 42, "name": "Zoë Müller"}, "items": ["mug", "pen"]},
    {"customer": {"id": 7, "name": "Ada"}, "note": "rush_order express-delivery"},
    {"orderId": "A-17", "amount": 12.5},
    {},
]


async def _fill(store: Store) -> None:
    counter = itertools.count()
    for i in range(24):
        name = ["order", "refund", "audit"][i % 3]
        status = _STATUSES[i % 3]
        wf = workflow(
            workflow_def(name, 1 + i % 2),
            workflow_id=f"wf-{i:02d}",
            status=status,
            input=_INPUTS[i % 4],
            correlation_id=None if i % 5 == 0 else f"corr-{i % 4}",
            create_time=NOW + 1000 * (i % 7),
            end_time=0 if status is WorkflowStatus.RUNNING else NOW + 5000 + i,
            reason_for_incompletion="payment declined: card_expired" if i % 3 == 2 else None,
            output={"result": "shipped", "tracking": f"TR{i}"} if i % 3 == 1 else {},
            priority=i % 4,
        )
        tasks = []
        for seq in range(1, 3):
            ended = status is not WorkflowStatus.RUNNING or seq == 1
            tasks.append(
                task(
                    wf,
                    seq,
                    task_id=f"t-{next(counter):03d}",
                    task_type=["charge", "ship"][seq - 1],
                    task_def_name=["charge", "ship"][seq - 1],
                    reference_task_name=f"{['charge', 'ship'][seq - 1]}_ref",
                    status=TaskStatus.COMPLETED if ended else TaskStatus.SCHEDULED,
                    input_data={"amount": i * 3, "currency": "EUR" if i % 2 else "USD"},
                    output_data={"receipt": f"R-{i}-{seq}", "ok": True} if ended else {},
                    scheduled_time=NOW + i,
                    start_time=NOW + i + 1 if ended else 0,
                    end_time=NOW + i + 10 * seq if ended else 0,
                )
            )
        await store.commit(insert(wf, tasks))


@pytest.fixture
async def stores(tmp_path: Path) -> AsyncIterator[tuple[Store, Store]]:
    url = pg_testdb.fresh_database(migrated=True)
    sqlite, postgres = SqliteStore(f"sqlite:///{tmp_path / 'search.db'}"), PostgresStore(url)
    await sqlite.open()
    await postgres.open()
    try:
        for store in (sqlite, postgres):
            await _fill(store)
        yield sqlite, postgres
    finally:
        await sqlite.close()
        await postgres.close()


WORKFLOW_REQUESTS = [
    {},
    {"query": "status = RUNNING"},
    {"query": "workflowType IN (order, audit) AND version = 2"},
    {"query": "correlationId IS NULL"},
    {"query": "correlationId != corr-1"},
    {"query": "startTime > 1700000002000", "sort": "startTime:DESC"},
    {"sort": "correlationId:ASC"},
    {"sort": "correlationId:DESC", "start": 3, "size": 5},
    {"sort": ["workflowType:ASC", "endTime:DESC"]},
    {"free_text": "customer"},
    {"free_text": "zoe"},
    {"free_text": "muller"},
    {"free_text": '"customer id 42"'},
    {"free_text": "input.customer.id:7"},
    {"free_text": "cust*"},
    {"free_text": "rush"},
    {"free_text": "express delivery"},
    {"free_text": '"order express"'},
    {"free_text": "declined"},
    {"free_text": "card_expired"},
    {"free_text": "shipped OR declined"},
    {"free_text": "-shipped"},
    {"free_text": "wf-03"},
    {"free_text": "corr-2"},
    {"free_text": "output.tracking:TR4"},
    {"free_text": "order", "query": "status IN (COMPLETED, FAILED)"},
]
TASK_REQUESTS = [
    {},
    {"query": "taskType = ship"},
    {"query": "status = SCHEDULED"},
    {"free_text": "EUR"},
    {"free_text": "receipt"},
    {"free_text": "R-5-1"},
    {"free_text": "charge_ref"},
    {"free_text": "t-005"},
    {"sort": "endTime:DESC", "size": 7},
]


async def _same(stores: tuple[Store, Store], request: SearchRequest, tasks: bool) -> None:
    pages = []
    for store in stores:
        if tasks:
            page = await store.search_tasks(request)
            pages.append((page.total_hits, [t.task_id for t in page.results]))
        else:
            found = await store.search_workflows(request)
            pages.append((found.total_hits, [w.workflow_id for w in found.results]))
    assert pages[0] == pages[1], request


@pytest.mark.parametrize("params", WORKFLOW_REQUESTS, ids=str)
async def test_workflow_searches_answer_alike(
    stores: tuple[Store, Store], params: dict[str, object]
) -> None:
    await _same(stores, workflow_request(**params), tasks=False)  # type: ignore[arg-type]


@pytest.mark.parametrize("params", TASK_REQUESTS, ids=str)
async def test_task_searches_answer_alike(
    stores: tuple[Store, Store], params: dict[str, object]
) -> None:
    await _same(stores, task_request(**params), tasks=True)  # type: ignore[arg-type]
    if params.get("query") or params.get("free_text"):
        request = workflows_by_tasks_request(**params)  # type: ignore[arg-type]
        await _same(stores, request, tasks=False)
