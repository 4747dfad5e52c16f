"""Group commit for SQLite: one writer thread, one connection, every write.

Callers on the event loop submit jobs (functions of a sqlite3 connection). The writer thread takes
every job waiting (up to `max_batch`) and runs them in one `BEGIN IMMEDIATE` transaction, each in
its own SAVEPOINT, so a job that raises is rolled back alone and fails alone while the others
commit. One COMMIT (one fsync with synchronous=FULL, one WAL append with NORMAL) then covers the
whole batch, and the outcomes go back to the loop in one `call_soon_threadsafe`. A lone job
commits at once: nothing waits to fill a batch.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import sqlite3
import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from legato.errors import LegatoError, StorageError

T = TypeVar("T")
log = logging.getLogger(__name__)


class WriteJob(Generic[T]):
    """A function to run in the write transaction, and what to do on the loop once committed."""

    __slots__ = ("fn", "future", "on_commit")

    def __init__(
        self,
        fn: Callable[[sqlite3.Connection], T],
        future: asyncio.Future[T],
        on_commit: Callable[[T], None] | None,
    ) -> None:
        self.fn = fn
        self.future = future
        self.on_commit = on_commit


# (job, result, error): error None means committed.
_Outcome = tuple[WriteJob[Any], Any, BaseException | None]


class GroupCommitWriter:
    def __init__(
        self,
        connect: Callable[[], sqlite3.Connection],
        loop: asyncio.AbstractEventLoop,
        *,
        max_batch: int = 256,
        name: str = "legato-sqlite-writer",
    ) -> None:
        self._connect = connect
        self._loop = loop
        self._max_batch = max_batch
        self._jobs: queue.SimpleQueue[WriteJob[Any] | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._started: asyncio.Future[None] = loop.create_future()
        self._stopping = False
        # Counters (read by benchmarks and tests): transactions committed and jobs run.
        self.batches = 0
        self.jobs = 0

    @property
    def alive(self) -> bool:
        return self._thread.is_alive() and not self._stopping

    async def start(self) -> None:
        self._thread.start()
        await self._started

    def submit(
        self,
        fn: Callable[[sqlite3.Connection], T],
        on_commit: Callable[[T], None] | None = None,
    ) -> asyncio.Future[T]:
        """Queue `fn`; the future resolves (on the loop) once its transaction has committed.

        `on_commit(result)` runs on the loop just before the future resolves, and also when the
        caller has stopped waiting: the data is committed either way. A job whose future is
        cancelled before the writer reaches it is skipped.
        """
        if self._stopping:
            raise StorageError("the store is closed")
        if not self._thread.is_alive():
            raise StorageError("the SQLite writer thread has stopped")
        future: asyncio.Future[T] = self._loop.create_future()
        self._jobs.put(WriteJob(fn, future, on_commit))
        return future

    async def stop(self) -> None:
        """Run every job already queued, then stop the thread and close its connection."""
        if self._stopping:
            return
        self._stopping = True
        if not self._thread.is_alive():
            return
        self._jobs.put(None)
        await asyncio.to_thread(self._thread.join)

    # --- the writer thread -----------------------------------------------------------------
    def _run(self) -> None:
        try:
            conn = self._connect()
        except BaseException as exc:
            self._post(_fail_start, self._started, _storage_error("cannot open the database", exc))
            return
        self._post(_resolve_start, self._started)
        try:
            stop = False
            while not stop:
                first = self._jobs.get()
                if first is None:
                    break
                batch = [first]
                while len(batch) < self._max_batch:
                    try:
                        nxt = self._jobs.get_nowait()
                    except queue.Empty:
                        break
                    if nxt is None:
                        stop = True
                        break
                    batch.append(nxt)
                try:
                    outcomes = self._run_batch(conn, batch)
                except Exception as exc:  # a statement of the batch machinery itself failed
                    _rollback(conn)
                    err = _storage_error("write failed", exc)
                    outcomes = [(job, None, err) for job in batch]
                self._post(self._complete, outcomes)
        finally:
            conn.close()

    def _run_batch(self, conn: sqlite3.Connection, batch: list[WriteJob[Any]]) -> list[_Outcome]:
        live = [job for job in batch if not job.future.cancelled()]
        if not live:
            return []
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            err = _storage_error("cannot start a write transaction", exc)
            return [(job, None, err) for job in live]

        outcomes: list[_Outcome] = []
        alone = len(live) == 1  # no savepoint needed: a failure rolls back the transaction
        for job in live:
            if not alone:
                conn.execute("SAVEPOINT job")
            try:
                result = job.fn(conn)
            except Exception as exc:
                if alone or not conn.in_transaction:
                    # A lone job, or an error after which SQLite rolled back the whole
                    # transaction (disk full, I/O error): nothing of the batch is written.
                    _rollback(conn)
                    own = _translate(exc)
                    lost = _storage_error("the write transaction was rolled back", exc)
                    return [(j, None, own if j is job else lost) for j in live]
                try:
                    conn.execute("ROLLBACK TO job")
                    conn.execute("RELEASE job")
                except sqlite3.Error as rb_exc:
                    _rollback(conn)
                    lost = _storage_error("the write transaction was rolled back", rb_exc)
                    return [(j, None, _translate(exc) if j is job else lost) for j in live]
                outcomes.append((job, None, _translate(exc)))
            else:
                if not alone:
                    conn.execute("RELEASE job")
                outcomes.append((job, result, None))
        try:
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            _rollback(conn)
            err = _storage_error("commit failed", exc)
            return [(job, None, e if e is not None else err) for job, _, e in outcomes]
        self.batches += 1
        self.jobs += len(live)
        return outcomes

    def _post(self, callback: Callable[..., None], *args: Any) -> None:
        try:
            self._loop.call_soon_threadsafe(callback, *args)
        except RuntimeError:  # the loop is closed: nobody is waiting any more
            log.warning("event loop closed; a write outcome was dropped")

    # --- back on the loop ------------------------------------------------------------------
    @staticmethod
    def _complete(outcomes: list[_Outcome]) -> None:
        for job, result, error in outcomes:
            future = job.future
            if error is not None:
                if not future.done():
                    future.set_exception(error)
                continue
            if job.on_commit is not None:
                try:
                    job.on_commit(result)
                except Exception:  # committed already; report, don't lose the others
                    log.exception("on_commit callback failed")
            if not future.done():
                future.set_result(result)


def _resolve_start(started: asyncio.Future[None]) -> None:
    if not started.done():
        started.set_result(None)


def _fail_start(started: asyncio.Future[None], error: BaseException) -> None:
    if not started.done():
        started.set_exception(error)


def _rollback(conn: sqlite3.Connection) -> None:
    if conn.in_transaction:
        try:
            conn.execute("ROLLBACK")
        except sqlite3.Error:
            log.exception("rollback failed")


def _translate(exc: Exception) -> BaseException:
    if isinstance(exc, LegatoError):
        return exc
    if isinstance(exc, sqlite3.Error):
        return _storage_error("write failed", exc)
    return exc  # a bug in the job: let the caller see it as it is


def _storage_error(what: str, exc: BaseException) -> StorageError:
    err = StorageError(f"{what}: {exc}")
    err.__cause__ = exc
    return err
