from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
from store_factories import NOW, entry, insert, task, update, workflow, workflow_def

from legato.errors import ConflictError, RevisionConflict
from legato.model import Task, TaskStatus, Workflow, WorkflowStatus, WorkflowTask
from legato.store import Changeset, Store, TaskLog, WorkflowWrite


def _full_workflow() -> Workflow:
    definition = workflow_def(
        "full",
        4,
        description="every field",
        timeout_seconds=60,
        variables={"v": 1},
        tasks=[WorkflowTask(name="a", task_reference_name="a", input_parameters={"x": "${y}"})],
    )
    return workflow(
        definition,
        status=WorkflowStatus.PAUSED,
        input={"a": [1, 2, {"b": None}], "u": "héllo"},
        output={"o": 1.5},
        correlation_id="corr-1",
        reason_for_incompletion="why",
        create_time=NOW,
        update_time=NOW + 1,
        end_time=NOW + 2,
        last_retried_time=NOW + 3,
        parent_workflow_id="parent-1",
        parent_workflow_task_id="parent-task-1",
        variables={"k": "v"},
        priority=7,
        task_to_domain={"a": "blue"},
        failed_reference_task_names=["x"],
        failed_task_names=["y"],
        event="evt",
        re_run_from_workflow_id="old",
        created_by="me",
        idempotency_key="idem",
        next_wake_at=NOW + 10_000,
    )


def _full_task(wf: Workflow) -> Task:
    return task(
        wf,
        seq=1,
        input_data={"i": 1},
        output_data={"o": [1]},
        correlation_id="corr-1",
        retry_count=2,
        poll_count=3,
        start_time=NOW + 1,
        end_time=NOW + 2,
        start_delay_in_seconds=4,
        retried_task_id="t0",
        retried=True,
        executed=True,
        callback_from_worker=False,
        response_timeout_seconds=30,
        callback_after_seconds=5,
        worker_id="w1",
        reason_for_incompletion="r",
        domain="blue",
        workflow_priority=7,
        iteration=2,
        sub_workflow_id="sub-1",
        first_start_time=NOW + 1,
        wait_timeout=99,
        first_scheduled_time=NOW - 1,
        dynamic_task={"name": "dyn", "taskReferenceName": "dyn"},
    )


async def test_insert_and_load_round_trip(store: Store, make_store: Callable[..., Store]) -> None:
    wf = _full_workflow()
    t1 = _full_task(wf)
    t2 = task(wf, seq=2, status=TaskStatus.COMPLETED)
    wf.tasks = [t2, t1]
    await store.commit(insert(wf, [t2, t1]))
    assert wf.rev == 1

    loaded = await store.load_workflow(wf.workflow_id)
    assert loaded is not None
    assert loaded.to_doc() == wf.to_doc()
    assert loaded.rev == 1
    assert loaded.next_wake_at == NOW + 10_000
    assert [t.seq for t in loaded.tasks] == [1, 2]
    assert loaded.tasks[0].to_doc() == t1.to_doc()
    assert loaded.tasks[0].status is TaskStatus.SCHEDULED
    assert loaded.status is WorkflowStatus.PAUSED
    assert loaded.definition.to_json() == wf.definition.to_json()

    one = await store.load_task(t2.task_id)
    assert one is not None and one.to_doc() == t2.to_doc()
    assert await store.load_task("nope") is None
    assert await store.load_workflow("nope") is None

    # Another process (a new store: nothing cached) reads the definition snapshot back.
    await store.close()
    again = make_store()
    await again.open()
    try:
        reloaded = await again.load_workflow(wf.workflow_id)
        assert reloaded is not None
        assert reloaded.definition.to_json() == wf.definition.to_json()
        assert reloaded.definition.tasks[0].input_parameters == {"x": "${y}"}
    finally:
        await again.close()


async def test_definition_snapshot_shared_and_defaulted(
    store: Store, make_store: Callable[..., Store]
) -> None:
    definition = workflow_def("shared", 1)
    first, second = workflow(definition), workflow(definition)
    await store.commit(insert(first))
    changes = insert(second)
    changes.workflows[0].definition_json = b""  # known hash: nothing to store
    await store.commit(changes)
    # A new hash without a body: the store serialises workflow.definition itself.
    third = workflow(workflow_def("unsent", 2, description="serialised by the store"))
    changes = insert(third)
    changes.workflows[0].definition_json = b""
    await store.commit(changes)
    await store.close()

    fresh = make_store()  # nothing cached: every definition comes from its snapshot row
    await fresh.open()
    try:
        a = await fresh.load_workflow(first.workflow_id)
        b = await fresh.load_workflow(second.workflow_id)
        c = await fresh.load_workflow(third.workflow_id)
        assert a is not None and b is not None and c is not None
        assert a.definition.to_json() == b.definition.to_json() == definition.to_json()
        assert a.definition is b.definition  # parsed once, shared
        assert c.definition.to_json() == third.definition.to_json()
    finally:
        await fresh.close()


async def test_update_bumps_rev_and_applies_task_changes(store: Store) -> None:
    wf = workflow()
    t1, t2 = task(wf, 1), task(wf, 2)
    await store.commit(insert(wf, [t1, t2]))

    t1.status = TaskStatus.COMPLETED
    t1.output_data = {"done": True}
    t3 = task(wf, 3, task_def_name="ship", reference_task_name="ship")
    wf.status = WorkflowStatus.COMPLETED
    wf.end_time = NOW + 5
    wf.next_wake_at = None
    await store.commit(
        Changeset(
            workflows=[
                update(wf, new_tasks=[t3], updated_tasks=[t1], removed_task_ids=[t2.task_id])
            ]
        )
    )
    assert wf.rev == 2

    loaded = await store.load_workflow(wf.workflow_id)
    assert loaded is not None
    assert loaded.rev == 2
    assert loaded.status is WorkflowStatus.COMPLETED
    assert loaded.end_time == NOW + 5
    assert loaded.next_wake_at is None
    assert [(t.task_id, t.status) for t in loaded.tasks] == [
        (t1.task_id, TaskStatus.COMPLETED),
        (t3.task_id, TaskStatus.SCHEDULED),
    ]
    assert loaded.tasks[0].output_data == {"done": True}
    assert await store.load_task(t2.task_id) is None


async def test_stale_rev_raises_and_writes_nothing(store: Store) -> None:
    wf = workflow()
    t1 = task(wf, 1)
    await store.commit(insert(wf, [t1]))
    await store.commit(Changeset(workflows=[update(wf)]))  # rev 2
    assert wf.rev == 2

    stale = workflow(wf.definition, workflow_id=wf.workflow_id, status=WorkflowStatus.FAILED)
    t2 = task(wf, 2)
    t1.status = TaskStatus.FAILED
    with pytest.raises(RevisionConflict):
        await store.commit(
            Changeset(
                workflows=[WorkflowWrite(stale, 1, new_tasks=[t2], updated_tasks=[t1])],
                enqueue=[entry(t2)],
                logs=[TaskLog(t1.task_id, "nope", NOW)],
            )
        )
    assert stale.rev == 0  # the object does not claim a rev it does not have

    loaded = await store.load_workflow(wf.workflow_id)
    assert loaded is not None
    assert loaded.rev == 2
    assert loaded.status is WorkflowStatus.RUNNING
    assert [t.task_id for t in loaded.tasks] == [t1.task_id]
    assert loaded.tasks[0].status is TaskStatus.SCHEDULED
    assert await store.load_task(t2.task_id) is None
    assert await store.queue_sizes() == {}
    assert await store.get_task_logs(t1.task_id) == []


async def test_concurrent_commits_one_conflicts_others_commit(store: Store) -> None:
    wfs = [workflow() for _ in range(3)]
    for wf in wfs:
        await store.commit(insert(wf))
    good_a, stale, good_b = wfs
    ta, tb = task(good_a, 1), task(good_b, 1)

    results = await asyncio.gather(
        store.commit(Changeset([update(good_a, new_tasks=[ta])], enqueue=[entry(ta)])),
        store.commit(Changeset([update(stale, expected_rev=7)], logs=[TaskLog("x", "l", NOW)])),
        store.commit(Changeset([update(good_b, new_tasks=[tb])], enqueue=[entry(tb)])),
        return_exceptions=True,
    )
    assert results[0] is None and results[2] is None
    assert isinstance(results[1], RevisionConflict)
    assert (good_a.rev, stale.rev, good_b.rev) == (2, 1, 2)
    assert await store.queue_sizes() == {"charge": 2}
    assert await store.get_task_logs("x") == []
    assert await store.load_task(ta.task_id) is not None
    assert await store.load_task(tb.task_id) is not None


async def test_insert_existing_workflow_conflicts(store: Store) -> None:
    wf = workflow()
    await store.commit(insert(wf))
    with pytest.raises(ConflictError):
        await store.commit(insert(workflow(wf.definition, workflow_id=wf.workflow_id)))


async def test_remove_workflow(store: Store) -> None:
    wf, other = workflow(), workflow()
    t1, t2, t_other = task(wf, 1), task(wf, 2), task(other, 1)
    await store.commit(
        Changeset(
            workflows=insert(wf, [t1, t2]).workflows + insert(other, [t_other]).workflows,
            enqueue=[entry(t1), entry(t_other)],
            logs=[TaskLog(t1.task_id, "hello", NOW), TaskLog(t_other.task_id, "keep", NOW)],
        )
    )
    assert await store.remove_workflow(wf.workflow_id) is True
    assert await store.remove_workflow(wf.workflow_id) is False
    assert await store.load_workflow(wf.workflow_id) is None
    assert await store.load_task(t1.task_id) is None
    assert await store.get_task_logs(t1.task_id) == []
    assert await store.queue_sizes() == {"charge": 1}
    assert await store.load_workflow(other.workflow_id) is not None
    assert [g.log for g in await store.get_task_logs(t_other.task_id)] == ["keep"]


async def test_task_logs_in_order(store: Store) -> None:
    wf = workflow()
    t1 = task(wf, 1)
    await store.commit(insert(wf, [t1], logs=[TaskLog(t1.task_id, "first", NOW)]))
    await store.commit(
        Changeset(logs=[TaskLog(t1.task_id, "second", NOW + 1), TaskLog("other", "x", NOW)])
    )
    logs = await store.get_task_logs(t1.task_id)
    assert logs == [TaskLog(t1.task_id, "first", NOW), TaskLog(t1.task_id, "second", NOW + 1)]


async def test_committed_data_survives_reopen(make_store: Callable[..., Store]) -> None:
    first = make_store()
    await first.open()
    wf = workflow()
    t1 = task(wf, 1)
    await first.commit(insert(wf, [t1], enqueue=[entry(t1)]))
    await first.close()

    second = make_store()
    await second.open()
    try:
        loaded = await second.load_workflow(wf.workflow_id)
        assert loaded is not None and loaded.rev == 1
        assert [t.task_id for t in loaded.tasks] == [t1.task_id]
        assert await second.queue_sizes() == {"charge": 1}
    finally:
        await second.close()


async def test_ping(store: Store) -> None:
    await store.ping()
