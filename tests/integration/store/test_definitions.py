from __future__ import annotations

import time

import pytest
from store_factories import workflow_def

from legato.errors import ConflictError
from legato.model import TaskDef
from legato.store import Store


async def test_task_defs_crud(store: Store) -> None:
    before = int(time.time() * 1000)
    await store.put_task_defs([TaskDef(name="ship", retry_count=5), TaskDef(name="charge")])

    found = await store.find_task_def("ship")
    assert found is not None
    assert found.retry_count == 5
    assert found.create_time is not None and found.create_time >= before
    assert found.update_time is not None and found.update_time >= found.create_time
    assert [d.name for d in await store.list_task_defs()] == ["charge", "ship"]
    assert await store.find_task_def("nope") is None

    assert await store.delete_task_def("ship") is True
    assert await store.delete_task_def("ship") is False
    assert await store.find_task_def("ship") is None


async def test_task_def_update_keeps_create_time(store: Store) -> None:
    await store.put_task_defs([TaskDef(name="ship", create_time=1000, update_time=1000)])
    await store.put_task_defs([TaskDef(name="ship", retry_count=9)])
    found = await store.find_task_def("ship")
    assert found is not None
    assert found.retry_count == 9
    assert found.create_time == 1000
    assert found.update_time is not None and found.update_time > 1000


async def test_task_def_keeps_unknown_fields(store: Store) -> None:
    await store.put_task_defs([TaskDef.model_validate({"name": "x", "someExtension": {"a": 1}})])
    found = await store.find_task_def("x")
    assert found is not None
    assert found.to_json()["someExtension"] == {"a": 1}


async def test_workflow_defs_versions_and_latest(store: Store) -> None:
    for version in (1, 3, 2):
        await store.put_workflow_def(
            workflow_def("order", version, description=f"v{version}"), overwrite=False
        )
    await store.put_workflow_def(workflow_def("audit", 1), overwrite=False)

    latest = await store.find_workflow_def("order")
    assert latest is not None and latest.version == 3 and latest.description == "v3"
    v2 = await store.find_workflow_def("order", 2)
    assert v2 is not None and v2.description == "v2"
    assert v2.tasks[1].task_reference_name == "ship"
    assert v2.create_time is not None and v2.update_time is not None
    assert await store.find_workflow_def("order", 9) is None
    assert await store.find_workflow_def("nope") is None

    listed = [(d.name, d.version) for d in await store.list_workflow_defs()]
    assert listed == [("audit", 1), ("order", 1), ("order", 2), ("order", 3)]


async def test_workflow_def_conflict_and_overwrite(store: Store) -> None:
    await store.put_workflow_def(workflow_def("order", 1, create_time=500), overwrite=False)

    with pytest.raises(ConflictError, match="Workflow definition order version 1 already exists"):
        await store.put_workflow_def(workflow_def("order", 1, description="again"), overwrite=False)
    unchanged = await store.find_workflow_def("order", 1)
    assert unchanged is not None and unchanged.description is None

    await store.put_workflow_def(workflow_def("order", 1, description="new"), overwrite=True)
    found = await store.find_workflow_def("order", 1)
    assert found is not None
    assert found.description == "new"
    assert found.create_time == 500


async def test_delete_workflow_def(store: Store) -> None:
    await store.put_workflow_def(workflow_def("order", 1), overwrite=False)
    await store.put_workflow_def(workflow_def("order", 2), overwrite=False)
    assert await store.delete_workflow_def("order", 2) is True
    assert await store.delete_workflow_def("order", 2) is False
    latest = await store.find_workflow_def("order")
    assert latest is not None and latest.version == 1
