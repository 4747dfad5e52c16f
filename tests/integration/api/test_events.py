"""EVENT tasks, event handlers and the default status queues, through the HTTP API."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
from api_helpers import (
    assert_error,
    get_workflow,
    poll,
    register,
    simple,
    start,
    task_by_ref,
    wait_for,
    workflow_def,
)

MESSAGE_ID = "conductor.event.messageId"
EVENT_NAME = "conductor.event.name"


def event_task(ref: str, sink: str, **fields: Any) -> dict[str, Any]:
    return {"name": ref, "taskReferenceName": ref, "type": "EVENT", "sink": sink, **fields}


def wait_task(ref: str) -> dict[str, Any]:
    return {"name": ref, "taskReferenceName": ref, "type": "WAIT"}


def handler(name: str, event: str, *actions: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {"name": name, "event": event, "active": True, "actions": list(actions), **fields}


def start_fulfil(**params: Any) -> dict[str, Any]:
    return {
        "action": "start_workflow",
        "start_workflow": {"name": "fulfil", "input": {"order": "${orderId}"}, **params},
    }


async def add_handler(client: httpx.AsyncClient, body: dict[str, Any]) -> None:
    r = await client.post("/api/event", json=body)
    assert r.status_code == 200, r.text
    assert r.content == b""


async def poll_soon(client: httpx.AsyncClient, task_type: str) -> dict[str, Any]:
    deadline = time.monotonic() + 5
    while True:
        task = await poll(client, task_type)
        if task is not None:
            return task
        assert time.monotonic() < deadline, f"no {task_type} task was scheduled"
        await asyncio.sleep(0.02)


async def publish_orders(client: httpx.AsyncClient, order_id: int, **fields: Any) -> str:
    """Start `publisher`, whose EVENT task publishes {orderId} on conductor:publisher:orders."""
    return await start(client, "publisher", {"orderId": order_id, **fields})


async def define_orders(client: httpx.AsyncClient) -> None:
    await register(
        client,
        workflow_def(
            "publisher",
            [
                event_task(
                    "pub",
                    "conductor:orders",
                    inputParameters={
                        "orderId": "${workflow.input.orderId}",
                        "kind": "${workflow.input.kind}",
                    },
                )
            ],
        ),
    )
    await register(
        client,
        workflow_def(
            "fulfil", [simple("pack", inputParameters={"order": "${workflow.input.order}"})]
        ),
    )


# --- EVENT task -> handler -> start_workflow ----------------------------------------------
async def test_an_event_task_publishes_and_a_handler_starts_a_workflow(
    client: httpx.AsyncClient,
) -> None:
    await define_orders(client)
    await add_handler(
        client,
        handler(
            "on_order",
            "conductor:publisher:orders",
            start_fulfil(correlationId="${workflowInstanceId}"),
            condition="$.orderId > 0",
        ),
    )
    publisher_id = await publish_orders(client, 7)
    publisher = await wait_for(client, publisher_id)
    assert publisher["status"] == "COMPLETED"
    pub = task_by_ref(publisher, "pub")
    assert pub["taskType"] == "EVENT"
    assert pub["outputData"]["event_produced"] == "conductor:publisher:orders"
    assert pub["outputData"]["workflowInstanceId"] == publisher_id

    pack = await poll_soon(client, "pack")
    assert pack["inputData"] == {"order": 7}
    started = await get_workflow(client, pack["workflowInstanceId"])
    assert started["workflowName"] == "fulfil"
    assert started["event"] == "conductor:publisher:orders"
    assert started["correlationId"] == publisher_id
    assert started["input"][MESSAGE_ID] == pub["taskId"]
    assert started["input"][EVENT_NAME] == "conductor:publisher:orders"


async def test_conditions_choose_the_handlers_that_run(client: httpx.AsyncClient) -> None:
    await define_orders(client)
    for name, condition, extra in (
        ("a_kind_b", "$.kind == 'b'", {}),
        ("b_urgent", "urgent", {"evaluatorType": "value-param"}),
        ("c_kind_a", "$.kind == 'a'", {}),
    ):
        await add_handler(
            client,
            handler(
                name, "conductor:publisher:orders", start_fulfil(), condition=condition, **extra
            ),
        )
    await publish_orders(client, 1, kind="a")
    first = await poll_soon(client, "pack")  # c_kind_a, the last handler evaluated
    assert first["inputData"] == {"order": 1}
    assert await poll(client, "pack") is None  # a_kind_b and b_urgent were skipped

    await register(
        client,
        workflow_def(
            "publisher",
            [event_task("pub", "conductor:orders", inputParameters={"orderId": 2, "urgent": True})],
            version=2,
        ),
    )
    await publish_orders(client, 2)
    urgent = await poll_soon(client, "pack")
    assert urgent["inputData"] == {"order": 2}
    assert await poll(client, "pack") is None


# --- complete_task / fail_task ------------------------------------------------------------
async def define_approvals(client: httpx.AsyncClient) -> None:
    await register(client, workflow_def("waiter", [wait_task("approval")]))
    await register(
        client,
        workflow_def(
            "approver",
            [
                event_task(
                    "decide",
                    "conductor:approvals",
                    inputParameters={"target": "${workflow.input.target}", "decision": "yes"},
                )
            ],
        ),
    )


async def test_complete_task_completes_a_waiting_task_by_reference_name(
    client: httpx.AsyncClient,
) -> None:
    await define_approvals(client)
    await add_handler(
        client,
        handler(
            "approve",
            "conductor:approver:approvals",
            {
                "action": "complete_task",
                "complete_task": {
                    "workflowId": "${target}",
                    "taskRefName": "approval",
                    "output": {"decision": "${decision}"},
                },
            },
        ),
    )
    waiter_id = await start(client, "waiter")
    await start(client, "approver", {"target": waiter_id})
    waiter = await wait_for(client, waiter_id)
    assert waiter["status"] == "COMPLETED"
    output = task_by_ref(waiter, "approval")["outputData"]
    assert output["decision"] == "yes"
    assert output["workflowId"] == waiter_id and output["taskRefName"] == "approval"
    assert output[EVENT_NAME] == "conductor:approver:approvals"


async def test_an_async_complete_event_task_is_completed_by_its_handler(
    client: httpx.AsyncClient,
) -> None:
    await register(
        client,
        workflow_def("ping", [event_task("ev", "conductor", asyncComplete=True), simple("after")]),
    )
    await add_handler(
        client,
        handler(
            "pong",
            "conductor:ping:ev",
            {
                "action": "complete_task",
                "complete_task": {
                    "workflowId": "${workflowInstanceId}",
                    "taskRefName": "ev",
                    "output": {"acknowledged": True},
                },
            },
        ),
    )
    workflow_id = await start(client, "ping")
    after = await poll_soon(client, "after")
    assert after["workflowInstanceId"] == workflow_id
    ev = task_by_ref(await get_workflow(client, workflow_id), "ev")
    assert ev["status"] == "COMPLETED"
    assert ev["outputData"]["acknowledged"] is True
    assert ev["outputData"][MESSAGE_ID] == ev["taskId"]


async def test_fail_task_fails_an_async_complete_event_task(client: httpx.AsyncClient) -> None:
    await register(
        client, workflow_def("ping", [event_task("ev", "conductor", asyncComplete=True)])
    )
    await add_handler(
        client,
        handler(
            "reject",
            "conductor:ping:ev",
            {
                "action": "fail_task",
                "fail_task": {
                    "workflowId": "${workflowInstanceId}",
                    "taskRefName": "ev",
                    "reasonForIncompletion": "rejected by ${workflowType}",
                },
            },
        ),
    )
    workflow_id = await start(client, "ping")
    wf = await wait_for(client, workflow_id)
    assert wf["status"] == "FAILED"
    ev = task_by_ref(wf, "ev")
    assert ev["status"] == "FAILED"
    assert ev["reasonForIncompletion"] == "rejected by ping"


async def test_handlers_update_variables_and_terminate_workflows(
    client: httpx.AsyncClient,
) -> None:
    await define_approvals(client)
    await add_handler(
        client,
        handler(
            "cancel",
            "conductor:approver:approvals",
            {
                "action": "update_workflow_variables",
                "update_workflow_variables": {
                    "workflowId": "${target}",
                    "variables": {"decision": "${decision}"},
                },
            },
            {
                "action": "terminate_workflow",
                "terminate_workflow": {
                    "workflowId": "${target}",
                    "terminationReason": "decided ${decision}",
                },
            },
        ),
    )
    waiter_id = await start(client, "waiter")
    await start(client, "approver", {"target": waiter_id})
    waiter = await wait_for(client, waiter_id)
    assert waiter["status"] == "TERMINATED"
    assert waiter["reasonForIncompletion"] == "decided yes"
    assert waiter["variables"] == {"decision": "yes"}


# --- handler CRUD -------------------------------------------------------------------------
async def test_event_handler_crud(client: httpx.AsyncClient) -> None:
    event = "conductor:publisher:orders"
    body = handler("h1", event, start_fulfil())
    await add_handler(client, body)
    assert_error(await client.post("/api/event", json=body), 409, "h1")
    await add_handler(client, handler("h2", event, start_fulfil(), active=False))
    await add_handler(client, handler("h3", "conductor:other:q", start_fulfil()))

    everything = (await client.get("/api/event")).json()
    assert [h["name"] for h in everything] == ["h1", "h2", "h3"]
    assert everything[0]["actions"][0]["start_workflow"]["name"] == "fulfil"
    active = (await client.get(f"/api/event/{event}")).json()
    assert [h["name"] for h in active] == ["h1"]
    both = (await client.get(f"/api/event/{event}", params={"activeOnly": "false"})).json()
    assert [h["name"] for h in both] == ["h1", "h2"]

    r = await client.put("/api/event", json={**body, "active": False, "condition": "true"})
    assert r.status_code == 200 and r.content == b""
    assert (await client.get(f"/api/event/{event}")).json() == []
    assert_error(await client.put("/api/event", json=handler("nope", event, start_fulfil())), 404)

    r = await client.delete("/api/event/h1")
    assert r.status_code == 200 and r.content == b""
    assert_error(await client.delete("/api/event/h1"), 404, "h1")
    assert [h["name"] for h in (await client.get("/api/event")).json()] == ["h2", "h3"]


INVALID_HANDLERS: list[tuple[Any, list[str]]] = [
    ({"event": "conductor:a:b", "actions": [start_fulfil()]}, ["name"]),
    ({"name": "h", "actions": [start_fulfil()]}, ["event", "Missing event location"]),
    ({"name": "h", "event": "conductor:a:b"}, ["actions", "No actions specified"]),
    (handler("h", "conductor:a:b", {"action": "publish"}), ["actions[0].action", "publish"]),
    (handler("h", "conductor:a:b", start_fulfil(), condition="$.x >"), ["condition"]),
    (
        handler("h", "sqs:orders", start_fulfil()),
        ["event", "only the built-in conductor queue is available in this version"],
    ),
    (
        handler("h", "conductor:a:b", {"action": "complete_task", "complete_task": {}}),
        ["actions[0].complete_task"],
    ),
    (handler("h", "conductor:a:b", start_fulfil(), active="maybe"), ["active"]),
    (["not", "an", "object"], ["JSON object"]),
]


async def test_invalid_event_handlers_are_refused_naming_the_field(
    client: httpx.AsyncClient,
) -> None:
    for body, names in INVALID_HANDLERS:
        assert_error(await client.post("/api/event", json=body), 400, *names)
        assert_error(await client.put("/api/event", json=body), 400, *names)
    r = await client.post(
        "/api/event", content=b"{nope", headers={"content-type": "application/json"}
    )
    assert_error(r, 400, "Invalid JSON")
    assert (await client.get("/api/event")).json() == []


async def test_registration_refuses_an_event_task_on_an_external_bus(
    client: httpx.AsyncClient,
) -> None:
    definition = workflow_def("to_sqs", [event_task("pub", "sqs:orders")])
    r = await client.post("/api/metadata/workflow", json=definition)
    assert_error(r, 400, "tasks[0].sink", "sqs:orders", "only the built-in conductor queue")


# --- default status queues ----------------------------------------------------------------
async def test_queue_update_completes_or_fails_a_task_through_the_queue(
    client: httpx.AsyncClient,
) -> None:
    names = (await client.get("/api/queue/")).json()
    assert set(names) == {"COMPLETED", "FAILED"}
    assert set((await client.get("/api/queue/size")).json()) == set(names.values())

    await register(client, workflow_def("waiter", [wait_task("approval"), wait_task("review")]))
    waiter_id = await start(client, "waiter")
    r = await client.post(f"/api/queue/update/{waiter_id}/approval/COMPLETED", json={"ok": 1})
    assert r.status_code == 200 and r.content == b""
    wf = await wait_for(client, waiter_id, {"RUNNING"})
    deadline = time.monotonic() + 5
    while task_by_ref(wf, "approval")["status"] != "COMPLETED":
        assert time.monotonic() < deadline
        await asyncio.sleep(0.02)
        wf = await get_workflow(client, waiter_id)
    assert task_by_ref(wf, "approval")["outputData"]["ok"] == 1

    review = task_by_ref(await get_workflow(client, waiter_id), "review")
    r = await client.post(
        f"/api/queue/update/{waiter_id}/task/{review['taskId']}/FAILED", json={"why": "no"}
    )
    assert r.status_code == 200
    wf = await wait_for(client, waiter_id)
    assert wf["status"] == "FAILED"
    assert task_by_ref(wf, "review")["outputData"]["why"] == "no"


async def test_queue_update_with_a_status_without_a_queue_is_refused(
    client: httpx.AsyncClient,
) -> None:
    for status in ("IN_PROGRESS", "DONE"):
        r = await client.post(f"/api/queue/update/wf/ref/{status}", json={})
        assert_error(r, 400, status)
        r = await client.post(f"/api/queue/update/wf/task/t1/{status}", json={})
        assert_error(r, 400, status)
