"""Malformed definitions and requests: always a 4xx Conductor error naming the problem, never a 500."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from api_helpers import assert_error, register, simple, start, task_def, workflow_def
from conftest import ClientFactory


def _wf(*tasks: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    return workflow_def("bad_flow", list(tasks), **overrides)


def _switch(expression: str) -> dict[str, Any]:
    return {
        "name": "route",
        "taskReferenceName": "route",
        "type": "SWITCH",
        "evaluatorType": "javascript",
        "expression": expression,
        "decisionCases": {"a": [simple("known")]},
    }


@dataclass
class Case:
    id: str
    method: str
    path: str
    status: int
    names: tuple[str, ...]
    json: Any = None
    content: bytes | None = None
    params: dict[str, Any] = field(default_factory=dict)


WF = "/api/metadata/workflow"
CASES = [
    Case(
        "wf-bad-json",
        "POST",
        WF,
        400,
        ("Invalid JSON", "line 1"),
        content=b'{"name": "x", "tasks": [}',
    ),
    Case("wf-empty-body", "POST", WF, 400, ("Invalid JSON",), content=b""),
    Case("wf-not-an-object", "POST", WF, 400, ("object",), json=[1, 2]),
    Case("wf-missing-tasks", "POST", WF, 400, ("tasks",), json={"name": "no_tasks"}),
    Case(
        "wf-missing-ref",
        "POST",
        WF,
        400,
        ("tasks[0].taskReferenceName",),
        json=_wf({"name": "a", "type": "SIMPLE"}),
    ),
    Case(
        "wf-wrong-type",
        "POST",
        WF,
        400,
        ("timeoutSeconds",),
        json=_wf(simple("known"), timeoutSeconds="soon"),
    ),
    Case(
        "wf-wrong-nested-type",
        "POST",
        WF,
        400,
        ("tasks[0].inputParameters",),
        json=_wf(simple("known", inputParameters=[1])),
    ),
    Case(
        "wf-duplicate-ref",
        "POST",
        WF,
        400,
        ("taskReferenceName", "dup"),
        json=_wf(simple("known", "dup"), simple("known", "dup")),
    ),
    Case(
        "wf-unknown-type",
        "POST",
        WF,
        400,
        ("tasks[0].type",),
        json=_wf({"name": "x", "taskReferenceName": "x", "type": "TELEPORT"}),
    ),
    Case(
        "wf-unknown-ref-in-expression",
        "POST",
        WF,
        400,
        ("ghost",),
        json=_wf(simple("known", inputParameters={"v": "${ghost.output.value}"})),
    ),
    Case(
        "wf-join-on-unknown-ref",
        "POST",
        WF,
        400,
        ("joinOn", "phantom"),
        json=_wf(
            {
                "name": "fork",
                "taskReferenceName": "fork",
                "type": "FORK_JOIN",
                "forkTasks": [[simple("known", "left")], [simple("known", "right")]],
            },
            {
                "name": "join",
                "taskReferenceName": "join",
                "type": "JOIN",
                "joinOn": ["left", "phantom"],
            },
        ),
    ),
    Case(
        "wf-bad-javascript-in-switch",
        "POST",
        WF,
        400,
        ("tasks[0].expression",),
        json=_wf(_switch("$.x >>> (")),
    ),
    Case(
        "wf-bad-jq",
        "POST",
        WF,
        400,
        ("queryExpression",),
        json=_wf(
            {
                "name": "jq",
                "taskReferenceName": "jq",
                "type": "JSON_JQ_TRANSFORM",
                "inputParameters": {"queryExpression": ".a | | ]"},
            }
        ),
    ),
    Case(
        "wf-sub-workflow-without-params",
        "POST",
        WF,
        400,
        ("subWorkflowParam",),
        json=_wf({"name": "sub", "taskReferenceName": "sub", "type": "SUB_WORKFLOW"}),
    ),
    Case(
        "wf-bad-name", "POST", WF, 400, ("name",), json=workflow_def("bad/name!", [simple("known")])
    ),
    Case(
        "validate-duplicate-ref",
        "POST",
        f"{WF}/validate",
        400,
        ("taskReferenceName",),
        json=_wf(simple("known", "d"), simple("known", "d")),
    ),
    Case("put-wf-not-a-list", "PUT", WF, 400, ("array",), json=_wf(simple("known"))),
    Case(
        "get-wf-bad-version",
        "GET",
        f"{WF}/bad_flow",
        400,
        ("version",),
        params={"version": "latest"},
    ),
    Case("delete-wf-bad-version", "DELETE", f"{WF}/bad_flow/one", 400, ("version",)),
    Case(
        "taskdefs-not-a-list", "POST", "/api/metadata/taskdefs", 400, ("array",), json=task_def("t")
    ),
    Case(
        "taskdef-negative-retry",
        "POST",
        "/api/metadata/taskdefs",
        400,
        ("[0].retryCount",),
        json=[task_def("t", retryCount=-1)],
    ),
    Case(
        "taskdef-missing-name",
        "PUT",
        "/api/metadata/taskdefs",
        400,
        ("name",),
        json={"retryCount": 1},
    ),
    Case(
        "start-unknown-workflow",
        "POST",
        "/api/workflow/no_such_flow",
        404,
        ("no_such_flow",),
        json={},
    ),
    Case("start-request-missing-name", "POST", "/api/workflow", 400, ("name",), json={"input": {}}),
    Case(
        "start-request-input-not-object",
        "POST",
        "/api/workflow",
        400,
        ("input",),
        json={"name": "known_flow", "input": [1]},
    ),
    Case(
        "start-request-bad-json",
        "POST",
        "/api/workflow",
        400,
        ("Invalid JSON",),
        content=b"{name: known_flow}",
    ),
    Case(
        "start-request-invalid-inline-def",
        "POST",
        "/api/workflow",
        400,
        ("workflowDef.tasks[1].taskReferenceName",),
        json={"name": "inline", "workflowDef": _wf(simple("known", "d"), simple("known", "d"))},
    ),
    Case(
        "start-input-not-object",
        "POST",
        "/api/workflow/known_flow",
        400,
        ("object",),
        json=[1, 2, 3],
    ),
    Case(
        "start-priority-out-of-range",
        "POST",
        "/api/workflow/known_flow",
        400,
        ("priority",),
        json={},
        params={"priority": 100},
    ),
    Case(
        "workflow-unknown-id",
        "GET",
        "/api/workflow/00000000-0000-0000-0000-000000000000",
        404,
        ("00000000",),
    ),
    Case(
        "poll-timeout-too-long",
        "GET",
        "/api/tasks/poll/batch/known",
        400,
        ("timeout",),
        params={"timeout": 5001},
    ),
    Case(
        "poll-count-not-a-number",
        "GET",
        "/api/tasks/poll/batch/known",
        400,
        ("count",),
        params={"count": "many"},
    ),
    Case(
        "poll-count-zero",
        "GET",
        "/api/tasks/poll/batch/known",
        400,
        ("count",),
        params={"count": 0},
    ),
    Case(
        "result-bad-status",
        "POST",
        "/api/tasks",
        400,
        ("status",),
        json={"workflowInstanceId": "w", "taskId": "t", "status": "DONE"},
    ),
    Case(
        "result-missing-fields",
        "POST",
        "/api/tasks",
        400,
        ("taskId", "workflowInstanceId"),
        json={"status": "COMPLETED"},
    ),
    Case("result-not-an-object", "POST", "/api/tasks", 400, ("object",), json="COMPLETED"),
    Case("result-bad-json", "POST", "/api/tasks", 400, ("Invalid JSON",), content=b'{"taskId": '),
    Case(
        "result-wrong-type",
        "POST",
        "/api/tasks",
        400,
        ("outputData",),
        json={
            "workflowInstanceId": "w",
            "taskId": "t",
            "status": "COMPLETED",
            "outputData": "done",
        },
    ),
    Case(
        "result-v2-bad-status",
        "POST",
        "/api/tasks/update-v2",
        400,
        ("status",),
        json={"workflowInstanceId": "w", "taskId": "t", "status": "SKIPPED"},
    ),
    Case("by-ref-bad-status", "POST", "/api/tasks/some-wf/known/DONE", 400, ("status",), json={}),
    Case(
        "by-ref-output-not-object",
        "POST",
        "/api/tasks/some-wf/known/COMPLETED",
        400,
        ("object",),
        json=[1],
    ),
    Case("queue-size-missing-type", "GET", "/api/tasks/queue/size", 400, ("taskType",)),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
async def test_bad_input_is_a_named_4xx(client: httpx.AsyncClient, case: Case) -> None:
    await register(client, workflow_def("known_flow", [simple("known")]), [task_def("known")])
    kwargs: dict[str, Any] = {"params": case.params}
    if case.content is not None:
        kwargs["content"] = case.content
        kwargs["headers"] = {"content-type": "application/json"}
    elif case.json is not None:
        kwargs["json"] = case.json
    r = await client.request(case.method, case.path, **kwargs)
    assert_error(r, case.status, *case.names)


def test_the_suite_is_broad_enough() -> None:
    assert len({c.id for c in CASES}) == len(CASES) >= 15


async def test_invalid_json_names_the_position(client: httpx.AsyncClient) -> None:
    r = await client.post(
        WF, content=b'{"name": "x",\n "tasks": [1,,]}', headers={"content-type": "application/json"}
    )
    body = assert_error(r, 400, "Invalid JSON", "line 2")
    assert "column" in body["message"]


async def test_oversize_definition_is_413(make_client: ClientFactory) -> None:
    async with make_client(max_payload_bytes=4096) as client:
        big = _wf(simple("known", inputParameters={"blob": "z" * 10_000}))
        assert_error(await client.post(WF, json=big), 413, "4096")


async def test_bad_update_leaves_the_task_alone(client: httpx.AsyncClient) -> None:
    await register(client, workflow_def("known_flow", [simple("known")]), [task_def("known")])
    wid = await start(client, "known_flow")
    r = await client.get("/api/tasks/poll/known", params={"workerid": "w"})
    task = r.json()
    r = await client.post(
        "/api/tasks",
        json={"workflowInstanceId": wid, "taskId": task["taskId"], "status": "SCHEDULED"},
    )
    assert_error(r, 400, "status")
    r = await client.get(f"/api/tasks/{task['taskId']}")
    assert r.json()["status"] == "IN_PROGRESS"
