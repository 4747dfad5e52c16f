"""`/api/workflow`: start, read, terminate, remove, decide."""

from __future__ import annotations

import httpx
from api_helpers import (
    assert_error,
    complete,
    get_workflow,
    poll,
    register,
    run,
    simple,
    start,
    task_def,
    wait_for,
    workflow_def,
)


async def _two_step(client: httpx.AsyncClient, name: str = "wf_two") -> None:
    definition = workflow_def(
        name,
        [simple("first"), simple("second")],
        outputParameters={"out": "${second.output.v}"},
        variables={"seed": 1},
    )
    await register(client, definition, [task_def("first"), task_def("second")])


async def test_start_with_a_start_workflow_request(client: httpx.AsyncClient) -> None:
    await _two_step(client)
    r = await client.post(
        "/api/workflow",
        json={
            "name": "wf_two",
            "version": 1,
            "input": {"a": 1},
            "correlationId": "corr-1",
            "priority": 5,
        },
    )
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain")
    wid = r.text
    assert not wid.startswith('"')
    wf = await get_workflow(client, wid)
    assert wf["workflowId"] == wid
    assert wf["workflowName"] == "wf_two" and wf["workflowVersion"] == 1
    assert wf["input"] == {"a": 1}
    assert wf["correlationId"] == "corr-1"
    assert wf["priority"] == 5
    assert wf["status"] == "RUNNING"


async def test_start_with_an_inline_definition(client: httpx.AsyncClient) -> None:
    definition = workflow_def(
        "inline_def", [{"name": "n", "taskReferenceName": "n", "type": "NOOP"}]
    )
    r = await client.post("/api/workflow", json={"name": "inline_def", "workflowDef": definition})
    assert r.status_code == 200, r.text
    wf = await wait_for(client, r.text)
    assert wf["status"] == "COMPLETED"
    assert_error(await client.get("/api/metadata/workflow/inline_def"), 404)


async def test_start_by_name_with_query_params(client: httpx.AsyncClient) -> None:
    await _two_step(client)
    wid = await start(client, "wf_two", {"k": "v"}, version=1, correlationId="c-9", priority=3)
    wf = await get_workflow(client, wid)
    assert wf["input"] == {"k": "v"}
    assert wf["correlationId"] == "c-9"
    assert wf["priority"] == 3


async def test_start_by_name_without_a_body(client: httpx.AsyncClient) -> None:
    await _two_step(client)
    r = await client.post("/api/workflow/wf_two")
    assert r.status_code == 200, r.text
    assert (await get_workflow(client, r.text))["input"] == {}


async def test_start_unknown_workflow_is_404(client: httpx.AsyncClient) -> None:
    assert_error(await client.post("/api/workflow/no_such_flow", json={}), 404, "no_such_flow")
    assert_error(
        await client.post("/api/workflow", json={"name": "no_such_flow"}), 404, "no_such_flow"
    )
    await _two_step(client)
    assert_error(
        await client.post("/api/workflow/wf_two", params={"version": 7}, json={}), 404, "wf_two"
    )


async def test_get_workflow_with_and_without_tasks(client: httpx.AsyncClient) -> None:
    await _two_step(client)
    wid = await start(client, "wf_two")
    wf = await get_workflow(client, wid)
    assert [t["referenceTaskName"] for t in wf["tasks"]] == ["first"]
    task = wf["tasks"][0]
    assert task["status"] == "SCHEDULED"
    assert task["workflowTask"]["name"] == "first"
    r = await client.get(f"/api/workflow/{wid}", params={"includeTasks": "false"})
    assert r.status_code == 200
    assert r.json()["tasks"] == []
    assert_error(await client.get("/api/workflow/not-a-workflow"), 404, "not-a-workflow")


async def test_workflow_status(client: httpx.AsyncClient) -> None:
    await _two_step(client)
    wid = await start(client, "wf_two", correlationId="cs")
    r = await client.get(f"/api/workflow/{wid}/status")
    assert r.status_code == 200
    assert r.json() == {"workflowId": wid, "correlationId": "cs", "status": "RUNNING"}
    for step, value in (("first", 1), ("second", 2)):
        task = await poll(client, step)
        assert task is not None
        await complete(client, task, {"v": value})
    await wait_for(client, wid)
    r = await client.get(
        f"/api/workflow/{wid}/status", params={"includeOutput": "true", "includeVariables": "true"}
    )
    assert r.json() == {
        "workflowId": wid,
        "correlationId": "cs",
        "status": "COMPLETED",
        "output": {"out": 2},
        "variables": {"seed": 1},
    }
    assert_error(await client.get("/api/workflow/nope/status"), 404, "nope")


async def test_workflow_tasks_page_and_filter(client: httpx.AsyncClient) -> None:
    await _two_step(client)
    wid = await start(client, "wf_two")
    task = await poll(client, "first")
    assert task is not None
    await complete(client, task, {})
    r = await client.get(f"/api/workflow/{wid}/tasks")
    assert r.status_code == 200
    body = r.json()
    assert body["totalHits"] == 2
    assert [t["referenceTaskName"] for t in body["results"]] == ["first", "second"]

    r = await client.get(f"/api/workflow/{wid}/tasks", params={"start": 1, "count": 1})
    assert [t["referenceTaskName"] for t in r.json()["results"]] == ["second"]
    assert r.json()["totalHits"] == 2

    r = await client.get(f"/api/workflow/{wid}/tasks", params={"status": "COMPLETED"})
    assert [t["referenceTaskName"] for t in r.json()["results"]] == ["first"]
    r = await client.get(
        f"/api/workflow/{wid}/tasks", params=[("status", "COMPLETED"), ("status", "SCHEDULED")]
    )
    assert r.json()["totalHits"] == 2

    assert_error(
        await client.get(f"/api/workflow/{wid}/tasks", params={"status": "DONE"}), 400, "status"
    )
    assert_error(await client.get("/api/workflow/nope/tasks"), 404, "nope")


async def test_terminate(client: httpx.AsyncClient) -> None:
    await _two_step(client)
    wid = await start(client, "wf_two")
    r = await client.delete(f"/api/workflow/{wid}", params={"reason": "operator says stop"})
    assert r.status_code == 200 and r.content == b""
    wf = await get_workflow(client, wid)
    assert wf["status"] == "TERMINATED"
    assert wf["reasonForIncompletion"] == "operator says stop"
    assert wf["tasks"][0]["status"] == "CANCELED"
    assert await poll(client, "first") is None
    r = await client.delete(f"/api/workflow/{wid}")  # terminating again changes nothing
    assert r.status_code == 200
    assert_error(await client.delete("/api/workflow/nope"), 404, "nope")


async def test_terminate_a_completed_workflow_is_a_conflict(client: httpx.AsyncClient) -> None:
    wid = await run(
        client, workflow_def("quick", [{"name": "n", "taskReferenceName": "n", "type": "NOOP"}])
    )
    assert (await wait_for(client, wid))["status"] == "COMPLETED"
    assert_error(await client.delete(f"/api/workflow/{wid}"), 409, wid)


async def test_remove(client: httpx.AsyncClient) -> None:
    await _two_step(client)
    wid = await start(client, "wf_two")
    r = await client.delete(f"/api/workflow/{wid}/remove")
    assert r.status_code == 200 and r.content == b""
    assert_error(await client.get(f"/api/workflow/{wid}"), 404, wid)
    assert await poll(client, "first") is None
    assert_error(await client.delete(f"/api/workflow/{wid}/remove"), 404, wid)


async def test_terminate_remove(client: httpx.AsyncClient) -> None:
    await _two_step(client)
    wid = await start(client, "wf_two")
    r = await client.delete(f"/api/workflow/{wid}/terminate-remove", params={"reason": "cleanup"})
    assert r.status_code == 200 and r.content == b""
    assert_error(await client.get(f"/api/workflow/{wid}"), 404, wid)
    assert_error(await client.delete("/api/workflow/nope/terminate-remove"), 404, "nope")


async def test_decide(client: httpx.AsyncClient) -> None:
    await _two_step(client)
    wid = await start(client, "wf_two")
    r = await client.put(f"/api/workflow/decide/{wid}")
    assert r.status_code == 200 and r.content == b""
    wf = await get_workflow(client, wid)
    assert wf["status"] == "RUNNING"
    assert [t["referenceTaskName"] for t in wf["tasks"]] == ["first"]
    assert_error(await client.put("/api/workflow/decide/nope"), 404, "nope")
