"""Throughput and latency of Legato on SQLite or PostgreSQL, with Python workers batch
long-polling over HTTP.

Runs real server processes (one, or several nodes on one PostgreSQL database), registers a
workflow of 5 SIMPLE tasks, starts N workflows and lets worker coroutines (in this process,
spread over the nodes) poll `/api/tasks/poll/batch/...` and report with `POST /api/tasks`.
Prints completed workflows/s, tasks/s, p50/p99 start-to-complete latency, the servers' peak RSS,
the database floor (committed single-row transactions/s from Python with the same durability
settings; on PostgreSQL with 1 and 4 connections) and the ratio, then the median latency of one
workflow run alone. On PostgreSQL it also prints the write transactions per task.

    python benchmarks/throughput.py [--workflows 1000] [--port 8765]
    python benchmarks/throughput.py --db postgresql --nodes 1,2   # a database from
        # LEGATO_TEST_POSTGRES_URL's server per run (scripts/pg-cluster.sh run -- ...)
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


async def wait_healthy(client: httpx.AsyncClient, base: str = "", timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if (await client.get(f"{base}/health")).status_code == 200:
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
    """One long-polling loop per task type (several per type), reporting each task; the loops
    are spread over the nodes' base URLs.

    Workers use aiohttp: with one client process sharing two cores with the server, the client
    library's own cost decides how much load a benchmark can offer.
    """

    def __init__(self, bases: list[str], per_type: int, batch: int) -> None:
        self.bases = bases
        self.sessions: list[aiohttp.ClientSession] = []
        self.per_type = per_type
        self.batch = batch
        self.done_at: dict[str, float] = {}
        self.waiters: dict[str, asyncio.Future[float]] = {}
        self.tasks_done = 0
        self._jobs: list[asyncio.Task[None]] = []

    @property
    def session(self) -> aiohttp.ClientSession:
        return self.sessions[0]

    def start(self) -> None:
        self.sessions = [
            aiohttp.ClientSession(
                base,
                connector=aiohttp.TCPConnector(limit=400),
                json_serialize=lambda o: orjson.dumps(o).decode(),
            )
            for base in self.bases
        ]
        n = 0
        for name in TASKS:
            for i in range(self.per_type):
                session = self.sessions[n % len(self.sessions)]
                n += 1
                self._jobs.append(asyncio.create_task(self._loop(session, name, f"{name}-{i}")))

    async def stop(self) -> None:
        for job in self._jobs:
            job.cancel()
        await asyncio.gather(*self._jobs, return_exceptions=True)
        for session in self.sessions:
            await session.close()

    async def _loop(self, session: aiohttp.ClientSession, name: str, worker_id: str) -> None:
        url = f"/api/tasks/poll/batch/{name}"
        params = {"workerid": worker_id, "count": self.batch, "timeout": 1000}
        while True:
            async with session.get(url, params=params) as r:
                r.raise_for_status()
                tasks = orjson.loads(await r.read())
            if tasks:
                await asyncio.gather(*(self._report(session, name, t, worker_id) for t in tasks))

    async def _report(
        self,
        session: aiohttp.ClientSession,
        name: str,
        task: dict,  # type: ignore[type-arg]
        worker_id: str,
    ) -> None:
        result = {
            "workflowInstanceId": task["workflowInstanceId"],
            "taskId": task["taskId"],
            "status": "COMPLETED",
            "outputData": {"done": name},
            "workerId": worker_id,
        }
        async with session.post("/api/tasks", data=orjson.dumps(result), headers=_JSON) as r:
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


def postgres_floor(url: str, connections: int, seconds: float = 2.0) -> float:
    """Committed single-row transactions/s over `connections` connections (one thread each)."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS floor (id BIGSERIAL PRIMARY KEY, v BYTEA)")
    payload = b"x" * 200
    counts = [0] * connections
    stop = time.perf_counter() + seconds

    def run(i: int) -> None:
        with psycopg.connect(url, autocommit=True) as conn:
            while time.perf_counter() < stop:
                conn.execute("INSERT INTO floor (v) VALUES (%s)", (payload,))
                counts[i] += 1

    t0 = time.perf_counter()
    threads = [threading.Thread(target=run, args=(i,)) for i in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(counts) / (time.perf_counter() - t0)


def postgres_database(admin_url: str, name: str) -> str:
    """A new, empty database on the server of `admin_url`; its URL."""
    from urllib.parse import urlsplit

    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}")
    return urlsplit(admin_url)._replace(path=f"/{name}").geturl()


def postgres_write_transactions(url: str) -> int:
    """PostgreSQL's transaction id counter: the write transactions committed (or rolled back)
    so far, counted at once (pg_stat_database's counters lag by up to seconds)."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute("SELECT pg_current_xact_id()::text::bigint").fetchone()
    return int(row[0]) if row else 0


async def run_config(args: argparse.Namespace, db: str, nodes: int, workdir: Path) -> dict:  # type: ignore[type-arg]
    """One benchmark run against `nodes` servers on database `db`: its figures."""
    ports = [args.port + i for i in range(nodes)]
    if db.startswith("postgres"):
        from legato.store import migrate

        migrate.upgrade(db)  # before the nodes start together
    servers = [start_server(port, db, workdir / f"server{i}.log") for i, port in enumerate(ports)]
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    bases = [f"http://127.0.0.1:{port}" for port in ports]
    out: dict = {"nodes": nodes}  # type: ignore[type-arg]
    async with httpx.AsyncClient(base_url=bases[0], limits=limits, timeout=30) as client:
        try:
            for base in bases:
                await wait_healthy(client, base)
            rss = [PeakRss(server.pid) for server in servers]
            task_defs = [
                {"name": n, "retryCount": 0, "responseTimeoutSeconds": 300, "timeoutSeconds": 0}
                for n in TASKS
            ]
            (await client.post("/api/metadata/taskdefs", json=task_defs)).raise_for_status()
            (await client.post("/api/metadata/workflow", json=WORKFLOW)).raise_for_status()

            workers = Workers(bases, per_type=args.workers_per_type, batch=args.batch)
            workers.start()
            transactions0 = postgres_write_transactions(db) if db.startswith("postgres") else 0

            # --- throughput: N workflows at once --------------------------------------
            n = args.workflows
            started: dict[str, float] = {}
            sem = asyncio.Semaphore(64)

            async def start_one(i: int) -> None:
                session = workers.sessions[i % len(workers.sessions)]
                async with sem:
                    t = time.perf_counter()
                    async with session.post(
                        "/api/workflow/bench_5", data=orjson.dumps({"n": i}), headers=_JSON
                    ) as r:
                        r.raise_for_status()
                        started[await r.text()] = t

            procs = [psutil.Process(server.pid) for server in servers]
            me = psutil.Process()
            cpu0 = (sum(sum(p.cpu_times()[:2]) for p in procs), sum(me.cpu_times()[:2]))
            t0 = time.perf_counter()
            await asyncio.gather(*(start_one(i) for i in range(n)))
            while len(workers.done_at) < n:
                await asyncio.sleep(0.01)
                if time.perf_counter() - t0 > args.deadline:
                    raise SystemExit(f"only {len(workers.done_at)} of {n} workflows completed")
            t_end = max(workers.done_at.values())
            out["cpu_server"] = sum(sum(p.cpu_times()[:2]) for p in procs) - cpu0[0]
            out["cpu_client"] = sum(me.cpu_times()[:2]) - cpu0[1]
            out["elapsed"] = t_end - t0
            if db.startswith("postgres"):
                out["write_transactions_per_task"] = (
                    postgres_write_transactions(db) - transactions0
                ) / (5 * n)
            out["latencies"] = [(workers.done_at[w] - started[w]) * 1000 for w in started]
            out["peak_rss"] = max(r.stop() for r in rss)

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
            out["singles"] = singles
            await workers.stop()
        finally:
            for server in servers:
                server.send_signal(signal.SIGTERM)
            for server in servers:
                try:
                    server.wait(10)
                except subprocess.TimeoutExpired:
                    server.kill()
    return out


def report(args: argparse.Namespace, title: str, r: dict, floors: list[tuple[str, float]]) -> None:  # type: ignore[type-arg]
    n = args.workflows
    tasks_per_s = 5 * n / r["elapsed"]
    latencies, singles = r["latencies"], r["singles"]
    print(f"Legato throughput benchmark ({title}), {os.cpu_count()} cores")
    print(
        f"  workflows                 {n} x 5 SIMPLE tasks, {args.workers_per_type} worker loops/type, batch {args.batch}"
    )
    print(f"  completed workflows/s     {n / r['elapsed']:10.1f}")
    print(f"  tasks/s                   {tasks_per_s:10.1f}")
    print(
        f"  latency p50               {pct(latencies, 50):10.1f} ms (start to complete, under load)"
    )
    print(f"  latency p99               {pct(latencies, 99):10.1f} ms")
    print(
        f"  CPU used                  server {r['cpu_server']:.1f} s, workers and client {r['cpu_client']:.1f} s, over {r['elapsed']:.1f} s"
    )
    print(f"  server peak RSS           {r['peak_rss'] / 2**20:10.1f} MiB")
    if "write_transactions_per_task" in r:
        print(f"  write transactions/task   {r['write_transactions_per_task']:10.2f}")
    for label, floor in floors:
        print(f"  {label:<25} {floor:10.1f} committed single-row transactions/s")
        print(f"  ratio tasks/s / floor     {tasks_per_s / floor:10.3f}")
    print(
        f"  single workflow, alone    {statistics.median(singles):10.1f} ms median of {len(singles)} (min {min(singles):.1f}, max {max(singles):.1f})"
    )


async def run(args: argparse.Namespace) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="legato-bench-"))
    nodes_list = [int(x) for x in str(args.nodes).split(",") if x]
    if args.db == "sqlite":
        if nodes_list != [1]:
            raise SystemExit("SQLite serves one node: --nodes 1")
        r = await run_config(args, f"sqlite:///{workdir / 'bench.db'}", 1, workdir)
        floor = sqlite_floor(str(workdir / "floor.db"))
        report(args, "SQLite, WAL, synchronous=NORMAL", r, [("SQLite floor", floor)])
        return
    admin = args.db
    if admin == "postgresql":
        admin = os.environ.get("LEGATO_TEST_POSTGRES_URL", "")
        if not admin:
            raise SystemExit("--db postgresql needs LEGATO_TEST_POSTGRES_URL (see the Makefile)")
    results = []
    for i, nodes in enumerate(nodes_list):
        db = postgres_database(admin, f"legato_bench_{i}")
        results.append((nodes, await run_config(args, db, nodes, workdir)))
    floor_db = postgres_database(admin, "legato_bench_floor")
    floors = [
        ("PostgreSQL floor, 1 conn", postgres_floor(floor_db, 1)),
        ("PostgreSQL floor, 4 conns", postgres_floor(floor_db, 4)),
    ]
    for nodes, r in results:
        title = f"PostgreSQL, {nodes} node{'s' if nodes > 1 else ''} on one database"
        report(args, title, r, floors)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workflows", type=int, default=1000)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--workers-per-type", type=int, default=2)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--singles", type=int, default=20)
    parser.add_argument("--deadline", type=float, default=300)
    parser.add_argument(
        "--db",
        default="sqlite",
        help="sqlite (a new file), postgresql (a new database on LEGATO_TEST_POSTGRES_URL's"
        " server) or a postgresql:// URL of a server to create databases on",
    )
    parser.add_argument(
        "--nodes", default="1", help="server processes on the database; a list runs each: 1,2"
    )
    uvloop.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
