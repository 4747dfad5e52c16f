"""Store contract: search answers from the store's own index, in step with every commit."""

from __future__ import annotations

from typing import Any

from store_factories import NOW, insert, task, update, workflow, workflow_def

from legato.model import TaskStatus, WorkflowStatus
from legato.search import task_request, workflow_request, workflows_by_tasks_request
from legato.store import Changeset, Store


async def _ids(store: Store, **params: Any) -> tuple[int, list[str]]:
    page = await store.search_workflows(workflow_request(**params))
    return page.total_hits, [wf.workflow_id for wf in page.results]


async def _task_ids(store: Store, **params: Any) -> tuple[int, list[str]]:
    page = await store.search_tasks(task_request(**params))
    return page.total_hits, [t.task_id for t in page.results]


async def _fill(store: Store) -> None:
    """wf-0 .. wf-5: order/refund alternately, statuses cycling, one minute apart."""
    statuses = [WorkflowStatus.RUNNING, WorkflowStatus.COMPLETED, WorkflowStatus.FAILED]
    for i in range(6):
        name = "order" if i % 2 == 0 else "refund"
        status = statuses[i % 3]
        ended = status != WorkflowStatus.RUNNING
        wf = workflow(
            workflow_def(name),
            workflow_id=f"wf-{i}",
            status=status,
            create_time=NOW + 60_000 * i,
            update_time=NOW + 60_000 * i + 5,
            end_time=NOW + 60_000 * i + 500 * i if ended else 0,
            correlation_id=None if i == 5 else f"corr-{i % 2}",
            input={"customer": {"id": 40 + i, "name": f"Ada {i}"}},
            output={"receipt": f"R-{i}"} if ended else {},
            reason_for_incompletion="card declined" if status == WorkflowStatus.FAILED else None,
            failed_reference_task_names=["charge"] if status == WorkflowStatus.FAILED else [],
            parent_workflow_id="wf-0" if i == 4 else None,
        )
        t = task(
            wf,
            task_id=f"t-{i}",
            task_def_name="charge",
            task_type="charge" if i < 4 else "HTTP",
            status=TaskStatus.COMPLETED if ended else TaskStatus.SCHEDULED,
            scheduled_time=NOW + 60_000 * i,
            input_data={"amount": 10 * i},
            output_data={"paid": f"P-{i}"} if ended else {},
            correlation_id=wf.correlation_id,
        )
        await store.commit(insert(wf, [t]))


async def test_filters_sorts_pages_and_totals(store: Store) -> None:
    await _fill(store)
    assert await _ids(store) == (6, ["wf-5", "wf-4", "wf-3", "wf-2", "wf-1", "wf-0"])
    assert await _ids(store, sort="startTime:ASC", start=2, size=2) == (6, ["wf-2", "wf-3"])
    assert await _ids(store, query="status = COMPLETED") == (2, ["wf-4", "wf-1"])
    assert await _ids(store, query="workflowType = order AND status IN (RUNNING, FAILED)") == (
        2,
        ["wf-2", "wf-0"],
    )
    assert await _ids(store, query=f"startTime BETWEEN {NOW + 60_000} AND {NOW + 120_000}") == (
        2,
        ["wf-2", "wf-1"],
    )
    assert await _ids(store, query=f"startTime >= {NOW + 240_000}", sort="workflowId") == (
        2,
        ["wf-4", "wf-5"],
    )
    assert await _ids(store, query="workflowType STARTS_WITH ref", sort="startTime") == (
        3,
        ["wf-1", "wf-3", "wf-5"],
    )
    assert await _ids(store, query="workflowType = 'or*'", size=0) == (3, [])
    assert await _ids(store, query="executionTime >= 1000", sort="executionTime:DESC") == (
        3,
        ["wf-5", "wf-4", "wf-2"],
    )
    # Pages never overlap, ties broken by id.
    seen = []
    for start in range(0, 6, 4):
        _, ids = await _ids(store, sort="workflowType", start=start, size=4)
        seen += ids
    assert seen == ["wf-0", "wf-2", "wf-4", "wf-1", "wf-3", "wf-5"]


async def test_absent_values(store: Store) -> None:
    await _fill(store)
    assert await _ids(store, query="correlationId IS NULL") == (1, ["wf-5"])
    assert (await _ids(store, query="correlationId != 'corr-0'"))[1] == ["wf-5", "wf-3", "wf-1"]
    assert (await _ids(store, query="endTime IS NULL"))[1] == ["wf-3", "wf-0"]
    assert (await _ids(store, query=f"endTime < {NOW + 10**9}"))[0] == 4  # not the running
    assert (await _ids(store, top_level_only=True))[0] == 5
    assert await _ids(store, query="parentWorkflowId = 'wf-0'") == (1, ["wf-4"])
    assert (await _ids(store, query="failedReferenceTaskNames = charge"))[1] == ["wf-5", "wf-2"]
    assert (await _ids(store, query="reasonForIncompletion = 'card declined'"))[0] == 2
    assert (await _ids(store, classifier="workflow"))[0] == 6
    assert (await _ids(store, classifier="agent"))[0] == 0


async def test_free_text(store: Store) -> None:
    await _fill(store)
    assert await _ids(store, free_text="R-4") == (1, ["wf-4"])
    assert await _ids(store, free_text="input.customer.id:43") == (1, ["wf-3"])
    assert await _ids(store, free_text="declined", sort="startTime") == (2, ["wf-2", "wf-5"])
    assert await _ids(store, free_text="ada 2") == (1, ["wf-2"])
    assert await _ids(store, free_text='"ada 2" OR "ada 3"') == (2, ["wf-3", "wf-2"])
    assert await _ids(store, free_text="ad* -ada") == (0, [])
    assert await _ids(store, free_text="wf-3") == (1, ["wf-3"])  # ids match exactly
    assert await _ids(store, free_text="corr-1", sort="startTime") == (2, ["wf-1", "wf-3"])
    assert (await _ids(store, free_text="status:FAILED refund"))[1] == ["wf-5"]
    assert await _ids(store, free_text="ADA", query="status = RUNNING") == (2, ["wf-3", "wf-0"])


async def test_index_follows_commits(store: Store) -> None:
    definition = workflow_def("order")
    wf = workflow(definition, workflow_id="wf-x", input={"sku": "mug"})
    t = task(wf, task_id="t-x", input_data={"sku": "mug"})
    await store.commit(insert(wf, [t]))
    assert await _ids(store, free_text="mug") == (1, ["wf-x"])
    assert await _task_ids(store, free_text="mug") == (0, [])  # a task's text: once it ends
    assert await _task_ids(store, query="status = SCHEDULED") == (1, ["t-x"])

    t.status = TaskStatus.COMPLETED
    t.output_data = {"paid": "teapot"}
    t.end_time = NOW + 10
    wf.status = WorkflowStatus.COMPLETED
    wf.output = {"shipped": "saucer"}
    wf.end_time = NOW + 20
    await store.commit(Changeset([update(wf, updated_tasks=[t])]))
    assert await _ids(store, free_text="saucer", query="status = COMPLETED") == (1, ["wf-x"])
    assert await _task_ids(store, free_text="teapot mug") == (1, ["t-x"])
    assert await _task_ids(store, query="endTime > 0 AND status = COMPLETED") == (1, ["t-x"])

    # Retried: the workflow runs again, its output and reason gone.
    wf.status = WorkflowStatus.RUNNING
    wf.output = {}
    await store.commit(Changeset([update(wf, removed_task_ids=["t-x"])]))
    assert await _ids(store, free_text="saucer") == (0, [])
    assert await _ids(store, free_text="mug") == (1, ["wf-x"])
    assert await _task_ids(store, free_text="teapot") == (0, [])

    assert await store.remove_workflow("wf-x")
    assert await _ids(store, free_text="mug") == (0, [])
    assert await _ids(store) == (0, [])


async def test_task_search(store: Store) -> None:
    await _fill(store)
    assert await _task_ids(store) == (6, ["t-5", "t-4", "t-3", "t-2", "t-1", "t-0"])
    assert await _task_ids(store, query="taskType = HTTP") == (2, ["t-5", "t-4"])
    assert await _task_ids(store, query="status = SCHEDULED", sort="scheduledTime:ASC") == (
        2,
        ["t-0", "t-3"],
    )
    assert await _task_ids(store, query="workflowType = refund AND correlationId = 'corr-1'") == (
        2,
        ["t-3", "t-1"],
    )
    assert await _task_ids(store, free_text="P-2") == (1, ["t-2"])
    assert await _task_ids(store, free_text="input.amount:40") == (1, ["t-4"])
    assert await _task_ids(store, free_text="wf-1") == (1, ["t-1"])  # its workflow's id


async def test_search_by_tasks(store: Store) -> None:
    await _fill(store)
    page = await store.search_workflows(workflows_by_tasks_request(query="taskType = HTTP"))
    assert (page.total_hits, [wf.workflow_id for wf in page.results]) == (2, ["wf-5", "wf-4"])
    page = await store.search_workflows(
        workflows_by_tasks_request(query="status = COMPLETED", free_text="P-1 OR P-4", size=1)
    )
    assert (page.total_hits, [wf.workflow_id for wf in page.results]) == (2, ["wf-4"])
    assert page.results[0].tasks == []
    assert page.results[0].definition.name == "order"


async def test_migration_fills_the_index_of_existing_executions(
    backend: str, database_url: str, make_store: Any
) -> None:
    """Executions stored before the search columns existed are found after the upgrade."""
    if backend != "sqlite":
        return
    import sqlalchemy as sa
    from alembic import command

    from legato.store import migrate

    store = make_store()
    await store.open()
    await _fill(store)
    await store.close()
    engine = sa.create_engine(database_url, poolclass=sa.pool.NullPool)
    try:
        with engine.begin() as conn:
            cfg = migrate.alembic_config()
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0001")
    finally:
        engine.dispose()
    assert migrate.current_revision(database_url) == "0001"
    migrate.upgrade(database_url)
    store = make_store()
    await store.open()
    try:
        assert await _ids(store, free_text="R-4") == (1, ["wf-4"])
        assert (await _ids(store, query="failedReferenceTaskNames = charge"))[0] == 2
        assert await _task_ids(store, query="taskType = HTTP AND workflowType = order") == (
            1,
            ["t-4"],
        )
        assert await _task_ids(store, free_text="P-2") == (1, ["t-2"])
    finally:
        await store.close()
