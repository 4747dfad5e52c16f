"""SqliteStore's reads: functions of a reader connection, run on the reader threads.

A read that takes several statements runs in one read transaction, so it sees one snapshot of
the database (WAL readers never wait for the writer).
"""

from __future__ import annotations

import sqlite3
from typing import Any

import orjson

from legato.errors import StorageError
from legato.model import Task, TaskDef, Workflow, WorkflowDef, WorkflowStatus
from legato.store.base import TaskLog
from legato.store.snapshots import DefinitionCache


def load_workflow(
    conn: sqlite3.Connection, workflow_id: str, snapshots: DefinitionCache
) -> Workflow | None:
    conn.execute("BEGIN")
    try:
        row = conn.execute(
            "SELECT rev, next_wake_at, def_hash, doc FROM legato_workflows WHERE workflow_id = ?",
            (workflow_id,),
        ).fetchone()
        if row is None:
            return None
        rev, next_wake_at, def_hash, doc = row
        definition = snapshots.get(def_hash)
        if definition is None:
            definition = _load_snapshot(conn, def_hash, workflow_id)
            snapshots.put(def_hash, definition)
        task_docs = conn.execute(
            "SELECT doc FROM legato_tasks WHERE workflow_id = ? ORDER BY seq", (workflow_id,)
        ).fetchall()
    finally:
        conn.execute("COMMIT")
    tasks = [Task.from_doc(orjson.loads(task_doc)) for (task_doc,) in task_docs]
    workflow = Workflow.from_doc(orjson.loads(doc), definition, tasks)
    workflow.rev = rev
    workflow.next_wake_at = next_wake_at
    return workflow


def _load_snapshot(conn: sqlite3.Connection, def_hash: str, workflow_id: str) -> WorkflowDef:
    row = conn.execute(
        "SELECT doc FROM legato_definition_snapshots WHERE hash = ?", (def_hash,)
    ).fetchone()
    if row is None:
        raise StorageError(f"Definition snapshot {def_hash} of workflow {workflow_id} is missing")
    return WorkflowDef.model_validate_json(row[0])


def list_archived_runs(conn: sqlite3.Connection, workflow_id: str) -> list[dict[str, Any]]:
    rows = conn.execute(
        "SELECT doc FROM legato_workflow_history WHERE workflow_id = ? ORDER BY run",
        (workflow_id,),
    ).fetchall()
    return [orjson.loads(doc) for (doc,) in rows]


def find_workflows_by_idempotency_key(
    conn: sqlite3.Connection, name: str, key: str
) -> list[tuple[str, WorkflowStatus]]:
    rows = conn.execute(
        "SELECT workflow_id, status FROM legato_workflows"
        " WHERE name = ? AND idempotency_key = ? ORDER BY create_time, workflow_id",
        (name, key),
    ).fetchall()
    return [(workflow_id, WorkflowStatus(status)) for workflow_id, status in rows]


_OPEN = (WorkflowStatus.RUNNING.value, WorkflowStatus.PAUSED.value)


def find_workflows_by_correlation_id(
    conn: sqlite3.Connection,
    correlation_ids: list[str],
    names: list[str] | None,
    include_closed: bool,
) -> list[tuple[str, str]]:
    if not correlation_ids or names == []:
        return []
    sql = (
        "SELECT workflow_id, correlation_id FROM legato_workflows"
        f" WHERE correlation_id IN ({', '.join('?' * len(correlation_ids))})"
    )
    params: list[Any] = list(correlation_ids)
    if names is not None:
        sql += f" AND name IN ({', '.join('?' * len(names))})"
        params += names
    if not include_closed:
        sql += " AND status IN (?, ?)"
        params += _OPEN
    rows = conn.execute(sql + " ORDER BY create_time, workflow_id", params).fetchall()
    return [(workflow_id, correlation_id) for workflow_id, correlation_id in rows]


def list_running_workflow_ids(
    conn: sqlite3.Connection,
    name: str,
    version: int | None,
    created_from: int | None,
    created_to: int | None,
) -> list[str]:
    sql = "SELECT workflow_id FROM legato_workflows WHERE status IN (?, ?) AND name = ?"
    params: list[Any] = [*_OPEN, name]
    if version is not None:
        sql += " AND version = ?"
        params.append(version)
    if created_from is not None:
        sql += " AND create_time >= ?"
        params.append(created_from)
    if created_to is not None:
        sql += " AND create_time <= ?"
        params.append(created_to)
    rows = conn.execute(sql + " ORDER BY create_time, workflow_id", params).fetchall()
    return [workflow_id for (workflow_id,) in rows]


def load_task(conn: sqlite3.Connection, task_id: str) -> Task | None:
    row = conn.execute("SELECT doc FROM legato_tasks WHERE task_id = ?", (task_id,)).fetchone()
    return None if row is None else Task.from_doc(orjson.loads(row[0]))


def find_task_def(conn: sqlite3.Connection, name: str) -> TaskDef | None:
    row = conn.execute("SELECT doc FROM legato_task_defs WHERE name = ?", (name,)).fetchone()
    return None if row is None else TaskDef.model_validate_json(row[0])


def list_task_defs(conn: sqlite3.Connection) -> list[TaskDef]:
    rows = conn.execute("SELECT doc FROM legato_task_defs ORDER BY name").fetchall()
    return [TaskDef.model_validate_json(doc) for (doc,) in rows]


def find_workflow_def(
    conn: sqlite3.Connection, name: str, version: int | None
) -> WorkflowDef | None:
    if version is None:
        row = conn.execute(
            "SELECT doc FROM legato_workflow_defs WHERE name = ? ORDER BY version DESC LIMIT 1",
            (name,),
        ).fetchone()
    else:
        row = conn.execute(
            "SELECT doc FROM legato_workflow_defs WHERE name = ? AND version = ?", (name, version)
        ).fetchone()
    return None if row is None else WorkflowDef.model_validate_json(row[0])


def list_workflow_defs(conn: sqlite3.Connection) -> list[WorkflowDef]:
    rows = conn.execute("SELECT doc FROM legato_workflow_defs ORDER BY name, version").fetchall()
    return [WorkflowDef.model_validate_json(doc) for (doc,) in rows]


def queue_sizes(conn: sqlite3.Connection, queue_names: list[str] | None) -> dict[str, int]:
    if queue_names is None:
        rows = conn.execute(
            "SELECT queue_name, COUNT(*) FROM legato_queue GROUP BY queue_name"
        ).fetchall()
        return dict(rows)
    sizes = dict.fromkeys(queue_names, 0)
    if queue_names:
        marks = ", ".join("?" * len(queue_names))
        rows = conn.execute(
            f"SELECT queue_name, COUNT(*) FROM legato_queue WHERE queue_name IN ({marks})"
            " GROUP BY queue_name",
            queue_names,
        ).fetchall()
        sizes.update(rows)
    return sizes


def get_task_logs(conn: sqlite3.Connection, task_id: str) -> list[TaskLog]:
    rows = conn.execute(
        "SELECT task_id, log, created_time FROM legato_task_logs WHERE task_id = ? ORDER BY id",
        (task_id,),
    ).fetchall()
    return [TaskLog(*row) for row in rows]


def list_poll_data(conn: sqlite3.Connection, queue_name: str | None) -> list[dict[str, Any]]:
    sql = "SELECT queue_name, domain, worker_id, last_poll_time FROM legato_poll_data"
    if queue_name is None:
        rows = conn.execute(sql + " ORDER BY queue_name, domain, worker_id").fetchall()
    else:
        rows = conn.execute(
            sql + " WHERE queue_name = ? ORDER BY domain, worker_id", (queue_name,)
        ).fetchall()
    out: list[dict[str, Any]] = []
    for queue, domain, worker_id, last_poll_time in rows:
        item: dict[str, Any] = {
            "queueName": queue,
            "workerId": worker_id,
            "lastPollTime": last_poll_time,
        }
        if domain:
            item["domain"] = domain
        out.append(item)
    return out


def ping(conn: sqlite3.Connection) -> None:
    conn.execute("SELECT 1").fetchone()


def list_queue(conn: sqlite3.Connection, queue_name: str, start: int, count: int) -> list[Task]:
    rows = conn.execute(
        "SELECT t.doc FROM legato_queue AS q JOIN legato_tasks AS t ON t.task_id = q.task_id"
        " WHERE q.queue_name = ? ORDER BY q.visible_at, q.priority DESC LIMIT ? OFFSET ?",
        (queue_name, count, start),
    ).fetchall()
    return [Task.from_doc(orjson.loads(doc)) for (doc,) in rows]
