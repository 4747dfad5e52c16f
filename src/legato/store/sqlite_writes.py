"""SqliteStore's write jobs: functions of the writer connection, run inside its transaction.

Each job runs in a SAVEPOINT of the writer's batch transaction (see sqlite_writer), so a job
that raises leaves nothing behind. Raw SQL on purpose: this is the measured hot path.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any, TypeVar

import orjson

from legato.errors import ConflictError, RevisionConflict
from legato.model import Task, TaskDef, TaskStatus, Workflow, WorkflowDef
from legato.store import sqlite_search as search
from legato.store.base import Changeset, ClaimedTask, ClaimLimits, QueueEntry, WorkflowWrite
from legato.store.snapshots import DefinitionCache
from legato.store.sqlite_events import publish_messages

_Def = TypeVar("_Def", TaskDef, WorkflowDef)

# --- executions -----------------------------------------------------------------------------
# Workflow and task rows share one parameter order between INSERT and UPDATE (key last).
# The search columns (reason ... text_due) come from sqlite_search (which brings the full-text
# documents in step with `text_due` later, in batches).
_INSERT_WORKFLOW = """
INSERT INTO legato_workflows (
    name, version, status, correlation_id, parent_workflow_id, priority,
    create_time, update_time, end_time, next_wake_at, def_hash, doc, idempotency_key,
    reason, event, failed_ref_names, classifier, text_due, workflow_id, rev)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)
"""
_UPDATE_WORKFLOW = """
UPDATE legato_workflows
SET name = ?, version = ?, status = ?, correlation_id = ?, parent_workflow_id = ?, priority = ?,
    create_time = ?, update_time = ?, end_time = ?, next_wake_at = ?,
    def_hash = COALESCE(NULLIF(?, ''), def_hash), doc = ?, idempotency_key = ?,
    reason = ?, event = ?, failed_ref_names = ?, classifier = ?, text_due = ?, rev = rev + 1
WHERE workflow_id = ? AND rev = ?
"""
_INSERT_SNAPSHOT = "INSERT OR IGNORE INTO legato_definition_snapshots (hash, doc) VALUES (?, ?)"

_INSERT_TASK = """
INSERT INTO legato_tasks (
    workflow_id, seq, ref_name, task_def_name, task_type, status, doc,
    workflow_type, correlation_id, scheduled_time, start_time, end_time, update_time, reason,
    text_due, task_id)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
"""
_UPDATE_TASK = """
UPDATE legato_tasks
SET workflow_id = ?, seq = ?, ref_name = ?, task_def_name = ?, task_type = ?, status = ?, doc = ?,
    workflow_type = ?, correlation_id = ?, scheduled_time = ?, start_time = ?, end_time = ?,
    update_time = ?, reason = ?, text_due = ?
WHERE task_id = ?
"""
_DELETE_TASK = "DELETE FROM legato_tasks WHERE task_id = ?"
_DELETE_TASK_LOGS = "DELETE FROM legato_task_logs WHERE task_id = ?"
_INSERT_ARCHIVED_RUN = (
    "INSERT INTO legato_workflow_history (workflow_id, run, archived_time, doc) VALUES (?, ?, ?, ?)"
)

_ENQUEUE = """
INSERT INTO legato_queue (task_id, queue_name, workflow_id, priority, visible_at)
VALUES (?, ?, ?, ?, ?)
ON CONFLICT (task_id) DO UPDATE SET
    queue_name = excluded.queue_name, workflow_id = excluded.workflow_id,
    priority = excluded.priority, visible_at = excluded.visible_at
"""
_DEQUEUE = "DELETE FROM legato_queue WHERE task_id = ?"
_INSERT_LOG = "INSERT INTO legato_task_logs (task_id, log, created_time) VALUES (?, ?, ?)"


def commit_changes(
    conn: sqlite3.Connection, changes: Changeset, snapshots: DefinitionCache
) -> list[int]:
    """Apply a Changeset; returns the new rev of each WorkflowWrite, in order."""
    revs = [_write_workflow(conn, write, snapshots) for write in changes.workflows]
    if changes.dequeue:
        _many(conn, _DEQUEUE, [(task_id,) for task_id in changes.dequeue])
    if changes.enqueue:
        _many(conn, _ENQUEUE, [e.row() for e in changes.enqueue])
    if changes.logs:
        _many(conn, _INSERT_LOG, [(g.task_id, g.log, g.created_time) for g in changes.logs])
    if changes.events:
        publish_messages(conn, changes.events)
    return revs


def _write_workflow(
    conn: sqlite3.Connection, write: WorkflowWrite, snapshots: DefinitionCache
) -> int:
    wf = write.workflow
    if write.definition_hash and write.definition_hash not in snapshots:
        body = write.definition_json or orjson.dumps(wf.definition.to_json())
        conn.execute(_INSERT_SNAPSHOT, (write.definition_hash, body))
    row = _workflow_row(wf, write.definition_hash, search.workflow_columns_of(wf))
    if write.expected_rev is None:
        if not write.definition_hash:
            raise ValueError(f"inserting workflow {wf.workflow_id} needs a definition_hash")
        try:
            conn.execute(_INSERT_WORKFLOW, row)
        except sqlite3.IntegrityError as exc:
            raise ConflictError(f"Workflow {wf.workflow_id} already exists") from exc
        rev = 1
    else:
        cur = conn.execute(_UPDATE_WORKFLOW, (*row, write.expected_rev))
        if cur.rowcount != 1:
            raise RevisionConflict(
                f"Workflow {wf.workflow_id} changed since rev {write.expected_rev} (or is gone)"
            )
        rev = write.expected_rev + 1
    if write.new_tasks:
        try:
            rows = [_task_row(t, search.task_columns_of(t)) for t in write.new_tasks]
            _many(conn, _INSERT_TASK, rows)
        except sqlite3.IntegrityError as exc:
            raise ConflictError(f"A task of workflow {wf.workflow_id} already exists") from exc
    if write.updated_tasks:
        rows = [_task_row(t, search.task_columns_of(t)) for t in write.updated_tasks]
        updated = _many(conn, _UPDATE_TASK, rows)
        if updated != len(write.updated_tasks):
            raise ConflictError(f"An updated task of workflow {wf.workflow_id} does not exist")
    if write.removed_task_ids:
        keys = [(task_id,) for task_id in write.removed_task_ids]
        _many(conn, _DEQUEUE, keys)
        _many(conn, _DELETE_TASK_LOGS, keys)
        search.remove_task_text(conn, write.removed_task_ids)
        _many(conn, _DELETE_TASK, keys)
    if write.archived_runs:
        _many(
            conn,
            _INSERT_ARCHIVED_RUN,
            [
                (wf.workflow_id, r.run, r.archived_time, orjson.dumps(r.doc))
                for r in write.archived_runs
            ],
        )
    return rev


def _workflow_row(wf: Workflow, def_hash: str, search_columns: tuple[Any, ...]) -> tuple[Any, ...]:
    return (
        wf.workflow_name,
        wf.workflow_version,
        wf.status,
        wf.correlation_id,
        wf.parent_workflow_id,
        wf.priority,
        wf.create_time,
        wf.update_time,
        wf.end_time,
        wf.next_wake_at,
        def_hash,
        orjson.dumps(wf.to_doc()),
        wf.idempotency_key,
        *search_columns,
        wf.workflow_id,
    )


def _task_row(t: Task, search_columns: tuple[Any, ...]) -> tuple[Any, ...]:
    return (
        t.workflow_instance_id,
        t.seq,
        t.reference_task_name,
        t.task_def_name,
        t.task_type,
        t.status,
        orjson.dumps(t.to_doc()),
        *search_columns,
        t.task_id,
    )


def remove_workflow(conn: sqlite3.Connection, workflow_id: str) -> bool:
    search.remove_workflow_text(conn, workflow_id)
    tasks_of = "(SELECT task_id FROM legato_tasks WHERE workflow_id = ?)"
    conn.execute(f"DELETE FROM legato_queue WHERE task_id IN {tasks_of}", (workflow_id,))
    conn.execute(f"DELETE FROM legato_task_logs WHERE task_id IN {tasks_of}", (workflow_id,))
    conn.execute("DELETE FROM legato_tasks WHERE workflow_id = ?", (workflow_id,))
    conn.execute("DELETE FROM legato_workflow_history WHERE workflow_id = ?", (workflow_id,))
    cur = conn.execute("DELETE FROM legato_workflows WHERE workflow_id = ?", (workflow_id,))
    return cur.rowcount > 0


# --- queues and timers -----------------------------------------------------------------------
# Walks ix_legato_queue_claim in order: no sort, stops after LIMIT rows.
_CLAIM_SELECT = """
SELECT q.task_id, t.status, t.doc
FROM legato_queue AS q LEFT JOIN legato_tasks AS t ON t.task_id = q.task_id
WHERE q.queue_name = ? AND q.visible_at <= ?
ORDER BY q.visible_at, q.priority DESC
LIMIT ?
"""
_CLAIM_TASK = (
    "UPDATE legato_tasks SET status = ?, doc = ?, start_time = ?, update_time = ? WHERE task_id = ?"
)
_BUMP_WORKFLOW = "UPDATE legato_workflows SET rev = rev + 1 WHERE workflow_id = ? RETURNING rev"
_BUMP_WORKFLOW_AND_WAKE = """
UPDATE legato_workflows
SET rev = rev + 1, next_wake_at = MIN(COALESCE(next_wake_at, :deadline), :deadline)
WHERE workflow_id = :workflow_id
RETURNING rev
"""
_RECORD_POLL = """
INSERT INTO legato_poll_data (queue_name, domain, worker_id, last_poll_time)
VALUES (?, ?, ?, ?)
ON CONFLICT (queue_name, domain, worker_id) DO UPDATE SET last_poll_time = excluded.last_poll_time
"""


def claim_tasks(
    conn: sqlite3.Connection,
    queue_name: str,
    count: int,
    worker_id: str | None,
    now: int,
    domain: str | None,
    limits: ClaimLimits | None = None,
) -> list[ClaimedTask]:
    claimed: list[Task] = []
    if limits is not None:
        count = min(count, _allowed(conn, limits, now))
    while len(claimed) < count:
        rows = conn.execute(_CLAIM_SELECT, (queue_name, now, count - len(claimed))).fetchall()
        if not rows:
            break
        _many(conn, _DEQUEUE, [(row[0],) for row in rows])
        updates = []
        for _task_id, status, doc in rows:
            if status != TaskStatus.SCHEDULED:  # done, cancelled or gone: drop the entry
                continue
            task = Task.from_doc(orjson.loads(doc))
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
            updates.append(
                (
                    task.status,
                    orjson.dumps(task.to_doc()),
                    task.start_time,
                    task.update_time,
                    task.task_id,
                )
            )
        if updates:
            _many(conn, _CLAIM_TASK, updates)
        if len(rows) < count:  # the queue has no more visible entries
            break

    # One rev bump per workflow; next_wake_at lowered to the earliest response deadline.
    deadlines: dict[str, int | None] = {}
    for task in claimed:
        timeout_ms = task.response_timeout_seconds * 1000
        deadline = now + timeout_ms if timeout_ms > 0 else None
        earlier = deadlines.get(task.workflow_instance_id)
        if earlier is not None and (deadline is None or earlier < deadline):
            deadline = earlier
        deadlines[task.workflow_instance_id] = deadline
    revs: dict[str, int] = {}
    for wid, deadline in deadlines.items():
        if deadline is None:
            row = conn.execute(_BUMP_WORKFLOW, (wid,)).fetchone()
        else:
            row = conn.execute(
                _BUMP_WORKFLOW_AND_WAKE, {"deadline": deadline, "workflow_id": wid}
            ).fetchone()
        revs[wid] = row[0] if row is not None else 0

    if worker_id is not None:
        conn.execute(_RECORD_POLL, (queue_name, domain or "", worker_id, now))
    if claimed and limits is not None and limits.rate_limit_per_frequency:
        _many(conn, _RECORD_HANDOUT, [(limits.task_def_name, now)] * len(claimed))
    return [ClaimedTask(task, revs[task.workflow_instance_id]) for task in claimed]


_COUNT_IN_PROGRESS = (
    "SELECT COUNT(*) FROM legato_tasks WHERE task_def_name = ? AND status = 'IN_PROGRESS'"
)
_PRUNE_HANDOUTS = "DELETE FROM legato_task_handouts WHERE task_def_name = ? AND handed_out_at <= ?"
_COUNT_HANDOUTS = "SELECT COUNT(*) FROM legato_task_handouts WHERE task_def_name = ?"
_RECORD_HANDOUT = "INSERT INTO legato_task_handouts (task_def_name, handed_out_at) VALUES (?, ?)"


def _allowed(conn: sqlite3.Connection, limits: ClaimLimits, now: int) -> int:
    """How many more tasks of the definition may be handed out now."""
    allowed = 1 << 31
    if limits.concurrent_exec_limit:
        (running,) = conn.execute(_COUNT_IN_PROGRESS, (limits.task_def_name,)).fetchone()
        allowed = min(allowed, limits.concurrent_exec_limit - running)
    per, window = limits.rate_limit_per_frequency, limits.rate_limit_frequency_in_seconds
    if per and window:
        conn.execute(_PRUNE_HANDOUTS, (limits.task_def_name, now - window * 1000))
        (recent,) = conn.execute(_COUNT_HANDOUTS, (limits.task_def_name,)).fetchone()
        allowed = min(allowed, per - recent)
    return max(allowed, 0)


def record_poll(
    conn: sqlite3.Connection, queue_name: str, domain: str | None, worker_id: str, now: int
) -> None:
    conn.execute(_RECORD_POLL, (queue_name, domain or "", worker_id, now))


def claim_due_workflows(conn: sqlite3.Connection, now: int, limit: int, lease_ms: int) -> list[str]:
    rows = conn.execute(
        "SELECT workflow_id FROM legato_workflows WHERE next_wake_at <= ?"
        " ORDER BY next_wake_at LIMIT ?",
        (now, limit),
    ).fetchall()
    ids = [row[0] for row in rows]
    if ids:
        _many(
            conn,
            "UPDATE legato_workflows SET next_wake_at = ? WHERE workflow_id = ?",
            [(now + lease_ms, wid) for wid in ids],
        )
    return ids


# --- definitions ------------------------------------------------------------------------------
_UPSERT_TASK_DEF = """
INSERT INTO legato_task_defs (name, doc, create_time, update_time) VALUES (?, ?, ?, ?)
ON CONFLICT (name) DO UPDATE SET
    doc = excluded.doc, create_time = excluded.create_time, update_time = excluded.update_time
"""
_UPSERT_WORKFLOW_DEF = """
INSERT INTO legato_workflow_defs (name, version, doc, create_time, update_time)
VALUES (?, ?, ?, ?, ?)
ON CONFLICT (name, version) DO UPDATE SET
    doc = excluded.doc, create_time = excluded.create_time, update_time = excluded.update_time
"""


def put_task_defs(conn: sqlite3.Connection, defs: Sequence[TaskDef], now: int) -> None:
    rows = []
    for d in defs:
        found = conn.execute(
            "SELECT create_time FROM legato_task_defs WHERE name = ?", (d.name,)
        ).fetchone()
        stamped = _stamp(d, found[0] if found else None, now)
        rows.append(
            (d.name, orjson.dumps(stamped.to_json()), stamped.create_time, stamped.update_time)
        )
    _many(conn, _UPSERT_TASK_DEF, rows)


def put_workflow_def(
    conn: sqlite3.Connection, definition: WorkflowDef, overwrite: bool, now: int
) -> None:
    found = conn.execute(
        "SELECT create_time FROM legato_workflow_defs WHERE name = ? AND version = ?",
        (definition.name, definition.version),
    ).fetchone()
    if found is not None and not overwrite:
        raise ConflictError(
            f"Workflow definition {definition.name} version {definition.version} already exists"
        )
    stamped = _stamp(definition, found[0] if found else None, now)
    conn.execute(
        _UPSERT_WORKFLOW_DEF,
        (
            stamped.name,
            stamped.version,
            orjson.dumps(stamped.to_json()),
            stamped.create_time,
            stamped.update_time,
        ),
    )


def delete_task_def(conn: sqlite3.Connection, name: str) -> bool:
    return conn.execute("DELETE FROM legato_task_defs WHERE name = ?", (name,)).rowcount > 0


def delete_workflow_def(conn: sqlite3.Connection, name: str, version: int) -> bool:
    cur = conn.execute(
        "DELETE FROM legato_workflow_defs WHERE name = ? AND version = ?", (name, version)
    )
    return cur.rowcount > 0


def _stamp(d: _Def, stored_create_time: int | None, now: int) -> _Def:
    """A copy with create/update times filled in where the caller left them unset."""
    create_time = d.create_time or stored_create_time or now
    update_time = d.update_time or now
    return d.model_copy(update={"create_time": create_time, "update_time": update_time})


def _many(conn: sqlite3.Connection, sql: str, rows: list[tuple[Any, ...]]) -> int:
    """Run `sql` for each row; returns the rows changed."""
    if len(rows) == 1:
        return conn.execute(sql, rows[0]).rowcount
    return conn.executemany(sql, rows).rowcount


_MISSING_BY_TYPE = """
SELECT t.doc FROM legato_tasks AS t
WHERE t.status = 'SCHEDULED' AND (t.task_type = ? OR t.task_def_name = ?)
  AND NOT EXISTS (SELECT 1 FROM legato_queue AS q WHERE q.task_id = t.task_id)
"""
_MISSING_BY_WORKFLOW = """
SELECT t.doc FROM legato_tasks AS t
WHERE t.workflow_id = ? AND t.status = 'SCHEDULED'
  AND NOT EXISTS (SELECT 1 FROM legato_queue AS q WHERE q.task_id = t.task_id)
"""
_ENQUEUE_ONE = """
INSERT OR REPLACE INTO legato_queue (task_id, queue_name, workflow_id, priority, visible_at)
VALUES (?, ?, ?, ?, ?)
"""


def requeue_missing(
    conn: sqlite3.Connection, now: int, task_type: str | None, workflow_id: str | None
) -> list[QueueEntry]:
    if workflow_id is not None:
        rows = conn.execute(_MISSING_BY_WORKFLOW, (workflow_id,)).fetchall()
    else:
        rows = conn.execute(_MISSING_BY_TYPE, (task_type, task_type)).fetchall()
    entries = []
    for (doc,) in rows:
        task = Task.from_doc(orjson.loads(doc))
        name = f"{task.domain}:{task.task_type}" if task.domain else task.task_type
        entries.append(
            QueueEntry(task.task_id, task.workflow_instance_id, name, now, task.workflow_priority)
        )
    _many(
        conn,
        _ENQUEUE_ONE,
        [(e.task_id, e.queue_name, e.workflow_id, e.priority, e.visible_at) for e in entries],
    )
    return entries
