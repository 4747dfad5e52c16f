"""PostgreSQL group commit: Changesets that arrive together share one `legato_commit` call, and
each fails or succeeds on its own."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from store_factories import entry, insert, task, update, workflow

import pg_testdb
from legato.errors import ConflictError, RevisionConflict
from legato.model import TaskStatus
from legato.store import Changeset
from legato.store.postgres import PostgresStore
from legato.store.postgres_commit import CommitSet, _Call


@pytest.fixture
async def store() -> AsyncIterator[PostgresStore]:
    s = PostgresStore(pg_testdb.fresh_database(migrated=True))
    await s.open()
    try:
        yield s
    finally:
        await s.close()


async def _queue_ids(store: PostgresStore) -> list[str]:
    return [t.task_id for t in await store.list_queue("charge", 0, 100)]


async def test_changesets_arriving_together_share_one_call_and_fail_alone(
    store: PostgresStore,
) -> None:
    a, b = workflow(), workflow()
    await store.commit(insert(a))
    await store.commit(insert(b))
    calls = store._committer.calls
    c = workflow()
    ta = task(a, 1)
    results = await asyncio.gather(
        store.commit(Changeset([update(a, new_tasks=[ta])], enqueue=[entry(ta)])),
        store.commit(Changeset([update(b, expected_rev=7)])),  # stale: b is at rev 1
        store.commit(insert(c)),
        return_exceptions=True,
    )
    assert store._committer.calls == calls + 1  # one statement for the three
    assert results[0] is None and results[2] is None
    assert isinstance(results[1], RevisionConflict)
    loaded_a, loaded_b, loaded_c = [await store.load_workflow(w.workflow_id) for w in (a, b, c)]
    assert loaded_a is not None and loaded_a.rev == 2
    assert [t.task_id for t in loaded_a.tasks] == [ta.task_id]
    assert loaded_b is not None and loaded_b.rev == 1  # the failed set changed nothing
    assert loaded_c is not None and loaded_c.rev == 1
    assert await _queue_ids(store) == [ta.task_id]


async def test_two_commits_on_one_workflow_at_one_revision_do_not_both_apply(
    store: PostgresStore,
) -> None:
    wf = workflow()
    await store.commit(insert(wf))
    t1, t2 = task(wf, 1), task(wf, 2)
    results = await asyncio.gather(
        store.commit(Changeset([update(wf, expected_rev=1, new_tasks=[t1])])),
        store.commit(Changeset([update(wf, expected_rev=1, new_tasks=[t2])])),
        return_exceptions=True,
    )
    assert results[0] is None
    assert isinstance(results[1], RevisionConflict)
    loaded = await store.load_workflow(wf.workflow_id)
    assert loaded is not None and loaded.rev == 2
    assert [t.task_id for t in loaded.tasks] == [t1.task_id]


async def test_an_update_of_a_missing_task_fails_only_its_own_changeset(
    store: PostgresStore,
) -> None:
    a, b = workflow(), workflow()
    await store.commit(insert(a))
    await store.commit(insert(b))
    ghost = task(a, 1)  # never inserted
    tb = task(b, 1)
    results = await asyncio.gather(
        store.commit(Changeset([update(a, updated_tasks=[ghost])])),
        store.commit(Changeset([update(b, new_tasks=[tb])], enqueue=[entry(tb)])),
        return_exceptions=True,
    )
    assert isinstance(results[0], ConflictError)
    assert results[1] is None
    loaded_a = await store.load_workflow(a.workflow_id)
    loaded_b = await store.load_workflow(b.workflow_id)
    assert loaded_a is not None and loaded_a.rev == 1
    assert loaded_b is not None and [t.task_id for t in loaded_b.tasks] == [tb.task_id]


async def test_a_repeated_call_after_a_lost_answer_is_not_applied_twice(
    store: PostgresStore,
) -> None:
    wf = workflow()
    await store.commit(insert(wf))
    t1 = task(wf, 1)
    changes = Changeset([update(wf, new_tasks=[t1])], enqueue=[entry(t1)])
    call = _Call(store._committer._payload([CommitSet(changes, store._snapshots)]))
    assert await store._run(call) == ["ok"]
    # The answer was lost (say): the same call goes again, saying it is a repeat.
    assert await store._run(call) == ["ok"]
    loaded = await store.load_workflow(wf.workflow_id)
    assert loaded is not None and loaded.rev == 2
    assert [t.task_id for t in loaded.tasks] == [t1.task_id]
    assert await _queue_ids(store) == [t1.task_id]

    # A repeat that finds the workflow changed by someone else since is a conflict.
    t1.status = TaskStatus.COMPLETED
    wf.rev = 2
    await store.commit(Changeset([update(wf, updated_tasks=[t1])], dequeue=[t1.task_id]))
    assert await store._run(call) == [f"rev {wf.workflow_id}"]
    loaded = await store.load_workflow(wf.workflow_id)
    assert loaded is not None and loaded.rev == 3
    assert loaded.tasks[0].status == TaskStatus.COMPLETED
    assert await _queue_ids(store) == []


async def test_an_insert_of_a_taken_id_is_refused_alone(store: PostgresStore) -> None:
    wf, other = workflow(), workflow()
    await store.commit(insert(wf))
    results = await asyncio.gather(
        store.commit(insert(wf)), store.commit(insert(other)), return_exceptions=True
    )
    assert isinstance(results[0], ConflictError)
    assert "already exists" in str(results[0])
    assert results[1] is None
    assert await store.load_workflow(other.workflow_id) is not None


async def test_a_commit_cancelled_before_it_was_sent_is_never_applied() -> None:
    store = PostgresStore(pg_testdb.fresh_database(migrated=True), commits_in_flight=1)
    await store.open()
    try:
        a, b = workflow(), workflow()
        first = asyncio.create_task(store.commit(insert(a)))
        for _ in range(2):  # the first commit is at the database, alone in its group
            await asyncio.sleep(0)
        second = asyncio.create_task(store.commit(insert(b)))
        await asyncio.sleep(0)  # waiting for the next group (one group at a time)
        second.cancel()
        await first
        with pytest.raises(asyncio.CancelledError):
            await second
        assert await store.load_workflow(a.workflow_id) is not None
        assert await store.load_workflow(b.workflow_id) is None
        assert store._committer.sets >= 1
    finally:
        await store.close()
