"""`/api/tasks`: polling, updates, logs, queues and poll data."""

from __future__ import annotations

import asyncio
import time

import httpx
from api_helpers import (
    assert_error,
    complete,
    get_workflow,
    poll,
    register,
    simple,
    start,
    task_by_ref,
    task_def,
    wait_for,
    workflow_def,
)


async def _flow(
    client: httpx.AsyncClient, name: str = "tasks_flow", steps: tuple[str, ...] = ("alpha", "beta")
) -> None:
    await register(
        client,
        workflow_def(
            name,
            [simple(s) for s in steps],
            outputParameters={s: f"${{{s}.output}}" for s in steps},
        ),
        [task_def(s) for s in steps],
    )


# ------------------------------------------------------------------------------ polling
async def test_poll_returns_204_when_empty(client: httpx.AsyncClient) -> None:
    r = await client.get("/api/tasks/poll/nothing_here", params={"workerid": "w"})
    assert r.status_code == 204
    assert r.content == b""


async def test_poll_claims_a_task(client: httpx.AsyncClient) -> None:
    await _flow(client)
    wid = await start(client, "tasks_flow", {"x": 1})
    task = await poll(client, "alpha", worker="worker-7")
    assert task is not None
    assert task["taskType"] == "alpha"
    assert task["taskDefName"] == "alpha"
    assert task["referenceTaskName"] == "alpha"
    assert task["workflowInstanceId"] == wid
    assert task["status"] == "IN_PROGRESS"
    assert task["workerId"] == "worker-7"
    assert task["pollCount"] == 1
    assert task["startTime"] >= task["scheduledTime"] > 0
    assert task["responseTimeoutSeconds"] == 600


async def test_poll_by_domain(client: httpx.AsyncClient) -> None:
    await _flow(client)
    r = await client.post(
        "/api/workflow", json={"name": "tasks_flow", "taskToDomain": {"alpha": "blue"}}
    )
    assert r.status_code == 200, r.text
    assert await poll(client, "alpha") is None
    task = await poll(client, "alpha", domain="blue")
    assert task is not None
    assert task["domain"] == "blue"


async def test_batch_poll(client: httpx.AsyncClient) -> None:
    await _flow(client)
    ids = {await start(client, "tasks_flow") for _ in range(3)}
    r = await client.get(
        "/api/tasks/poll/batch/alpha", params={"workerid": "w", "count": 2, "timeout": 0}
    )
    assert r.status_code == 200
    first = r.json()
    assert len(first) == 2
    r = await client.get(
        "/api/tasks/poll/batch/alpha", params={"workerid": "w", "count": 5, "timeout": 0}
    )
    rest = r.json()
    assert len(rest) == 1
    assert {t["workflowInstanceId"] for t in first + rest} == ids


async def test_batch_poll_empty_returns_an_empty_list_after_the_timeout(
    client: httpx.AsyncClient,
) -> None:
    began = time.monotonic()
    r = await client.get("/api/tasks/poll/batch/idle", params={"workerid": "w", "timeout": 200})
    assert r.status_code == 200
    assert r.json() == []
    assert time.monotonic() - began >= 0.18


async def test_batch_long_poll_wakes_when_a_task_is_scheduled(client: httpx.AsyncClient) -> None:
    await _flow(client)

    async def start_later() -> str:
        await asyncio.sleep(0.3)
        return await start(client, "tasks_flow")

    began = time.monotonic()
    r, wid = await asyncio.gather(
        client.get(
            "/api/tasks/poll/batch/alpha", params={"workerid": "w", "count": 1, "timeout": 4000}
        ),
        start_later(),
    )
    waited = time.monotonic() - began
    assert r.status_code == 200
    tasks = r.json()
    assert len(tasks) == 1 and tasks[0]["workflowInstanceId"] == wid
    assert 0.25 <= waited < 2.0


# ------------------------------------------------------------------------------ updates
async def test_update_returns_the_task_id_as_text(client: httpx.AsyncClient) -> None:
    await _flow(client)
    wid = await start(client, "tasks_flow")
    task = await poll(client, "alpha")
    assert task is not None
    r = await client.post(
        "/api/tasks",
        json={
            "workflowInstanceId": wid,
            "taskId": task["taskId"],
            "status": "COMPLETED",
            "outputData": {"a": 1},
            "logs": [{"log": "from the result", "createdTime": 1}],
            "unknownField": "ignored",
        },
    )
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    assert r.text == task["taskId"]
    wf = await get_workflow(client, wid)
    assert task_by_ref(wf, "alpha")["outputData"] == {"a": 1}
    assert task_by_ref(wf, "beta")["status"] == "SCHEDULED"
    logs = (await client.get(f"/api/tasks/{task['taskId']}/log")).json()
    assert [e["log"] for e in logs] == ["from the result"]


async def test_update_in_progress_keeps_the_task_open(client: httpx.AsyncClient) -> None:
    await _flow(client)
    wid = await start(client, "tasks_flow")
    task = await poll(client, "alpha")
    assert task is not None
    await complete(client, task, {"progress": 50}, status="IN_PROGRESS", callbackAfterSeconds=60)
    wf = await get_workflow(client, wid)
    alpha = task_by_ref(wf, "alpha")
    assert alpha["status"] in ("IN_PROGRESS", "SCHEDULED")
    assert alpha["outputData"] == {"progress": 50}


async def test_update_unknown_task_is_404(client: httpx.AsyncClient) -> None:
    await _flow(client)
    wid = await start(client, "tasks_flow")
    r = await client.post(
        "/api/tasks", json={"workflowInstanceId": wid, "taskId": "no-task", "status": "COMPLETED"}
    )
    assert_error(r, 404, "no-task")
    r = await client.post(
        "/api/tasks",
        json={"workflowInstanceId": "no-wf", "taskId": "no-task", "status": "COMPLETED"},
    )
    assert_error(r, 404, "no-wf")


async def test_update_v2_returns_the_next_task(client: httpx.AsyncClient) -> None:
    await _flow(client)
    first_wf = await start(client, "tasks_flow")
    second_wf = await start(client, "tasks_flow")
    task = await poll(client, "alpha", worker="w9")
    assert task is not None
    r = await client.post(
        "/api/tasks/update-v2",
        json={
            "workflowInstanceId": task["workflowInstanceId"],
            "taskId": task["taskId"],
            "status": "COMPLETED",
            "workerId": "w9",
        },
    )
    assert r.status_code == 200, r.text
    following = r.json()
    assert following["taskType"] == "alpha"
    assert following["status"] == "IN_PROGRESS"
    assert following["workerId"] == "w9"
    assert {task["workflowInstanceId"], following["workflowInstanceId"]} == {first_wf, second_wf}

    r = await client.post(
        "/api/tasks/update-v2",
        json={
            "workflowInstanceId": following["workflowInstanceId"],
            "taskId": following["taskId"],
            "status": "COMPLETED",
            "workerId": "w9",
        },
    )
    assert r.status_code == 204
    assert r.content == b""


async def test_update_by_reference_name(client: httpx.AsyncClient) -> None:
    await _flow(client)
    wid = await start(client, "tasks_flow")
    r = await client.post(
        f"/api/tasks/{wid}/alpha/COMPLETED", params={"workerid": "op"}, json={"by": "ref"}
    )
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    wf = await get_workflow(client, wid)
    alpha = task_by_ref(wf, "alpha")
    assert r.text == alpha["taskId"]
    assert alpha["status"] == "COMPLETED"
    assert alpha["outputData"] == {"by": "ref"}

    r = await client.post(f"/api/tasks/{wid}/alpha/COMPLETED", json={})
    assert r.status_code == 200
    assert r.text == ""  # nothing pending under that name any more
    assert_error(await client.post("/api/tasks/nope/alpha/COMPLETED", json={}), 404, "nope")


async def test_update_by_reference_name_sync_returns_the_workflow(
    client: httpx.AsyncClient,
) -> None:
    await _flow(client)
    wid = await start(client, "tasks_flow")
    r = await client.post(f"/api/tasks/{wid}/alpha/COMPLETED/sync", json={"n": 1})
    assert r.status_code == 200, r.text
    wf = r.json()
    assert wf["workflowId"] == wid
    assert task_by_ref(wf, "alpha")["status"] == "COMPLETED"
    assert task_by_ref(wf, "beta")["status"] == "SCHEDULED"
    r = await client.post(f"/api/tasks/{wid}/beta/COMPLETED/sync", json={"n": 2})
    assert r.json()["status"] == "COMPLETED"
    assert r.json()["output"] == {"alpha": {"n": 1}, "beta": {"n": 2}}
    assert_error(await client.post(f"/api/tasks/{wid}/alpha/COMPLETED/sync", json={}), 404, "alpha")


# ------------------------------------------------------------------------------ reading
async def test_get_task(client: httpx.AsyncClient) -> None:
    await _flow(client)
    await start(client, "tasks_flow")
    task = await poll(client, "alpha")
    assert task is not None
    r = await client.get(f"/api/tasks/{task['taskId']}")
    assert r.status_code == 200
    body = r.json()
    assert body["taskId"] == task["taskId"]
    assert body["status"] == "IN_PROGRESS"
    assert body["workflowTask"]["taskReferenceName"] == "alpha"
    assert_error(await client.get("/api/tasks/not-a-task"), 404, "not-a-task")


async def test_task_logs(client: httpx.AsyncClient) -> None:
    await _flow(client)
    await start(client, "tasks_flow")
    task = await poll(client, "alpha")
    assert task is not None
    tid = task["taskId"]
    assert (await client.get(f"/api/tasks/{tid}/log")).json() == []
    r = await client.post(
        f"/api/tasks/{tid}/log", content=b"plain line", headers={"content-type": "text/plain"}
    )
    assert r.status_code == 200 and r.content == b""
    r = await client.post(f"/api/tasks/{tid}/log", json="json string line")
    assert r.status_code == 200
    r = await client.get(f"/api/tasks/{tid}/log")
    logs = r.json()
    assert [e["log"] for e in logs] == ["plain line", "json string line"]
    assert all(e["taskId"] == tid and isinstance(e["createdTime"], int) for e in logs)
    assert_error(await client.post("/api/tasks/no-task/log", content=b"x"), 404, "no-task")
    assert_error(await client.post(f"/api/tasks/{tid}/log", content=b""), 400, "log")


# ------------------------------------------------------------------------------ queues
async def test_queue_sizes(client: httpx.AsyncClient) -> None:
    await _flow(client)
    for _ in range(2):
        await start(client, "tasks_flow")
    r = await client.post(
        "/api/workflow", json={"name": "tasks_flow", "taskToDomain": {"alpha": "blue"}}
    )
    assert r.status_code == 200

    r = await client.get("/api/tasks/queue/size", params={"taskType": "alpha"})
    assert r.status_code == 200 and r.json() == 2
    assert (
        await client.get("/api/tasks/queue/size", params={"taskType": "alpha", "domain": "blue"})
    ).json() == 1
    assert (await client.get("/api/tasks/queue/size", params={"taskType": "beta"})).json() == 0

    r = await client.get(
        "/api/tasks/queue/sizes", params=[("taskType", "alpha"), ("taskType", "beta")]
    )
    assert r.json() == {"alpha": 2, "beta": 0}

    r = await client.get("/api/tasks/queue/all")
    assert r.json() == {"alpha": 2, "blue:alpha": 1}

    assert_error(await client.get("/api/tasks/queue/size"), 400, "taskType")


async def test_poll_data(client: httpx.AsyncClient) -> None:
    await _flow(client)
    await start(client, "tasks_flow")
    await poll(client, "alpha", worker="wa")
    await poll(client, "beta", worker="wb")
    await poll(client, "alpha", worker="wc", domain="red")

    r = await client.get("/api/tasks/queue/polldata", params={"taskType": "alpha"})
    assert r.status_code == 200
    rows = sorted(r.json(), key=lambda d: d["workerId"])
    assert [(d["queueName"], d.get("domain"), d["workerId"]) for d in rows] == [
        ("alpha", None, "wa"),
        ("alpha", "red", "wc"),
    ]
    assert all(isinstance(d["lastPollTime"], int) for d in rows)

    r = await client.get("/api/tasks/queue/polldata/all")
    rows = [d for d in r.json() if d["queueName"] != "HTTP"]  # the in-server HTTP runner polls too
    assert {(d["queueName"], d["workerId"]) for d in rows} == {
        ("alpha", "wa"),
        ("beta", "wb"),
        ("alpha", "wc"),
    }
    assert_error(await client.get("/api/tasks/queue/polldata"), 400, "taskType")


async def test_completed_flow_through_update_v2_loop(client: httpx.AsyncClient) -> None:
    """A worker that only ever calls update-v2 after its first poll drains its queue."""
    await _flow(client, "v2_flow", ("only",))
    ids = [await start(client, "v2_flow") for _ in range(3)]
    task = await poll(client, "only", worker="loop")
    done = 0
    while task is not None:
        r = await client.post(
            "/api/tasks/update-v2",
            json={
                "workflowInstanceId": task["workflowInstanceId"],
                "taskId": task["taskId"],
                "status": "COMPLETED",
                "workerId": "loop",
                "outputData": {"n": done},
            },
        )
        done += 1
        task = r.json() if r.status_code == 200 else None
    assert done == 3
    for wid in ids:
        assert (await wait_for(client, wid))["status"] == "COMPLETED"


async def test_update_of_an_ended_task_changes_nothing(client: httpx.AsyncClient) -> None:
    await _flow(client, "late_flow", ("late_a", "late_b"))
    wid = await start(client, "late_flow", {})
    task = await poll(client, "late_a")
    assert task is not None
    await complete(client, task, {"first": True})
    before = await get_workflow(client, wid)
    r = await client.post(
        "/api/tasks",
        json={
            "workflowInstanceId": wid,
            "taskId": task["taskId"],
            "status": "FAILED",
            "outputData": {"late": True},
        },
    )
    assert r.status_code == 200  # as Conductor: its SDK workers retry for a minute on errors
    assert "already COMPLETED" in r.headers["X-Legato-Ignored"]
    after = await get_workflow(client, wid)
    assert task_by_ref(after, "late_a")["outputData"] == {"first": True}
    assert task_by_ref(after, "late_a")["status"] == "COMPLETED"
    assert [t["taskId"] for t in after["tasks"]] == [t["taskId"] for t in before["tasks"]]


async def test_empty_query_parameters_take_their_defaults(client: httpx.AsyncClient) -> None:
    r = await client.get("/api/tasks/poll/batch/nobody_here?workerid=&count=&timeout=")
    assert (r.status_code, r.json()) == (200, [])
