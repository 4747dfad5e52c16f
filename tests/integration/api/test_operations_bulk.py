"""Bulk operations, finding executions (correlated, running) and idempotent starts over HTTP."""

from __future__ import annotations

from typing import Any

import httpx
from api_helpers import (
    assert_error,
    complete,
    get_workflow,
    poll,
    register,
    simple,
    start,
    wait_for,
    workflow_def,
)

FLOW = workflow_def("bulk_flow", [simple("bulk_step", "step", retryCount=0)])
MESSAGE = "Bulk Request has been processed."


async def started(client: httpx.AsyncClient, n: int, **params: Any) -> list[str]:
    r = await client.post("/api/metadata/workflow", json=FLOW, params={"overwrite": True})
    assert r.status_code == 200, r.text
    return [await start(client, "bulk_flow", **params) for _ in range(n)]


async def bulk(client: httpx.AsyncClient, method: str, op: str, ids: Any, **params: Any) -> Any:
    r = await client.request(method, f"/api/workflow/bulk/{op}", json=ids, params=params)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["message"] == MESSAGE
    return body


async def statuses(client: httpx.AsyncClient, ids: list[str]) -> list[str]:
    return [(await get_workflow(client, wid))["status"] for wid in ids]


# ---------------------------------------------------------------------------- bulk
async def test_bulk_pause_resume_terminate_and_errors_per_id(client: httpx.AsyncClient) -> None:
    ids = await started(client, 3)
    body = await bulk(client, "PUT", "pause", [*ids, "nope"])
    assert body["bulkSuccessfulResults"] == ids
    assert list(body["bulkErrorResults"]) == ["nope"]
    assert "nope" in body["bulkErrorResults"]["nope"]
    assert await statuses(client, ids) == ["PAUSED"] * 3
    body = await bulk(client, "PUT", "resume", ids[:2])
    assert body == {"bulkSuccessfulResults": ids[:2], "bulkErrorResults": {}, "message": MESSAGE}
    body = await bulk(client, "PUT", "resume", ids[:2])  # not paused any more
    assert body["bulkSuccessfulResults"] == [] and set(body["bulkErrorResults"]) == set(ids[:2])
    body = await bulk(client, "POST", "terminate", ids, reason="bulk stop")
    assert body["bulkSuccessfulResults"] == ids
    wf = await get_workflow(client, ids[0])
    assert (wf["status"], wf["reasonForIncompletion"]) == ("TERMINATED", "bulk stop")


async def test_bulk_retry_restart_search_and_remove(client: httpx.AsyncClient) -> None:
    ids = await started(client, 2)
    await bulk(client, "POST", "terminate", ids)
    body = await bulk(client, "POST", "retry", ids)
    assert body["bulkSuccessfulResults"] == ids
    assert await statuses(client, ids) == ["RUNNING", "RUNNING"]
    body = await bulk(client, "POST", "restart", ids)  # running: refused, each on its own
    assert body["bulkSuccessfulResults"] == [] and len(body["bulkErrorResults"]) == 2
    await bulk(client, "POST", "terminate", ids)
    body = await bulk(client, "POST", "restart", ids, useLatestDefinitions=True)
    assert body["bulkSuccessfulResults"] == ids
    body = await bulk(client, "POST", "search", [*ids, "nope"], includeTasks=False)
    found = body["bulkSuccessfulResults"]
    assert [w["workflowId"] for w in found] == ids and found[0]["tasks"] == []
    assert list(body["bulkErrorResults"]) == ["nope"]
    body = await bulk(client, "DELETE", "terminate-remove", ids[:1], reason="gone")
    assert body["bulkSuccessfulResults"] == ids[:1]
    await bulk(client, "POST", "terminate", ids[1:])
    body = await bulk(client, "DELETE", "remove", ids)
    assert body["bulkSuccessfulResults"] == ids[1:] and list(body["bulkErrorResults"]) == ids[:1]
    assert_error(await client.get(f"/api/workflow/{ids[1]}"), 404)


async def test_bulk_bodies_are_checked(client: httpx.AsyncClient) -> None:
    assert_error(await client.put("/api/workflow/bulk/pause", json=[]), 400, "empty")
    ids = [f"w{i}" for i in range(1001)]
    assert_error(await client.post("/api/workflow/bulk/retry", json=ids), 400, "1000")
    assert_error(await client.put("/api/workflow/bulk/pause", json={"a": 1}), 400, "array")
    assert_error(await client.put("/api/workflow/bulk/pause", json=[1]), 400, "workflowIds[0]")
    # exactly 1,000 is fine
    body = await bulk(client, "PUT", "pause", ids[:1000])
    assert len(body["bulkErrorResults"]) == 1000


# ---------------------------------------------------------------------------- finding
async def test_correlated_executions(client: httpx.AsyncClient) -> None:
    first, second = await started(client, 2, correlationId="c1")
    [other] = await started(client, 1, correlationId="c2")
    await client.delete(f"/api/workflow/{second}")
    url = "/api/workflow/bulk_flow/correlated"
    r = await client.get(f"{url}/c1")
    assert r.status_code == 200
    assert [w["workflowId"] for w in r.json()] == [first]
    assert r.json()[0]["tasks"] == []
    r = await client.get(f"{url}/c1", params={"includeClosed": True, "includeTasks": True})
    assert [w["workflowId"] for w in r.json()] == [first, second]
    assert r.json()[0]["tasks"][0]["referenceTaskName"] == "step"
    assert (await client.get("/api/workflow/other_flow/correlated/c1")).json() == []
    r = await client.post(url, json=["c1", "c2", "c3"], params={"includeClosed": True})
    found = r.json()
    assert {k: [w["workflowId"] for w in v] for k, v in found.items()} == {
        "c1": [first, second],
        "c2": [other],
        "c3": [],
    }
    r = await client.post(
        "/api/workflow/correlated/batch",
        json={"workflowNames": ["bulk_flow", "x"], "correlationIds": ["c2"]},
    )
    assert [w["workflowId"] for w in r.json()["c2"]] == [other]
    r = await client.post("/api/workflow/correlated/batch", json={"correlationIds": ["c1"]})
    assert [w["workflowId"] for w in r.json()["c1"]] == [first]
    assert_error(await client.post(url, json=[1]), 400)


async def test_running_executions(client: httpx.AsyncClient) -> None:
    ids = await started(client, 3)
    await client.delete(f"/api/workflow/{ids[1]}")
    await client.put(f"/api/workflow/{ids[2]}/pause")
    r = await client.get("/api/workflow/running/bulk_flow")
    assert r.status_code == 200 and r.json() == [ids[0], ids[2]]
    assert (await client.get("/api/workflow/running/bulk_flow", params={"version": 2})).json() == []
    wf = await get_workflow(client, ids[2])
    window = {"startTime": wf["createTime"], "endTime": wf["createTime"] + 1}
    found = (await client.get("/api/workflow/running/bulk_flow", params=window)).json()
    assert ids[2] in found and ids[1] not in found
    assert (await client.get("/api/workflow/running/nope")).json() == []


# ---------------------------------------------------------------------------- idempotency
async def idempotent(client: httpx.AsyncClient, key: str, strategy: str | None) -> httpx.Response:
    body: dict[str, Any] = {"name": "bulk_flow", "idempotencyKey": key}
    if strategy:
        body["idempotencyStrategy"] = strategy
    return await client.post("/api/workflow", json=body)


async def test_idempotent_starts(client: httpx.AsyncClient) -> None:
    await register(client, FLOW)
    first = (await idempotent(client, "k1", None)).text
    assert (await get_workflow(client, first))["idempotencyKey"] == "k1"
    assert_error(await idempotent(client, "k1", None), 409, "k1", first)  # FAIL by default
    assert_error(await idempotent(client, "k1", "FAIL"), 409, first)
    assert (await idempotent(client, "k1", "RETURN_EXISTING")).text == first
    assert_error(await idempotent(client, "k1", "FAIL_ON_RUNNING"), 409, "running", first)
    task = await poll(client, "bulk_step")
    assert task is not None
    await complete(client, task)
    await wait_for(client, first)
    again = await idempotent(client, "k1", "FAIL_ON_RUNNING")
    assert again.status_code == 200 and again.text != first
    other = await idempotent(client, "k2", "FAIL")  # another key: a new execution
    assert other.status_code == 200 and other.text not in (first, again.text)
    assert_error(await idempotent(client, "k3", "SOMETIMES"), 400, "idempotencyStrategy")
