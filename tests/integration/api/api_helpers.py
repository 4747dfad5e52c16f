"""Small factories and waits for the API tests (keyword overrides, no scenario fixtures)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx

TERMINAL = frozenset({"COMPLETED", "FAILED", "TIMED_OUT", "TERMINATED"})


def simple(name: str, ref: str | None = None, **overrides: Any) -> dict[str, Any]:
    return {"name": name, "taskReferenceName": ref or name, "type": "SIMPLE", **overrides}


def workflow_def(name: str, tasks: list[dict[str, Any]], **overrides: Any) -> dict[str, Any]:
    return {
        "name": name,
        "version": 1,
        "schemaVersion": 2,
        "ownerEmail": "test@example.com",
        "tasks": tasks,
        **overrides,
    }


def task_def(name: str, **overrides: Any) -> dict[str, Any]:
    return {
        "name": name,
        "retryCount": 0,
        "responseTimeoutSeconds": 600,
        "ownerEmail": "test@example.com",
        **overrides,
    }


async def register(
    client: httpx.AsyncClient,
    definition: dict[str, Any],
    task_defs: list[dict[str, Any]] | None = None,
) -> None:
    if task_defs:
        r = await client.post("/api/metadata/taskdefs", json=task_defs)
        assert r.status_code == 200, r.text
    r = await client.post("/api/metadata/workflow", json=definition)
    assert r.status_code == 200, r.text


async def start(
    client: httpx.AsyncClient, name: str, input: dict[str, Any] | None = None, **params: Any
) -> str:
    r = await client.post(f"/api/workflow/{name}", json=input or {}, params=params)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain")
    return r.text


async def run(
    client: httpx.AsyncClient,
    definition: dict[str, Any],
    input: dict[str, Any] | None = None,
    task_defs: list[dict[str, Any]] | None = None,
) -> str:
    await register(client, definition, task_defs)
    return await start(client, definition["name"], input)


async def get_workflow(client: httpx.AsyncClient, workflow_id: str) -> dict[str, Any]:
    r = await client.get(f"/api/workflow/{workflow_id}")
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


async def wait_for(
    client: httpx.AsyncClient,
    workflow_id: str,
    statuses: frozenset[str] | set[str] = TERMINAL,
    timeout: float = 10.0,
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        wf = await get_workflow(client, workflow_id)
        if wf["status"] in statuses:
            return wf
        if time.monotonic() > deadline:
            raise AssertionError(f"workflow stayed {wf['status']}: {wf}")
        await asyncio.sleep(0.02)


async def poll(
    client: httpx.AsyncClient, task_type: str, worker: str = "w1", **params: Any
) -> dict[str, Any] | None:
    r = await client.get(f"/api/tasks/poll/{task_type}", params={"workerid": worker, **params})
    if r.status_code == 204:
        assert r.content == b""
        return None
    assert r.status_code == 200, r.text
    task: dict[str, Any] = r.json()
    return task


async def complete(
    client: httpx.AsyncClient,
    task: dict[str, Any],
    output: dict[str, Any] | None = None,
    status: str = "COMPLETED",
    **extra: Any,
) -> None:
    r = await client.post(
        "/api/tasks",
        json={
            "workflowInstanceId": task["workflowInstanceId"],
            "taskId": task["taskId"],
            "status": status,
            "outputData": output or {},
            "workerId": "w1",
            **extra,
        },
    )
    assert r.status_code == 200, r.text
    assert r.text == task["taskId"]


def task_by_ref(wf: dict[str, Any], ref: str) -> dict[str, Any]:
    matches = [t for t in wf["tasks"] if t["referenceTaskName"] == ref]
    assert matches, f"no task {ref} in {[t['referenceTaskName'] for t in wf['tasks']]}"
    return matches[-1]


def assert_error(r: httpx.Response, status: int, *names: str) -> dict[str, Any]:
    """A Conductor ErrorResponse with this status whose message or paths name every name."""
    assert r.status_code == status, (r.status_code, r.text)
    assert r.headers["content-type"].startswith("application/json"), r.headers
    body: dict[str, Any] = r.json()
    assert body["status"] == status
    assert isinstance(body["message"], str) and body["message"]
    assert "instance" in body and isinstance(body["retryable"], bool)
    haystack = (
        body["message"]
        + " "
        + " ".join(
            f"{e.get('path', '')} {e.get('message', '')}" for e in body.get("validationErrors", [])
        )
    )
    for name in names:
        assert name in haystack, f"{name!r} not named in {body}"
    return body
