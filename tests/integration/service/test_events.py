"""The event runner on a real store: at-least-once delivery, redelivery, leases, retries."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from legato.errors import StorageError
from legato.events.model import EventHandler
from legato.model import StartWorkflowRequest
from legato.runners.events import LEASE_MS, EventRunner
from legato.store.base import Changeset, EventExecution, EventMessage
from legato.store.sqlite_events import published

from .conftest import Node

EVENT = "conductor:publisher:out"


def publisher() -> dict[str, Any]:
    return {
        "name": "publisher",
        "version": 1,
        "tasks": [
            {
                "name": "pub",
                "taskReferenceName": "pub",
                "type": "EVENT",
                "sink": "conductor:out",
                "inputParameters": {"n": "${workflow.input.n}"},
            }
        ],
    }


def collector() -> dict[str, Any]:
    return {
        "name": "collector",
        "version": 1,
        "variables": {"seen": []},
        "tasks": [{"name": "w", "taskReferenceName": "w", "type": "WAIT"}],
    }


async def collecting(node: Node) -> str:
    """Define both workflows and start a collector: its id."""
    await node.define(publisher())
    await node.define(collector())
    return await node.start("collector")


async def setup(node: Node, *actions: dict[str, Any], **fields: Any) -> EventRunner:
    await node.define(publisher())
    await node.define(collector())
    await node.services.events.create(
        EventHandler.model_validate(
            {"name": "h", "event": EVENT, "active": True, "actions": list(actions), **fields}
        )
    )
    return EventRunner(node.services)


def appender(workflow_id: str) -> dict[str, Any]:
    return {
        "action": "update_workflow_variables",
        "update_workflow_variables": {
            "workflowId": workflow_id,
            "variables": {"seen": "${n}"},
            "appendArray": True,
        },
    }


async def publish(node: Node, n: int = 1) -> tuple[str, str]:
    """Run the publisher: (its workflow id, the message id = the EVENT task's id)."""
    wid = await node.start("publisher", {"n": n})
    wf = await node.get(wid)
    return wid, wf.tasks[0].task_id


async def test_a_processed_message_is_acknowledged(node: Node) -> None:
    target = await collecting(node)
    runner = await setup(node, appender(target))
    _, message_id = await publish(node, 5)
    assert await runner.run_once() == 1
    assert (await node.get(target)).variables == {"seen": [5]}
    assert await runner.run_once() == 0  # gone
    [execution] = await node.services.store.list_event_executions(message_id)
    assert (execution.id, execution.status, execution.action) == (
        f"{message_id}_0",
        "COMPLETED",
        "update_workflow_variables",
    )


async def test_a_redelivered_message_does_not_run_its_actions_twice(node: Node) -> None:
    target = await collecting(node)
    runner = await setup(node, appender(target))
    _, message_id = await publish(node, 5)
    await runner.run_once()
    # The same message again (as after a lease that expired before the acknowledgement).
    stored = await node.services.store.list_event_executions(message_id)
    redelivered = EventMessage(message_id, EVENT, {"n": 5}, node.clock.now_ms())
    await node.services.store.commit(Changeset(events=[redelivered]))
    assert await runner.run_once() == 1
    assert (await node.get(target)).variables == {"seen": [5]}
    assert await node.services.store.list_event_executions(message_id) == stored


async def test_an_action_left_in_progress_by_a_crash_runs_again_exactly_once(node: Node) -> None:
    runner = await setup(
        node, {"action": "start_workflow", "start_workflow": {"name": "collector"}}
    )
    _, message_id = await publish(node)
    # A previous delivery recorded the execution, then the node died before starting.
    crashed = EventExecution(
        f"{message_id}_0", message_id, "h", EVENT, node.clock.now_ms(), "IN_PROGRESS"
    )
    assert await node.services.store.add_event_execution(crashed) is None
    await runner.run_once()
    [execution] = await node.services.store.list_event_executions(message_id)
    assert execution.status == "COMPLETED"
    started = execution.output["workflowId"]
    child = await node.get(started)
    assert child.workflow_name == "collector" and child.event == EVENT
    # Delivered again while IN_PROGRESS (say the lease ran out): the same workflow, not two.
    await node.services.store.update_event_execution(crashed)
    await node.services.store.commit(
        Changeset(events=[EventMessage(message_id, EVENT, {}, node.clock.now_ms())])
    )
    await runner.run_once()
    [again] = await node.services.store.list_event_executions(message_id)
    assert again.output == {"workflowId": started}


async def test_a_leased_message_comes_back_when_its_lease_expires(node: Node) -> None:
    store = node.services.store
    await store.commit(Changeset(events=[EventMessage("m1", EVENT, {}, node.clock.now_ms())]))
    [first] = await store.claim_events(node.clock.now_ms(), 10, LEASE_MS)
    assert first.deliveries == 1
    assert await store.claim_events(node.clock.now_ms(), 10, LEASE_MS) == []
    node.clock.advance(LEASE_MS / 1000)
    [second] = await store.claim_events(node.clock.now_ms(), 10, LEASE_MS)
    assert (second.message_id, second.deliveries) == ("m1", 2)
    await store.ack_events(["m1"])
    node.clock.advance(LEASE_MS / 1000)
    assert await store.claim_events(node.clock.now_ms(), 10, LEASE_MS) == []


async def test_a_transient_failure_delivers_the_message_again_later(
    node: Node, monkeypatch: pytest.MonkeyPatch
) -> None:
    runner = await setup(
        node, {"action": "start_workflow", "start_workflow": {"name": "collector"}}
    )
    workflows = node.services.workflows
    real_start = workflows.start
    calls: list[str] = []

    async def flaky_start(request: StartWorkflowRequest, **kw: Any) -> str:
        calls.append(request.name)
        if len(calls) == 1:
            raise StorageError("database is locked")
        return await real_start(request, **kw)

    _, message_id = await publish(node)
    monkeypatch.setattr(workflows, "start", flaky_start)
    assert await runner.run_once() == 1
    [pending] = await node.services.store.list_event_executions(message_id)
    assert pending.status == "IN_PROGRESS"
    assert await runner.run_once() == 0  # delayed, not yet visible
    node.clock.advance(1)
    assert await runner.run_once() == 1
    [done] = await node.services.store.list_event_executions(message_id)
    assert done.status == "COMPLETED" and calls == ["collector", "collector"]


async def test_a_failing_action_is_recorded_and_the_message_acknowledged(node: Node) -> None:
    runner = await setup(
        node,
        {"action": "start_workflow", "start_workflow": {"name": "no_such_workflow"}},
        {"action": "terminate_workflow", "terminate_workflow": {"workflowId": "${nope}"}},
    )
    _, message_id = await publish(node)
    await runner.run_once()
    executions = await node.services.store.list_event_executions(message_id)
    assert [(e.status, e.action) for e in executions] == [
        ("FAILED", "start_workflow"),
        ("FAILED", "terminate_workflow"),
    ]
    assert "no_such_workflow" in executions[0].output["exception"]
    assert await runner.run_once() == 0


async def test_inactive_handlers_and_other_events_are_not_run(node: Node) -> None:
    target = await collecting(node)
    runner = await setup(node, appender(target), active=False)
    await node.services.events.create(
        EventHandler.model_validate(
            {
                "name": "other",
                "event": "conductor:publisher:elsewhere",
                "active": True,
                "actions": [appender(target)],
            }
        )
    )
    _, message_id = await publish(node)
    assert await runner.run_once() == 1
    assert await node.services.store.list_event_executions(message_id) == []
    assert (await node.get(target)).variables == {"seen": []}


async def test_the_runner_stops_when_cancelled_as_a_message_arrives(node: Node) -> None:
    runner = EventRunner(node.services)
    loop_task = asyncio.create_task(runner.run())
    for _ in range(20):  # let it reach its idle wait
        await asyncio.sleep(0)
    # A publication wakes the runner in the same loop turn as the cancellation (Python 3.11's
    # wait_for then returns instead of raising).
    published(node.services.store._wakeups, [EventMessage("m1", EVENT, {}, 0)])  # type: ignore[attr-defined]
    loop_task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(loop_task, 5)
