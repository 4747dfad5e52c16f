"""End-to-end flows through the API: workers over HTTP, every system task type in a workflow."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import orjson
import pytest
from api_helpers import (
    complete,
    get_workflow,
    poll,
    register,
    run,
    simple,
    start,
    task_by_ref,
    task_def,
    wait_for,
    workflow_def,
)
from conftest import ClientFactory


async def test_two_step_worker_workflow_completes_with_output(client: httpx.AsyncClient) -> None:
    definition = workflow_def(
        "order_flow",
        [
            simple("fetch", inputParameters={"id": "${workflow.input.id}"}),
            simple(
                "ship",
                inputParameters={"item": "${fetch.output.item}", "note": "id=${workflow.input.id}"},
            ),
        ],
        outputParameters={"shipment": "${ship.output.shipment}", "item": "${fetch.output.item}"},
    )
    wid = await run(client, definition, {"id": 7}, [task_def("fetch"), task_def("ship")])

    wf = await get_workflow(client, wid)
    assert wf["status"] == "RUNNING"
    assert [t["referenceTaskName"] for t in wf["tasks"]] == ["fetch"]

    first = await poll(client, "fetch")
    assert first is not None
    assert first["status"] == "IN_PROGRESS"
    assert first["inputData"] == {"id": 7}
    assert first["workerId"] == "w1"
    assert await poll(client, "fetch") is None  # claimed once
    await complete(client, first, {"item": "book"})

    second = await poll(client, "ship")
    assert second is not None
    assert second["inputData"] == {"item": "book", "note": "id=7"}
    await complete(client, second, {"shipment": "S-1"})

    wf = await wait_for(client, wid)
    assert wf["status"] == "COMPLETED"
    assert wf["output"] == {"shipment": "S-1", "item": "book"}
    assert [t["status"] for t in wf["tasks"]] == ["COMPLETED", "COMPLETED"]


async def test_failed_worker_task_fails_the_workflow(client: httpx.AsyncClient) -> None:
    wid = await run(client, workflow_def("fails", [simple("f1")]), task_defs=[task_def("f1")])
    task = await poll(client, "f1")
    assert task is not None
    await complete(client, task, status="FAILED", reasonForIncompletion="boom")
    wf = await wait_for(client, wid)
    assert wf["status"] == "FAILED"
    assert "boom" in wf.get("reasonForIncompletion", "")


async def test_switch_takes_the_matching_case(client: httpx.AsyncClient) -> None:
    definition = workflow_def(
        "switch_flow",
        [
            {
                "name": "route",
                "taskReferenceName": "route",
                "type": "SWITCH",
                "evaluatorType": "value-param",
                "expression": "kind",
                "inputParameters": {"kind": "${workflow.input.kind}"},
                "decisionCases": {
                    "big": [
                        {
                            "name": "set_big",
                            "taskReferenceName": "set_big",
                            "type": "SET_VARIABLE",
                            "inputParameters": {"size": "big"},
                        }
                    ],
                },
                "defaultCase": [
                    {
                        "name": "set_small",
                        "taskReferenceName": "set_small",
                        "type": "SET_VARIABLE",
                        "inputParameters": {"size": "small"},
                    }
                ],
            },
            {
                "name": "js_route",
                "taskReferenceName": "js_route",
                "type": "SWITCH",
                "evaluatorType": "javascript",
                "expression": "$.n > 10 ? 'many' : 'few'",
                "inputParameters": {"n": "${workflow.input.n}"},
                "decisionCases": {
                    "many": [
                        {"name": "noop_many", "taskReferenceName": "noop_many", "type": "NOOP"}
                    ]
                },
                "defaultCase": [
                    {"name": "noop_few", "taskReferenceName": "noop_few", "type": "NOOP"}
                ],
            },
        ],
        outputParameters={"size": "${workflow.variables.size}"},
    )
    await register(client, definition)
    big = await start(client, "switch_flow", {"kind": "big", "n": 50})
    other = await start(client, "switch_flow", {"kind": "other", "n": 1})

    wf = await wait_for(client, big)
    assert wf["status"] == "COMPLETED", wf
    assert wf["output"] == {"size": "big"}
    refs = [t["referenceTaskName"] for t in wf["tasks"]]
    assert "noop_many" in refs and "noop_few" not in refs
    wf = await wait_for(client, other)
    assert wf["output"] == {"size": "small"}
    assert "noop_few" in [t["referenceTaskName"] for t in wf["tasks"]]


async def test_fork_join_waits_for_both_branches(client: httpx.AsyncClient) -> None:
    definition = workflow_def(
        "fork_flow",
        [
            {
                "name": "fork",
                "taskReferenceName": "fork",
                "type": "FORK_JOIN",
                "forkTasks": [[simple("left")], [simple("right")]],
            },
            {
                "name": "join",
                "taskReferenceName": "join",
                "type": "JOIN",
                "joinOn": ["left", "right"],
            },
        ],
        outputParameters={"l": "${join.output.left.v}", "r": "${join.output.right.v}"},
    )
    wid = await run(client, definition, task_defs=[task_def("left"), task_def("right")])
    left = await poll(client, "left")
    right = await poll(client, "right")
    assert left is not None and right is not None
    await complete(client, left, {"v": 1})
    wf = await get_workflow(client, wid)
    assert wf["status"] == "RUNNING"
    assert task_by_ref(wf, "join")["status"] == "IN_PROGRESS"
    await complete(client, right, {"v": 2})
    wf = await wait_for(client, wid)
    assert wf["status"] == "COMPLETED", wf
    assert wf["output"] == {"l": 1, "r": 2}


async def test_do_while_runs_the_body_until_the_condition_fails(client: httpx.AsyncClient) -> None:
    definition = workflow_def(
        "loop_flow",
        [
            {
                "name": "loop",
                "taskReferenceName": "loop",
                "type": "DO_WHILE",
                "loopCondition": "$.loop['iteration'] < 3",
                "loopOver": [simple("step")],
            }
        ],
        outputParameters={"iterations": "${loop.output.iteration}"},
    )
    wid = await run(client, definition, task_defs=[task_def("step")])
    refs = []
    for i in range(3):
        task = await poll(client, "step")
        assert task is not None, f"no task in iteration {i + 1}"
        refs.append(task["referenceTaskName"])
        await complete(client, task, {"i": i})
    assert refs == ["step__1", "step__2", "step__3"]
    wf = await wait_for(client, wid)
    assert wf["status"] == "COMPLETED", wf
    assert wf["output"] == {"iterations": 3}


async def test_sub_workflow_completes_the_parent(client: httpx.AsyncClient) -> None:
    child = workflow_def(
        "child_flow", [simple("child_step")], outputParameters={"r": "${child_step.output.r}"}
    )
    await register(client, child, [task_def("child_step")])
    parent = workflow_def(
        "parent_flow",
        [
            {
                "name": "sub",
                "taskReferenceName": "sub",
                "type": "SUB_WORKFLOW",
                "subWorkflowParam": {"name": "child_flow", "version": 1},
                "inputParameters": {"x": "${workflow.input.x}"},
            }
        ],
        outputParameters={"fromChild": "${sub.output.r}"},
    )
    wid = await run(client, parent, {"x": 1})
    task = await poll(client, "child_step")
    assert task is not None
    child_wf = await get_workflow(client, task["workflowInstanceId"])
    assert child_wf["parentWorkflowId"] == wid
    assert child_wf["input"] == {"x": 1}
    await complete(client, task, {"r": "done"})
    wf = await wait_for(client, wid)
    assert wf["status"] == "COMPLETED", wf
    assert wf["output"] == {"fromChild": "done"}
    assert task_by_ref(wf, "sub")["subWorkflowId"] == child_wf["workflowId"]


async def test_inline_jq_and_set_variable(client: httpx.AsyncClient) -> None:
    definition = workflow_def(
        "compute_flow",
        [
            {
                "name": "double",
                "taskReferenceName": "double",
                "type": "INLINE",
                "inputParameters": {
                    "evaluatorType": "graaljs",
                    "expression": "$.n * 2",
                    "n": "${workflow.input.n}",
                },
            },
            {
                "name": "jq",
                "taskReferenceName": "jq",
                "type": "JSON_JQ_TRANSFORM",
                "inputParameters": {
                    "queryExpression": "{sum: (.a + .b)}",
                    "a": "${double.output.result}",
                    "b": 1,
                },
            },
            {
                "name": "remember",
                "taskReferenceName": "remember",
                "type": "SET_VARIABLE",
                "inputParameters": {"total": "${jq.output.result.sum}"},
            },
        ],
        outputParameters={
            "doubled": "${double.output.result}",
            "total": "${workflow.variables.total}",
        },
    )
    wid = await run(client, definition, {"n": 21})
    wf = await wait_for(client, wid)
    assert wf["status"] == "COMPLETED", wf
    assert wf["output"] == {"doubled": 42, "total": 43}
    assert wf["variables"] == {"total": 43}


async def test_terminate_task_ends_the_workflow_with_its_output(client: httpx.AsyncClient) -> None:
    definition = workflow_def(
        "terminate_flow",
        [
            {
                "name": "stop",
                "taskReferenceName": "stop",
                "type": "TERMINATE",
                "inputParameters": {
                    "terminationStatus": "COMPLETED",
                    "workflowOutput": {"why": "early"},
                },
            },
            simple("never"),
        ],
    )
    wid = await run(client, definition, task_defs=[task_def("never")])
    wf = await wait_for(client, wid)
    assert wf["status"] == "COMPLETED", wf
    assert wf["output"] == {"why": "early"}
    assert "never" not in [t["referenceTaskName"] for t in wf["tasks"]]


async def test_wait_completes_after_its_duration(client: httpx.AsyncClient) -> None:
    definition = workflow_def(
        "wait_flow",
        [
            {
                "name": "pause",
                "taskReferenceName": "pause",
                "type": "WAIT",
                "inputParameters": {"duration": "1 seconds"},
            }
        ],
    )
    began = time.monotonic()
    wid = await run(client, definition)
    wf = await get_workflow(client, wid)
    assert task_by_ref(wf, "pause")["status"] == "IN_PROGRESS"
    wf = await wait_for(client, wid, timeout=5)
    assert wf["status"] == "COMPLETED", wf
    assert time.monotonic() - began >= 0.9


async def test_wait_without_duration_is_completed_by_ref(client: httpx.AsyncClient) -> None:
    definition = workflow_def(
        "signal_flow",
        [{"name": "approval", "taskReferenceName": "approval", "type": "WAIT"}],
        outputParameters={"ok": "${approval.output.ok}"},
    )
    wid = await run(client, definition)
    r = await client.post(f"/api/tasks/{wid}/approval/COMPLETED", json={"ok": True})
    assert r.status_code == 200 and r.text
    wf = await wait_for(client, wid)
    assert wf["status"] == "COMPLETED"
    assert wf["output"] == {"ok": True}


# ------------------------------------------------------------------------------ HTTP task
class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path.startswith("/missing"):
            self._send(404, {"error": "nope"})
        else:
            self._send(200, {"path": self.path, "hello": "world"})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = orjson.loads(self.rfile.read(length)) if length else None
        self._send(201, {"echo": body})

    def _send(self, status: int, payload: Any) -> None:
        data = orjson.dumps(payload)
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def http_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


async def test_http_task_calls_a_real_server(client: httpx.AsyncClient, http_server: str) -> None:
    definition = workflow_def(
        "http_flow",
        [
            {
                "name": "get",
                "taskReferenceName": "get",
                "type": "HTTP",
                "inputParameters": {
                    "http_request": {
                        "uri": f"{http_server}/items/${{workflow.input.id}}",
                        "method": "GET",
                    }
                },
            },
            {
                "name": "post",
                "taskReferenceName": "post",
                "type": "HTTP",
                "inputParameters": {
                    "http_request": {
                        "uri": f"{http_server}/echo",
                        "method": "POST",
                        "body": {"got": "${get.output.response.body.hello}"},
                    }
                },
            },
        ],
        outputParameters={
            "path": "${get.output.response.body.path}",
            "echo": "${post.output.response.body.echo}",
            "code": "${post.output.response.statusCode}",
        },
    )
    wid = await run(client, definition, {"id": 5})
    wf = await wait_for(client, wid)
    assert wf["status"] == "COMPLETED", wf
    assert wf["output"] == {"path": "/items/5", "echo": {"got": "world"}, "code": 201}


async def test_http_task_fails_on_non_2xx(client: httpx.AsyncClient, http_server: str) -> None:
    definition = workflow_def(
        "http_fail_flow",
        [
            {
                "name": "get",
                "taskReferenceName": "get",
                "type": "HTTP",
                "inputParameters": {
                    "http_request": {"uri": f"{http_server}/missing", "method": "GET"}
                },
            }
        ],
    )
    wid = await run(client, definition)
    wf = await wait_for(client, wid)
    assert wf["status"] == "FAILED", wf
    task = task_by_ref(wf, "get")
    assert task["status"] == "FAILED"
    assert "404" in task["reasonForIncompletion"]


# ------------------------------------------------------------------------------ sandbox
async def test_runaway_script_fails_only_its_own_task(make_client: ClientFactory) -> None:
    async with make_client(script_time_limit_s=0.5) as client:
        spin = workflow_def(
            "spin_flow",
            [
                {
                    "name": "spin",
                    "taskReferenceName": "spin",
                    "type": "INLINE",
                    "inputParameters": {
                        "evaluatorType": "javascript",
                        "expression": "while(true){}",
                    },
                }
            ],
        )
        quick = workflow_def(
            "quick_flow",
            [
                {
                    "name": "calc",
                    "taskReferenceName": "calc",
                    "type": "INLINE",
                    "inputParameters": {"evaluatorType": "javascript", "expression": "1 + 1"},
                },
                simple("after"),
            ],
            outputParameters={"r": "${calc.output.result}"},
        )
        await register(client, spin)
        await register(client, quick, [task_def("after")])

        async def worker() -> None:
            task = None
            while task is None:
                r = await client.get(
                    "/api/tasks/poll/batch/after", params={"workerid": "w", "timeout": 2000}
                )
                assert r.status_code == 200, r.text
                task = r.json()[0] if r.json() else None
            await complete(client, task, {})

        began = time.monotonic()
        spin_id, quick_id, _ = await asyncio.gather(
            start(client, "spin_flow"), start(client, "quick_flow"), worker()
        )
        quick_wf = await wait_for(client, quick_id)
        assert quick_wf["status"] == "COMPLETED", quick_wf
        assert quick_wf["output"] == {"r": 2}
        spin_wf = await wait_for(client, spin_id)
        assert time.monotonic() - began < 10
        assert spin_wf["status"] == "FAILED", spin_wf
        task = task_by_ref(spin_wf, "spin")
        assert task["status"] in ("FAILED", "FAILED_WITH_TERMINAL_ERROR")
        assert "time limit" in task["reasonForIncompletion"]
        r = await client.get("/health")
        assert r.status_code == 200 and r.json()["healthy"] is True
