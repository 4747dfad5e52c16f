"""Definitions for the UI's server-side tests (keyword overrides, no scenario fixtures)."""

from __future__ import annotations

from typing import Any

import httpx

OWNER = "ui@example.com"


def simple(ref: str, name: str | None = None, **overrides: Any) -> dict[str, Any]:
    return {"name": name or ref, "taskReferenceName": ref, "type": "SIMPLE", **overrides}


def workflow_def(name: str, tasks: list[dict[str, Any]], **overrides: Any) -> dict[str, Any]:
    return {
        "name": name,
        "version": 1,
        "schemaVersion": 2,
        "ownerEmail": OWNER,
        "tasks": tasks,
        **overrides,
    }


def every_construct(name: str = "shapes") -> dict[str, Any]:
    """A definition with a switch (one empty case), a fork and its join, a loop, a
    sub-workflow, a dynamic fork and a terminate."""
    return workflow_def(
        name,
        [
            simple("first", "ui_t"),
            {
                "name": "decide",
                "taskReferenceName": "decide",
                "type": "SWITCH",
                "evaluatorType": "value-param",
                "expression": "which",
                "inputParameters": {"which": "${workflow.input.which}"},
                "decisionCases": {
                    "a": [simple("a1", "ui_t"), simple("a2", "ui_t")],
                    "b": [simple("b1", "ui_t")],
                },
                "defaultCase": [],
            },
            {
                "name": "fork",
                "taskReferenceName": "fork",
                "type": "FORK_JOIN",
                "forkTasks": [[simple("left", "ui_t")], [simple("right", "ui_t")]],
            },
            {
                "name": "join",
                "taskReferenceName": "join",
                "type": "JOIN",
                "joinOn": ["left", "right"],
            },
            {
                "name": "loop",
                "taskReferenceName": "loop",
                "type": "DO_WHILE",
                "loopCondition": "if ($.loop['iteration'] < 2) { true; } else { false; }",
                "loopOver": [simple("inside", "ui_t")],
            },
            {
                "name": "child",
                "taskReferenceName": "child",
                "type": "SUB_WORKFLOW",
                "subWorkflowParam": {"name": "ui_child", "version": 1},
            },
            {
                "name": "dyn",
                "taskReferenceName": "dyn",
                "type": "FORK_JOIN_DYNAMIC",
                "dynamicForkTasksParam": "tasks",
                "dynamicForkTasksInputParamName": "inputs",
                "inputParameters": {
                    "tasks": "${workflow.input.dynTasks}",
                    "inputs": "${workflow.input.dynInputs}",
                },
            },
            {"name": "dyn_join", "taskReferenceName": "dyn_join", "type": "JOIN"},
        ],
    )


async def register(client: httpx.AsyncClient, *definitions: dict[str, Any]) -> None:
    r = await client.post(
        "/api/metadata/taskdefs",
        json=[{"name": n, "retryCount": 0, "ownerEmail": OWNER} for n in ("ui_t", "ui_u")],
    )
    assert r.status_code == 200, r.text
    for d in definitions:
        r = await client.post("/api/metadata/workflow", json=d)
        assert r.status_code == 200, r.text


async def start(
    client: httpx.AsyncClient, name: str, data: dict[str, Any] | None = None, **params: Any
) -> str:
    r = await client.post(f"/api/workflow/{name}", json=data or {}, params=params)
    assert r.status_code == 200, r.text
    return r.text
