"""LISTEN/NOTIFY between Legato nodes on one PostgreSQL database.

Committing transactions NOTIFY (so a notification is delivered exactly when its data is
visible): new queue entries on `legato_queue`, published event messages on `legato_events`,
definition changes on `legato_definitions`. Every payload starts with the sending node's id;
a node ignores its own notifications (it woke its own waiters when its commit returned).

`Listener` keeps one dedicated connection LISTENing and feeds `QueueWakeups` and the
definition watchers. When that connection breaks (a database restart, a network failure) it
reconnects with backoff and, since notifications may have been missed meanwhile, wakes every
waiter and tells every watcher that anything may have changed ('*').
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

import orjson
import psycopg

from legato.store.base import QueueEntry
from legato.store.wakeups import QueueWakeups

log = logging.getLogger("legato.store.postgres")

QUEUE_CHANNEL = "legato_queue"
EVENTS_CHANNEL = "legato_events"
DEFINITIONS_CHANNEL = "legato_definitions"
CHANNELS = (QUEUE_CHANNEL, EVENTS_CHANNEL, DEFINITIONS_CHANNEL)

# PostgreSQL caps a payload at 8000 bytes.
_MAX_PAYLOAD = 7000
# Delayed entries are announced per bucket of this many ms (as QueueWakeups groups timers).
_BUCKET_MS = 50
# How long the listener waits for notifications before checking its connection.
_HEARTBEAT_S = 5.0


def queue_payloads(node_id: str, entries: Iterable[QueueEntry], now: int) -> list[str]:
    """NOTIFY payloads for new queue entries: per queue, how many are visible now, and the
    (bucketed) moments at which delayed ones become visible."""
    visible: Counter[str] = Counter()
    delayed: set[tuple[str, int]] = set()
    for e in entries:
        if e.visible_at <= now:
            visible[e.queue_name] += 1
        else:
            delayed.add((e.queue_name, math.ceil(e.visible_at / _BUCKET_MS) * _BUCKET_MS))
    items: list[list[Any]] = [[q, n, 0] for q, n in visible.items()]
    items.extend([q, 1, at] for q, at in sorted(delayed))
    return _chunks(node_id, items)


def _chunks(node_id: str, items: list[list[Any]]) -> list[str]:
    out: list[str] = []
    batch: list[list[Any]] = []
    size = 0
    for item in items:
        encoded = len(orjson.dumps(item)) + 1
        if batch and size + encoded > _MAX_PAYLOAD:
            out.append(_encode(node_id, batch))
            batch, size = [], 0
        batch.append(item)
        size += encoded
    if batch:
        out.append(_encode(node_id, batch))
    return out


def _encode(node_id: str, body: Any) -> str:
    return f"{node_id} {orjson.dumps(body).decode()}"


def definitions_payload(node_id: str, kind: str) -> tuple[str, str]:
    return DEFINITIONS_CHANNEL, f"{node_id} {kind}"


def events_payload(node_id: str) -> tuple[str, str]:
    return EVENTS_CHANNEL, node_id


def wake_queues(wakeups: QueueWakeups, entries: Iterable[QueueEntry], now: int) -> None:
    """Wake this node's pollers for entries committed here."""
    entries = list(entries)
    for queue_name, count in Counter(e.queue_name for e in entries if e.visible_at <= now).items():
        wakeups.notify(queue_name, count)
    for e in entries:
        if e.visible_at > now:
            wakeups.notify_at(e.queue_name, e.visible_at, now)


class Listener:
    """One LISTEN connection per store, reconnecting for as long as the store is open."""

    def __init__(
        self,
        connect: Callable[[], Any],
        node_id: str,
        wakeups: QueueWakeups,
        events_signal: str,
        watchers: list[Callable[[str], None]],
    ) -> None:
        self._connect = connect
        self._node_id = node_id
        self._wakeups = wakeups
        self._events_signal = events_signal
        self._watchers = watchers
        self._task: asyncio.Task[None] | None = None
        self._ready: asyncio.Future[None] | None = None
        self.connected = False
        self.reconnects = 0

    async def start(self, timeout_s: float) -> None:
        """Start listening; returns once LISTEN is in place (or raises after timeout_s)."""
        loop = asyncio.get_running_loop()
        self._ready = loop.create_future()
        self._task = asyncio.create_task(self._run(), name="legato-pg-listener")
        try:
            await asyncio.wait_for(asyncio.shield(self._ready), timeout_s)
        except BaseException:
            await self.stop()
            raise

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        delay = 0.05
        first = True
        while True:
            conn: psycopg.AsyncConnection[Any] | None = None
            try:
                conn = await self._connect()
                for channel in CHANNELS:
                    await conn.execute(f"LISTEN {channel}")
                self.connected = True
                delay = 0.05
                if first:
                    first = False
                    if self._ready is not None and not self._ready.done():
                        self._ready.set_result(None)
                else:
                    self.reconnects += 1
                    log.warning("listening to the database again; waking every poller")
                    self._resync()
                task = asyncio.current_task()
                while True:
                    async for note in conn.notifies(timeout=_HEARTBEAT_S):
                        self._dispatch(note.channel, note.payload)
                    await conn.execute("SELECT 1")  # is the connection still alive?
                    if task is not None and task.cancelling():
                        # A cancellation psycopg's waits dropped (Python 3.11 wait_for).
                        raise asyncio.CancelledError()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if self.connected:
                    log.warning("lost the database notification connection: %s", exc)
                self.connected = False
                if first and self._ready is not None and not self._ready.done():
                    self._ready.set_exception(exc)
                    return
            finally:
                self.connected = False
                if conn is not None:
                    with contextlib.suppress(Exception):
                        await conn.close()
            await asyncio.sleep(delay)
            delay = min(delay * 2, 2.0)

    def _resync(self) -> None:
        self._wakeups.notify_all()
        self._wakeups.notify(self._events_signal)
        self._tell_watchers("*")

    def _dispatch(self, channel: str, payload: str) -> None:
        sender, _, body = payload.partition(" ")
        if sender == self._node_id:
            return
        try:
            if channel == QUEUE_CHANNEL:
                now = int(time.time() * 1000)
                for queue_name, count, visible_at in orjson.loads(body):
                    if visible_at and visible_at > now:
                        self._wakeups.notify_at(queue_name, visible_at, now)
                    else:
                        self._wakeups.notify(queue_name, count)
            elif channel == EVENTS_CHANNEL:
                self._wakeups.notify(self._events_signal)
            elif channel == DEFINITIONS_CHANNEL:
                self._tell_watchers(body)
        except Exception:  # a malformed payload must not stop the listener
            log.exception("bad notification on %s: %r", channel, payload[:200])

    def _tell_watchers(self, kind: str) -> None:
        for watcher in list(self._watchers):
            try:
                watcher(kind)
            except Exception:
                log.exception("definition watcher failed")
