"""Conductor's search endpoints: routes, parameters, result shapes and 400s."""

from __future__ import annotations

import re
from typing import Any

import httpx
from api_helpers import assert_error, complete, poll, run, simple, task_def, workflow_def

_ISO = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$"


async def _setup(client: httpx.AsyncClient) -> tuple[str, str]:
    """order_flow twice: one COMPLETED (charge output R-77), one RUNNING."""
    definition = workflow_def("order_flow", [simple("charge")], outputParameters={})
    done = await run(client, definition, {"customerId": 41, "name": "Ada"}, [task_def("charge")])
    task = await poll(client, "charge")
    assert task is not None
    await complete(client, task, {"receipt": "R-77"})
    r = await client.post(
        "/api/workflow/order_flow", json={"customerId": 42}, params={"correlationId": "c-42"}
    )
    running = r.text
    return done, running


async def _get(client: httpx.AsyncClient, path: str, **params: Any) -> dict[str, Any]:
    r = await client.get(path, params=params)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    assert set(body) == {"totalHits", "results"}
    return body


async def test_workflow_search_summaries(client: httpx.AsyncClient) -> None:
    done, running = await _setup(client)
    body = await _get(client, "/api/workflow/search", sort="startTime:ASC")
    assert body["totalHits"] == 2
    first, second = body["results"]
    assert first["workflowId"] == done and second["workflowId"] == running
    for key in ("startTime", "updateTime", "endTime"):
        assert re.match(_ISO, first[key]), first[key]
    assert first["status"] == "COMPLETED"
    assert first["input"] == "{customerId=41, name=Ada}"
    assert first["output"] == "{receipt=R-77}"
    assert first["executionTime"] >= 0 and first["version"] == 1
    assert first["workflowType"] == "order_flow"
    assert first["parentWorkflowId"] == "" and first["failedReferenceTaskNames"] == ""
    assert first["classifier"] == "workflow" and first["taskToDomain"] == {}
    assert first["inputSize"] == len(first["input"])
    assert "correlationId" not in first  # nulls are omitted
    assert second["correlationId"] == "c-42" and "endTime" not in second
    assert second["executionTime"] == 0


async def test_workflow_search_parameters(client: httpx.AsyncClient) -> None:
    done, running = await _setup(client)
    body = await _get(client, "/api/workflow/search", query="status = COMPLETED")
    assert [w["workflowId"] for w in body["results"]] == [done]
    body = await _get(client, "/api/workflow/search", freeText="R-77")
    assert [w["workflowId"] for w in body["results"]] == [done]
    body = await _get(client, "/api/workflow/search", freeText="input.customerId:42")
    assert [w["workflowId"] for w in body["results"]] == [running]
    body = await _get(client, "/api/workflow/search", size=1, start=1, sort="startTime:DESC")
    assert body["totalHits"] == 2 and [w["workflowId"] for w in body["results"]] == [done]
    r = await client.get(
        "/api/workflow/search", params=[("sort", "status:DESC"), ("sort", "workflowId")]
    )
    assert [w["workflowId"] for w in r.json()["results"]] == [running, done]
    body = await _get(client, "/api/workflow/search", classifier="agent")
    assert body == {"totalHits": 0, "results": []}
    body = await _get(client, "/api/workflow/search", topLevelOnly="true", size=0)
    assert body == {"totalHits": 2, "results": []}


async def test_workflow_search_v2_answers_workflows_without_tasks(
    client: httpx.AsyncClient,
) -> None:
    done, _running = await _setup(client)
    body = await _get(client, "/api/workflow/search-v2", query="status = COMPLETED")
    (wf,) = body["results"]
    assert wf["workflowId"] == done and wf["status"] == "COMPLETED"
    assert wf["input"] == {"customerId": 41, "name": "Ada"}
    assert isinstance(wf["createTime"], int) and wf["tasks"] == []
    assert wf["workflowDefinition"]["name"] == "order_flow"


async def test_search_by_tasks(client: httpx.AsyncClient) -> None:
    done, running = await _setup(client)
    body = await _get(client, "/api/workflow/search-by-tasks", query="status = COMPLETED")
    assert [w["workflowId"] for w in body["results"]] == [done]
    assert body["results"][0]["output"] == "{receipt=R-77}"
    body = await _get(client, "/api/workflow/search-by-tasks-v2", query="taskType = charge")
    assert body["totalHits"] == 2
    assert {w["workflowId"] for w in body["results"]} == {done, running}
    assert all(w["tasks"] == [] for w in body["results"])


async def test_task_search(client: httpx.AsyncClient) -> None:
    done, running = await _setup(client)
    body = await _get(client, "/api/tasks/search", query="status = COMPLETED")
    (summary,) = body["results"]
    assert summary["workflowId"] == done and summary["taskType"] == "charge"
    assert summary["output"] == "{receipt=R-77}" and summary["input"] == "{}"
    assert summary["workflowType"] == "order_flow" and summary["taskDefName"] == "charge"
    assert summary["queueWaitTime"] >= 0 and summary["executionTime"] >= 0
    assert {"scheduledTime", "startTime", "updateTime", "endTime", "taskId"} <= set(summary)
    body = await _get(client, "/api/tasks/search", query="status = SCHEDULED")
    assert [t["workflowId"] for t in body["results"]] == [running]
    assert body["results"][0]["endTime"] == "1970-01-01T00:00:00.000Z"
    body = await _get(client, "/api/tasks/search-v2", freeText="R-77")
    (full,) = body["results"]
    assert full["outputData"] == {"receipt": "R-77"} and full["workflowInstanceId"] == done
    assert full["workflowTask"]["taskReferenceName"] == "charge"


async def test_errors(client: httpx.AsyncClient) -> None:
    await _empty_pages(client)
    assert_error(
        await client.get("/api/workflow/search", params={"query": "nope = 1"}), 400, "nope"
    )
    assert_error(
        await client.get("/api/workflow/search", params={"query": "status = "}), 400, "position 9"
    )
    assert_error(
        await client.get("/api/workflow/search", params={"freeText": "status:RUNING"}),
        400,
        "RUNING",
    )
    assert_error(
        await client.get("/api/workflow/search", params={"size": 5001}), 400, "5000", "size"
    )
    assert_error(await client.get("/api/workflow/search", params={"start": -1}), 400, "start")
    assert_error(await client.get("/api/workflow/search", params={"size": "x"}), 400, "size")
    assert_error(await client.get("/api/workflow/search", params={"sort": "nope"}), 400, "nope")
    assert_error(
        await client.get("/api/tasks/search", params={"query": "workflowStatus = X"}),
        400,
        "workflowStatus",
    )
    assert_error(
        await client.get("/api/workflow/search-by-tasks", params={"sort": "scheduledTime"}),
        400,
        "scheduledTime",
    )


async def _empty_pages(client: httpx.AsyncClient) -> None:
    """Searching an empty store answers an empty page (and the routes are not workflow ids)."""
    for path in (
        "/api/workflow/search",
        "/api/workflow/search-v2",
        "/api/workflow/search-by-tasks",
        "/api/workflow/search-by-tasks-v2",
        "/api/tasks/search",
        "/api/tasks/search-v2",
    ):
        assert await _get(client, path) == {"totalHits": 0, "results": []}
