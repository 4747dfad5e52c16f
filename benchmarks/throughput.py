"""Throughput and latency of Legato on SQLite, with Python workers batch long-polling over HTTP.

Runs a real server process, registers a workflow of 5 SIMPLE tasks, starts N workflows and lets
worker coroutines (in this process) poll `/api/tasks/poll/batch/...` and report with
`POST /api/tasks`. Prints completed workflows/s, tasks/s, p50/p99 start-to-complete latency, the
server's peak RSS, the SQLite floor (committed single-row transactions/s from Python with the
same durability settings) and the ratio, then the median latency of one workflow run alone.

    python benchmarks/throughput.py [--workflows 1000] [--port 8765]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import aiohttp
import httpx
import orjson
import psutil
import uvloop

_JSON = {"Content-Type": "application/json"}

TASKS = [f"bench_t{i}" for i in range(1, 6)]
WORKFLOW = {
    "name": "bench_5",
    "version": 1,
    "schemaVersion": 2,
    "ownerEmail": "bench@example.com",
    "tasks": [
        {
            "name": name,
            "taskReferenceName": name,
            "type": "SIMPLE",
            "inputParameters": {"n": "${workflow.input.n}"},
        }
        for name in TASKS
    ],
    "outputParameters": {"last": "${bench_t5.output.done}"},
}


def start_server(port: int, db: str, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "LEGATO_LOG_LEVEL": "warning"}
    cmd = [sys.executable, "-m", "legato.cli", "server", "--port", str(port), "--db", db]
    with log.open("wb") as out:
        return subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env)


async def wait_healthy(client: httpx.AsyncClient, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if (await client.get("/health")).status_code == 200:
                return
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.1)
    raise SystemExit("server did not become healthy")


class PeakRss:
    def __init__(self, pid: int) -> None:
        self.proc = psutil.Process(pid)
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.peak = max(self.peak, self.proc.memory_info().rss)
            except psutil.Error:
                return
            self._stop.wait(0.05)

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        return self.peak


class Workers:
    """One long-polling loop per task type (several per type), reporting each task.

    Workers use aiohttp: with one client process sharing two cores with the server, the client
    library's own cost decides how much load a benchmark can offer.
    """

    def __init__(self, base: str, per_type: int, batch: int) -> None:
        self.base = base
        self.session: aiohttp.ClientSession | None = None
        self.per_type = per_type
        self.batch = batch
        self.done_at: dict[str, float] = {}
        self.waiters: dict[str, asyncio.Future[float]] = {}
        self.tasks_done = 0
        self._jobs: list[asyncio.Task[None]] = []

    def start(self) -> None:
        self.session = aiohttp.ClientSession(
            self.base,
            connector=aiohttp.TCPConnector(limit=400),
            json_serialize=lambda o: orjson.dumps(o).decode(),
        )
        for name in TASKS:
            for i in range(self.per_type):
                self._jobs.append(asyncio.create_task(self._loop(name, f"{name}-{i}")))

    async def stop(self) -> None:
        for job in self._jobs:
            job.cancel()
        await asyncio.gather(*self._jobs, return_exceptions=True)
        if self.session is not None:
            await self.session.close()

    async def _loop(self, name: str, worker_id: str) -> None:
        url = f"/api/tasks/poll/batch/{name}"
        params = {"workerid": worker_id, "count": self.batch, "timeout": 1000}
        assert self.session is not None
        while True:
            async with self.session.get(url, params=params) as r:
                r.raise_for_status()
                tasks = orjson.loads(await r.read())
            if tasks:
                await asyncio.gather(*(self._report(name, t, worker_id) for t in tasks))

    async def _report(self, name: str, task: dict, worker_id: str) -> None:  # type: ignore[type-arg]
        result = {
            "workflowInstanceId": task["workflowInstanceId"],
            "taskId": task["taskId"],
            "status": "COMPLETED",
            "outputData": {"done": name},
            "workerId": worker_id,
        }
        assert self.session is not None
        async with self.session.post("/api/tasks", data=orjson.dumps(result), headers=_JSON) as r:
            r.raise_for_status()
            await r.read()
        self.tasks_done += 1
        if name == TASKS[-1]:
            wf_id = task["workflowInstanceId"]
            now = time.perf_counter()
            self.done_at[wf_id] = now
            waiter = self.waiters.pop(wf_id, None)
            if waiter is not None and not waiter.done():
                waiter.set_result(now)


def sqlite_floor(path: str, seconds: float = 2.0) -> float:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("CREATE TABLE IF NOT EXISTS floor (id INTEGER PRIMARY KEY, v BLOB)")
    payload = b"x" * 200
    n = 0
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO floor (v) VALUES (?)", (payload,))
        conn.execute("COMMIT")
        n += 1
    elapsed = time.perf_counter() - t0
    conn.close()
    return n / elapsed


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


async def run(args: argparse.Namespace) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="legato-bench-"))
    db = f"sqlite:///{workdir / 'bench.db'}"
    server = start_server(args.port, db, workdir / "server.log")
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    base = f"http://127.0.0.1:{args.port}"
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as client:
        try:
            await wait_healthy(client)
            rss = PeakRss(server.pid)
            task_defs = [
                {"name": n, "retryCount": 0, "responseTimeoutSeconds": 300, "timeoutSeconds": 0}
                for n in TASKS
            ]
            (await client.post("/api/metadata/taskdefs", json=task_defs)).raise_for_status()
            (await client.post("/api/metadata/workflow", json=WORKFLOW)).raise_for_status()

            workers = Workers(base, per_type=args.workers_per_type, batch=args.batch)
            workers.start()

            # --- throughput: N workflows at once --------------------------------------
            n = args.workflows
            started: dict[str, float] = {}
            sem = asyncio.Semaphore(64)

            session = workers.session
            assert session is not None

            async def start_one(i: int) -> None:
                async with sem:
                    t = time.perf_counter()
                    async with session.post(
                        "/api/workflow/bench_5", data=orjson.dumps({"n": i}), headers=_JSON
                    ) as r:
                        r.raise_for_status()
                        started[await r.text()] = t

            server_proc = psutil.Process(server.pid)
            me = psutil.Process()
            cpu0 = (sum(server_proc.cpu_times()[:2]), sum(me.cpu_times()[:2]))
            t0 = time.perf_counter()
            await asyncio.gather(*(start_one(i) for i in range(n)))
            while len(workers.done_at) < n:
                await asyncio.sleep(0.01)
                if time.perf_counter() - t0 > args.deadline:
                    raise SystemExit(f"only {len(workers.done_at)} of {n} workflows completed")
            t_end = max(workers.done_at.values())
            cpu_server = sum(server_proc.cpu_times()[:2]) - cpu0[0]
            cpu_client = sum(me.cpu_times()[:2]) - cpu0[1]
            elapsed = t_end - t0
            latencies = [(workers.done_at[w] - started[w]) * 1000 for w in started]
            peak_rss = rss.stop()

            # every workflow really is COMPLETED on the server
            sample = list(started)[:: max(1, n // 50)]
            for wf_id in sample:
                wf = (
                    await client.get(f"/api/workflow/{wf_id}", params={"includeTasks": "false"})
                ).json()
                assert wf["status"] == "COMPLETED", wf["status"]

            # --- latency: one workflow alone, 20 times ---------------------------------
            singles = []
            for i in range(args.singles):
                fut: asyncio.Future[float] = asyncio.get_running_loop().create_future()
                t = time.perf_counter()
                r = await client.post("/api/workflow/bench_5", json={"n": i})
                r.raise_for_status()
                wf_id = r.text
                if wf_id in workers.done_at:
                    done = workers.done_at[wf_id]
                else:
                    workers.waiters[wf_id] = fut
                    done = await asyncio.wait_for(fut, 30)
                singles.append((done - t) * 1000)
            await workers.stop()
        finally:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(10)
            except subprocess.TimeoutExpired:
                server.kill()

    floor = sqlite_floor(str(workdir / "floor.db"))
    tasks_per_s = 5 * n / elapsed
    print(f"Legato throughput benchmark (SQLite, WAL, synchronous=NORMAL), {os.cpu_count()} cores")
    print(
        f"  workflows                 {n} x 5 SIMPLE tasks, {args.workers_per_type} worker loops/type, batch {args.batch}"
    )
    print(f"  completed workflows/s     {n / elapsed:10.1f}")
    print(f"  tasks/s                   {tasks_per_s:10.1f}")
    print(
        f"  latency p50               {pct(latencies, 50):10.1f} ms (start to complete, under load)"
    )
    print(f"  latency p99               {pct(latencies, 99):10.1f} ms")
    print(
        f"  CPU used                  server {cpu_server:.1f} s, workers and client {cpu_client:.1f} s, over {elapsed:.1f} s"
    )
    print(f"  server peak RSS           {peak_rss / 2**20:10.1f} MiB")
    print(f"  SQLite floor              {floor:10.1f} committed single-row transactions/s")
    print(f"  ratio tasks/s / floor     {tasks_per_s / floor:10.3f}")
    print(
        f"  single workflow, alone    {statistics.median(singles):10.1f} ms median of {len(singles)} (min {min(singles):.1f}, max {max(singles):.1f})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workflows", type=int, default=1000)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--workers-per-type", type=int, default=2)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--singles", type=int, default=20)
    parser.add_argument("--deadline", type=float, default=300)
    uvloop.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
