"""SqliteStore's event tables: the built-in queue's messages, event handlers, event executions.

`publish_messages` runs inside `commit_changes` (a message is written in the same transaction as
the decision that published it); the rest are jobs of their own. `SqliteEvents` is the part of
`SqliteStore` that serves them (a mixin over the store's reader threads and writer).
"""

from __future__ import annotations

import asyncio
import functools
import sqlite3
import time
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

import orjson

from legato.errors import ConflictError, NotFoundError
from legato.store.base import EventExecution, EventMessage
from legato.store.wakeups import QueueWakeups

T = TypeVar("T")

# The wake-up signal of the event processor (not a task queue: no task type has a NUL byte).
EVENTS_SIGNAL = "\0events"

_PUBLISH = """
INSERT INTO legato_event_messages
    (message_id, queue_name, payload, created_time, visible_at, deliveries)
VALUES (?, ?, ?, ?, ?, 0)
ON CONFLICT (message_id) DO NOTHING
"""
_CLAIM_SELECT = """
SELECT message_id, queue_name, payload, created_time, deliveries
FROM legato_event_messages
WHERE visible_at <= ?
ORDER BY visible_at
LIMIT ?
"""
_LEASE = (
    "UPDATE legato_event_messages SET visible_at = ?, deliveries = deliveries + 1"
    " WHERE message_id = ?"
)
_ACK = "DELETE FROM legato_event_messages WHERE message_id = ?"
_DELAY = "UPDATE legato_event_messages SET visible_at = ? WHERE message_id = ?"

_INSERT_HANDLER = """
INSERT INTO legato_event_handlers (name, event, doc, create_time, update_time)
VALUES (?, ?, ?, ?, ?)
"""
_UPDATE_HANDLER = (
    "UPDATE legato_event_handlers SET event = ?, doc = ?, update_time = ? WHERE name = ?"
)
_INSERT_EXECUTION = """
INSERT INTO legato_event_executions
    (handler_name, execution_id, message_id, event, action, status, created_time, doc)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (handler_name, execution_id) DO NOTHING
"""
_UPDATE_EXECUTION = """
UPDATE legato_event_executions SET status = ?, doc = ?
WHERE handler_name = ? AND execution_id = ?
"""


# --- write jobs (writer connection) ---------------------------------------------------------
def publish_messages(conn: sqlite3.Connection, messages: list[EventMessage]) -> None:
    """Part of `commit_changes`: messages become visible when the transaction commits."""
    rows = [
        (m.message_id, m.queue_name, orjson.dumps(m.payload), m.created_time, m.created_time)
        for m in messages
    ]
    conn.executemany(_PUBLISH, rows)


def claim_messages(
    conn: sqlite3.Connection, now: int, limit: int, lease_ms: int
) -> list[EventMessage]:
    rows = conn.execute(_CLAIM_SELECT, (now, limit)).fetchall()
    if rows:
        conn.executemany(_LEASE, [(now + lease_ms, row[0]) for row in rows])
    return [
        EventMessage(
            message_id=message_id,
            queue_name=queue_name,
            payload=orjson.loads(payload),
            created_time=created_time,
            deliveries=deliveries + 1,
        )
        for message_id, queue_name, payload, created_time, deliveries in rows
    ]


def ack_messages(conn: sqlite3.Connection, message_ids: list[str]) -> None:
    conn.executemany(_ACK, [(message_id,) for message_id in message_ids])


def delay_message(conn: sqlite3.Connection, message_id: str, visible_at: int) -> None:
    conn.execute(_DELAY, (visible_at, message_id))


def put_handler(
    conn: sqlite3.Connection, name: str, event: str, doc: dict[str, Any], create: bool, now: int
) -> None:
    body = orjson.dumps(doc)
    if create:
        try:
            conn.execute(_INSERT_HANDLER, (name, event, body, now, now))
        except sqlite3.IntegrityError as exc:
            raise ConflictError(f"EventHandler with name {name} already exists!") from exc
        return
    if conn.execute(_UPDATE_HANDLER, (event, body, now, name)).rowcount != 1:
        raise NotFoundError(f"EventHandler with name {name} not found!")


def delete_handler(conn: sqlite3.Connection, name: str) -> bool:
    cur = conn.execute("DELETE FROM legato_event_handlers WHERE name = ?", (name,))
    return cur.rowcount > 0


def add_execution(conn: sqlite3.Connection, execution: EventExecution) -> str | None:
    e = execution
    cur = conn.execute(
        _INSERT_EXECUTION,
        (
            e.name,
            e.id,
            e.message_id,
            e.event,
            e.action,
            e.status,
            e.created,
            orjson.dumps(e.output),
        ),
    )
    if cur.rowcount == 1:
        return None
    row = conn.execute(
        "SELECT status FROM legato_event_executions WHERE handler_name = ? AND execution_id = ?",
        (e.name, e.id),
    ).fetchone()
    return str(row[0]) if row is not None else None


def update_execution(conn: sqlite3.Connection, execution: EventExecution) -> None:
    e = execution
    conn.execute(_UPDATE_EXECUTION, (e.status, orjson.dumps(e.output), e.name, e.id))


# --- reads (reader connections) -------------------------------------------------------------
def queue_sizes(conn: sqlite3.Connection, queue_names: list[str]) -> dict[str, int]:
    sizes = dict.fromkeys(queue_names, 0)
    if queue_names:
        marks = ", ".join("?" * len(queue_names))
        rows = conn.execute(
            f"SELECT queue_name, COUNT(*) FROM legato_event_messages WHERE queue_name IN ({marks})"
            " GROUP BY queue_name",
            queue_names,
        ).fetchall()
        sizes.update(rows)
    return sizes


def list_handlers(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    rows = conn.execute("SELECT doc FROM legato_event_handlers ORDER BY name").fetchall()
    return [orjson.loads(doc) for (doc,) in rows]


def list_executions(conn: sqlite3.Connection, message_id: str) -> list[EventExecution]:
    rows = conn.execute(
        "SELECT execution_id, message_id, handler_name, event, created_time, status, action, doc"
        " FROM legato_event_executions WHERE message_id = ?"
        " ORDER BY handler_name, execution_id",
        (message_id,),
    ).fetchall()
    return [
        EventExecution(
            id=execution_id,
            message_id=msg_id,
            name=name,
            event=event,
            created=created,
            status=status,
            action=action,
            output=orjson.loads(doc),
        )
        for execution_id, msg_id, name, event, created, status, action, doc in rows
    ]


# --- the store's side -----------------------------------------------------------------------
class _Plumbing(Protocol):
    _wakeups: QueueWakeups

    def _write(
        self,
        fn: Callable[[sqlite3.Connection], T],
        on_commit: Callable[[T], None] | None = None,
    ) -> asyncio.Future[T]: ...

    async def _read(self, fn: Callable[..., T], *args: Any) -> T: ...


class SqliteEvents:
    """The event verbs of the Store protocol, on SqliteStore's connections."""

    async def claim_events(
        self: _Plumbing, now: int, limit: int, lease_ms: int
    ) -> list[EventMessage]:
        return await self._write(
            functools.partial(claim_messages, now=now, limit=limit, lease_ms=lease_ms)
        )

    async def ack_events(self: _Plumbing, message_ids: list[str]) -> None:
        if message_ids:
            await self._write(functools.partial(ack_messages, message_ids=list(message_ids)))

    async def delay_event(self: _Plumbing, message_id: str, visible_at: int) -> None:
        await self._write(
            functools.partial(delay_message, message_id=message_id, visible_at=visible_at)
        )

    async def event_queue_sizes(self: _Plumbing, queue_names: list[str]) -> dict[str, int]:
        return await self._read(queue_sizes, list(queue_names))

    async def wait_for_events(self: _Plumbing, timeout_s: float) -> None:
        await self._wakeups.wait(EVENTS_SIGNAL, timeout_s)

    async def put_event_handler(
        self: _Plumbing, name: str, event: str, doc: dict[str, Any], *, create: bool
    ) -> None:
        now = _now_ms()
        await self._write(
            functools.partial(put_handler, name=name, event=event, doc=doc, create=create, now=now)
        )

    async def list_event_handlers(self: _Plumbing) -> list[dict[str, Any]]:
        return await self._read(list_handlers)

    async def delete_event_handler(self: _Plumbing, name: str) -> bool:
        return await self._write(functools.partial(delete_handler, name=name))

    async def add_event_execution(self: _Plumbing, execution: EventExecution) -> str | None:
        return await self._write(functools.partial(add_execution, execution=execution))

    async def update_event_execution(self: _Plumbing, execution: EventExecution) -> None:
        await self._write(functools.partial(update_execution, execution=execution))

    async def list_event_executions(self: _Plumbing, message_id: str) -> list[EventExecution]:
        return await self._read(list_executions, message_id)


def published(wakeups: QueueWakeups, messages: list[EventMessage]) -> None:
    """After a commit that published messages: wake the event processor."""
    if messages:
        wakeups.notify(EVENTS_SIGNAL)


def _now_ms() -> int:
    return int(time.time() * 1000)
