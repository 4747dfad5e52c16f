from __future__ import annotations

import asyncio
import time

from store_factories import NOW, entry, insert, task, update, workflow

from legato.model import Task, TaskStatus, Workflow
from legato.store import Changeset, Store


async def _scheduled(store: Store, wf: Workflow, n: int, **entry_kw: object) -> list[Task]:
    tasks = [task(wf, i + 1) for i in range(n)]
    await store.commit(insert(wf, tasks, enqueue=[entry(t, **entry_kw) for t in tasks]))  # type: ignore[arg-type]
    return tasks


async def test_claim_order_oldest_first_then_higher_priority(store: Store) -> None:
    wf = workflow()
    a, b, c, d = (task(wf, i) for i in range(1, 5))
    await store.commit(
        insert(
            wf,
            [a, b, c, d],
            enqueue=[
                entry(a, visible_at=NOW + 30),
                entry(b, visible_at=NOW + 10, priority=1),
                entry(c, visible_at=NOW + 10, priority=5),
                entry(d, visible_at=NOW + 20),
            ],
        )
    )
    claimed = await store.claim_tasks("charge", 10, "w1", NOW + 100)
    assert [ct.task.task_id for ct in claimed] == [c.task_id, b.task_id, d.task_id, a.task_id]


async def test_claim_respects_visibility_and_count(store: Store) -> None:
    wf = workflow()
    now_tasks = [task(wf, i) for i in range(1, 4)]
    later = task(wf, 4)
    await store.commit(
        insert(
            wf,
            [*now_tasks, later],
            enqueue=[entry(t) for t in now_tasks] + [entry(later, visible_at=NOW + 5000)],
        )
    )
    assert len(await store.claim_tasks("charge", 2, "w1", NOW)) == 2
    assert len(await store.claim_tasks("charge", 5, "w1", NOW)) == 1
    assert await store.claim_tasks("charge", 5, "w1", NOW + 4999) == []
    assert await store.queue_sizes() == {"charge": 1}
    last = await store.claim_tasks("charge", 5, "w1", NOW + 5000)
    assert [ct.task.task_id for ct in last] == [later.task_id]
    assert await store.claim_tasks("other-queue", 5, "w1", NOW + 9999) == []


async def test_claim_marks_in_progress_and_bumps_rev(store: Store) -> None:
    wf = workflow()
    t1 = task(wf, 1, poll_count=2, response_timeout_seconds=30, callback_after_seconds=9)
    await store.commit(insert(wf, [t1], enqueue=[entry(t1)]))

    now = NOW + 1000
    [claimed] = await store.claim_tasks("charge", 1, "worker-7", now)
    assert claimed.workflow_rev == 2
    for t in (claimed.task, await store.load_task(t1.task_id)):
        assert t is not None
        assert t.status is TaskStatus.IN_PROGRESS
        assert t.poll_count == 3
        assert t.start_time == now
        assert t.first_start_time == now
        assert t.update_time == now
        assert t.worker_id == "worker-7"
        assert t.callback_after_seconds == 0

    loaded = await store.load_workflow(wf.workflow_id)
    assert loaded is not None
    assert loaded.rev == 2
    assert loaded.next_wake_at == now + 30_000
    assert await store.queue_sizes(["charge"]) == {"charge": 0}

    # A decision made before the claim is now stale.
    assert wf.rev == 1


async def test_claim_keeps_earlier_start_and_wake_times(store: Store) -> None:
    wf = workflow(next_wake_at=NOW + 5)
    t1 = task(wf, 1, start_time=NOW - 9, first_start_time=NOW - 10, response_timeout_seconds=60)
    t2 = task(wf, 2)  # no response timeout
    await store.commit(insert(wf, [t1, t2], enqueue=[entry(t1), entry(t2)]))
    claimed = await store.claim_tasks("charge", 2, None, NOW + 1000)
    assert {ct.workflow_rev for ct in claimed} == {2}  # one bump for the workflow
    got = {ct.task.task_id: ct.task for ct in claimed}
    assert got[t1.task_id].start_time == NOW - 9
    assert got[t1.task_id].first_start_time == NOW - 10
    loaded = await store.load_workflow(wf.workflow_id)
    assert loaded is not None and loaded.next_wake_at == NOW + 5


async def test_claim_drops_entries_of_tasks_no_longer_scheduled(store: Store) -> None:
    wf = workflow()
    done = task(wf, 1, status=TaskStatus.CANCELED)
    live = task(wf, 2)
    await store.commit(
        insert(wf, [done, live], enqueue=[entry(done, visible_at=NOW - 1), entry(live)])
    )
    wf_rev_before = wf.rev
    claimed = await store.claim_tasks("charge", 1, "w1", NOW)
    assert [ct.task.task_id for ct in claimed] == [live.task_id]  # the stale entry did not count
    assert await store.queue_sizes() == {}
    cancelled = await store.load_task(done.task_id)
    assert cancelled is not None and cancelled.status is TaskStatus.CANCELED
    assert claimed[0].workflow_rev == wf_rev_before + 1


async def test_claim_records_poll_data(store: Store) -> None:
    await store.claim_tasks("charge", 1, "w1", NOW, domain="blue")
    await store.claim_tasks("charge", 1, "w2", NOW + 1)
    await store.claim_tasks("charge", 1, "w2", NOW + 2)
    await store.claim_tasks("charge", 1, None, NOW + 3)  # no worker id: nothing to record
    await store.record_poll("ship", None, "w3", NOW + 4)

    assert await store.list_poll_data("charge") == [
        {"queueName": "charge", "workerId": "w2", "lastPollTime": NOW + 2},
        {"queueName": "charge", "domain": "blue", "workerId": "w1", "lastPollTime": NOW},
    ]
    assert [p["queueName"] for p in await store.list_poll_data()] == ["charge", "charge", "ship"]


async def test_concurrent_claimers_never_share_a_task(store: Store) -> None:
    wf = workflow()
    tasks = await _scheduled(store, wf, 200)

    async def claimer(worker: str) -> list[str]:
        got: list[str] = []
        while True:
            claimed = await store.claim_tasks("charge", 7, worker, NOW)
            if not claimed:
                return got
            got.extend(ct.task.task_id for ct in claimed)

    results = await asyncio.gather(*(claimer(f"w{i}") for i in range(4)))
    every = [tid for got in results for tid in got]
    assert len(every) == len(set(every)) == 200
    assert set(every) == {t.task_id for t in tasks}
    loaded = await store.load_workflow(wf.workflow_id)
    assert loaded is not None
    assert all(t.status is TaskStatus.IN_PROGRESS for t in loaded.tasks)


async def test_queue_sizes(store: Store) -> None:
    wf = workflow()
    a, b, c = task(wf, 1), task(wf, 2), task(wf, 3)
    await store.commit(
        insert(
            wf,
            [a, b, c],
            enqueue=[entry(a, "q1"), entry(b, "q1", visible_at=NOW + 10**9), entry(c, "q2")],
        )
    )
    assert await store.queue_sizes() == {"q1": 2, "q2": 1}
    assert await store.queue_sizes(["q1", "empty"]) == {"q1": 2, "empty": 0}
    assert await store.queue_sizes([]) == {}

    await store.commit(Changeset(dequeue=[a.task_id, c.task_id]))
    assert await store.queue_sizes() == {"q1": 1}


async def test_enqueue_replaces_the_entry_of_a_task(store: Store) -> None:
    wf = workflow()
    t1 = task(wf, 1)
    await store.commit(insert(wf, [t1], enqueue=[entry(t1, visible_at=NOW + 10**9)]))
    await store.commit(Changeset(dequeue=[t1.task_id], enqueue=[entry(t1, visible_at=NOW)]))
    assert await store.queue_sizes() == {"charge": 1}
    assert len(await store.claim_tasks("charge", 1, "w", NOW)) == 1


async def test_wait_for_work_wakes_on_enqueue(store: Store) -> None:
    wf = workflow()
    await store.commit(insert(wf))
    t1 = task(wf, 1)

    async def enqueue_soon() -> None:
        await asyncio.sleep(0.05)
        await store.commit(Changeset([update(wf, new_tasks=[t1])], enqueue=[entry(t1, "wq")]))

    started = time.monotonic()
    waiting = asyncio.create_task(store.wait_for_work("wq", 5.0))
    await enqueue_soon()
    await asyncio.wait_for(waiting, 2.0)
    assert time.monotonic() - started < 1.0
    assert len(await store.claim_tasks("wq", 1, "w", NOW)) == 1


async def test_wait_for_work_times_out(store: Store) -> None:
    wf = workflow()
    t1 = task(wf, 1)
    await store.commit(insert(wf, [t1], enqueue=[entry(t1, "elsewhere")]))
    await store.wait_for_work("idle", 0)  # absorb anything pending
    started = time.monotonic()
    await store.wait_for_work("idle", 0.2)
    assert 0.18 <= time.monotonic() - started < 1.0


async def test_wait_for_work_after_a_missed_enqueue_returns_at_once(store: Store) -> None:
    # A poller that found nothing, then waits just after an enqueue it missed, must not sleep.
    wf = workflow()
    t1 = task(wf, 1)
    await store.commit(insert(wf, [t1], enqueue=[entry(t1, "mq")]))
    started = time.monotonic()
    await store.wait_for_work("mq", 5.0)
    assert time.monotonic() - started < 1.0


async def test_wait_for_work_wakes_when_a_delayed_entry_becomes_visible(store: Store) -> None:
    wf = workflow()
    t1 = task(wf, 1)
    visible_at = int(time.time() * 1000) + 300
    await store.commit(insert(wf, [t1], enqueue=[entry(t1, "dq", visible_at=visible_at)]))
    started = time.monotonic()
    await store.wait_for_work("dq", 5.0)
    assert 0.2 <= time.monotonic() - started < 2.0


async def test_claim_due_workflows_leases(store: Store) -> None:
    due_late = workflow(next_wake_at=NOW - 10)
    due_early = workflow(next_wake_at=NOW - 500)
    not_due = workflow(next_wake_at=NOW + 10_000)
    no_timer = workflow(next_wake_at=None)
    for wf in (due_late, due_early, not_due, no_timer):
        await store.commit(insert(wf))

    assert await store.claim_due_workflows(NOW, 1, 30_000) == [due_early.workflow_id]
    assert await store.claim_due_workflows(NOW, 10, 30_000) == [due_late.workflow_id]
    assert await store.claim_due_workflows(NOW, 10, 30_000) == []  # leased

    for wf in (due_early, due_late):
        loaded = await store.load_workflow(wf.workflow_id)
        assert loaded is not None
        assert loaded.next_wake_at == NOW + 30_000
        assert loaded.rev == 1  # a lease is not a change of the workflow
    untouched = await store.load_workflow(not_due.workflow_id)
    assert untouched is not None and untouched.next_wake_at == NOW + 10_000

    later = await store.claim_due_workflows(NOW + 30_000, 10, 1000)
    assert later[0] == not_due.workflow_id  # its timer is the earliest now
    assert set(later) == {not_due.workflow_id, due_early.workflow_id, due_late.workflow_id}


async def test_a_claim_changes_only_the_claim_fields_of_the_task(store: Store) -> None:
    wf = workflow()
    t1 = task(wf, 1, input_data={"zeta": 1, "alpha": {"y": 2, "b": [3, {"k": None}]}})
    t1.output_data = {"partial": True}
    t1.worker_id = "earlier-worker"
    await store.commit(insert(wf, [t1], enqueue=[entry(t1)]))
    [claimed] = await store.claim_tasks("charge", 1, None, NOW + 5)
    loaded = await store.load_task(t1.task_id)
    assert loaded is not None
    for t in (claimed.task, loaded):
        assert list(t.input_data) == ["zeta", "alpha"]  # key order kept
        assert list(t.input_data["alpha"]) == ["y", "b"]
        assert t.input_data == t1.input_data and t.output_data == {"partial": True}
        assert t.worker_id is None  # a poll without a worker id clears the earlier one
        assert (t.reference_task_name, t.seq, t.retry_count) == (
            t1.reference_task_name,
            t1.seq,
            t1.retry_count,
        )
