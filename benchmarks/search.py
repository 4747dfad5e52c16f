"""Search on SQLite without Elasticsearch: first pages over 100,000 completed workflows.

Fills a fresh SQLite store through its own commit path (bulk: 500 workflows, each with one
task, per commit), brings the full-text index in step, then times the first page (size 100,
with its exact total) of typical searches through the service, and the first of them once more
through HTTP (the real app, in process). Prints median and worst of the repeats.

    python benchmarks/search.py [--workflows 100000] [--repeats 20]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from legato.api.app import create_app
from legato.config import Settings
from legato.model import Task, TaskStatus, Workflow, WorkflowDef, WorkflowStatus, WorkflowTask
from legato.service.container import Services
from legato.service.search import SearchService
from legato.store import Changeset, SqliteStore, WorkflowWrite

NOW = 1_700_000_000_000
TYPES = [f"flow_{i}" for i in range(10)]
WORDS = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel"]


def definition(name: str) -> WorkflowDef:
    return WorkflowDef(
        name=name, version=1, tasks=[WorkflowTask(name="work", task_reference_name="work")]
    )


def execution(i: int, definitions: dict[str, WorkflowDef]) -> tuple[Workflow, Task]:
    name = TYPES[i % len(TYPES)]
    failed = i % 10 == 7
    start = NOW + i * 1000
    wf = Workflow(
        workflow_id=f"wf-{i:07d}",
        workflow_name=name,
        workflow_version=1,
        status=WorkflowStatus.FAILED if failed else WorkflowStatus.COMPLETED,
        definition=definitions[name],
        input={"orderId": i, "customer": {"name": f"{WORDS[i % 8]} {i % 977}"}},
        output={"receipt": f"R-{i}", "note": WORDS[(i * 7) % 8]},
        correlation_id=f"order-{i}",
        create_time=start,
        update_time=start + 500 + i % 300,
        end_time=start + 500 + i % 300,
        reason_for_incompletion="card declined" if failed else None,
    )
    task = Task(
        task_id=f"t-{i:07d}",
        workflow_instance_id=wf.workflow_id,
        task_type="work",
        task_def_name="work",
        reference_task_name="work",
        status=TaskStatus.FAILED if failed else TaskStatus.COMPLETED,
        seq=1,
        input_data={"orderId": i},
        output_data={"done": True},
        workflow_type=name,
        correlation_id=wf.correlation_id,
        scheduled_time=start,
        start_time=start + 10,
        end_time=start + 400,
        update_time=start + 400,
    )
    return wf, task


async def fill(store: SqliteStore, count: int) -> None:
    definitions = {name: definition(name) for name in TYPES}
    hashes = {name: f"bench-{name}" for name in TYPES}
    for first in range(0, count, 500):
        writes = []
        for i in range(first, min(first + 500, count)):
            wf, task = execution(i, definitions)
            writes.append(
                WorkflowWrite(wf, None, new_tasks=[task], definition_hash=hashes[wf.workflow_name])
            )
        await store.commit(Changeset(writes))


SEARCHES: list[tuple[str, str, dict[str, object]]] = [
    ("status and type", "workflows", {"query": "status = COMPLETED AND workflowType = flow_3"}),
    ("status only", "workflows", {"query": "status = FAILED"}),
    ("free text, one word", "workflows", {"free_text": "charlie"}),
    ("free text, field:value", "workflows", {"free_text": "input.orderId:4242"}),
    ("sorted by end time", "workflows", {"query": "workflowType = flow_5", "sort": "endTime:DESC"}),
    ("time range, sorted", "workflows", {"query": f"startTime > {NOW + 50_000_000}"}),
    ("everything", "workflows", {}),
    ("tasks: status", "tasks", {"query": "status = FAILED"}),
    ("workflows by tasks", "by_tasks", {"query": "status = FAILED"}),
]


async def timed(search: SearchService, kind: str, params: dict[str, object]) -> tuple[float, int]:
    started = time.perf_counter()
    if kind == "workflows":
        page = await search.workflows(size=100, **params)  # type: ignore[arg-type]
        search.workflow_summaries(page)
    elif kind == "by_tasks":
        page = await search.workflows_by_tasks(size=100, **params)  # type: ignore[arg-type]
        search.workflow_summaries(page)
    else:
        task_page = await search.tasks(size=100, **params)  # type: ignore[arg-type]
        search.task_summaries(task_page)
        return (time.perf_counter() - started) * 1000, task_page.total_hits
    return (time.perf_counter() - started) * 1000, page.total_hits


async def run(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'search.db'}"
        store = SqliteStore(url)
        await store.open()
        started = time.perf_counter()
        await fill(store, args.workflows)
        filled = time.perf_counter() - started
        search = SearchService(store)
        started = time.perf_counter()
        await search.workflows(size=1)  # brings the full-text documents in step first
        indexed = time.perf_counter() - started
        print(f"Legato search benchmark (SQLite), {args.workflows:,} completed workflows")
        print(f"  fill (commit path, 500/commit) {filled:8.1f} s")
        print(f"  full-text catch-up of all docs {indexed:8.1f} s")
        print(f"  first page (100) with exact totalHits, median / worst of {args.repeats}:")
        for label, kind, params in SEARCHES:
            times = []
            hits = 0
            for _ in range(args.repeats):
                ms, hits = await timed(search, kind, params)
                times.append(ms)
            print(
                f"    {label:26s} {statistics.median(times):7.1f} ms / {max(times):6.1f} ms"
                f"   totalHits {hits:,}"
            )
        await store.close()

        services = Services(SqliteStore(url), Settings(db=url))
        app = create_app(Settings(db=url), services=services)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
                params = {"query": "status = COMPLETED AND workflowType = flow_3", "size": 100}
                times = []
                for _ in range(args.repeats):
                    started = time.perf_counter()
                    r = await client.get("/api/workflow/search", params=params)
                    r.raise_for_status()
                    times.append((time.perf_counter() - started) * 1000)
                print(
                    f"  HTTP GET /api/workflow/search (status and type): "
                    f"{statistics.median(times):.1f} ms median, {max(times):.1f} ms worst"
                    f"   totalHits {r.json()['totalHits']:,}"
                )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workflows", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=20)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
