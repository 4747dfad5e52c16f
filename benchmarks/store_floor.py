"""The store's floor: what SQLite allows from Python, and what SqliteStore.commit achieves.

Prints:
1. committed single-row transactions/s with stdlib sqlite3 (WAL, synchronous=NORMAL, as the
   store), one ~1 KiB row per transaction: the ceiling for one-fact-one-commit;
2. SqliteStore.commit throughput for a typical "complete one task, schedule the next" changeset
   (1 workflow update, 1 task update, 1 task insert, 1 enqueue, 1 dequeue), sequentially and
   from 64 concurrent coroutines, with the writer's transactions and mean batch size (group
   commit).

Usage: python benchmarks/store_floor.py [--seconds 2] [--synchronous NORMAL|FULL]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sqlite3
import tempfile
import time
import uuid
from pathlib import Path

from legato.model import Task, TaskStatus, Workflow, WorkflowDef, WorkflowStatus, WorkflowTask
from legato.store import Changeset, QueueEntry, SqliteStore, WorkflowWrite

NOW = 1_700_000_000_000


def raw_sqlite(path: Path, seconds: float, synchronous: str) -> float:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute(f"PRAGMA synchronous = {synchronous}")
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, doc BLOB NOT NULL)")
    doc = os.urandom(1024)
    n = 0
    deadline = time.perf_counter() + seconds
    started = time.perf_counter()
    while time.perf_counter() < deadline:
        for _ in range(100):
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("INSERT INTO t (doc) VALUES (?)", (doc,))
            conn.execute("COMMIT")
        n += 100
    rate = n / (time.perf_counter() - started)
    conn.close()
    return rate


DEFINITION = WorkflowDef(
    name="bench",
    version=1,
    tasks=[WorkflowTask(name=f"step{i}", task_reference_name=f"step{i}") for i in range(5)],
)


class Chain:
    """One workflow that completes its current task and schedules the next, forever."""

    def __init__(self) -> None:
        self.workflow = Workflow(
            workflow_id=str(uuid.uuid4()),
            workflow_name="bench",
            workflow_version=1,
            status=WorkflowStatus.RUNNING,
            definition=DEFINITION,
            input={
                "orderId": 12345,
                "customer": {"name": "Ada", "tier": "gold"},
                "items": [1, 2, 3],
            },
            create_time=NOW,
            update_time=NOW,
        )
        self.seq = 0
        self.current = self._task()

    def _task(self) -> Task:
        self.seq += 1
        return Task(
            task_id=str(uuid.uuid4()),
            workflow_instance_id=self.workflow.workflow_id,
            task_type="SIMPLE",
            task_def_name="step",
            reference_task_name=f"step{self.seq}",
            status=TaskStatus.SCHEDULED,
            seq=self.seq,
            input_data={"orderId": 12345, "attempt": self.seq, "payload": "x" * 200},
            workflow_type="bench",
            scheduled_time=NOW,
            update_time=NOW,
            response_timeout_seconds=600,
        )

    def start(self) -> Changeset:
        write = WorkflowWrite(
            self.workflow, None, new_tasks=[self.current], definition_hash="bench-v1"
        )
        return Changeset([write], enqueue=[self._entry(self.current)])

    def step(self) -> Changeset:
        done = self.current
        done.status = TaskStatus.COMPLETED
        done.output_data = {"result": "ok", "value": self.seq, "note": "y" * 200}
        done.end_time = NOW + self.seq
        nxt = self.current = self._task()
        self.workflow.update_time = NOW + self.seq
        write = WorkflowWrite(
            self.workflow, self.workflow.rev, new_tasks=[nxt], updated_tasks=[done]
        )
        return Changeset([write], enqueue=[self._entry(nxt)], dequeue=[done.task_id])

    def _entry(self, task: Task) -> QueueEntry:
        return QueueEntry(task.task_id, self.workflow.workflow_id, "step", NOW, 0)


async def store_commits(path: Path, seconds: float, synchronous: str, concurrency: int) -> None:
    store = SqliteStore(f"sqlite:///{path}", synchronous=synchronous)
    await store.open()
    try:
        chains = [Chain() for _ in range(concurrency)]
        for chain in chains:
            await store.commit(chain.start())
        batches0, jobs0 = store.writer_stats
        deadline = time.perf_counter() + seconds
        started = time.perf_counter()
        counts = [0] * concurrency

        async def run(i: int) -> None:
            chain = chains[i]
            while time.perf_counter() < deadline:
                await store.commit(chain.step())
                counts[i] += 1

        await asyncio.gather(*(run(i) for i in range(concurrency)))
        elapsed = time.perf_counter() - started
        batches, jobs = store.writer_stats
        batches -= batches0
        jobs -= jobs0
        total = sum(counts)
        print(
            f"  store.commit, {concurrency:>2} coroutine(s): {total / elapsed:>9,.0f} changesets/s"
            f"  ({batches / elapsed:,.0f} transactions/s, mean batch {jobs / max(batches, 1):.1f})"
        )
    finally:
        await store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--synchronous", default="NORMAL", choices=["NORMAL", "FULL"])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        rate = raw_sqlite(Path(tmp) / "raw.db", args.seconds, args.synchronous)
        print(f"sqlite3 {sqlite3.sqlite_version}, WAL, synchronous={args.synchronous}")
        print(f"  raw sqlite3, 1 row per transaction:  {rate:>9,.0f} transactions/s")
        for concurrency in (1, 64):
            asyncio.run(
                store_commits(
                    Path(tmp) / f"store{concurrency}.db",
                    args.seconds,
                    args.synchronous,
                    concurrency,
                )
            )


if __name__ == "__main__":
    main()
