"""`/api/admin` and queue administration."""

from __future__ import annotations

import httpx
from api_helpers import poll, register, simple, start, task_def, workflow_def


async def _queued(client: httpx.AsyncClient, name: str) -> str:
    await register(client, workflow_def(f"wf_{name}", [simple(name)]), [task_def(name)])
    return await start(client, f"wf_{name}", {})


async def test_pending_tasks_of_a_queue(client: httpx.AsyncClient) -> None:
    wid = await _queued(client, "adm_a")
    r = await client.get("/api/admin/task/adm_a")
    assert r.status_code == 200
    [task] = r.json()
    assert task["workflowInstanceId"] == wid and task["status"] == "SCHEDULED"


async def test_requeue_and_repair_restore_lost_queue_entries(client: httpx.AsyncClient) -> None:
    wid = await _queued(client, "adm_b")
    store = client._transport.app.state.services.store  # type: ignore[attr-defined]
    # Simulate an entry lost outside Legato (e.g. a database restored from an older backup).
    [task] = await store.list_queue("adm_b", 0, 10)
    from legato.store.base import Changeset

    await store.commit(Changeset(dequeue=[task.task_id]))
    assert await poll(client, "adm_b") is None
    r = await client.post("/api/tasks/queue/requeue/adm_b")
    assert (r.status_code, r.text) == (200, "1")
    assert (await client.post("/api/tasks/queue/requeue/adm_b")).text == "0"
    await store.commit(Changeset(dequeue=[task.task_id]))
    r = await client.post(f"/api/admin/consistency/verifyAndRepair/{wid}")
    assert (r.status_code, r.text) == (200, "true")
    polled = await poll(client, "adm_b")
    assert polled is not None and polled["taskId"] == task.task_id


async def test_sweep_of_unknown_workflow_is_404(client: httpx.AsyncClient) -> None:
    r = await client.post("/api/admin/sweep/requeue/nope")
    assert r.status_code == 404
    assert "nope" in r.json()["message"]


async def test_config_and_verbose_queues(client: httpx.AsyncClient) -> None:
    await _queued(client, "adm_c")
    config = (await client.get("/api/admin/config")).json()
    assert "legato.db" in config
    verbose = (await client.get("/api/tasks/queue/all/verbose")).json()
    assert verbose["adm_c"] == {"a": {"size": 1, "uacked": 0}}
