"""The web UI on a big history: how long the executions search page takes to render.

Builds a SQLite database with N executions (default 100,000) of three workflow types, over 30
days, in mixed statuses, each with three tasks, through `SqliteStore.commit` (so the search index
is written as in production). Then starts `legato server` on it and times, over real HTTP, the
first page of `/executions` (unfiltered, and with the filters support uses) and a few other
pages. Prints the median and the p95 of each.

Usage: python benchmarks/ui_search.py [--executions 100000] [--runs 20] [--db PATH]
(--db keeps the database, and reuses it when it exists already.)
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

from legato.model import Task, TaskStatus, Workflow, WorkflowDef, WorkflowStatus
from legato.service.definitions import snapshot_of
from legato.store import Changeset, SqliteStore, WorkflowWrite

NOW = int(time.time() * 1000)
DAY = 86_400_000
TYPES = ("order_fulfillment", "refund", "onboarding")
STATUSES = [
    (WorkflowStatus.COMPLETED, 70),
    (WorkflowStatus.FAILED, 10),
    (WorkflowStatus.RUNNING, 10),
    (WorkflowStatus.TERMINATED, 5),
    (WorkflowStatus.TIMED_OUT, 3),
    (WorkflowStatus.PAUSED, 2),
]
LIMIT_MS = 300


def definition(name: str) -> WorkflowDef:
    return WorkflowDef.model_validate(
        {
            "name": name,
            "version": 1,
            "schemaVersion": 2,
            "tasks": [
                {"name": f"{name}_{step}", "taskReferenceName": step, "type": "SIMPLE"}
                for step in ("validate", "charge", "ship")
            ],
        }
    )


def execution(rng: random.Random, defs: dict[str, WorkflowDef], i: int) -> WorkflowWrite:
    name = TYPES[i % len(TYPES)]
    status = rng.choices([s for s, _ in STATUSES], [w for _, w in STATUSES])[0]
    created = NOW - rng.randrange(30 * DAY)
    wid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    tasks: list[Task] = []
    t = created
    steps = ("validate", "charge", "ship")
    for seq, step in enumerate(steps, 1):
        last = seq == len(steps)
        task_status = TaskStatus.COMPLETED
        if not last or status is WorkflowStatus.COMPLETED:
            pass
        elif status is WorkflowStatus.FAILED:
            task_status = TaskStatus.FAILED
        elif status in (WorkflowStatus.RUNNING, WorkflowStatus.PAUSED):
            task_status = TaskStatus.SCHEDULED
        else:
            task_status = TaskStatus.CANCELED
        scheduled, start = t, t + rng.randrange(1, 2000)
        end = start + rng.randrange(5, 5000) if task_status.terminal else 0
        tasks.append(
            Task(
                task_id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                workflow_instance_id=wid,
                task_type=f"{name}_{step}",
                task_def_name=f"{name}_{step}",
                reference_task_name=step,
                status=task_status,
                seq=seq,
                input_data={"orderId": f"O-{i}", "amount": rng.randrange(10, 5000)},
                output_data={"ok": True} if task_status is TaskStatus.COMPLETED else {},
                workflow_type=name,
                scheduled_time=scheduled,
                start_time=start if task_status is not TaskStatus.SCHEDULED else 0,
                end_time=end,
                update_time=end or start,
                reason_for_incompletion="card declined"
                if task_status is TaskStatus.FAILED
                else None,
            )
        )
        t = end or start
    wf = Workflow(
        workflow_id=wid,
        workflow_name=name,
        workflow_version=1,
        status=status,
        definition=defs[name],
        input={"orderId": f"O-{i}", "customer": f"customer-{i % 5000}"},
        output={"done": True} if status is WorkflowStatus.COMPLETED else {},
        tasks=tasks,
        correlation_id=f"order-{i}",
        reason_for_incompletion=(
            "Task failed with status: FAILED and reason: 'card declined'"
            if status is WorkflowStatus.FAILED
            else None
        ),
        create_time=created,
        update_time=t,
        end_time=t if status.terminal else 0,
    )
    def_hash, def_json = snapshot_of(defs[name])
    return WorkflowWrite(
        workflow=wf,
        expected_rev=None,
        new_tasks=tasks,
        definition_hash=def_hash,
        definition_json=def_json,
    )


async def build(path: Path, count: int) -> None:
    rng = random.Random(7)
    defs = {name: definition(name) for name in TYPES}
    store = SqliteStore(f"sqlite:///{path}")
    await store.open()
    started = time.perf_counter()
    try:
        for name in TYPES:
            await store.put_workflow_def(defs[name], overwrite=True)
        batch = 500
        for first in range(0, count, batch):
            writes = [execution(rng, defs, i) for i in range(first, min(first + batch, count))]
            await store.commit(Changeset(workflows=writes))
            done = first + len(writes)
            if done % 20_000 == 0 or done == count:
                print(f"  {done:,} executions written ({time.perf_counter() - started:.0f} s)")
    finally:
        await store.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def time_page(client: httpx.Client, url: str, runs: int) -> tuple[float, float, int]:
    client.get(url)  # warm: templates compiled, caches filled
    times = []
    size = 0
    for _ in range(runs):
        began = time.perf_counter()
        r = client.get(url)
        times.append((time.perf_counter() - began) * 1000)
        assert r.status_code == 200, (url, r.status_code, r.text[:300])
        assert 'error-box" role' not in r.text, (url, "the page shows an error")
        size = len(r.content)
    times.sort()
    p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
    return statistics.median(times), p95, size


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--executions", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--db", type=Path, default=None)
    args = parser.parse_args()

    tmp = tempfile.TemporaryDirectory()
    path = args.db or Path(tmp.name) / "ui_search.db"
    if not path.exists():
        print(f"Writing {args.executions:,} executions to {path} ...")
        asyncio.run(build(path, args.executions))
    port = free_port()
    env = {**os.environ, "LEGATO_LOG_LEVEL": "warning"}
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "legato.cli",
            "server",
            "--port",
            str(port),
            "--db",
            f"sqlite:///{path}",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base, timeout=60) as client:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if client.get("/health").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline or server.poll() is not None:
                    print("error: the server did not start", file=sys.stderr)
                    return 1
                time.sleep(0.1)
            pages = [
                ("executions, first page (no filter)", "/executions", True),
                ("executions, status FAILED", "/executions?status=FAILED", True),
                (
                    "executions, type + last 7 days",
                    "/executions?workflowType=refund&lookback=7d",
                    True,
                ),
                ("executions, correlation id", "/executions?correlationId=order-4242", True),
                ("executions, free text", "/executions?q=customer-77", True),
                ("executions, page 400 (offset 9,975)", "/executions?start=9975", False),
                ("analytics, one type, 30 days", "/analytics?name=refund&period=30d", False),
                ("overview (four counts, queues)", "/", False),
            ]
            print(
                f"\nUI pages over {args.executions:,} executions (median / p95 of {args.runs} runs):"
            )
            worst = 0.0
            for label, url, counted in pages:
                median, p95, size = time_page(
                    client, url, args.runs if counted else max(args.runs // 4, 3)
                )
                if counted:
                    worst = max(worst, median)
                print(f"  {label:40s} {median:7.1f} ms  {p95:7.1f} ms  ({size / 1024:.0f} KiB)")
            verdict = "under" if worst < LIMIT_MS else "OVER"
            print(
                f"\nexecutions search, first page: {worst:.1f} ms at worst (median), "
                f"{verdict} the {LIMIT_MS} ms target"
            )
    finally:
        server.terminate()
        server.wait(timeout=15)
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
