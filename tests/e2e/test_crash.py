"""Crash safety: SIGKILL the server mid-run, start it again, and lose nothing."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.timeout(180)

TASKS = [f"crash_t{i}" for i in range(1, 6)]
WORKFLOWS = 100


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(port: int, db: str, log: Path) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "legato.cli", "server", "--port", str(port), "--db", db]
    env = {**os.environ, "LEGATO_TIMER_INTERVAL_MS": "100", "LEGATO_LOG_LEVEL": "warning"}
    with log.open("ab") as out:
        return subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env)


async def wait_healthy(client: httpx.AsyncClient) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if (await client.get("/health")).status_code == 200:
                return
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.05)
    raise AssertionError("server did not come up")


class Workers:
    """Workers that keep going through a server crash: every call is retried until it lands."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.delivered: list[str] = []  # every task id handed to a worker
        self.reported: dict[str, dict[str, Any]] = {}  # task id -> output we reported
        self.completed_tasks = 0
        self.jobs: list[asyncio.Task[None]] = []

    def start(self) -> None:
        for name in TASKS:
            for i in range(2):
                self.jobs.append(asyncio.create_task(self._loop(name, f"{name}-w{i}")))

    async def stop(self) -> None:
        for job in self.jobs:
            job.cancel()
        await asyncio.gather(*self.jobs, return_exceptions=True)

    async def _call(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        while True:
            try:
                r = await self.client.request(method, url, **kwargs)
                if r.status_code < 500:
                    return r
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.05)

    async def _loop(self, name: str, worker: str) -> None:
        params = {"workerid": worker, "count": 10, "timeout": 500}
        while True:
            r = await self._call("GET", f"/api/tasks/poll/batch/{name}", params=params)
            assert r.status_code == 200, r.text
            for task in r.json():
                self.delivered.append(task["taskId"])
                output = {"by": worker, "taskId": task["taskId"], "n": task["inputData"]["n"]}
                self.reported[task["taskId"]] = output
                await asyncio.sleep(0.002)  # a little work
                result = {
                    "workflowInstanceId": task["workflowInstanceId"],
                    "taskId": task["taskId"],
                    "status": "COMPLETED",
                    "outputData": output,
                    "workerId": worker,
                }
                r2 = await self._call("POST", "/api/tasks", json=result)
                assert r2.status_code == 200, r2.text
                self.completed_tasks += 1


async def test_sigkill_mid_run_loses_nothing(tmp_path: Path) -> None:
    port = free_port()
    db = f"sqlite:///{tmp_path / 'crash.db'}"
    log = tmp_path / "server.log"
    server = start_server(port, db, log)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            await wait_healthy(client)
            task_defs = [
                {
                    "name": n,
                    "retryCount": 2,
                    "retryDelaySeconds": 0,
                    "responseTimeoutSeconds": 3,
                    "timeoutSeconds": 0,
                }
                for n in TASKS
            ]
            assert (await client.post("/api/metadata/taskdefs", json=task_defs)).status_code == 200
            definition = {
                "name": "crash_flow",
                "version": 1,
                "tasks": [
                    {
                        "name": n,
                        "taskReferenceName": n,
                        "inputParameters": {"n": "${workflow.input.n}"},
                    }
                    for n in TASKS
                ],
            }
            assert (await client.post("/api/metadata/workflow", json=definition)).status_code == 200
            ids = []
            for i in range(WORKFLOWS):
                r = await client.post("/api/workflow/crash_flow", json={"n": i})
                assert r.status_code == 200, r.text
                ids.append(r.text)

            workers = Workers(client)
            workers.start()
            while workers.completed_tasks < WORKFLOWS * 5 * 0.4:
                await asyncio.sleep(0.005)
            server.send_signal(signal.SIGKILL)
            server.wait(10)
            killed_at = workers.completed_tasks
            await asyncio.sleep(0.3)
            server = start_server(port, db, log)
            await wait_healthy(client)

            deadline = time.monotonic() + 90
            pending = set(ids)
            while pending and time.monotonic() < deadline:
                for wf_id in list(pending):
                    r = await client.get(f"/api/workflow/{wf_id}", params={"includeTasks": "false"})
                    if r.status_code == 200 and r.json()["status"] != "RUNNING":
                        pending.discard(wf_id)
                await asyncio.sleep(0.2)
            await workers.stop()
            assert not pending, f"{len(pending)} workflows did not finish after the crash"
            assert 0 < killed_at < WORKFLOWS * 5

            # Nothing delivered twice, nothing completed twice, every output the worker's own.
            assert not [t for t, c in Counter(workers.delivered).items() if c > 1]
            for i, wf_id in enumerate(ids):
                wf = (await client.get(f"/api/workflow/{wf_id}")).json()
                assert wf["status"] == "COMPLETED", (
                    wf_id,
                    wf["status"],
                    wf.get("reasonForIncompletion"),
                )
                completed = [t for t in wf["tasks"] if t["status"] == "COMPLETED"]
                assert sorted(t["referenceTaskName"] for t in completed) == sorted(TASKS)
                for t in completed:
                    assert t["outputData"] == workers.reported[t["taskId"]]
                    assert t["outputData"]["n"] == i
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
