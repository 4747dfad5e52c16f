"""Workers against a real Legato over HTTP: typed inputs, failures, heartbeats, logs."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import pydantic
import pytest
from sdk_server import ThreadedServer

from legato.client import AsyncClient, TaskDef, dsl
from legato.worker import InProgress, TaskContext, TaskError, Worker, worker_task

pytestmark = pytest.mark.timeout(60)


class Payment(pydantic.BaseModel):
    order_id: str
    amount: float = pydantic.Field(gt=0)


@worker_task("sdk_pay", task_def=TaskDef(retry_count=3, retry_delay_seconds=0))
def pay(payment: Payment, ctx: TaskContext) -> dict[str, Any]:
    ctx.log(f"charging {payment.amount} for {payment.order_id}")
    return {"receipt": f"r-{payment.order_id}"}


@worker_task("sdk_notify")
async def notify(receipt: str) -> dict[str, str]:
    await asyncio.sleep(0)
    return {"sent": receipt}


def pay_flow(name: str) -> dsl.WorkflowBuilder:
    return (
        dsl.workflow(name)
        .then(
            step := dsl.task(
                pay, input={"order_id": dsl.input("order"), "amount": dsl.input("amount")}
            )
        )
        .then(dsl.task(notify, input={"receipt": step.output("receipt")}))
        .output(sent=dsl.ref("sdk_notify").output("sent"))
    )


def worker(server: ThreadedServer, *tasks: Any, **options: Any) -> Worker:
    return Worker(
        list(tasks), server=server.url, handle_signals=False, poll_timeout_ms=200, **options
    )


async def test_sync_and_async_workers_run_a_workflow(server: ThreadedServer) -> None:
    async with AsyncClient(server.url) as client, worker(server, pay, notify):
        await client.register(pay_flow("sdk_pay_flow"))
        wf = await client.run_workflow("sdk_pay_flow", {"order": "A-1", "amount": 5}, timeout=10)
        assert wf.status == "COMPLETED", wf.reason_for_incompletion
        assert wf.output == {"sent": "r-A-1"}
        logs = await client.get_task_logs(wf.task("sdk_pay").task_id)
        assert [e["log"] for e in logs] == ["charging 5.0 for A-1"]


async def test_invalid_typed_input_fails_the_workflow_at_once(server: ThreadedServer) -> None:
    async with AsyncClient(server.url) as client, worker(server, pay, notify):
        await client.register(pay_flow("sdk_pay_invalid"))
        wf = await client.run_workflow(
            "sdk_pay_invalid", {"order": "A-2", "amount": -3}, timeout=10
        )
    assert wf.status == "FAILED"
    (attempt,) = wf.attempts("sdk_pay")  # retryCount 3, yet no retry: same input, same failure
    assert attempt.status == "FAILED_WITH_TERMINAL_ERROR"
    assert attempt.reason_for_incompletion == (
        "Invalid input for task sdk_pay: amount: Input should be greater than 0 (got -3)"
    )


async def test_non_retryable_failure(server: ThreadedServer) -> None:
    calls = []

    @worker_task("sdk_fraud", task_def=TaskDef(retry_count=3, retry_delay_seconds=0))
    def fraud(card: str) -> None:
        calls.append(card)
        raise TaskError(f"card {card} is stolen", non_retryable=True)

    async with AsyncClient(server.url) as client, worker(server, fraud):
        await client.register(
            dsl.workflow("sdk_fraud").then(dsl.task(fraud, input={"card": "4242"}))
        )
        wf = await client.run_workflow("sdk_fraud", timeout=10)
    assert wf.status == "FAILED"
    assert calls == ["4242"]
    assert wf.task("sdk_fraud").status == "FAILED_WITH_TERMINAL_ERROR"
    assert "card 4242 is stolen" in (wf.reason_for_incompletion or "")


async def test_retry_after_replaces_the_task_defs_delay(server: ThreadedServer) -> None:
    @worker_task("sdk_busy", task_def=TaskDef(retry_count=2, retry_delay_seconds=600))
    def busy(ctx: TaskContext) -> dict[str, int]:
        if ctx.retry_count == 0:
            raise TaskError("rate limited", retry_after=0)
        return {"attempt": ctx.retry_count}

    async with AsyncClient(server.url) as client, worker(server, busy):
        await client.register(dsl.workflow("sdk_busy").then(dsl.task(busy)))
        wf = await client.run_workflow("sdk_busy", timeout=10)  # not 600 s
    assert wf.status == "COMPLETED"
    assert [t.status for t in wf.attempts("sdk_busy")] == ["FAILED", "COMPLETED"]


async def test_in_progress_is_offered_again(server: ThreadedServer) -> None:
    @worker_task("sdk_poll_later")
    def later(ctx: TaskContext) -> Any:
        if ctx.poll_count == 1:
            return InProgress(0, output={"phase": 1})
        return {"phase": 2, "polls": ctx.poll_count}

    async with AsyncClient(server.url) as client, worker(server, later):
        await client.register(dsl.workflow("sdk_poll_later").then(dsl.task(later)))
        wf = await client.run_workflow("sdk_poll_later", timeout=10)
    assert wf.status == "COMPLETED"
    (task,) = wf.tasks
    assert task.output_data == {"phase": 2, "polls": 2}


async def test_heartbeats_keep_a_long_task_alive_past_its_response_timeout(
    server: ThreadedServer,
) -> None:
    """Two tasks run 2.4 s with responseTimeoutSeconds=1: the one that heartbeats completes,
    the one that does not is timed out by the server (and, with no retries, fails)."""

    @worker_task("sdk_long_beat")
    async def long_beat() -> dict[str, bool]:
        await asyncio.sleep(2.4)
        return {"done": True}

    @worker_task("sdk_long_silent", heartbeat=False)
    async def long_silent() -> dict[str, bool]:
        await asyncio.sleep(2.4)
        return {"done": True}

    defs = [
        TaskDef(retry_count=0, response_timeout_seconds=1, timeout_policy="TIME_OUT_WF").to_json(n)
        for n in ("sdk_long_beat", "sdk_long_silent")
    ]
    async with AsyncClient(server.url) as client, worker(server, long_beat, long_silent):
        await client.register_task_defs(defs)
        await client.register(dsl.workflow("sdk_beat").then(dsl.task(long_beat)))
        await client.register(dsl.workflow("sdk_silent").then(dsl.task(long_silent)))
        t0 = time.monotonic()
        beating, silent = await asyncio.gather(
            client.run_workflow("sdk_beat", timeout=15),
            client.run_workflow("sdk_silent", timeout=15),
        )
    assert beating.status == "COMPLETED"
    assert beating.task("sdk_long_beat").retry_count == 0
    assert time.monotonic() - t0 >= 2.4
    assert silent.status == "TIMED_OUT"
    assert silent.task("sdk_long_silent").status == "TIMED_OUT"


async def test_a_slow_task_type_does_not_block_a_fast_one(server: ThreadedServer) -> None:
    release = threading.Event()

    @worker_task("sdk_slow", concurrency=2)
    def slow() -> None:
        release.wait(20)

    @worker_task("sdk_fast", concurrency=2)
    async def fast(i: int) -> dict[str, int]:
        return {"i": i}

    async with AsyncClient(server.url) as client, worker(server, slow, fast):
        await client.register(dsl.workflow("sdk_slow_flow").then(dsl.task(slow)))
        await client.register(
            dsl.workflow("sdk_fast_flow").then(dsl.task(fast, input={"i": dsl.input("i")}))
        )
        slow_ids = [await client.start_workflow("sdk_slow_flow") for _ in range(4)]
        fast_runs = await asyncio.gather(
            *(client.run_workflow("sdk_fast_flow", {"i": i}, timeout=10) for i in range(10))
        )
        assert [wf.output for wf in fast_runs] == [{"i": i} for i in range(10)]
        slow_now = [await client.get_workflow(i) for i in slow_ids]
        assert sorted(wf.tasks[0].status for wf in slow_now) == [
            "IN_PROGRESS",
            "IN_PROGRESS",
            "SCHEDULED",
            "SCHEDULED",
        ]
        release.set()
        done = [await client.wait_for_workflow(i, timeout=10) for i in slow_ids]
    assert {wf.status for wf in done} == {"COMPLETED"}
