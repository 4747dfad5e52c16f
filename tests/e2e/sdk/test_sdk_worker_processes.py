"""SDK workers against a real server process: SIGTERM during work, a server restart."""

from __future__ import annotations

import asyncio
import logging
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sdk_processes import ServerProcess, WorkerProcess

from legato.client import AsyncClient, Client, TaskDef, dsl
from legato.worker import Worker, worker_task

pytestmark = pytest.mark.timeout(120)

WORKERS = """
import asyncio
import time

from legato.worker import worker_task


@worker_task("e2e_sync", concurrency=4)
def slow_sync(i: int) -> dict:
    time.sleep(0.5)
    return {"i": i}


@worker_task("e2e_async", concurrency=4)
async def slow_async(i: int) -> dict:
    await asyncio.sleep(0.5)
    return {"i": i}
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One server for the module (the restart test leaves it running again)."""
    process = ServerProcess(tmp_path_factory.mktemp("sdk-e2e"))
    process.start()
    yield process
    process.stop()


def wait_until(predicate: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def test_sigterm_during_work_loses_no_task(server: ServerProcess, tmp_path: Path) -> None:
    """Worker A gets SIGTERM with time to finish its tasks; worker B with too little, so it
    hands its tasks back; worker C finishes the rest. Nothing waits for a response timeout
    (300 s here): every workflow completes, each with its one and only task attempt."""
    (tmp_path / "e2e_workers.py").write_text(textwrap.dedent(WORKERS))
    per_type = 12
    with Client(server.url) as client:
        client.register_task_defs(
            [
                TaskDef(retry_count=0, response_timeout_seconds=300).to_json(n)
                for n in ("e2e_sync", "e2e_async")
            ]
        )
        for name in ("e2e_sync", "e2e_async"):
            client.register(
                dsl.workflow(f"wf_{name}").then(dsl.task(name, input={"i": dsl.input("i")}))
            )
        ids = [
            client.start_workflow(f"wf_{name}", {"i": i})
            for name in ("e2e_sync", "e2e_async")
            for i in range(per_type)
        ]

        def completed() -> int:
            return sum(
                client.get_workflow(i, include_tasks=False).status == "COMPLETED" for i in ids
            )

        a = WorkerProcess(tmp_path, "e2e_workers", server.url, "--shutdown-grace", "10")
        wait_until(lambda: completed() >= 4, 30, "worker A to complete some tasks")
        a.terminate()  # mid-batch: up to 8 tasks running
        assert a.wait() == 0, a.log()
        assert "handing back" not in a.log()

        b = WorkerProcess(tmp_path, "e2e_workers", server.url, "--shutdown-grace", "0.1")

        def running_on_b() -> int:
            tasks = [t for i in ids for t in client.get_workflow(i).tasks]
            mine = f"-{b.process.pid}"
            return sum(
                t.status == "IN_PROGRESS" and (t.worker_id or "").endswith(mine) for t in tasks
            )

        wait_until(lambda: running_on_b() >= 1, 30, "worker B to take tasks")
        b.terminate()
        assert b.wait() == 0, b.log()
        assert "handing back" in b.log(), b.log()

        c = WorkerProcess(tmp_path, "e2e_workers", server.url)
        try:
            wait_until(lambda: completed() == len(ids), 60, "every workflow to complete")
        finally:
            c.terminate()
            c.wait()
        workflows = [client.get_workflow(i) for i in ids]
    for wf in workflows:
        (task,) = wf.tasks  # one attempt: no retry, no timeout
        assert task.status == "COMPLETED"
    assert max(wf.tasks[0].poll_count for wf in workflows) >= 2  # some were handed back


async def test_a_worker_reconnects_when_the_server_restarts(
    server: ServerProcess, caplog: pytest.LogCaptureFixture
) -> None:
    @worker_task("e2e_echo")
    async def echo(i: int) -> dict[str, int]:
        return {"i": i}

    caplog.set_level(logging.INFO, logger="legato.worker")
    flow = dsl.workflow("wf_echo").then(dsl.task(echo, input={"i": dsl.input("i")}))
    worker = Worker([echo], server=server.url, handle_signals=False, max_backoff_seconds=0.5)
    async with AsyncClient(server.url) as client, worker:
        await client.register(flow)
        first = await client.run_workflow(flow, {"i": 1}, timeout=10)
        assert first.status == "COMPLETED"

        await asyncio.to_thread(server.kill)  # the server dies under the worker
        await asyncio.sleep(1.0)
        await asyncio.to_thread(server.start)  # same port, same database

        results = await asyncio.gather(
            *(client.run_workflow(flow, {"i": i}, timeout=20) for i in range(2, 7))
        )
    assert [wf.output for wf in results] == [{"i": i} for i in range(2, 7)]
    messages = [r.getMessage() for r in caplog.records if r.name == "legato.worker"]
    assert any("cannot poll" in m for m in messages), messages
    assert any("answers again" in m for m in messages), messages
