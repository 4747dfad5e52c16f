"""The worker runtime against an in-memory task server: concurrency, isolation between task
types, heartbeats, shutdown, reconnecting, memory."""

from __future__ import annotations

import asyncio
import gc
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from sdk_fake_transport import FakeTransport, new_task

from legato.client.errors import NotFoundError
from legato.worker import TaskContext, Worker, worker_task

pytestmark = pytest.mark.timeout(30)


def make_worker(transport: FakeTransport, *tasks: Any, **options: Any) -> Worker:
    options = {
        "poll_timeout_ms": 50,
        "handle_signals": False,
        "max_backoff_seconds": 0.05,
        **options,
    }
    return Worker(list(tasks), transport=transport, **options)


async def until(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.005)


@pytest.fixture
async def transport() -> AsyncIterator[FakeTransport]:
    yield FakeTransport()


async def test_sync_and_async_workers_side_by_side(transport: FakeTransport) -> None:
    threads: set[str] = set()

    @worker_task("sync_t", concurrency=4)
    def sync_fn(n: int) -> dict[str, Any]:
        threads.add(threading.current_thread().name)
        return {"double": n * 2}

    @worker_task("async_t", concurrency=4)
    async def async_fn(n: int) -> dict[str, Any]:
        await asyncio.sleep(0.001)
        return {"triple": n * 3}

    transport.put("sync_t", 20, inputData={"n": 2})
    transport.put("async_t", 20, inputData={"n": 2})
    async with make_worker(transport, sync_fn, async_fn) as worker:
        await until(lambda: worker.stats.completed == 40)
    outputs = [r["outputData"] for r in transport.results]
    assert outputs.count({"double": 4}) == 20 and outputs.count({"triple": 6}) == 20
    assert all(name.startswith("legato-sync_t") for name in threads)


async def test_a_slow_task_type_does_not_block_a_fast_one(transport: FakeTransport) -> None:
    release = threading.Event()

    @worker_task("slow", concurrency=2)
    def slow() -> None:
        release.wait(10)

    @worker_task("fast", concurrency=2)
    async def fast() -> None:
        return None

    transport.put("slow", 10)
    transport.put("fast", 50)
    async with make_worker(transport, slow, fast) as worker:
        await until(lambda: transport.statuses("fast").count("COMPLETED") == 50)
        assert transport.statuses("slow") == []  # both slow slots still busy
        release.set()
        await until(lambda: worker.stats.completed == 60)


async def test_concurrency_limits_what_is_polled_and_run(transport: FakeTransport) -> None:
    running = 0
    most = 0

    @worker_task("limited", concurrency=3)
    async def limited() -> None:
        nonlocal running, most
        running += 1
        most = max(most, running)
        await asyncio.sleep(0.01)
        running -= 1

    transport.put("limited", 30)
    async with make_worker(transport, limited) as worker:
        await until(lambda: worker.stats.completed == 30)
    assert most == 3
    assert max(count for _, count in transport.polls) == 3


async def test_long_tasks_heartbeat_with_extend_lease(transport: FakeTransport) -> None:
    @worker_task("long", heartbeat=0.05)
    async def long(ctx: TaskContext) -> dict[str, bool]:
        ctx.log("started")
        await asyncio.sleep(0.4)
        return {"done": True}

    (task,) = transport.put("long")
    async with make_worker(transport, long) as worker:
        await until(lambda: worker.stats.completed == 1)
    beats = [r for r in transport.results if r.get("extendLease")]
    assert len(beats) >= 2
    assert all(b["status"] == "IN_PROGRESS" and b["taskId"] == task["taskId"] for b in beats)
    assert beats[0]["logs"][0]["log"] == "started"  # logs travel with the next heartbeat
    assert transport.results[-1]["status"] == "COMPLETED"


async def test_automatic_heartbeats_follow_the_response_timeout(transport: FakeTransport) -> None:
    @worker_task("quick_timeout")
    def blocking() -> None:
        time.sleep(0.75)

    transport.put("quick_timeout", responseTimeoutSeconds=1)  # a heartbeat every 1/3 s
    async with make_worker(transport, blocking) as worker:
        await until(lambda: worker.stats.completed == 1)
    assert sum(1 for r in transport.results if r.get("extendLease")) >= 2


async def test_a_function_can_heartbeat_itself_from_its_thread(transport: FakeTransport) -> None:
    @worker_task("manual", heartbeat=False)
    def manual(ctx: TaskContext) -> None:
        for _ in range(3):
            ctx.heartbeat()
            time.sleep(0.02)

    transport.put("manual")
    async with make_worker(transport, manual) as worker:
        await until(lambda: worker.stats.completed == 1)
    assert sum(1 for r in transport.results if r.get("extendLease")) == 3


async def test_stop_lets_running_tasks_finish(transport: FakeTransport) -> None:
    started = asyncio.Event()

    @worker_task("finishing", concurrency=5)
    async def finishing() -> dict[str, bool]:
        started.set()
        await asyncio.sleep(0.2)
        return {"ok": True}

    transport.put("finishing", 5)
    worker = make_worker(transport, finishing, shutdown_grace_seconds=5)
    await worker.__aenter__()
    await started.wait()
    await worker.__aexit__(None, None, None)
    assert transport.statuses() == ["COMPLETED"] * 5
    assert worker.stats.handed_back == 0


async def test_tasks_still_running_after_the_grace_are_handed_back(
    transport: FakeTransport,
) -> None:
    blocked = threading.Event()

    @worker_task("stuck_async", concurrency=2)
    async def stuck_async() -> None:
        await asyncio.sleep(30)

    @worker_task("stuck_sync", concurrency=2)
    def stuck_sync(ctx: TaskContext) -> None:
        while not ctx.stopping:
            time.sleep(0.01)
        blocked.wait(0.2)

    tasks = transport.put("stuck_async", 2) + transport.put("stuck_sync", 2)
    worker = make_worker(transport, stuck_async, stuck_sync, shutdown_grace_seconds=0.1)
    await worker.__aenter__()
    await until(lambda: sum(len(q) for q in transport.queues.values()) == 0)
    await asyncio.sleep(0.05)
    t0 = time.monotonic()
    await worker.__aexit__(None, None, None)
    assert time.monotonic() - t0 < 2
    handed = [r for r in transport.results if r["status"] == "IN_PROGRESS"]
    assert sorted(r["taskId"] for r in handed) == sorted(t["taskId"] for t in tasks)
    assert all(r["callbackAfterSeconds"] == 0 and not r.get("extendLease") for r in handed)
    assert worker.stats.handed_back == 4
    await asyncio.sleep(0.3)  # the sync functions return; their results are not reported
    assert len(transport.results) == 4


async def test_a_second_stop_skips_the_grace(transport: FakeTransport) -> None:
    @worker_task("forever")
    async def forever() -> None:
        await asyncio.sleep(30)

    transport.put("forever")
    worker = make_worker(transport, forever, shutdown_grace_seconds=30)
    await worker.__aenter__()
    await until(lambda: not transport.queues["forever"])
    worker.stop()
    await asyncio.sleep(0.1)
    worker.stop(now=True)
    await asyncio.wait_for(worker.__aexit__(None, None, None), 5)
    assert transport.statuses() == ["IN_PROGRESS"]


async def test_tasks_claimed_while_stopping_are_handed_back(transport: FakeTransport) -> None:
    @worker_task("late")
    async def late() -> None:
        return None

    worker = make_worker(transport, late)
    await worker.__aenter__()
    transport.poll_delay = 0.2  # the next poll is in flight when the stop begins
    await asyncio.sleep(0.05)
    (task,) = transport.put("late")
    await asyncio.sleep(0.01)
    await worker.__aexit__(None, None, None)
    assert [(r["taskId"], r["status"]) for r in transport.results] == [
        (task["taskId"], "IN_PROGRESS")
    ]


async def test_the_worker_reconnects_when_the_server_is_back(
    transport: FakeTransport, caplog: pytest.LogCaptureFixture
) -> None:
    @worker_task("patient")
    async def patient() -> None:
        return None

    transport.down = True
    caplog.set_level(logging.INFO, logger="legato.worker")
    async with make_worker(transport, patient) as worker:
        await asyncio.sleep(0.2)
        transport.put("patient", 3)
        transport.down = False
        await until(lambda: worker.stats.completed == 3)
    messages = [r.getMessage() for r in caplog.records]
    assert any("cannot poll" in m and "retrying with backoff" in m for m in messages)
    assert any("answers again" in m for m in messages)


async def test_reports_are_retried_until_the_server_has_them(transport: FakeTransport) -> None:
    @worker_task("reported")
    async def reported() -> None:
        return None

    transport.fail_updates = 3
    transport.put("reported")
    async with make_worker(transport, reported) as worker:
        await until(lambda: worker.stats.completed == 1)
    assert transport.statuses() == ["COMPLETED"]


async def test_output_without_json_form_fails_the_task(transport: FakeTransport) -> None:
    @worker_task("weird")
    def weird() -> dict[str, Any]:
        return {"when": object()}

    transport.put("weird")
    async with make_worker(transport, weird) as worker:
        await until(lambda: worker.stats.failed == 1)
    (result,) = transport.results
    assert result["status"] == "FAILED_WITH_TERMINAL_ERROR"
    assert result["reasonForIncompletion"].startswith("Task output is not JSON-serializable")


async def test_a_refused_result_is_dropped_and_frees_the_slot(
    transport: FakeTransport, caplog: pytest.LogCaptureFixture
) -> None:
    @worker_task("gone", concurrency=1)
    async def gone() -> None:
        return None

    refused = []

    def refuse(result: dict[str, Any]) -> None:
        if not refused:
            refused.append(result)
            raise NotFoundError("No such task", status_code=404)

    transport.on_update = refuse
    transport.put("gone", 2)
    async with make_worker(transport, gone) as worker:
        await until(lambda: worker.stats.completed == 1)
    assert any("refused the result" in r.getMessage() for r in caplog.records)


def test_worker_arguments_are_checked() -> None:
    @worker_task("a")
    def a() -> None: ...

    with pytest.raises(ValueError, match="at least one"):
        Worker([])
    with pytest.raises(ValueError, match="more than one worker for task type a"):
        Worker([a, a])
    with pytest.raises(ValueError, match="at most one"):
        Worker([a], server="http://x", transport=FakeTransport())


async def test_no_memory_growth_over_100_000_tasks(transport: FakeTransport) -> None:
    @worker_task("noop", concurrency=64)
    async def noop(n: int) -> dict[str, int]:
        return {"n": n}

    def tasks() -> Any:
        n = 0
        while True:
            n += 1
            yield new_task("noop", inputData={"n": n}, responseTimeoutSeconds=3600)

    transport.source = tasks()
    transport.keep_results = False
    async with make_worker(transport, noop) as worker:
        await until(lambda: transport.updates >= 10_000, timeout=20)
        gc.collect()
        baseline = len(gc.get_objects())
        await until(lambda: transport.updates >= 100_000, timeout=25)
        gc.collect()
        grown = len(gc.get_objects()) - baseline
    assert worker.stats.completed >= 100_000
    assert grown < 2_000, f"{grown} more objects after 90,000 more tasks"
