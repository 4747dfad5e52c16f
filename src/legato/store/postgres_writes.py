"""PostgresStore's write transactions other than commits (see postgres_commit): functions of a
pooled (autocommit) connection.

A claim is one statement (`legato_claim`, migration 0003); one with hand-out limits is two
round trips. NOTIFY is sent inside the committing transaction, so other nodes hear of new queue
entries exactly when they become visible.

Locks. A commit (legato_commit) first locks the queue rows of every task it touches, then
workflow rows in id order, then task rows; a claim takes queue rows with SKIP LOCKED (never
waiting for a commit's), then its tasks, then their workflows in id order. A commit that
touches a task a claim holds waits before it has locked anything else: no lock cycles between
writers.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any, TypeVar

import orjson
import psycopg
from psycopg import errors as pg_errors

from legato.errors import ConflictError
from legato.model import Task, TaskDef, TaskStatus, WorkflowDef
from legato.store import postgres_search as search
from legato.store.base import ClaimedTask, ClaimLimits, QueueEntry
from legato.store.postgres_notify import QUEUE_CHANNEL, definitions_payload, queue_payloads

Conn = psycopg.AsyncConnection[Any]
_Def = TypeVar("_Def", TaskDef, WorkflowDef)


# --- executions (commits are postgres_commit's) -------------------------------------------
_NOTIFY = "SELECT pg_notify(%s, %s)"


async def remove_workflow(conn: Conn, workflow_id: str) -> bool:
    async with conn.pipeline(), conn.transaction():
        tasks_of = "(SELECT task_id FROM legato_tasks WHERE workflow_id = %s)"
        await conn.execute(
            "DELETE FROM legato_queue WHERE task_id IN ("
            f" SELECT task_id FROM legato_queue WHERE task_id IN {tasks_of}"
            " ORDER BY task_id FOR UPDATE)",
            (workflow_id,),
        )
        cur = conn.cursor()
        await cur.execute("DELETE FROM legato_workflows WHERE workflow_id = %s", (workflow_id,))
        await conn.execute(search.DELETE_TASKS_TEXT_OF, (workflow_id,))
        await conn.execute(search.DELETE_WORKFLOW_TEXT, (workflow_id,))
        await conn.execute(
            f"DELETE FROM legato_task_logs WHERE task_id IN {tasks_of}", (workflow_id,)
        )
        await conn.execute("DELETE FROM legato_tasks WHERE workflow_id = %s", (workflow_id,))
        await conn.execute(
            "DELETE FROM legato_workflow_history WHERE workflow_id = %s", (workflow_id,)
        )
    return cur.rowcount > 0


# --- queues and timers -----------------------------------------------------------------------
# Take visible entries in claim order (ix_legato_queue_claim, no sort), skipping the rows other
# claimers and committing transactions hold, delete them, and read their tasks.
_TAKE = """
WITH picked AS (
    SELECT task_id FROM legato_queue
    WHERE queue_name = %(queue)s AND visible_at <= %(now)s
    ORDER BY visible_at, priority DESC
    LIMIT %(count)s
    FOR UPDATE SKIP LOCKED
), taken AS (
    DELETE FROM legato_queue AS q USING picked AS p
    WHERE q.task_id = p.task_id
    RETURNING q.task_id, q.visible_at, q.priority
)
SELECT taken.task_id, t.status, t.doc
FROM taken LEFT JOIN legato_tasks AS t ON t.task_id = taken.task_id
ORDER BY taken.visible_at, taken.priority DESC
"""
# No commit can change these tasks meanwhile: it would first lock their queue rows, which this
# transaction deleted.
_CLAIM_TASKS = """
UPDATE legato_tasks AS t
SET status = 'IN_PROGRESS', doc = v.doc::json, start_time = v.start_time, update_time = %s
FROM unnest(%s::text[], %s::text[], %s::bigint[]) AS v (task_id, doc, start_time)
WHERE t.task_id = v.task_id
"""
# A claim without hand-out limits: one statement (migration 0003).
_CLAIM = "SELECT doc, rev FROM legato_claim(%s, %s, %s, %s)"
# One rev bump per workflow, rows locked in id order; next_wake_at lowered to the earliest
# response deadline (NULL: none).
_BUMP = """
UPDATE legato_workflows AS w
SET rev = w.rev + 1, next_wake_at = LEAST(w.next_wake_at, d.deadline)
FROM (
    SELECT x.workflow_id, v.deadline
    FROM legato_workflows AS x
    JOIN unnest(%s::text[], %s::bigint[]) AS v (workflow_id, deadline)
        ON v.workflow_id = x.workflow_id
    ORDER BY x.workflow_id
    FOR UPDATE OF x
) AS d
WHERE w.workflow_id = d.workflow_id
RETURNING w.workflow_id, w.rev
"""


async def claim_tasks(
    conn: Conn,
    queue_name: str,
    count: int,
    worker_id: str | None,
    now: int,
    limits: ClaimLimits | None,
) -> list[ClaimedTask]:
    """A claim. Without hand-out limits it is one statement (`legato_claim`). With limits it
    is two round trips: BEGIN, the limits' lock and counts and the take; then the tasks' new
    documents (made here, as SqliteStore makes them), the rev bumps and COMMIT. The poll
    itself is recorded by the caller (PostgresStore buffers poll data)."""
    if limits is None or count == 0:
        cur = await conn.execute(_CLAIM, (queue_name, count, now, worker_id))
        return [ClaimedTask(Task.from_doc(doc), rev) for doc, rev in await cur.fetchall()]
    async with conn.pipeline() as pipeline, conn.transaction():
        # Limits are counted and enforced inside the claim's transaction; the advisory lock
        # serialises the claims of that task definition only.
        await conn.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
            (f"legato.limits:{limits.task_def_name}",),
        )
        await pipeline.sync()
        count = min(count, await _allowed(conn, limits, now))
        claimed: list[Task] = []
        while len(claimed) < count:
            want = count - len(claimed)
            cur = await conn.execute(_TAKE, {"queue": queue_name, "now": now, "count": want})
            await pipeline.sync()
            rows = await cur.fetchall()
            for _task_id, status, doc in rows:
                if status != TaskStatus.SCHEDULED:  # done, cancelled or gone: drop the entry
                    continue
                task = Task.from_doc(doc)
                task.status = TaskStatus.IN_PROGRESS
                task.poll_count += 1
                if not task.start_time:
                    task.start_time = now
                if not task.first_start_time:
                    task.first_start_time = now
                task.update_time = now
                task.worker_id = worker_id
                task.callback_after_seconds = 0
                claimed.append(task)
            if len(rows) < want:  # the queue has no more visible entries
                break
        bumped = None
        if claimed:
            await conn.execute(
                _CLAIM_TASKS,
                (
                    now,
                    [t.task_id for t in claimed],
                    [orjson.dumps(t.to_doc()).decode() for t in claimed],
                    [t.start_time for t in claimed],
                ),
            )
            deadlines = _deadlines(claimed, now)
            bumped = await conn.execute(_BUMP, (list(deadlines), list(deadlines.values())))
        if claimed and limits.rate_limit_per_frequency:
            await conn.cursor().executemany(
                _RECORD_HANDOUT, [(limits.task_def_name, now)] * len(claimed)
            )
    revs = dict(await bumped.fetchall()) if bumped is not None else {}
    return [ClaimedTask(t, revs.get(t.workflow_instance_id, 0)) for t in claimed]


def _deadlines(claimed: list[Task], now: int) -> dict[str, int | None]:
    """Per workflow, the earliest response deadline of its claimed tasks (None: none)."""
    out: dict[str, int | None] = {}
    for task in claimed:
        timeout_ms = task.response_timeout_seconds * 1000
        deadline = now + timeout_ms if timeout_ms > 0 else None
        earlier = out.get(task.workflow_instance_id)
        if earlier is not None and (deadline is None or earlier < deadline):
            deadline = earlier
        out[task.workflow_instance_id] = deadline
    return out


_COUNT_IN_PROGRESS = (
    "SELECT COUNT(*) FROM legato_tasks WHERE task_def_name = %s AND status = 'IN_PROGRESS'"
)
_PRUNE_HANDOUTS = (
    "DELETE FROM legato_task_handouts WHERE task_def_name = %s AND handed_out_at <= %s"
)
_COUNT_HANDOUTS = "SELECT COUNT(*) FROM legato_task_handouts WHERE task_def_name = %s"
_RECORD_HANDOUT = "INSERT INTO legato_task_handouts (task_def_name, handed_out_at) VALUES (%s, %s)"


async def _allowed(conn: Conn, limits: ClaimLimits, now: int) -> int:
    """How many more tasks of the definition may be handed out now."""
    allowed = 1 << 31
    if limits.concurrent_exec_limit:
        cur = await conn.execute(_COUNT_IN_PROGRESS, (limits.task_def_name,))
        (running,) = await cur.fetchone() or (0,)
        allowed = min(allowed, limits.concurrent_exec_limit - int(running))
    per, window = limits.rate_limit_per_frequency, limits.rate_limit_frequency_in_seconds
    if per and window:
        await conn.execute(_PRUNE_HANDOUTS, (limits.task_def_name, now - window * 1000))
        cur = await conn.execute(_COUNT_HANDOUTS, (limits.task_def_name,))
        (recent,) = await cur.fetchone() or (0,)
        allowed = min(allowed, per - int(recent))
    return max(allowed, 0)


# Poll records, buffered by PostgresStore and written in one statement now and then; losing the
# last poll times in a database crash is harmless, so they need not wait for the WAL flush.
_RECORD_POLLS = """
INSERT INTO legato_poll_data (queue_name, domain, worker_id, last_poll_time)
SELECT * FROM unnest(%s::text[], %s::text[], %s::text[], %s::bigint[])
ON CONFLICT (queue_name, domain, worker_id) DO UPDATE
SET last_poll_time = GREATEST(legato_poll_data.last_poll_time, excluded.last_poll_time)
"""


async def record_polls(conn: Conn, polls: dict[tuple[str, str, str], int]) -> None:
    """Write buffered poll records: (queue name, domain or "", worker id) -> last poll time."""
    keys = sorted(polls)  # one lock order for every node
    async with conn.pipeline(), conn.transaction():
        await conn.execute("SET LOCAL synchronous_commit = off")
        await conn.execute(
            _RECORD_POLLS,
            (
                [k[0] for k in keys],
                [k[1] for k in keys],
                [k[2] for k in keys],
                [polls[k] for k in keys],
            ),
        )


# Due workflows in timer order, skipping the rows other nodes hold: each goes to one node.
_CLAIM_DUE = """
WITH due AS (
    SELECT workflow_id, next_wake_at FROM legato_workflows
    WHERE next_wake_at <= %(now)s
    ORDER BY next_wake_at
    LIMIT %(limit)s
    FOR UPDATE SKIP LOCKED
)
UPDATE legato_workflows AS w SET next_wake_at = %(lease_until)s
FROM due WHERE w.workflow_id = due.workflow_id
RETURNING w.workflow_id, due.next_wake_at
"""


async def claim_due_workflows(conn: Conn, now: int, limit: int, lease_ms: int) -> list[str]:
    cur = await conn.execute(
        _CLAIM_DUE, {"now": now, "limit": limit, "lease_until": now + lease_ms}
    )
    rows = await cur.fetchall()
    return [wid for wid, _ in sorted(rows, key=lambda r: (r[1], r[0]))]


_MISSING_BY_TYPE = """
SELECT t.doc FROM legato_tasks AS t
WHERE t.status = 'SCHEDULED' AND (t.task_type = %s OR t.task_def_name = %s)
  AND NOT EXISTS (SELECT 1 FROM legato_queue AS q WHERE q.task_id = t.task_id)
"""
_MISSING_BY_WORKFLOW = """
SELECT t.doc FROM legato_tasks AS t
WHERE t.workflow_id = %s AND t.status = 'SCHEDULED'
  AND NOT EXISTS (SELECT 1 FROM legato_queue AS q WHERE q.task_id = t.task_id)
"""
_ENQUEUE_MISSING = """
INSERT INTO legato_queue (task_id, queue_name, workflow_id, priority, visible_at)
VALUES (%s, %s, %s, %s, %s)
ON CONFLICT (task_id) DO NOTHING
"""


async def requeue_missing(
    conn: Conn, now: int, task_type: str | None, workflow_id: str | None, node_id: str
) -> list[QueueEntry]:
    async with conn.transaction():
        if workflow_id is not None:
            cur = await conn.execute(_MISSING_BY_WORKFLOW, (workflow_id,))
        else:
            cur = await conn.execute(_MISSING_BY_TYPE, (task_type, task_type))
        entries = []
        for (doc,) in await cur.fetchall():
            task = Task.from_doc(doc)
            name = f"{task.domain}:{task.task_type}" if task.domain else task.task_type
            entries.append(
                QueueEntry(
                    task.task_id, task.workflow_instance_id, name, now, task.workflow_priority
                )
            )
        if entries:
            await conn.cursor().executemany(_ENQUEUE_MISSING, [e.row() for e in entries])
            for payload in queue_payloads(node_id, entries, now):
                await conn.execute(_NOTIFY, (QUEUE_CHANNEL, payload))
    return entries


# --- definitions ------------------------------------------------------------------------------
_UPSERT_TASK_DEF = """
INSERT INTO legato_task_defs (name, doc, create_time, update_time) VALUES (%s, %s::json, %s, %s)
ON CONFLICT (name) DO UPDATE SET
    doc = excluded.doc, create_time = excluded.create_time, update_time = excluded.update_time
"""
_UPSERT_WORKFLOW_DEF = """
INSERT INTO legato_workflow_defs (name, version, doc, create_time, update_time)
VALUES (%s, %s, %s::json, %s, %s)
ON CONFLICT (name, version) DO UPDATE SET
    doc = excluded.doc, create_time = excluded.create_time, update_time = excluded.update_time
"""


async def put_task_defs(conn: Conn, defs: Sequence[TaskDef], now: int, node_id: str) -> None:
    async with conn.transaction():
        cur = await conn.execute(
            "SELECT name, create_time FROM legato_task_defs WHERE name = ANY(%s::text[])",
            ([d.name for d in defs],),
        )
        stored = dict(await cur.fetchall())
        rows = []
        for d in defs:
            stamped = _stamp(d, stored.get(d.name), now)
            rows.append(
                (
                    d.name,
                    orjson.dumps(stamped.to_json()).decode(),
                    stamped.create_time,
                    stamped.update_time,
                )
            )
        await conn.cursor().executemany(_UPSERT_TASK_DEF, rows)
        await notify_definitions(conn, node_id, "task")


async def put_workflow_def(
    conn: Conn, definition: WorkflowDef, overwrite: bool, now: int, node_id: str
) -> None:
    async with conn.transaction():
        cur = await conn.execute(
            "SELECT create_time FROM legato_workflow_defs WHERE name = %s AND version = %s"
            " FOR UPDATE",
            (definition.name, definition.version),
        )
        found = await cur.fetchone()
        if found is not None and not overwrite:
            raise ConflictError(
                f"Workflow definition {definition.name} version {definition.version} already exists"
            )
        stamped = _stamp(definition, found[0] if found else None, now)
        try:
            await conn.execute(
                _UPSERT_WORKFLOW_DEF,
                (
                    stamped.name,
                    stamped.version,
                    orjson.dumps(stamped.to_json()).decode(),
                    stamped.create_time,
                    stamped.update_time,
                ),
            )
        except pg_errors.UniqueViolation as exc:  # pragma: no cover - upsert
            raise ConflictError(str(exc)) from exc
        await notify_definitions(conn, node_id, "workflow")


async def delete_task_def(conn: Conn, name: str, node_id: str) -> bool:
    async with conn.transaction():
        cur = await conn.execute("DELETE FROM legato_task_defs WHERE name = %s", (name,))
        if cur.rowcount:
            await notify_definitions(conn, node_id, "task")
    return cur.rowcount > 0


async def delete_workflow_def(conn: Conn, name: str, version: int, node_id: str) -> bool:
    async with conn.transaction():
        cur = await conn.execute(
            "DELETE FROM legato_workflow_defs WHERE name = %s AND version = %s", (name, version)
        )
        if cur.rowcount:
            await notify_definitions(conn, node_id, "workflow")
    return cur.rowcount > 0


async def notify_definitions(conn: Conn, node_id: str, kind: str) -> None:
    """Tell the other nodes that definitions of `kind` changed (delivered on commit)."""
    channel, payload = definitions_payload(node_id, kind)
    await conn.execute(_NOTIFY, (channel, payload))


def _stamp(d: _Def, stored_create_time: int | None, now: int) -> _Def:
    """A copy with create/update times filled in where the caller left them unset."""
    create_time = d.create_time or stored_create_time or now
    update_time = d.update_time or now
    return d.model_copy(update={"create_time": create_time, "update_time": update_time})


def _now_ms() -> int:
    return int(time.time() * 1000)
