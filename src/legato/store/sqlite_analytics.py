"""SqliteStore's analytics read: how the executions of one workflow type fared over a period.

`SqliteAnalytics` is the part of `SqliteStore` that serves `Store.workflow_analytics` (a mixin
over the store's reader threads). The SQL is portable (PostgreSQL runs it unchanged): the task
times are the `scheduled_time` / `start_time` / `end_time` columns the search index keeps.

Index: `ix_legato_workflows_analytics (name, create_time, status, end_time)` covers the status
counts and the sample (a range scan in create_time order, no table rows read); the sample's tasks
come through `ix_legato_tasks_workflow_id_seq`. Reading those task rows is the cost (measured:
~0.1 s for 5,000 executions of 3 tasks), hence a sample rather than every execution.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from legato.model.execution import base_ref
from legato.store.base import StepTimes, WorkflowAnalytics

T = TypeVar("T")

_COUNTS = """
SELECT status, COUNT(*) FROM legato_workflows
WHERE name = ? AND create_time >= ? AND create_time < ?
GROUP BY status
"""
_SAMPLE = """
SELECT workflow_id, status, create_time, end_time FROM legato_workflows
WHERE name = ? AND create_time >= ? AND create_time < ?
ORDER BY create_time DESC
LIMIT ?
"""
_TASK_TIMES = """
SELECT t.ref_name, t.task_type, t.scheduled_time, t.start_time, t.end_time
FROM legato_tasks AS t
WHERE t.workflow_id IN (
    SELECT workflow_id FROM legato_workflows
    WHERE name = ? AND create_time >= ? AND create_time < ?
    ORDER BY create_time DESC
    LIMIT ?)
"""


def workflow_analytics(
    conn: sqlite3.Connection, name: str, since: int, until: int, sample: int
) -> WorkflowAnalytics:
    window = (name, since, until)
    limit = max(sample, 0)
    conn.execute("BEGIN")  # one snapshot for the three statements
    try:
        counts = dict(conn.execute(_COUNTS, window).fetchall())
        rows = conn.execute(_SAMPLE, (*window, limit)).fetchall()
        task_rows = conn.execute(_TASK_TIMES, (*window, limit)).fetchall()
    finally:
        conn.execute("COMMIT")
    return summarise(counts, rows, task_rows)


def summarise(
    counts: dict[str, int],
    workflows: list[tuple[str, str, int, int]],
    task_rows: list[tuple[str, str, Any, Any, Any]],
) -> WorkflowAnalytics:
    """Fold the rows into WorkflowAnalytics (shared by every backend)."""
    durations = [
        end - created for _, status, created, end in workflows if status == "COMPLETED" and end
    ]
    steps: dict[str, StepTimes] = {}
    for ref_name, task_type, scheduled, started, ended in task_rows:
        ref = base_ref(ref_name)
        step = steps.get(ref)
        if step is None:
            step = steps[ref] = StepTimes(ref_name=ref, task_type=task_type)
        scheduled, started, ended = int(scheduled or 0), int(started or 0), int(ended or 0)
        if started and scheduled:
            step.queue_wait_ms.append(max(started - scheduled, 0))
        if started and ended:
            step.run_ms.append(max(ended - started, 0))
    return WorkflowAnalytics(
        status_counts={str(k): int(v) for k, v in counts.items()},
        sampled=len(workflows),
        durations_ms=durations,
        steps=list(steps.values()),
    )


class _Plumbing(Protocol):
    async def _read(self, fn: Callable[..., T], *args: Any) -> T: ...


class SqliteAnalytics:
    """The analytics verb of the Store protocol, on SqliteStore's reader threads."""

    async def workflow_analytics(
        self: _Plumbing, name: str, since: int, until: int, *, sample: int = 5_000
    ) -> WorkflowAnalytics:
        return await self._read(workflow_analytics, name, since, until, sample)
