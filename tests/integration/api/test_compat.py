"""SDK extras beyond Conductor OSS (`api/routers/compat.py`): Orkes metadata tags and the
workflow state update."""

from __future__ import annotations

import httpx
from api_helpers import assert_error, register, run, simple, task_def, wait_for, workflow_def

TAG = {"key": "team", "type": "METADATA", "value": "payments"}
LIMIT = {"key": "wf", "type": "RATE_LIMIT", "value": 5}


async def test_workflow_tags_add_list_replace_delete(client: httpx.AsyncClient) -> None:
    await register(client, workflow_def("wf", [simple("t")]), [task_def("t")])
    assert (await client.get("/api/metadata/workflow/wf/tags")).json() == []

    r = await client.post("/api/metadata/workflow/wf/tags", json=TAG)
    assert r.status_code == 200 and r.content == b""
    await client.post("/api/metadata/workflow/wf/tags", json=TAG)  # twice: kept once
    await client.post("/api/metadata/workflow/wf/tags", json=LIMIT)
    r = await client.get("/api/metadata/workflow/wf/tags")
    assert r.status_code == 200
    assert r.json() == [TAG, LIMIT]

    # DELETE with the tag as body; the value matches as text (the SDK sends a TagString).
    r = await client.request(
        "DELETE", "/api/metadata/workflow/wf/tags", json={**LIMIT, "value": "5"}
    )
    assert r.status_code == 200 and r.content == b""
    assert (await client.get("/api/metadata/workflow/wf/tags")).json() == [TAG]

    r = await client.put("/api/metadata/workflow/wf/tags", json=[{"key": "a", "value": "1"}])
    assert r.status_code == 200
    assert (await client.get("/api/metadata/workflow/wf/tags")).json() == [
        {"key": "a", "type": "METADATA", "value": "1"}
    ]
    # Tags ride on the definition, which is otherwise unchanged.
    definition = (await client.get("/api/metadata/workflow/wf")).json()
    assert definition["tags"] == [{"key": "a", "type": "METADATA", "value": "1"}]
    assert definition["tasks"][0]["taskReferenceName"] == "t"


async def test_tags_follow_the_latest_workflow_version(client: httpx.AsyncClient) -> None:
    await register(client, workflow_def("wf", [simple("t")]), [task_def("t")])
    await register(client, workflow_def("wf", [simple("t")], version=2))
    await client.post("/api/metadata/workflow/wf/tags", json=TAG)
    assert (await client.get("/api/metadata/workflow/wf", params={"version": 2})).json()[
        "tags"
    ] == [TAG]
    assert (
        "tags" not in (await client.get("/api/metadata/workflow/wf", params={"version": 1})).json()
    )


async def test_task_tags_and_all_tags(client: httpx.AsyncClient) -> None:
    await register(client, workflow_def("wf", [simple("t")]), [task_def("t")])
    r = await client.post("/api/metadata/task/t/tags", json=TAG)
    assert r.status_code == 200
    r = await client.put("/api/metadata/task/t/tags", json=[TAG, {"key": "tier", "value": 1}])
    assert r.status_code == 200
    tier = {"key": "tier", "type": "METADATA", "value": 1}
    assert (await client.get("/api/metadata/task/t/tags")).json() == [TAG, tier]
    body = (await client.get("/api/metadata/taskdefs/t")).json()
    assert body["tags"] == [TAG, tier]
    assert body["retryCount"] == 0
    await client.request("DELETE", "/api/metadata/task/t/tags", json=TAG)
    assert (await client.get("/api/metadata/task/t/tags")).json() == [tier]

    await client.post("/api/metadata/workflow/wf/tags", json=TAG)
    r = await client.get("/api/metadata/tags")
    assert r.status_code == 200
    assert sorted(r.json(), key=lambda t: t["key"]) == [TAG, tier]


async def test_tags_of_unknown_definitions_are_404(client: httpx.AsyncClient) -> None:
    assert_error(await client.get("/api/metadata/workflow/nope/tags"), 404, "nope")
    assert_error(await client.post("/api/metadata/workflow/nope/tags", json=TAG), 404, "nope")
    assert_error(await client.put("/api/metadata/workflow/nope/tags", json=[TAG]), 404, "nope")
    assert_error(
        await client.request("DELETE", "/api/metadata/workflow/nope/tags", json=TAG), 404, "nope"
    )
    assert_error(await client.get("/api/metadata/task/nope/tags"), 404, "nope")
    assert_error(await client.post("/api/metadata/task/nope/tags", json=TAG), 404, "nope")


async def test_bad_tags_are_400(client: httpx.AsyncClient) -> None:
    await register(client, workflow_def("wf", [simple("t")]), [task_def("t")])
    assert_error(await client.post("/api/metadata/workflow/wf/tags", json={"value": 1}), 400, "key")
    assert_error(await client.post("/api/metadata/workflow/wf/tags", json=[TAG]), 400)
    assert_error(await client.put("/api/metadata/workflow/wf/tags", json=TAG), 400)
    assert_error(await client.put("/api/metadata/task/t/tags", json=[TAG, "x"]), 400, "[1]")
    assert (await client.get("/api/metadata/workflow/wf/tags")).json() == []


async def test_deleting_a_workflow_version_is_not_a_tag_call(client: httpx.AsyncClient) -> None:
    await register(client, workflow_def("wf", [simple("t")]), [task_def("t")])
    r = await client.delete("/api/metadata/workflow/wf/1")
    assert r.status_code == 200
    assert_error(await client.get("/api/metadata/workflow/wf"), 404, "wf")


async def test_no_token_endpoint(client: httpx.AsyncClient) -> None:
    # The SDK asks `POST /api/token` only when given a key; a 404 tells it the server is open
    # (Conductor OSS), and it goes on without authentication.
    r = await client.post("/api/token", json={"keyId": "k", "keySecret": "s"})
    assert r.status_code == 404


WAITS = workflow_def(
    "waits",
    [
        {"name": "w1", "taskReferenceName": "w1", "type": "WAIT"},
        {"name": "w2", "taskReferenceName": "w2", "type": "WAIT"},
    ],
    outputParameters={"color": "${workflow.variables.color}", "v": "${w1.output.v}"},
)


async def test_state_update_sets_variables_completes_a_task_and_waits(
    client: httpx.AsyncClient,
) -> None:
    wid = await run(client, WAITS)
    body = {
        "taskReferenceName": "w1",
        "taskResult": {"status": "COMPLETED", "outputData": {"v": 1}},
        "variables": {"color": "blue"},
    }
    r = await client.post(
        f"/api/workflow/{wid}/state", json=body, params={"requestId": "r-1", "waitForSeconds": 2}
    )
    assert r.status_code == 200, r.text
    answer = r.json()
    # The answer is a WorkflowRun, given when the workflow blocks again (at w2).
    assert (answer["workflowId"], answer["requestId"], answer["status"]) == (wid, "r-1", "RUNNING")
    assert answer["variables"] == {"color": "blue"}
    refs = [(t["referenceTaskName"], t["status"]) for t in answer["tasks"]]
    assert refs == [("w1", "COMPLETED"), ("w2", "IN_PROGRESS")]

    # Variables only: the task stays pending.
    r = await client.post(f"/api/workflow/{wid}/state", json={"variables": {"color": "red"}})
    assert r.status_code == 200, r.text
    assert r.json()["variables"] == {"color": "red"}
    r = await client.post(
        f"/api/workflow/{wid}/state",
        json={"taskReferenceName": "w2", "taskResult": {"status": "COMPLETED"}},
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "COMPLETED"
    wf = await wait_for(client, wid)
    assert wf["output"] == {"color": "red", "v": 1}


async def test_state_update_errors(client: httpx.AsyncClient) -> None:
    wid = await run(client, WAITS)
    r = await client.post(
        f"/api/workflow/{wid}/state",
        json={"taskReferenceName": "nope", "taskResult": {"status": "COMPLETED"}},
    )
    assert_error(r, 404, "nope")
    assert_error(await client.post(f"/api/workflow/{wid}/state", json=[1]), 400)
    assert_error(
        await client.post(f"/api/workflow/{wid}/state", json={"variables": [1]}), 400, "variables"
    )
    assert_error(await client.post("/api/workflow/unknown/state", json={}), 404, "unknown")
