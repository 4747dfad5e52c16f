"""PostgresStore: the Store protocol on PostgreSQL, for one or many Legato nodes.

- A pool of autocommit connections (psycopg 3, async) serves every read and write: a read is
  one statement, a claim is one (`legato_claim`, see `postgres_writes`), and the commits that
  arrive together share one (`legato_commit`, see `postgres_commit`). Poll data is buffered in
  memory and written once a second.
- Queues: claims take rows with FOR UPDATE SKIP LOCKED on the index that serves the poll;
  long pollers wait in memory (`QueueWakeups`), woken by this node's commits at once and by
  other nodes' commits through LISTEN/NOTIFY (`postgres_notify.Listener`).
- Many nodes: workflows serialise on their row (the revision check of `commit`, re-decided by
  the service on a conflict), timers are leased per workflow with SKIP LOCKED, definitions
  changed on one node are announced to the others.
- Failures: a database error becomes `StorageError` (HTTP 503). A connection that broke (a
  database restart) is replaced by the pool, and the operation is tried once more on a fresh
  connection (a commit says it is a repeat). The listener reconnects by itself.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any, TypeVar
from urllib.parse import urlsplit

import orjson
import psycopg
import psycopg_pool
from psycopg import errors as pg_errors
from psycopg.types.json import set_json_loads

from legato.errors import LegatoError, RevisionConflict, StorageError
from legato.model import Task, TaskDef, Workflow, WorkflowDef, WorkflowStatus
from legato.search.request import SearchPage, SearchRequest
from legato.store import postgres_reads as reads
from legato.store import postgres_search as search
from legato.store import postgres_writes as writes
from legato.store.base import Changeset, ClaimedTask, ClaimLimits, TaskLog, WorkflowAnalytics
from legato.store.postgres_commit import CommitSet, GroupCommitter
from legato.store.postgres_events import EVENTS_SIGNAL, PostgresEvents
from legato.store.postgres_notify import Listener, wake_queues
from legato.store.postgres_schema import prepare_schema
from legato.store.snapshots import DefinitionCache
from legato.store.wakeups import QueueWakeups

T = TypeVar("T")
log = logging.getLogger("legato.store.postgres")

SCHEMES = ("postgresql", "postgres")
TEXT_CATCH_UP_INTERVAL_S = 0.5
TEXT_CATCH_UP_BATCH = 256
POLL_FLUSH_INTERVAL_S = 1.0
# Dead peers are noticed by TCP keepalives within about idle + interval * count seconds.
_KEEPALIVES = {
    "keepalives": 1,
    "keepalives_idle": 10,
    "keepalives_interval": 3,
    "keepalives_count": 3,
}


def conninfo_of(url: str) -> str:
    """The libpq URL of a `postgresql://` (or `postgresql+psycopg://`) database URL."""
    scheme, sep, rest = url.partition("://")
    if not sep or scheme.split("+", 1)[0].lower() not in SCHEMES:
        raise ValueError(f"not a PostgreSQL URL: {url!r}")
    if not urlsplit(url).path.strip("/") and "dbname=" not in url:
        raise ValueError(f"the URL {url!r} names no database (postgresql://host/DATABASE)")
    return f"postgresql://{rest}"


def display_url(url: str) -> str:
    """The URL without its password, for messages."""
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return parts._replace(netloc=netloc).geturl()
    return url


class PostgresStore(PostgresEvents):
    """The Store protocol on one PostgreSQL database; any number of nodes may share it.

    Bound to the event loop it is opened in.
    """

    def __init__(
        self,
        url: str,
        *,
        pool_size: int = 4,
        pool_min_size: int = 1,
        pool_timeout_s: float = 5.0,
        connect_timeout_s: int = 5,
        snapshot_cache_size: int = 1024,
        application_name: str = "legato",
        commits_in_flight: int = 2,
        commit_group_size: int = 128,
    ) -> None:
        self.url = url
        self.conninfo = conninfo_of(url)
        self.node_id = uuid.uuid4().hex[:12]
        self._pool_size = max(pool_size, 1)
        self._pool_min_size = min(max(pool_min_size, 1), self._pool_size)
        self._pool_timeout_s = pool_timeout_s
        self._connect_kwargs: dict[str, Any] = {
            "autocommit": True,
            "connect_timeout": connect_timeout_s,
            "application_name": application_name,
            **_KEEPALIVES,
        }
        self._snapshots = DefinitionCache(snapshot_cache_size)
        self._wakeups = QueueWakeups()
        self._watchers: list[Callable[[str], None]] = []
        self._pool: psycopg_pool.AsyncConnectionPool[psycopg.AsyncConnection[Any]] | None = None
        self._listener: Listener | None = None
        self._background_task: asyncio.Task[None] | None = None
        self._closed = False
        self._closing = False
        self._polls: dict[tuple[str, str, str], int] = {}
        self._polls_due = 0.0
        self._committer = GroupCommitter(
            self._run, self.node_id, max_in_flight=commits_in_flight, max_sets=commit_group_size
        )

    # --- lifecycle -------------------------------------------------------------------------
    async def open(self) -> None:
        if self._pool is not None or self._closed:
            raise StorageError("the store was opened already")
        await asyncio.to_thread(prepare_schema, self.url, self.conninfo, self._connect_kwargs)
        pool: psycopg_pool.AsyncConnectionPool[psycopg.AsyncConnection[Any]]
        pool = psycopg_pool.AsyncConnectionPool(
            self.conninfo,
            min_size=self._pool_min_size,
            max_size=self._pool_size,
            kwargs=self._connect_kwargs,
            configure=_configure,
            timeout=self._pool_timeout_s,
            # Short attempts (1 s apart): after a database restart the pool is back within
            # about a second; requests waiting for a connection start new attempts.
            reconnect_timeout=2.0,
            name="legato",
            open=False,
        )
        try:
            await pool.open(wait=True, timeout=self._pool_timeout_s + 5)
        except psycopg_pool.PoolTimeout as exc:
            await pool.close()
            raise StorageError(f"cannot connect to {display_url(self.url)}: {exc}") from exc
        self._pool = pool
        listener = Listener(
            self._listen_connection, self.node_id, self._wakeups, EVENTS_SIGNAL, self._watchers
        )
        try:
            await listener.start(timeout_s=self._pool_timeout_s + 5)
        except Exception as exc:
            await self.close()
            raise StorageError(f"cannot LISTEN on {display_url(self.url)}: {exc}") from exc
        self._listener = listener
        self._background_task = asyncio.create_task(self._background(), name="legato-pg-background")

    async def close(self) -> None:
        if self._closed or self._closing:
            return
        self._closing = True
        if self._background_task is not None:
            self._background_task.cancel()
            await asyncio.gather(self._background_task, return_exceptions=True)
        # Commits under way finish, and the buffered poll data is written, before closing.
        await self._committer.close()
        if self._pool is not None and self._polls:
            try:
                await self._flush_polls()
            except LegatoError as exc:
                log.debug("writing poll data on close failed: %s", exc)
        self._closed = True
        if self._listener is not None:
            await self._listener.stop()
        if self._pool is not None:
            await self._pool.close()
        self._wakeups.close()

    async def __aenter__(self) -> PostgresStore:
        await self.open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def ping(self) -> None:
        await self._run(reads.ping, timeout_s=2.0)

    def watch_definitions(self, callback: Callable[[str], None]) -> None:
        self._watchers.append(callback)

    @property
    def listening(self) -> bool:
        """Whether the notification connection is up (other nodes' commits wake pollers)."""
        return self._listener is not None and self._listener.connected

    # --- definitions -----------------------------------------------------------------------
    async def put_task_defs(self, defs: list[TaskDef]) -> None:
        if defs:
            await self._run(writes.put_task_defs, list(defs), _now_ms(), self.node_id)

    async def find_task_def(self, name: str) -> TaskDef | None:
        return await self._run(reads.find_task_def, name)

    async def list_task_defs(self) -> list[TaskDef]:
        return await self._run(reads.list_task_defs)

    async def delete_task_def(self, name: str) -> bool:
        return await self._run(writes.delete_task_def, name, self.node_id)

    async def put_workflow_def(self, definition: WorkflowDef, *, overwrite: bool) -> None:
        await self._run(writes.put_workflow_def, definition, overwrite, _now_ms(), self.node_id)

    async def find_workflow_def(self, name: str, version: int | None = None) -> WorkflowDef | None:
        return await self._run(reads.find_workflow_def, name, version)

    async def list_workflow_defs(self) -> list[WorkflowDef]:
        return await self._run(reads.list_workflow_defs)

    async def delete_workflow_def(self, name: str, version: int) -> bool:
        return await self._run(writes.delete_workflow_def, name, version, self.node_id)

    # --- executions ------------------------------------------------------------------------
    async def load_workflow(self, workflow_id: str) -> Workflow | None:
        return await self._run(reads.load_workflow, workflow_id, self._snapshots)

    async def load_task(self, task_id: str) -> Task | None:
        return await self._run(reads.load_task, task_id)

    async def commit(self, changes: Changeset) -> None:
        if not (
            changes.workflows
            or changes.enqueue
            or changes.dequeue
            or changes.logs
            or changes.events
        ):
            return
        await self._committer.commit(CommitSet(changes, self._snapshots))
        for write in changes.workflows:
            write.workflow.rev = 1 if write.expected_rev is None else write.expected_rev + 1
            if write.definition_hash and write.definition_hash not in self._snapshots:
                self._snapshots.put(write.definition_hash, write.workflow.definition)
        if changes.enqueue:
            wake_queues(self._wakeups, changes.enqueue, _now_ms())
        if changes.events:
            self._wakeups.notify(EVENTS_SIGNAL)

    async def remove_workflow(self, workflow_id: str) -> bool:
        return await self._run(writes.remove_workflow, workflow_id)

    async def list_archived_runs(self, workflow_id: str) -> list[dict[str, Any]]:
        return await self._run(reads.list_archived_runs, workflow_id)

    async def find_workflows_by_idempotency_key(
        self, name: str, key: str
    ) -> list[tuple[str, WorkflowStatus]]:
        return await self._run(reads.find_workflows_by_idempotency_key, name, key)

    async def find_workflows_by_correlation_id(
        self, correlation_ids: list[str], names: list[str] | None, include_closed: bool
    ) -> list[tuple[str, str]]:
        return await self._run(
            reads.find_workflows_by_correlation_id, correlation_ids, names, include_closed
        )

    async def list_running_workflow_ids(
        self, name: str, version: int | None, created_from: int | None, created_to: int | None
    ) -> list[str]:
        return await self._run(
            reads.list_running_workflow_ids, name, version, created_from, created_to
        )

    # --- queues and timers -----------------------------------------------------------------
    async def claim_tasks(
        self,
        queue_name: str,
        count: int,
        worker_id: str | None,
        now: int,
        domain: str | None = None,
        limits: ClaimLimits | None = None,
    ) -> list[ClaimedTask]:
        if worker_id is not None:
            self._note_poll(queue_name, domain, worker_id, now)
        # Claims are safe to retry: a claim whose answer was lost is a lease that expires.
        return await self._run(
            writes.claim_tasks,
            queue_name,
            max(count, 0),
            worker_id,
            now,
            limits if limits is not None and limits.active else None,
            retry_conflicts=True,
        )

    async def requeue_missing(
        self, now: int, *, task_type: str | None = None, workflow_id: str | None = None
    ) -> int:
        entries = await self._run(writes.requeue_missing, now, task_type, workflow_id, self.node_id)
        wake_queues(self._wakeups, entries, _now_ms())
        return len(entries)

    async def list_queue(self, queue_name: str, start: int, count: int) -> list[Task]:
        return await self._run(reads.list_queue, queue_name, start, count)

    async def wait_for_work(self, queue_name: str, timeout_s: float) -> None:
        await self._wakeups.wait(queue_name, timeout_s)

    async def queue_sizes(self, queue_names: list[str] | None = None) -> dict[str, int]:
        return await self._run(reads.queue_sizes, queue_names)

    async def claim_due_workflows(self, now: int, limit: int, lease_ms: int) -> list[str]:
        return await self._run(
            writes.claim_due_workflows, now, limit, lease_ms, retry_conflicts=True
        )

    # --- task logs and poll data -----------------------------------------------------------
    async def get_task_logs(self, task_id: str) -> list[TaskLog]:
        return await self._run(reads.get_task_logs, task_id)

    async def record_poll(
        self, queue_name: str, domain: str | None, worker_id: str, now: int
    ) -> None:
        self._note_poll(queue_name, domain, worker_id, now)

    async def list_poll_data(self, queue_name: str | None = None) -> list[dict[str, Any]]:
        await self._flush_polls()
        return await self._run(reads.list_poll_data, queue_name)

    def _note_poll(self, queue_name: str, domain: str | None, worker_id: str, now: int) -> None:
        """Poll data is kept in memory and written every POLL_FLUSH_INTERVAL_S (and before it
        is read): a poll costs the database nothing."""
        key = (queue_name, domain or "", worker_id)
        if self._polls.get(key, 0) < now:
            self._polls[key] = now

    async def _flush_polls(self) -> None:
        polls, self._polls = self._polls, {}
        if not polls:
            return
        try:
            await self._run(writes.record_polls, polls)
        except BaseException:
            for key, at in polls.items():  # next time, unless newer polls came meanwhile
                if self._polls.get(key, 0) < at:
                    self._polls[key] = at
            raise

    # --- analytics and search --------------------------------------------------------------
    async def workflow_analytics(
        self, name: str, since: int, until: int, *, sample: int = 5_000
    ) -> WorkflowAnalytics:
        return await self._run(reads.workflow_analytics, name, since, until, sample)

    async def search_workflows(self, request: SearchRequest) -> SearchPage[Workflow]:
        await self._catch_up_text(wait=True)
        return await self._run(search.search_workflows, request, self._snapshots)

    async def search_tasks(self, request: SearchRequest) -> SearchPage[Task]:
        await self._catch_up_text(wait=True)
        return await self._run(search.search_tasks, request)

    async def _catch_up_text(self, *, wait: bool) -> None:
        """Bring every full-text document that is behind its row in step: a search then sees
        every commit made before it (see postgres_search)."""
        while await self._run(search.catch_up, TEXT_CATCH_UP_BATCH, wait) >= TEXT_CATCH_UP_BATCH:
            pass

    async def _background(self) -> None:
        """In the background, so that documents never fall far behind (and searches seldom
        wait): every TEXT_CATCH_UP_INTERVAL_S, the rows other nodes are not doing; and the
        buffered poll data."""
        while True:
            await asyncio.sleep(TEXT_CATCH_UP_INTERVAL_S)
            try:
                await self._catch_up_text(wait=False)
                if time.monotonic() >= self._polls_due:
                    self._polls_due = time.monotonic() + POLL_FLUSH_INTERVAL_S
                    await self._flush_polls()
            except LegatoError as exc:  # the database is down: next time
                log.debug("background write failed: %s", exc)

    # --- plumbing --------------------------------------------------------------------------
    async def _run(
        self,
        fn: Callable[..., Awaitable[T]],
        *args: Any,
        retry_conflicts: bool = False,
        timeout_s: float | None = None,
    ) -> T:
        """Run `fn(conn, *args)` on a pooled connection, translating database errors.

        A connection failure (most often a database restart that broke the pool's
        connections) is retried once on a fresh connection: a commit's repeat says so to
        `legato_commit`, which does not apply it twice, and a claim whose answer was lost is a
        lease that expires; deadlocks and serialisation failures are retried when `retry_conflicts`,
        else they are revision conflicts (the service decides again).
        """
        pool = self._pool
        if pool is None or self._closed:
            raise StorageError("the store is closed" if self._closed else "the store is not open")
        task = asyncio.current_task()
        cancels = task.cancelling() if task is not None else 0
        attempt = 0
        while True:
            attempt += 1
            try:
                async with pool.connection(timeout=timeout_s) as conn:
                    result = await fn(conn, *args)
                _raise_if_cancelled(task, cancels)
                return result
            except asyncio.CancelledError:
                raise
            except LegatoError:
                _raise_if_cancelled(task, cancels)
                raise
                raise
            except (pg_errors.DeadlockDetected, pg_errors.SerializationFailure) as exc:
                if retry_conflicts and attempt < 5:
                    await asyncio.sleep(0.001 * attempt)
                    continue
                raise RevisionConflict(f"concurrent change: {exc}") from exc
            except psycopg_pool.PoolTimeout as exc:
                raise StorageError(
                    f"the database {display_url(self.url)} is unreachable: {exc}"
                ) from exc
            except psycopg.OperationalError as exc:
                if attempt == 1:
                    # Most likely a connection the database dropped (it restarted): let
                    # the pool weed out the idle ones that broke too, then try again.
                    await _check_pool(pool)
                    continue
                raise StorageError(f"database error: {exc}") from exc
            except psycopg.Error as exc:
                raise StorageError(f"database error: {exc}") from exc

    async def _listen_connection(self) -> psycopg.AsyncConnection[Any]:
        return await psycopg.AsyncConnection.connect(self.conninfo, **self._connect_kwargs)


def _raise_if_cancelled(task: asyncio.Task[Any] | None, cancels: int) -> None:
    """Re-raise a cancellation that was lost on the way.

    On Python 3.11, `asyncio.wait_for` (which psycopg waits on sockets with) drops a
    cancellation that arrives in the same loop iteration as the data it waits for; the task
    would then go on as if never cancelled, and shutting down would hang.
    """
    if task is not None and task.cancelling() > cancels:
        raise asyncio.CancelledError()


async def _configure(conn: psycopg.AsyncConnection[Any]) -> None:
    """Every pooled connection parses JSONB with orjson."""
    set_json_loads(orjson.loads, conn)


async def _check_pool(pool: psycopg_pool.AsyncConnectionPool[Any]) -> None:
    try:
        await asyncio.wait_for(pool.check(), 5)
    except Exception as exc:  # the retry will tell
        log.debug("pool check failed: %s", exc)


def _now_ms() -> int:
    return int(time.time() * 1000)
