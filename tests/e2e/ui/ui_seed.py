"""Definitions and workers for the browser tests, seeded through the REST API.

`ui_order` has every construct the diagram draws: a switch, a fork with its join, a loop and a
sub-workflow (`ui_ship`). Its workers complete every task; `ui_pack` takes ~0.4 s (the slowest
step, which the analytics page must name), and `ui_validate` fails the first attempt of an
order whose input says `"fail": true` (so a retry from the UI succeeds). `ui_approval` waits on
`ui_manual`, a task type no worker serves: a test completes it through the API.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import httpx

OWNER = "ui-tests@example.com"
WORKER_TYPES = ("ui_validate", "ui_fraud", "ui_pack", "ui_invoice", "ui_notify", "ui_ship_task")
SLOW_TYPE = "ui_pack"
SLOW_S = 0.4


def simple(name: str, ref: str, **inputs: Any) -> dict[str, Any]:
    return {"name": name, "taskReferenceName": ref, "type": "SIMPLE", "inputParameters": inputs}


ORDER: dict[str, Any] = {
    "name": "ui_order",
    "description": "An order: validate, check big ones for fraud, pack and invoice in parallel, "
    "notify twice, ship in a sub-workflow.",
    "version": 1,
    "schemaVersion": 2,
    "ownerEmail": OWNER,
    "inputParameters": ["orderId", "total", "fail"],
    "tasks": [
        simple(
            "ui_validate",
            "validate",
            orderId="${workflow.input.orderId}",
            total="${workflow.input.total}",
            fail="${workflow.input.fail}",
        ),
        {
            "name": "route",
            "taskReferenceName": "route",
            "type": "SWITCH",
            "evaluatorType": "value-param",
            "expression": "size",
            "inputParameters": {"size": "${validate.output.size}"},
            "decisionCases": {"big": [simple("ui_fraud", "fraud_check")]},
            "defaultCase": [],
        },
        {
            "name": "prepare",
            "taskReferenceName": "prepare",
            "type": "FORK_JOIN",
            "forkTasks": [[simple("ui_pack", "pack")], [simple("ui_invoice", "invoice")]],
        },
        {
            "name": "prepared",
            "taskReferenceName": "prepared",
            "type": "JOIN",
            "joinOn": ["pack", "invoice"],
        },
        {
            "name": "notify_loop",
            "taskReferenceName": "notify_loop",
            "type": "DO_WHILE",
            "loopCondition": "if ($.notify_loop['iteration'] < 2) { true; } else { false; }",
            "loopOver": [simple("ui_notify", "notify")],
        },
        {
            "name": "shipping",
            "taskReferenceName": "shipping",
            "type": "SUB_WORKFLOW",
            "subWorkflowParam": {"name": "ui_ship", "version": 1},
            "inputParameters": {"orderId": "${workflow.input.orderId}"},
        },
    ],
    "outputParameters": {"shipped": "${shipping.output.tracking}"},
}

SHIP: dict[str, Any] = {
    "name": "ui_ship",
    "description": "Ship an order.",
    "version": 1,
    "schemaVersion": 2,
    "ownerEmail": OWNER,
    "tasks": [simple("ui_ship_task", "ship", orderId="${workflow.input.orderId}")],
    "outputParameters": {"tracking": "${ship.output.tracking}"},
}

APPROVAL: dict[str, Any] = {
    "name": "ui_approval",
    "description": "Prepare a request, then wait for a person to approve it.",
    "version": 1,
    "schemaVersion": 2,
    "ownerEmail": OWNER,
    "inputParameters": ["request"],
    "restartable": False,
    "tasks": [
        {
            "name": "prepare_request",
            "taskReferenceName": "prepare_request",
            "type": "SET_VARIABLE",
            "inputParameters": {"request": "${workflow.input.request}"},
        },
        simple("ui_manual", "approve", request="${workflow.input.request}"),
    ],
    "outputParameters": {"approved": "${approve.output.approved}"},
}


def register_definitions(api: httpx.Client) -> None:
    task_defs = [
        {
            "name": name,
            "retryCount": 0,
            "responseTimeoutSeconds": 60,
            "ownerEmail": OWNER,
        }
        for name in (*WORKER_TYPES, "ui_manual")
    ]
    r = api.post("/api/metadata/taskdefs", json=task_defs)
    assert r.status_code == 200, r.text
    for definition in (SHIP, ORDER, APPROVAL):
        r = api.post("/api/metadata/workflow", params={"overwrite": "true"}, json=definition)
        if r.status_code == 409:  # the endpoint may not take `overwrite`: PUT replaces
            r = api.put("/api/metadata/workflow", json=[definition])
        assert r.status_code in (200, 204), r.text


def _output(task: dict[str, Any]) -> tuple[str, dict[str, Any], str | None]:
    """(status, output, reason) a worker reports for a task."""
    kind = task["taskDefName"]
    data = task.get("inputData") or {}
    if kind == "ui_validate":
        if data.get("fail") is True and task.get("retryCount", 0) == 0:
            return "FAILED", {}, "card declined (the first attempt of a test order fails)"
        size = "big" if (data.get("total") or 0) >= 1000 else "small"
        return "COMPLETED", {"size": size, "orderId": data.get("orderId")}, None
    if kind == "ui_ship_task":
        return "COMPLETED", {"tracking": f"TRK-{data.get('orderId')}"}, None
    return "COMPLETED", {"done": kind}, None


class Workers:
    """One polling thread per task type (but `ui_manual`), until `stop()`."""

    def __init__(self, server: str) -> None:
        self.server = server
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._run, args=(t,), name=f"worker-{t}", daemon=True)
            for t in WORKER_TYPES
        ]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=5)

    def _run(self, task_type: str) -> None:
        with httpx.Client(base_url=self.server, timeout=10) as client:
            while not self._stop.is_set():
                try:
                    r = client.get(
                        f"/api/tasks/poll/batch/{task_type}",
                        params={"workerid": f"test-{task_type}", "count": 20, "timeout": 200},
                    )
                    tasks = r.json() if r.status_code == 200 else []
                    if tasks and task_type == SLOW_TYPE:
                        time.sleep(SLOW_S)
                    for task in tasks:
                        status, output, reason = _output(task)
                        result: dict[str, Any] = {
                            "workflowInstanceId": task["workflowInstanceId"],
                            "taskId": task["taskId"],
                            "status": status,
                            "outputData": output,
                            "workerId": f"test-{task_type}",
                            "logs": [{"log": f"{task_type} handled {task['referenceTaskName']}"}],
                        }
                        if reason:
                            result["reasonForIncompletion"] = reason
                        client.post("/api/tasks", json=result)
                except httpx.TransportError:
                    time.sleep(0.1)


def start(api: httpx.Client, name: str, data: dict[str, Any], correlation_id: str = "") -> str:
    body: dict[str, Any] = {"name": name, "input": data}
    if correlation_id:
        body["correlationId"] = correlation_id
    r = api.post("/api/workflow", json=body)
    assert r.status_code == 200, r.text
    return r.text


def wait_status(api: httpx.Client, workflow_id: str, *statuses: str, timeout: float = 15) -> str:
    deadline = time.monotonic() + timeout
    while True:
        status = api.get(f"/api/workflow/{workflow_id}/status").json()["status"]
        if status in statuses:
            return str(status)
        if time.monotonic() > deadline:
            raise AssertionError(f"{workflow_id} is {status}, not {statuses}")
        time.sleep(0.05)
