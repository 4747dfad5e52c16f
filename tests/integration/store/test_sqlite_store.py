"""SQLite-only behaviour: group commit, the writer's failure handling, pragmas, query plans."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from store_factories import NOW, entry, insert, task, update, workflow

from legato.errors import RevisionConflict, StorageError
from legato.store import Changeset, SqliteStore, migrate, store_for_url
from legato.store import sqlite_writes as writes
from legato.store.sqlite_writer import GroupCommitWriter


@pytest.fixture
async def sqlite_store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    store = SqliteStore(f"sqlite:///{tmp_path / 'legato.db'}")
    await store.open()
    try:
        yield store
    finally:
        await store.close()


async def _hold_writer(store: SqliteStore) -> tuple[threading.Event, asyncio.Future[Any]]:
    """Occupy the writer thread (inside a job) until the returned event is set."""
    entered, release = threading.Event(), threading.Event()

    def hold(conn: sqlite3.Connection) -> None:
        entered.set()
        release.wait(10)

    assert store._writer is not None
    held = store._writer.submit(hold)
    assert await asyncio.to_thread(entered.wait, 10)
    return release, held


async def _queued(store: SqliteStore, n: int) -> None:
    """Wait until n jobs wait in the writer's queue."""
    assert store._writer is not None
    for _ in range(1000):
        if store._writer._jobs.qsize() >= n:
            return
        await asyncio.sleep(0.001)
    raise AssertionError(f"{n} jobs never queued")


async def test_waiting_commits_share_one_transaction(sqlite_store: SqliteStore) -> None:
    wfs = [workflow() for _ in range(3)]
    for wf in wfs:
        await sqlite_store.commit(insert(wf))
    good_a, stale, good_b = wfs
    ta = task(good_a, 1)

    release, held = await _hold_writer(sqlite_store)
    batches, jobs = sqlite_store.writer_stats
    commits = [
        asyncio.ensure_future(sqlite_store.commit(c))
        for c in (
            Changeset([update(good_a, new_tasks=[ta])], enqueue=[entry(ta)]),
            Changeset([update(stale, expected_rev=5)]),
            Changeset([update(good_b)]),
        )
    ]
    await _queued(sqlite_store, 3)  # all three wait behind the holding job
    release.set()
    await held
    results = await asyncio.gather(*commits, return_exceptions=True)

    assert results[0] is None and results[2] is None
    assert isinstance(results[1], RevisionConflict)
    assert sqlite_store.writer_stats == (batches + 2, jobs + 4)  # holder's batch + one for three
    assert (good_a.rev, stale.rev, good_b.rev) == (2, 1, 2)
    assert await sqlite_store.queue_sizes() == {"charge": 1}


async def test_a_cancelled_job_is_skipped(sqlite_store: SqliteStore) -> None:
    wf = workflow()
    release, held = await _hold_writer(sqlite_store)
    pending = asyncio.ensure_future(sqlite_store.commit(insert(wf)))
    await _queued(sqlite_store, 1)
    pending.cancel()
    await asyncio.sleep(0)
    release.set()
    await held
    await sqlite_store.ping()
    assert sqlite_store._writer is not None
    await sqlite_store._writer.submit(lambda conn: None)  # the writer has moved past it
    assert await sqlite_store.load_workflow(wf.workflow_id) is None


async def test_close_drains_queued_writes(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'legato.db'}"
    store = SqliteStore(url)
    await store.open()
    wfs = [workflow() for _ in range(20)]
    futures = [asyncio.ensure_future(store.commit(insert(wf))) for wf in wfs]
    await asyncio.sleep(0)  # let every commit reach the writer's queue
    await store.close()
    await asyncio.gather(*futures)
    with pytest.raises(StorageError, match="closed"):
        await store.commit(insert(workflow()))

    reopened = SqliteStore(url)
    await reopened.open()
    try:
        for wf in wfs:
            assert await reopened.load_workflow(wf.workflow_id) is not None
    finally:
        await reopened.close()


class _Flaky(sqlite3.Connection):
    fail_commit = False

    def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:
        if sql == "COMMIT" and _Flaky.fail_commit:
            raise sqlite3.OperationalError("disk I/O error")
        return super().execute(sql, *args)


@pytest.fixture
async def flaky_writer(
    tmp_path: Path,
) -> AsyncIterator[tuple[GroupCommitWriter, Callable[[], int]]]:
    path = tmp_path / "w.db"
    setup = sqlite3.connect(path)
    setup.execute("CREATE TABLE t (x INTEGER PRIMARY KEY)")
    setup.commit()
    setup.close()

    def connect() -> sqlite3.Connection:
        return sqlite3.connect(path, isolation_level=None, check_same_thread=False, factory=_Flaky)

    def count() -> int:
        with sqlite3.connect(path) as conn:
            return int(conn.execute("SELECT COUNT(*) FROM t").fetchone()[0])

    writer = GroupCommitWriter(connect, asyncio.get_running_loop())
    await writer.start()
    try:
        yield writer, count
    finally:
        _Flaky.fail_commit = False
        await writer.stop()


def _insert(x: int) -> Callable[[sqlite3.Connection], int]:
    def job(conn: sqlite3.Connection) -> int:
        conn.execute("INSERT INTO t (x) VALUES (?)", (x,))
        return x

    return job


async def test_a_failing_job_fails_alone(
    flaky_writer: tuple[GroupCommitWriter, Callable[[], int]],
) -> None:
    writer, count = flaky_writer

    def boom(conn: sqlite3.Connection) -> None:
        conn.execute("INSERT INTO t (x) VALUES (100)")
        raise ValueError("bug in a job")

    futures: list[asyncio.Future[Any]] = [
        writer.submit(_insert(1)),
        writer.submit(boom),
        writer.submit(_insert(1)),
        writer.submit(_insert(2)),
    ]
    results = await asyncio.gather(*futures, return_exceptions=True)
    assert results[0] == 1 and results[3] == 2
    assert isinstance(results[1], ValueError)
    assert isinstance(results[2], StorageError)  # duplicate key: sqlite3 error translated
    assert isinstance(results[2].__cause__, sqlite3.IntegrityError)
    assert count() == 2


async def test_a_failed_commit_fails_every_job(
    flaky_writer: tuple[GroupCommitWriter, Callable[[], int]],
) -> None:
    writer, count = flaky_writer
    _Flaky.fail_commit = True
    committed: list[int] = []
    futures = [writer.submit(_insert(x), committed.append) for x in range(5)]
    results = await asyncio.gather(*futures, return_exceptions=True)
    assert all(isinstance(r, StorageError) for r in results)
    assert committed == []  # on_commit never ran
    _Flaky.fail_commit = False
    assert await writer.submit(_insert(9)) == 9  # the writer carries on
    assert count() == 1


async def test_pragmas(sqlite_store: SqliteStore, tmp_path: Path) -> None:
    with sqlite3.connect(sqlite_store.path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    full = SqliteStore(f"sqlite:///{tmp_path / 'full.db'}", synchronous="FULL")
    await full.open()
    await full.close()


def test_configuration_errors() -> None:
    with pytest.raises(ValueError, match="synchronous"):
        SqliteStore("sqlite:///x.db", synchronous="OFF")
    with pytest.raises(ValueError, match="database file"):
        SqliteStore("sqlite:///:memory:")
    with pytest.raises(ValueError, match="not a SQLite URL"):
        SqliteStore("postgresql://localhost/x")
    with pytest.raises(ValueError, match="no store backend"):
        store_for_url("mysql://localhost/x")
    assert isinstance(store_for_url("sqlite:///./legato.db"), SqliteStore)
    assert SqliteStore("sqlite:///./legato.db").path == "./legato.db"
    assert SqliteStore("sqlite:////abs/legato.db").path == "/abs/legato.db"


async def test_unopened_store_refuses_work(tmp_path: Path) -> None:
    store = SqliteStore(f"sqlite:///{tmp_path / 'x.db'}")
    with pytest.raises(StorageError, match="not open"):
        await store.load_task("t")
    with pytest.raises(StorageError, match="not open"):
        await store.commit(insert(workflow()))


async def test_open_fails_cleanly_on_a_bad_path(tmp_path: Path) -> None:
    store = SqliteStore(f"sqlite:///{tmp_path / 'missing-dir' / 'x.db'}")
    with pytest.raises(StorageError, match="cannot open"):
        await store.open()


def _plan(path: str, sql: str, params: tuple[Any, ...]) -> str:
    with sqlite3.connect(path) as conn:
        return " | ".join(row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + sql, params))


def test_hot_queries_use_their_indexes(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'plan.db'}"
    migrate.upgrade(url)
    path = str(tmp_path / "plan.db")

    claim = _plan(path, writes._CLAIM_SELECT, ("q", NOW, 10))
    assert "USING INDEX ix_legato_queue_claim" in claim
    assert "TEMP B-TREE" not in claim

    due = _plan(
        path,
        "SELECT workflow_id FROM legato_workflows WHERE next_wake_at <= ?"
        " ORDER BY next_wake_at LIMIT ?",
        (NOW, 10),
    )
    assert "ix_legato_workflows_next_wake_at" in due
    assert "TEMP B-TREE" not in due

    tasks = _plan(path, "SELECT doc FROM legato_tasks WHERE workflow_id = ? ORDER BY seq", ("w",))
    assert "ix_legato_tasks_workflow_id_seq" in tasks
    assert "TEMP B-TREE" not in tasks
