"""PostgresStore's reads: functions of a pooled (autocommit) connection.

Documents come back already parsed (the pool's connections load JSONB with orjson). A read
that must see one snapshot is one statement.
"""

from __future__ import annotations

from typing import Any

import orjson
import psycopg

from legato.errors import StorageError
from legato.model import Task, TaskDef, Workflow, WorkflowDef, WorkflowStatus
from legato.store.base import TaskLog, WorkflowAnalytics
from legato.store.snapshots import DefinitionCache
from legato.store.sqlite_analytics import summarise

Conn = psycopg.AsyncConnection[Any]

# The workflow row and all its tasks in one statement (one snapshot, one round trip).
_LOAD_WORKFLOW = """
SELECT w.rev, w.next_wake_at, w.def_hash, w.doc,
       (SELECT COALESCE(json_agg(t.doc ORDER BY t.seq), '[]'::json)
        FROM legato_tasks AS t WHERE t.workflow_id = w.workflow_id)
FROM legato_workflows AS w WHERE w.workflow_id = %s
"""


async def load_workflow(
    conn: Conn, workflow_id: str, snapshots: DefinitionCache
) -> Workflow | None:
    cur = await conn.execute(_LOAD_WORKFLOW, (workflow_id,))
    row = await cur.fetchone()
    if row is None:
        return None
    rev, next_wake_at, def_hash, doc, task_docs = row
    definition = await definition_of(conn, def_hash, snapshots, workflow_id)
    tasks = [Task.from_doc(task_doc) for task_doc in task_docs]
    workflow = Workflow.from_doc(doc, definition, tasks)
    workflow.rev = rev
    workflow.next_wake_at = next_wake_at
    return workflow


async def definition_of(
    conn: Conn, def_hash: str, snapshots: DefinitionCache, workflow_id: str = ""
) -> WorkflowDef:
    """The parsed definition snapshot `def_hash` (parsed once per process)."""
    definition = snapshots.get(def_hash)
    if definition is not None:
        return definition
    cur = await conn.execute(
        "SELECT doc FROM legato_definition_snapshots WHERE hash = %s", (def_hash,)
    )
    row = await cur.fetchone()
    if row is None:
        of = f" of workflow {workflow_id}" if workflow_id else ""
        raise StorageError(f"Definition snapshot {def_hash}{of} is missing")
    definition = WorkflowDef.model_validate(row[0])
    snapshots.put(def_hash, definition)
    return definition


async def list_archived_runs(conn: Conn, workflow_id: str) -> list[dict[str, Any]]:
    cur = await conn.execute(
        "SELECT doc FROM legato_workflow_history WHERE workflow_id = %s ORDER BY run",
        (workflow_id,),
    )
    return [doc for (doc,) in await cur.fetchall()]


async def find_workflows_by_idempotency_key(
    conn: Conn, name: str, key: str
) -> list[tuple[str, WorkflowStatus]]:
    cur = await conn.execute(
        "SELECT workflow_id, status FROM legato_workflows"
        " WHERE name = %s AND idempotency_key = %s"
        ' ORDER BY create_time, workflow_id COLLATE "C"',
        (name, key),
    )
    return [(workflow_id, WorkflowStatus(status)) for workflow_id, status in await cur.fetchall()]


_OPEN = [WorkflowStatus.RUNNING.value, WorkflowStatus.PAUSED.value]


async def find_workflows_by_correlation_id(
    conn: Conn, correlation_ids: list[str], names: list[str] | None, include_closed: bool
) -> list[tuple[str, str]]:
    if not correlation_ids or names == []:
        return []
    sql = (
        "SELECT workflow_id, correlation_id FROM legato_workflows"
        " WHERE correlation_id = ANY(%s::text[])"
    )
    params: list[Any] = [list(correlation_ids)]
    if names is not None:
        sql += " AND name = ANY(%s::text[])"
        params.append(list(names))
    if not include_closed:
        sql += " AND status = ANY(%s::text[])"
        params.append(_OPEN)
    cur = await conn.execute(sql + ' ORDER BY create_time, workflow_id COLLATE "C"', params)
    return [(workflow_id, correlation_id) for workflow_id, correlation_id in await cur.fetchall()]


async def list_running_workflow_ids(
    conn: Conn, name: str, version: int | None, created_from: int | None, created_to: int | None
) -> list[str]:
    sql = "SELECT workflow_id FROM legato_workflows WHERE status = ANY(%s::text[]) AND name = %s"
    params: list[Any] = [_OPEN, name]
    if version is not None:
        sql += " AND version = %s"
        params.append(version)
    if created_from is not None:
        sql += " AND create_time >= %s"
        params.append(created_from)
    if created_to is not None:
        sql += " AND create_time <= %s"
        params.append(created_to)
    cur = await conn.execute(sql + ' ORDER BY create_time, workflow_id COLLATE "C"', params)
    return [workflow_id for (workflow_id,) in await cur.fetchall()]


# The analytics read: SQLite's statements (portable SQL), in one read-only snapshot.
async def workflow_analytics(
    conn: Conn, name: str, since: int, until: int, sample: int
) -> WorkflowAnalytics:
    window = {"name": name, "since": since, "until": until, "limit": max(sample, 0)}
    where = "name = %(name)s AND create_time >= %(since)s AND create_time < %(until)s"
    async with conn.transaction():
        await conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        cur = await conn.execute(
            f"SELECT status, COUNT(*) FROM legato_workflows WHERE {where} GROUP BY status",
            window,
        )
        counts = {status: int(n) for status, n in await cur.fetchall()}
        cur = await conn.execute(
            "SELECT workflow_id, status, create_time, end_time FROM legato_workflows"
            f" WHERE {where} ORDER BY create_time DESC LIMIT %(limit)s",
            window,
        )
        rows = await cur.fetchall()
        cur = await conn.execute(
            "SELECT t.ref_name, t.task_type, t.scheduled_time, t.start_time, t.end_time"
            " FROM legato_tasks AS t WHERE t.workflow_id IN ("
            f" SELECT workflow_id FROM legato_workflows WHERE {where}"
            " ORDER BY create_time DESC LIMIT %(limit)s)",
            window,
        )
        task_rows = await cur.fetchall()
    return summarise(counts, rows, task_rows)


async def load_task(conn: Conn, task_id: str) -> Task | None:
    cur = await conn.execute("SELECT doc FROM legato_tasks WHERE task_id = %s", (task_id,))
    row = await cur.fetchone()
    return None if row is None else Task.from_doc(row[0])


async def find_task_def(conn: Conn, name: str) -> TaskDef | None:
    cur = await conn.execute("SELECT doc FROM legato_task_defs WHERE name = %s", (name,))
    row = await cur.fetchone()
    return None if row is None else TaskDef.model_validate(row[0])


async def list_task_defs(conn: Conn) -> list[TaskDef]:
    cur = await conn.execute("SELECT doc FROM legato_task_defs ORDER BY name")
    return [TaskDef.model_validate(doc) for (doc,) in await cur.fetchall()]


async def find_workflow_def(conn: Conn, name: str, version: int | None) -> WorkflowDef | None:
    if version is None:
        cur = await conn.execute(
            "SELECT doc FROM legato_workflow_defs WHERE name = %s ORDER BY version DESC LIMIT 1",
            (name,),
        )
    else:
        cur = await conn.execute(
            "SELECT doc FROM legato_workflow_defs WHERE name = %s AND version = %s",
            (name, version),
        )
    row = await cur.fetchone()
    return None if row is None else WorkflowDef.model_validate(row[0])


async def list_workflow_defs(conn: Conn) -> list[WorkflowDef]:
    cur = await conn.execute("SELECT doc FROM legato_workflow_defs ORDER BY name, version")
    return [WorkflowDef.model_validate(doc) for (doc,) in await cur.fetchall()]


async def queue_sizes(conn: Conn, queue_names: list[str] | None) -> dict[str, int]:
    if queue_names is None:
        cur = await conn.execute(
            "SELECT queue_name, COUNT(*) FROM legato_queue GROUP BY queue_name"
        )
        return {name: int(n) for name, n in await cur.fetchall()}
    sizes = dict.fromkeys(queue_names, 0)
    if queue_names:
        cur = await conn.execute(
            "SELECT queue_name, COUNT(*) FROM legato_queue WHERE queue_name = ANY(%s::text[])"
            " GROUP BY queue_name",
            (queue_names,),
        )
        sizes.update({name: int(n) for name, n in await cur.fetchall()})
    return sizes


async def get_task_logs(conn: Conn, task_id: str) -> list[TaskLog]:
    cur = await conn.execute(
        "SELECT task_id, log, created_time FROM legato_task_logs WHERE task_id = %s ORDER BY id",
        (task_id,),
    )
    return [TaskLog(*row) for row in await cur.fetchall()]


async def list_poll_data(conn: Conn, queue_name: str | None) -> list[dict[str, Any]]:
    sql = "SELECT queue_name, domain, worker_id, last_poll_time FROM legato_poll_data"
    if queue_name is None:
        cur = await conn.execute(sql + " ORDER BY queue_name, domain, worker_id")
    else:
        cur = await conn.execute(
            sql + " WHERE queue_name = %s ORDER BY domain, worker_id", (queue_name,)
        )
    out: list[dict[str, Any]] = []
    for queue, domain, worker_id, last_poll_time in await cur.fetchall():
        item: dict[str, Any] = {
            "queueName": queue,
            "workerId": worker_id,
            "lastPollTime": last_poll_time,
        }
        if domain:
            item["domain"] = domain
        out.append(item)
    return out


async def ping(conn: Conn) -> None:
    await conn.execute("SELECT 1")


async def list_queue(conn: Conn, queue_name: str, start: int, count: int) -> list[Task]:
    cur = await conn.execute(
        "SELECT t.doc FROM legato_queue AS q JOIN legato_tasks AS t ON t.task_id = q.task_id"
        " WHERE q.queue_name = %s ORDER BY q.visible_at, q.priority DESC LIMIT %s OFFSET %s",
        (queue_name, count, start),
    )
    return [Task.from_doc(doc) for (doc,) in await cur.fetchall()]


def dumps(value: Any) -> str:
    """A JSON value as the text PostgreSQL parses into JSONB."""
    return orjson.dumps(value).decode()
