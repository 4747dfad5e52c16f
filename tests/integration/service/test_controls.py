"""Task-level controls: concurrency and rate limits at claim time, domain fallback."""

from __future__ import annotations

from typing import Any

from legato.model import StartWorkflowRequest

from .conftest import Node


def one_task(name: str) -> dict[str, Any]:
    return {"name": f"wf_{name}", "tasks": [{"name": name, "taskReferenceName": name}]}


async def test_concurrent_exec_limit_caps_in_progress_tasks(node: Node) -> None:
    await node.define(one_task("capped"), {"name": "capped", "concurrentExecLimit": 2})
    for _ in range(5):
        await node.start("wf_capped")
    first = await node.poll("capped", count=10)
    assert len(first) == 2
    assert await node.poll("capped", count=10) == []
    await node.report(first[0])
    assert len(await node.poll("capped", count=10)) == 1


async def test_rate_limit_is_a_sliding_window(node: Node) -> None:
    await node.define(
        one_task("metered"),
        {"name": "metered", "rateLimitPerFrequency": 3, "rateLimitFrequencyInSeconds": 60},
    )
    for _ in range(8):
        await node.start("wf_metered")
    assert len(await node.poll("metered", count=10)) == 3
    node.clock.advance(30)
    assert await node.poll("metered", count=10) == []
    node.clock.advance(31)
    assert len(await node.poll("metered", count=10)) == 3


async def test_domain_fallback_prefers_a_domain_with_workers(node: Node) -> None:
    await node.define(one_task("routed"))
    request = StartWorkflowRequest(name="wf_routed", task_to_domain={"*": "blue,green"})
    await node.services.workflows.start(request)
    # Nobody polls blue: the task goes to the last domain named.
    assert await node.services.tasks.poll("routed", domain="blue") == []
    # ... but now a worker has polled blue, so the next one goes there.
    await node.services.workflows.start(request)
    [task] = await node.services.tasks.poll("routed", domain="blue")
    assert task.domain == "blue"
    [other] = await node.services.tasks.poll("routed", domain="green")
    assert other.domain == "green"


async def test_no_domain_keeps_the_plain_queue(node: Node) -> None:
    await node.define(one_task("plain"))
    await node.services.workflows.start(
        StartWorkflowRequest(name="wf_plain", task_to_domain={"plain": "NO_DOMAIN"})
    )
    [task] = await node.poll("plain")
    assert task.domain is None
