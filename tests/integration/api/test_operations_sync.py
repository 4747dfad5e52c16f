"""Synchronous execute, signals and test runs over HTTP."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
from api_helpers import (
    assert_error,
    complete,
    get_workflow,
    poll,
    register,
    run,
    simple,
    task_by_ref,
    workflow_def,
)


def wait(ref: str) -> dict[str, Any]:
    return {"name": ref, "taskReferenceName": ref, "type": "WAIT"}


def inline(ref: str, expression: str) -> dict[str, Any]:
    return {
        "name": ref,
        "taskReferenceName": ref,
        "type": "INLINE",
        "inputParameters": {"evaluatorType": "graaljs", "expression": expression},
    }


APPROVAL = workflow_def(
    "sync_approval",
    [wait("w1"), wait("w2")],
    outputParameters={"first": "${w1.output}", "second": "${w2.output}"},
)


async def execute(
    client: httpx.AsyncClient, name: str, version: int = 1, body: Any = None, **params: Any
) -> dict[str, Any]:
    r = await client.post(f"/api/workflow/execute/{name}/{version}", json=body or {}, params=params)
    assert r.status_code == 200, r.text
    answer: dict[str, Any] = r.json()
    return answer


# ---------------------------------------------------------------------------- execute
async def test_execute_answers_when_the_workflow_blocks(client: httpx.AsyncClient) -> None:
    await register(client, APPROVAL)
    answer = await execute(
        client, "sync_approval", body={"input": {"n": 1}, "correlationId": "c"}, requestId="r1"
    )
    assert answer["responseType"] == "TARGET_WORKFLOW"
    assert (answer["requestId"], answer["signalTimeout"]) == ("r1", False)
    assert answer["targetWorkflowStatus"] == answer["status"] == "RUNNING"
    assert answer["workflowId"] == answer["targetWorkflowId"]
    assert (answer["input"], answer["correlationId"]) == ({"n": 1}, "c")
    assert [(t["referenceTaskName"], t["status"]) for t in answer["tasks"]] == [
        ("w1", "IN_PROGRESS")
    ]
    task_run = await execute(client, "sync_approval", returnStrategy="BLOCKING_TASK")
    assert task_run["responseType"] == "BLOCKING_TASK"
    assert (task_run["taskType"], task_run["referenceTaskName"]) == ("WAIT", "w1")
    assert task_run["status"] == "IN_PROGRESS" and task_run["workflowType"] == "sync_approval"
    assert task_run["requestId"]  # generated when none is given


async def test_execute_of_a_workflow_that_completes(client: httpx.AsyncClient) -> None:
    await register(client, workflow_def("sync_quick", [inline("calc", "1 + 2")]))
    answer = await execute(client, "sync_quick", 0)  # version 0: the latest
    assert answer["status"] == "COMPLETED" and answer["output"] == {"result": 3}
    # nothing blocks a completed workflow: the task strategies answer the workflow
    answer = await execute(client, "sync_quick", returnStrategy="BLOCKING_TASK_INPUT")
    assert answer["responseType"] == "TARGET_WORKFLOW" and answer["status"] == "COMPLETED"
    r = await client.post(
        "/api/workflow/execute/sync_quick/1", json={}, params={"returnStrategy": "NOPE"}
    )
    assert_error(r, 400, "returnStrategy")
    assert_error(await client.post("/api/workflow/execute/nope/1", json={}), 404, "nope")


async def test_execute_times_out_with_the_current_state(client: httpx.AsyncClient) -> None:
    await register(client, workflow_def("sync_slow", [simple("sync_slow_step", "step")]))
    began = time.monotonic()
    answer = await execute(client, "sync_slow", waitForSeconds=1)
    assert 0.9 < time.monotonic() - began < 5
    assert answer["signalTimeout"] is True and answer["status"] == "RUNNING"


async def test_execute_waits_until_a_named_task_ends(client: httpx.AsyncClient) -> None:
    await register(
        client,
        workflow_def(
            "sync_steps", [simple("sync_first", "first"), simple("sync_second", "second")]
        ),
    )
    pending = asyncio.create_task(
        execute(
            client,
            "sync_steps",
            waitUntilTaskRef="nope, first",
            returnStrategy="BLOCKING_TASK",
            waitForSeconds=10,
        )
    )
    task = None
    for _ in range(100):
        task = await poll(client, "sync_first")
        if task is not None:
            break
        await asyncio.sleep(0.01)
    assert task is not None
    began = time.monotonic()
    await complete(client, task, {"v": 1})
    answer = await pending
    assert time.monotonic() - began < 2  # woken by the commit, not by the timeout
    assert (answer["referenceTaskName"], answer["status"]) == ("first", "COMPLETED")
    assert answer["output"] == {"v": 1} and answer["targetWorkflowStatus"] == "RUNNING"


async def test_execute_inside_a_sub_workflow(client: httpx.AsyncClient) -> None:
    await register(client, workflow_def("sync_child", [wait("cw")]))
    parent = workflow_def(
        "sync_parent",
        [
            {
                "name": "sub",
                "taskReferenceName": "sub",
                "type": "SUB_WORKFLOW",
                "subWorkflowParam": {"name": "sync_child", "version": 1},
            }
        ],
    )
    await register(client, parent)
    answer = await execute(client, "sync_parent", returnStrategy="BLOCKING_WORKFLOW")
    assert answer["responseType"] == "BLOCKING_WORKFLOW"
    child = await get_workflow(client, answer["workflowId"])
    assert child["parentWorkflowId"] == answer["targetWorkflowId"]
    assert [t["referenceTaskName"] for t in answer["tasks"]] == ["cw"]
    # a signal to the parent reaches the child's WAIT
    parent_id = answer["targetWorkflowId"]
    r = await client.post(
        f"/api/tasks/{parent_id}/COMPLETED/signal/sync",
        json={"ok": True},
        params={"returnStrategy": "TARGET_WORKFLOW"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "COMPLETED" and r.json()["workflowId"] == parent_id


# ---------------------------------------------------------------------------- signal
async def test_signals_resolve_the_waiting_tasks(client: httpx.AsyncClient) -> None:
    wid = await run(client, APPROVAL)
    r = await client.post(f"/api/tasks/{wid}/COMPLETED/signal", json={"ok": 1})
    assert r.status_code == 200 and r.content == b""
    wf = await get_workflow(client, wid)
    assert task_by_ref(wf, "w1")["status"] == "COMPLETED"
    assert task_by_ref(wf, "w1")["outputData"] == {"ok": 1}
    r = await client.post(
        f"/api/tasks/{wid}/COMPLETED/signal/sync",
        json={"ok": 2},
        params={"returnStrategy": "BLOCKING_WORKFLOW"},
    )
    assert r.status_code == 200
    answer = r.json()
    assert answer["status"] == "COMPLETED" and answer["responseType"] == "BLOCKING_WORKFLOW"
    assert answer["output"] == {"first": {"ok": 1}, "second": {"ok": 2}}
    r = await client.post(f"/api/tasks/{wid}/COMPLETED/signal", json={})
    assert r.status_code == 200 and "X-Legato-Ignored" in r.headers
    r = await client.post(f"/api/tasks/{wid}/COMPLETED/signal/sync", json={})
    assert_error(r, 404, wid)
    assert_error(await client.post(f"/api/tasks/{wid}/DONE/signal", json={}), 400, "status")
    assert_error(await client.post("/api/tasks/nope/COMPLETED/signal", json={}), 404, "nope")


async def test_signal_sync_answers_the_next_blocking_task(client: httpx.AsyncClient) -> None:
    wid = await run(client, APPROVAL)
    r = await client.post(
        f"/api/tasks/{wid}/COMPLETED/signal/sync",
        json={},
        params={"returnStrategy": "BLOCKING_TASK_INPUT", "timeoutMillis": 2000},
    )
    answer = r.json()
    assert answer["responseType"] == "BLOCKING_TASK_INPUT"
    assert answer["referenceTaskName"] == "w2" and answer["status"] == "IN_PROGRESS"
    r = await client.post(f"/api/tasks/{wid}/FAILED/signal", json={})
    assert r.status_code == 200
    assert (await get_workflow(client, wid))["status"] == "FAILED"


# ---------------------------------------------------------------------------- test runs
MOCKED = workflow_def(
    "sync_mocked",
    [
        simple("sync_fetch", "fetch", retryCount=1),
        {
            "name": "route",
            "taskReferenceName": "route",
            "type": "SWITCH",
            "evaluatorType": "value-param",
            "expression": "kind",
            "inputParameters": {"kind": "${fetch.output.kind}"},
            "decisionCases": {"big": [simple("sync_big", "big")]},
            "defaultCase": [simple("sync_small", "small")],
        },
    ],
    outputParameters={"kind": "${fetch.output.kind}", "big": "${big.output.done}"},
)


async def test_a_test_run_uses_the_mocks_and_stores_nothing(client: httpx.AsyncClient) -> None:
    await register(client, MOCKED)
    request = {
        "name": "sync_mocked",
        "input": {"n": 1},
        "taskRefToMockOutput": {
            "fetch": [
                {"status": "FAILED", "output": {"error": "flaky"}},
                {"status": "COMPLETED", "output": {"kind": "big"}},
            ],
            "big": [{"status": "COMPLETED", "output": {"done": True}}],
        },
    }
    r = await client.post("/api/workflow/test", json=request)
    assert r.status_code == 200, r.text
    wf = r.json()
    assert wf["status"] == "COMPLETED" and wf["output"] == {"kind": "big", "big": True}
    assert [(t["referenceTaskName"], t["status"]) for t in wf["tasks"]] == [
        ("fetch", "FAILED"),
        ("fetch", "COMPLETED"),
        ("route", "COMPLETED"),
        ("big", "COMPLETED"),
    ]
    assert_error(await client.get(f"/api/workflow/{wf['workflowId']}"), 404)
    assert await poll(client, "sync_fetch") is None  # no worker ever sees a test run's tasks


async def test_a_test_run_stops_where_a_mock_is_missing(client: httpx.AsyncClient) -> None:
    request = {
        "name": "inline_def",
        "workflowDef": MOCKED,
        "taskRefToMockOutput": {"fetch": [{"output": {"kind": "small"}}]},
    }
    wf = (await client.post("/api/workflow/test", json=request)).json()
    assert wf["status"] == "RUNNING"
    assert task_by_ref(wf, "small")["status"] == "SCHEDULED"
    bad = {
        "name": "sync_mocked",
        "workflowDef": MOCKED,
        "taskRefToMockOutput": {"fetch": [{"status": "MAYBE"}]},
    }
    assert_error(await client.post("/api/workflow/test", json=bad), 400, "status")
    assert_error(await client.post("/api/workflow/test", json={"name": "nope"}), 404, "nope")


async def test_a_test_run_with_a_mocked_sub_workflow(client: httpx.AsyncClient) -> None:
    await register(
        client,
        workflow_def(
            "sync_sub", [simple("sync_inner", "inner")], outputParameters={"r": "${inner.output.r}"}
        ),
    )
    parent = workflow_def(
        "sync_outer",
        [
            {
                "name": "sub",
                "taskReferenceName": "sub",
                "type": "SUB_WORKFLOW",
                "subWorkflowParam": {"name": "sync_sub", "version": 1},
            }
        ],
        outputParameters={"r": "${sub.output.r}"},
    )
    request = {
        "name": "sync_outer",
        "workflowDef": parent,
        "subWorkflowTestRequest": {
            "sub": {"taskRefToMockOutput": {"inner": [{"output": {"r": 42}}]}}
        },
        "taskRefToMockOutput": {"sub": []},
    }
    wf = (await client.post("/api/workflow/test", json=request)).json()
    assert wf["status"] == "COMPLETED" and wf["output"] == {"r": 42}
