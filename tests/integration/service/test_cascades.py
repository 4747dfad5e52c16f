"""Facts that reach several workflows commit together; timers drive timeouts and delays."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from legato.errors import ConflictError
from legato.model import StartWorkflowRequest, TaskStatus, WorkflowStatus
from legato.store.postgres import PostgresStore

from .conftest import Node


def simple(ref: str, **more: Any) -> dict[str, Any]:
    return {"name": ref, "taskReferenceName": ref, "type": "SIMPLE", **more}


async def test_sub_workflow_completion_completes_the_parent(node: Node) -> None:
    await node.define(
        {"name": "child", "tasks": [simple("c1")], "outputParameters": {"v": "${c1.output.v}"}}
    )
    await node.define(
        {
            "name": "parent",
            "tasks": [
                {
                    "name": "sub",
                    "taskReferenceName": "sub",
                    "type": "SUB_WORKFLOW",
                    "subWorkflowParam": {"name": "child"},
                    "inputParameters": {"x": 1},
                },
                simple("after", inputParameters={"v": "${sub.output.v}"}),
            ],
        }
    )
    parent_id = await node.start("parent")
    parent = await node.get(parent_id)
    child_id = parent.tasks[0].sub_workflow_id
    child = await node.get(child_id)
    assert child.parent_workflow_id == parent_id and child.input == {"x": 1}
    [c1] = await node.poll("c1")
    await node.report(c1, v=42)
    child = await node.get(child_id)
    parent = await node.get(parent_id)
    assert child.status == WorkflowStatus.COMPLETED
    assert parent.tasks[0].status == TaskStatus.COMPLETED
    assert parent.tasks[0].output_data == {"v": 42, "subWorkflowId": child_id}
    [after] = await node.poll("after")
    assert after.input_data == {"v": 42}


async def test_terminating_the_parent_terminates_the_child(node: Node) -> None:
    await node.define({"name": "child2", "tasks": [simple("k1")]})
    await node.define(
        {
            "name": "parent2",
            "tasks": [
                {
                    "name": "sub",
                    "taskReferenceName": "sub",
                    "type": "SUB_WORKFLOW",
                    "subWorkflowParam": {"name": "child2"},
                }
            ],
        }
    )
    parent_id = await node.start("parent2")
    child_id = (await node.get(parent_id)).tasks[0].sub_workflow_id
    await node.services.workflows.terminate(parent_id, "no longer needed")
    child = await node.get(child_id)
    assert child.status == WorkflowStatus.TERMINATED
    assert "Parent workflow has been terminated" in (child.reason_for_incompletion or "")
    assert await node.poll("k1") == []


async def test_failure_workflow_starts_with_the_failed_execution(node: Node) -> None:
    await node.define({"name": "on_failure", "tasks": [simple("notify")]})
    await node.define(
        {
            "name": "fragile",
            "failureWorkflow": "on_failure",
            "tasks": [simple("step", retryCount=0)],
        }
    )
    wid = await node.start("fragile", {"order": 7})
    [step] = await node.poll("step")
    await node.report(step, "FAILED")
    wf = await node.get(wid)
    assert wf.status == WorkflowStatus.FAILED
    handler_id = wf.output["conductor.failure_workflow"]
    handler = await node.get(handler_id)
    assert handler.status == WorkflowStatus.RUNNING
    assert handler.input["order"] == 7 and handler.input["workflowId"] == wid
    assert handler.input["failureTaskId"] == step.task_id
    [notify] = await node.poll("notify")
    assert notify.workflow_instance_id == handler_id


async def test_retry_waits_for_its_delay(node: Node) -> None:
    await node.define(
        {"name": "retrying", "tasks": [simple("flaky")]},
        {"name": "flaky", "retryCount": 1, "retryDelaySeconds": 10},
    )
    wid = await node.start("retrying")
    [first] = await node.poll("flaky")
    await node.report(first, "FAILED")
    assert await node.poll("flaky") == []
    node.clock.advance(10)
    [second] = await node.poll("flaky")
    assert second.retry_count == 1 and second.retried_task_id == first.task_id
    await node.report(second)
    assert (await node.get(wid)).status == WorkflowStatus.COMPLETED


async def test_response_timeout_fires_from_the_timer(node: Node) -> None:
    await node.define(
        {"name": "slow", "tasks": [simple("sleepy")]},
        {"name": "sleepy", "retryCount": 1, "retryDelaySeconds": 0, "responseTimeoutSeconds": 30},
    )
    wid = await node.start("slow")
    [first] = await node.poll("sleepy")
    await node.advance(29)
    assert (await node.get(wid)).tasks[0].status == TaskStatus.IN_PROGRESS
    await node.advance(2)
    wf = await node.get(wid)
    assert wf.tasks[0].status == TaskStatus.TIMED_OUT
    [second] = await node.poll("sleepy")
    assert second.retried_task_id == first.task_id
    await node.report(first)  # the first worker finally answers: too late, nothing changes
    assert (await node.get(wid)).tasks[0].status == TaskStatus.TIMED_OUT


async def test_wait_an_hour_with_the_clock(node: Node) -> None:
    await node.define(
        {
            "name": "patient",
            "tasks": [
                {
                    "name": "w",
                    "taskReferenceName": "w",
                    "type": "WAIT",
                    "inputParameters": {"duration": "1 hours"},
                },
                simple("then"),
            ],
        }
    )
    wid = await node.start("patient")
    await node.advance(3599)
    assert await node.poll("then") == []
    await node.advance(1)
    [then] = await node.poll("then")
    assert then.workflow_instance_id == wid


async def test_workflow_timeout_from_the_timer(node: Node) -> None:
    await node.define(
        {
            "name": "deadline",
            "timeoutSeconds": 60,
            "timeoutPolicy": "TIME_OUT_WF",
            "tasks": [simple("never_polled")],
        }
    )
    wid = await node.start("deadline")
    await node.advance(61)
    wf = await node.get(wid)
    assert wf.status == WorkflowStatus.TIMED_OUT
    assert wf.tasks[0].status == TaskStatus.CANCELED
    assert await node.poll("never_polled") == []


async def test_concurrent_branch_results_complete_the_join_once(node: Node) -> None:
    branches = [[simple(f"b{i}")] for i in range(10)]
    await node.define(
        {
            "name": "wide",
            "tasks": [
                {
                    "name": "fork",
                    "taskReferenceName": "fork",
                    "type": "FORK_JOIN",
                    "forkTasks": branches,
                },
                {
                    "name": "join",
                    "taskReferenceName": "join",
                    "type": "JOIN",
                    "joinOn": [f"b{i}" for i in range(10)],
                },
                simple("tail"),
            ],
        }
    )
    wid = await node.start("wide")
    polled = [t for i in range(10) for t in await node.poll(f"b{i}")]
    await asyncio.gather(*(node.report(t, i=t.reference_task_name) for t in polled))
    wf = await node.get(wid)
    joins = [t for t in wf.tasks if t.reference_task_name == "join"]
    assert [j.status for j in joins] == [TaskStatus.COMPLETED]
    assert len(joins[0].output_data) == 10
    assert len(await node.poll("tail", count=5)) == 1


async def test_two_nodes_on_one_database_stay_consistent(make_node: Any) -> None:
    a: Node = await make_node()
    b: Node = await make_node()
    await a.define({"name": "shared", "tasks": [simple("s1"), simple("s2")]})
    await b.services.definitions.load()
    wid = await a.start("shared")
    [s1] = await b.poll("s1")  # node b claims while node a caches the workflow
    await b.report(s1, v=1)
    # Node a's cached copy is now stale; its next fact must notice and reload.
    [s2] = await a.poll("s2")
    await a.report(s2, v=2)
    wf = await b.get(wid)
    assert wf.status == WorkflowStatus.COMPLETED
    assert [t.output_data for t in wf.tasks] == [{"v": 1}, {"v": 2}]


async def test_starts_with_one_idempotency_key_on_two_nodes_start_one_workflow(
    make_node: Any,
) -> None:
    a: Node = await make_node()
    b: Node = await make_node()
    if not isinstance(a.services.store, PostgresStore):
        pytest.skip("a SQLite database serves one node")
    await a.define({"name": "idem2", "tasks": [simple("i1")]})
    await b.services.definitions.load()

    def request(key: str, strategy: str) -> StartWorkflowRequest:
        return StartWorkflowRequest(
            name="idem2", idempotency_key=key, idempotency_strategy=strategy
        )

    starts = [
        node.services.operations.start(request("k1", "RETURN_EXISTING"))
        for node in (a, b, a, b, a, b)
    ]
    ids = await asyncio.gather(*starts)
    assert len(set(ids)) == 1
    found = await a.services.store.find_workflows_by_idempotency_key("idem2", "k1")
    assert [wid for wid, _ in found] == [ids[0]]

    outcomes = await asyncio.gather(
        *(
            node.services.operations.start(request("k2", "FAIL_ON_RUNNING"))
            for node in (a, b, a, b)
        ),
        return_exceptions=True,
    )
    started = [o for o in outcomes if isinstance(o, str)]
    assert len(started) == 1
    assert all(isinstance(o, ConflictError) for o in outcomes if not isinstance(o, str))


async def test_an_http_task_held_by_a_node_that_died_is_taken_over(make_node: Any) -> None:
    a: Node = await make_node()
    b: Node = await make_node()
    await a.define(
        {
            "name": "calls",
            "tasks": [
                {
                    "name": "call",
                    "taskReferenceName": "call",
                    "type": "HTTP",
                    "inputParameters": {"http_request": {"uri": "http://x", "method": "GET"}},
                }
            ],
        }
    )
    await b.services.definitions.load()
    wid = await a.start("calls")
    [held] = await a.poll("HTTP")  # node a's runner takes the call, then node a dies
    await b.advance(35)
    assert (await b.get(wid)).tasks[0].status == TaskStatus.IN_PROGRESS
    await b.advance(2)  # past the 36 s lease
    [again] = await b.poll("HTTP")
    assert again.task_id == held.task_id
    await b.report(again, ok=True)
    wf = await b.get(wid)
    assert wf.status == WorkflowStatus.COMPLETED
    logs = await b.services.tasks.logs(held.task_id)
    assert any("offered again" in entry.log for entry in logs)


async def test_a_long_poll_whose_client_left_claims_nothing(node: Node) -> None:
    await node.define({"name": "lp", "tasks": [simple("lp1")]})

    async def gone() -> bool:
        return True

    waiting = asyncio.create_task(
        node.services.tasks.poll("lp1", worker_id="w", timeout_ms=5000, client_gone=gone)
    )
    await asyncio.sleep(0.05)
    wid = await node.start("lp")
    assert await asyncio.wait_for(waiting, 2) == []
    [task] = await node.poll("lp1")  # still there for a worker that is listening
    assert task.workflow_instance_id == wid and task.poll_count == 1
