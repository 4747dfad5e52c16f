"""PostgresStore's event tables: the built-in queue's messages, event handlers, executions.

Mirrors `sqlite_events`. Messages are published inside `commit` (`legato_commit`, see postgres_commit) and
announced to every node with NOTIFY; claims lease messages with SKIP LOCKED, so several nodes
share the event queue without handing one message to two of them at once.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol, TypeVar

import orjson
import psycopg
from psycopg import errors as pg_errors

from legato.errors import ConflictError, NotFoundError
from legato.store.base import EventExecution, EventMessage
from legato.store.postgres_notify import definitions_payload
from legato.store.wakeups import QueueWakeups

T = TypeVar("T")
Conn = psycopg.AsyncConnection[Any]

# The wake-up signal of the event processor (not a task queue: no task type has a NUL byte).
EVENTS_SIGNAL = "\0events"

_CLAIM = """
WITH picked AS (
    SELECT message_id FROM legato_event_messages
    WHERE visible_at <= %(now)s
    ORDER BY visible_at
    LIMIT %(limit)s
    FOR UPDATE SKIP LOCKED
)
UPDATE legato_event_messages AS m
SET visible_at = %(until)s, deliveries = m.deliveries + 1
FROM picked WHERE m.message_id = picked.message_id
RETURNING m.message_id, m.queue_name, m.payload, m.created_time, m.deliveries
"""
_INSERT_HANDLER = """
INSERT INTO legato_event_handlers (name, event, doc, create_time, update_time)
VALUES (%s, %s, %s::json, %s, %s)
"""
_UPDATE_HANDLER = (
    "UPDATE legato_event_handlers SET event = %s, doc = %s::json, update_time = %s WHERE name = %s"
)
_INSERT_EXECUTION = """
INSERT INTO legato_event_executions
    (handler_name, execution_id, message_id, event, action, status, created_time, doc)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s::json)
ON CONFLICT (handler_name, execution_id) DO NOTHING
"""
_UPDATE_EXECUTION = """
UPDATE legato_event_executions SET status = %s, doc = %s::json
WHERE handler_name = %s AND execution_id = %s
"""
_NOTIFY = "SELECT pg_notify(%s, %s)"


class _Plumbing(Protocol):
    _wakeups: QueueWakeups
    node_id: str

    async def _run(self, fn: Callable[..., Awaitable[T]], *args: Any) -> T: ...


class PostgresEvents:
    """The event verbs of the Store protocol, on PostgresStore's pool."""

    async def claim_events(
        self: _Plumbing, now: int, limit: int, lease_ms: int
    ) -> list[EventMessage]:
        async def claim(conn: Conn) -> list[EventMessage]:
            cur = await conn.execute(_CLAIM, {"now": now, "limit": limit, "until": now + lease_ms})
            rows = sorted(await cur.fetchall(), key=lambda r: (r[3], r[0]))
            return [
                EventMessage(
                    message_id=message_id,
                    queue_name=queue_name,
                    payload=payload,
                    created_time=created_time,
                    deliveries=deliveries,
                )
                for message_id, queue_name, payload, created_time, deliveries in rows
            ]

        return await self._run(claim)

    async def ack_events(self: _Plumbing, message_ids: list[str]) -> None:
        if message_ids:

            async def ack(conn: Conn) -> None:
                await conn.execute(
                    "DELETE FROM legato_event_messages WHERE message_id = ANY(%s::text[])",
                    (list(message_ids),),
                )

            await self._run(ack)

    async def delay_event(self: _Plumbing, message_id: str, visible_at: int) -> None:
        async def delay(conn: Conn) -> None:
            await conn.execute(
                "UPDATE legato_event_messages SET visible_at = %s WHERE message_id = %s",
                (visible_at, message_id),
            )

        await self._run(delay)

    async def event_queue_sizes(self: _Plumbing, queue_names: list[str]) -> dict[str, int]:
        names = list(queue_names)

        async def sizes(conn: Conn) -> dict[str, int]:
            out = dict.fromkeys(names, 0)
            if names:
                cur = await conn.execute(
                    "SELECT queue_name, COUNT(*) FROM legato_event_messages"
                    " WHERE queue_name = ANY(%s::text[]) GROUP BY queue_name",
                    (names,),
                )
                out.update({name: int(n) for name, n in await cur.fetchall()})
            return out

        return await self._run(sizes)

    async def wait_for_events(self: _Plumbing, timeout_s: float) -> None:
        await self._wakeups.wait(EVENTS_SIGNAL, timeout_s)

    async def put_event_handler(
        self: _Plumbing, name: str, event: str, doc: dict[str, Any], *, create: bool
    ) -> None:
        node_id = self.node_id
        body = orjson.dumps(doc).decode()

        async def put(conn: Conn) -> None:
            now = _now_ms()
            async with conn.transaction():
                if create:
                    try:
                        await conn.execute(_INSERT_HANDLER, (name, event, body, now, now))
                    except pg_errors.UniqueViolation as exc:
                        raise ConflictError(
                            f"EventHandler with name {name} already exists!"
                        ) from exc
                else:
                    cur = await conn.execute(_UPDATE_HANDLER, (event, body, now, name))
                    if cur.rowcount != 1:
                        raise NotFoundError(f"EventHandler with name {name} not found!")
                await conn.execute(_NOTIFY, definitions_payload(node_id, "event_handler"))

        await self._run(put)

    async def list_event_handlers(self: _Plumbing) -> list[dict[str, Any]]:
        async def handlers(conn: Conn) -> list[dict[str, Any]]:
            cur = await conn.execute("SELECT doc FROM legato_event_handlers ORDER BY name")
            return [doc for (doc,) in await cur.fetchall()]

        return await self._run(handlers)

    async def delete_event_handler(self: _Plumbing, name: str) -> bool:
        node_id = self.node_id

        async def delete(conn: Conn) -> bool:
            async with conn.transaction():
                cur = await conn.execute(
                    "DELETE FROM legato_event_handlers WHERE name = %s", (name,)
                )
                if cur.rowcount:
                    await conn.execute(_NOTIFY, definitions_payload(node_id, "event_handler"))
            return cur.rowcount > 0

        return await self._run(delete)

    async def add_event_execution(self: _Plumbing, execution: EventExecution) -> str | None:
        e = execution

        async def add(conn: Conn) -> str | None:
            cur = await conn.execute(
                _INSERT_EXECUTION,
                (
                    e.name,
                    e.id,
                    e.message_id,
                    e.event,
                    e.action,
                    e.status,
                    e.created,
                    orjson.dumps(e.output).decode(),
                ),
            )
            if cur.rowcount == 1:
                return None
            cur = await conn.execute(
                "SELECT status FROM legato_event_executions"
                " WHERE handler_name = %s AND execution_id = %s",
                (e.name, e.id),
            )
            row = await cur.fetchone()
            return str(row[0]) if row is not None else None

        return await self._run(add)

    async def update_event_execution(self: _Plumbing, execution: EventExecution) -> None:
        e = execution

        async def update(conn: Conn) -> None:
            await conn.execute(
                _UPDATE_EXECUTION, (e.status, orjson.dumps(e.output).decode(), e.name, e.id)
            )

        await self._run(update)

    async def list_event_executions(self: _Plumbing, message_id: str) -> list[EventExecution]:
        async def executions(conn: Conn) -> list[EventExecution]:
            cur = await conn.execute(
                "SELECT execution_id, message_id, handler_name, event, created_time, status,"
                " action, doc FROM legato_event_executions WHERE message_id = %s"
                " ORDER BY handler_name, execution_id",
                (message_id,),
            )
            return [
                EventExecution(
                    id=execution_id,
                    message_id=msg_id,
                    name=name,
                    event=event,
                    created=created,
                    status=status,
                    action=action,
                    output=doc,
                )
                for execution_id, msg_id, name, event, created, status, action, doc in (
                    await cur.fetchall()
                )
            ]

        return await self._run(executions)


def _now_ms() -> int:
    import time

    return int(time.time() * 1000)
