"""PostgreSQL-only behaviour: several nodes on one database, the claim's plan, failures."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
from store_factories import NOW, entry, insert, task, update, workflow

import pg_testdb
from legato.errors import StorageError
from legato.model import TaskDef
from legato.store import Changeset
from legato.store.postgres import PostgresStore


@pytest.fixture
async def nodes() -> AsyncIterator[tuple[PostgresStore, PostgresStore]]:
    url = pg_testdb.fresh_database(migrated=True)
    a, b = PostgresStore(url), PostgresStore(url)
    await a.open()
    await b.open()
    try:
        yield a, b
    finally:
        await a.close()
        await b.close()


async def test_a_commit_on_one_node_wakes_pollers_on_another(
    nodes: tuple[PostgresStore, PostgresStore],
) -> None:
    a, b = nodes
    wf = workflow()
    await a.commit(insert(wf))
    t1 = task(wf, 1)
    waiting = asyncio.create_task(b.wait_for_work("remote", 5.0))
    await asyncio.sleep(0.05)
    started = time.monotonic()
    await a.commit(Changeset([update(wf, new_tasks=[t1])], enqueue=[entry(t1, "remote")]))
    await asyncio.wait_for(waiting, 2.0)
    assert time.monotonic() - started < 1.0
    [claimed] = await b.claim_tasks("remote", 5, "w", NOW)
    assert claimed.task.task_id == t1.task_id


async def test_a_delayed_entry_wakes_pollers_on_another_node_when_visible(
    nodes: tuple[PostgresStore, PostgresStore],
) -> None:
    a, b = nodes
    wf = workflow()
    t1 = task(wf, 1)
    visible_at = int(time.time() * 1000) + 300
    waiting = asyncio.create_task(b.wait_for_work("later", 5.0))
    await asyncio.sleep(0.05)
    started = time.monotonic()
    await a.commit(insert(wf, [t1], enqueue=[entry(t1, "later", visible_at=visible_at)]))
    await asyncio.wait_for(waiting, 3.0)
    assert 0.2 <= time.monotonic() - started < 2.0


async def test_definition_changes_are_announced_to_other_nodes(
    nodes: tuple[PostgresStore, PostgresStore],
) -> None:
    a, b = nodes
    heard: list[str] = []
    mine: list[str] = []
    b.watch_definitions(heard.append)
    a.watch_definitions(mine.append)
    await a.put_task_defs([TaskDef(name="t")])
    await a.delete_task_def("t")
    for _ in range(100):
        if len(heard) >= 2:
            break
        await asyncio.sleep(0.01)
    assert heard == ["task", "task"]
    assert mine == []  # a node does not hear its own changes


async def test_timers_are_shared_without_overlap(
    nodes: tuple[PostgresStore, PostgresStore],
) -> None:
    a, b = nodes
    due = [workflow(next_wake_at=NOW - i) for i in range(40)]
    for wf in due:
        await a.commit(insert(wf))
    got = await asyncio.gather(
        *(s.claim_due_workflows(NOW, 7, 30_000) for s in (a, b, a, b, a, b, a, b))
    )
    ids = [wid for batch in got for wid in batch]
    assert len(ids) == len(set(ids)) == 40


async def test_the_claim_walks_the_claim_index(nodes: tuple[PostgresStore, PostgresStore]) -> None:
    a, _ = nodes
    assert a._pool is not None
    async with a._pool.connection() as conn:
        await conn.execute("SET enable_seqscan = off")
        cur = await conn.execute(
            "EXPLAIN SELECT task_id FROM legato_queue"
            " WHERE queue_name = 'q' AND visible_at <= 5 ORDER BY visible_at, priority DESC"
            " LIMIT 10 FOR UPDATE SKIP LOCKED"
        )
        plan = "\n".join(row[0] for row in await cur.fetchall())
    assert "ix_legato_queue_claim" in plan
    assert "Sort" not in plan


async def test_an_unreachable_database_is_a_storage_error() -> None:
    store = PostgresStore("postgresql://nobody@127.0.0.1:1/nothing", connect_timeout_s=1)
    with pytest.raises(StorageError, match="cannot connect"):
        await store.open()


async def test_poll_data_buffered_on_one_node_reaches_the_others(
    nodes: tuple[PostgresStore, PostgresStore],
) -> None:
    a, b = nodes
    assert await a.claim_tasks("idle", 1, "w1", NOW) == []  # nothing there: no transaction
    deadline = time.monotonic() + 5
    while not await b.list_poll_data("idle"):
        assert time.monotonic() < deadline, "node a never wrote its poll data"
        await asyncio.sleep(0.1)
    assert await b.list_poll_data("idle") == [
        {"queueName": "idle", "workerId": "w1", "lastPollTime": NOW}
    ]


def test_the_commit_and_claim_functions_come_and_go_with_their_migration() -> None:
    import psycopg
    import sqlalchemy as sa
    from alembic import command

    from legato.store import migrate

    url = pg_testdb.fresh_database(migrated=True)

    def functions() -> set[str]:
        with psycopg.connect(url) as conn:
            rows = conn.execute(
                "SELECT proname FROM pg_proc WHERE proname LIKE 'legato\\_%'"
            ).fetchall()
        return {name for (name,) in rows}

    assert functions() == {"legato_commit", "legato_claim", "legato_claimed_doc"}
    engine = sa.create_engine(migrate.sqlalchemy_url(url), poolclass=sa.pool.NullPool)
    try:
        with engine.begin() as conn:
            cfg = migrate.alembic_config()
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0002")
    finally:
        engine.dispose()
    assert functions() == set()
    migrate.upgrade(url)
    assert functions() == {"legato_commit", "legato_claim", "legato_claimed_doc"}
    assert migrate.current_revision(url) == migrate.head_revision()
