"""Chaos on PostgreSQL: nodes die, the database restarts, fork branches race; nothing is lost.

Real `legato server` processes share one PostgreSQL database; worker coroutines here poll and
report over HTTP, spread over the nodes, and move to another node when theirs stops answering
(as behind a load balancer). Every test checks, at the end:
- every workflow COMPLETED, and none stays RUNNING with all its tasks ended;
- no task was handed out twice, no task completed twice, each completed task's output is the
  one its worker reported.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

import pg_testdb

pytestmark = pytest.mark.timeout(150)

TASKS = [f"chaos_t{i}" for i in range(1, 6)]
WORKFLOWS = 200
TERMINAL = {"COMPLETED", "FAILED", "FAILED_WITH_TERMINAL_ERROR", "TIMED_OUT", "CANCELED", "SKIPPED"}
TASK_DEFAULTS = {
    "retryCount": 3,
    "retryDelaySeconds": 0,
    "responseTimeoutSeconds": 5,
    "timeoutSeconds": 0,
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Node:
    """One `legato server` process."""

    def __init__(self, db: str, log: Path) -> None:
        self.db = db
        self.log = log
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        cmd = [sys.executable, "-m", "legato.cli", "server", "--port", str(self.port)]
        cmd += ["--db", self.db]
        env = {**os.environ, "LEGATO_TIMER_INTERVAL_MS": "100", "LEGATO_LOG_LEVEL": "warning"}
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env)

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)


async def wait_healthy(client: httpx.AsyncClient, url: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if (await client.get(f"{url}/health")).status_code == 200:
                return
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.05)
    raise AssertionError(f"{url} did not come up")


class Cluster:
    """Nodes, an HTTP client that fails over between them, and the bookkeeping of workers."""

    def __init__(self, nodes: list[Node], client: httpx.AsyncClient) -> None:
        self.nodes = nodes
        self.client = client
        self.delivered: list[str] = []  # every task id handed to a worker
        self.reported: dict[str, dict[str, Any]] = {}  # task id -> output reported
        self.completed = 0
        self.jobs: list[asyncio.Task[None]] = []

    async def call(self, node: int, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Call `path` on node `node`, moving on to the next node while it fails (5xx or no
        answer); retried until it lands."""
        i = node
        while True:
            url = self.nodes[i % len(self.nodes)].url
            try:
                r = await self.client.request(method, url + path, **kwargs)
                if r.status_code < 500:
                    return r
            except httpx.TransportError:
                pass
            i += 1
            await asyncio.sleep(0.05)

    def run(self, coro: Callable[[], Any]) -> None:
        self.jobs.append(asyncio.create_task(coro()))

    async def stop(self) -> None:
        for job in self.jobs:
            job.cancel()
        await asyncio.gather(*self.jobs, return_exceptions=True)

    async def report(self, node: int, task: dict[str, Any], worker: str) -> None:
        output = {"by": worker, "taskId": task["taskId"]}
        self.reported[task["taskId"]] = output
        result = {
            "workflowInstanceId": task["workflowInstanceId"],
            "taskId": task["taskId"],
            "status": "COMPLETED",
            "outputData": output,
            "workerId": worker,
        }
        r = await self.call(node, "POST", "/api/tasks", json=result)
        assert r.status_code == 200, r.text
        self.completed += 1

    async def poll(self, node: int, task_type: str, worker: str) -> list[dict[str, Any]]:
        params = {"workerid": worker, "count": 20, "timeout": 500}
        r = await self.call(node, "GET", f"/api/tasks/poll/batch/{task_type}", params=params)
        assert r.status_code == 200, r.text
        tasks: list[dict[str, Any]] = r.json()
        self.delivered.extend(t["taskId"] for t in tasks)
        return tasks

    def simple_workers(self, task_types: list[str], per_type: int = 2) -> None:
        """Workers that report each task at once, spread over the nodes."""
        n = 0
        for task_type in task_types:
            for _ in range(per_type):
                node, worker = n % len(self.nodes), f"{task_type}-w{n}"
                n += 1

                async def loop(node: int = node, worker: str = worker, tt: str = task_type) -> None:
                    while True:
                        for task in await self.poll(node, tt, worker):
                            await self.report(node, task, worker)

                self.run(loop)

    async def start_workflows(self, name: str, count: int) -> list[str]:
        sem = asyncio.Semaphore(16)

        async def one(i: int) -> str:
            async with sem:
                r = await self.call(i, "POST", f"/api/workflow/{name}", json={"n": i})
                assert r.status_code == 200, r.text
                return r.text

        return list(await asyncio.gather(*(one(i) for i in range(count))))

    async def wait_all_ended(self, ids: list[str], timeout: float) -> list[dict[str, Any]]:
        """Every workflow once it has ended; fails on one RUNNING with all its tasks ended."""
        deadline = time.monotonic() + timeout
        pending = set(ids)
        ended: dict[str, dict[str, Any]] = {}
        stuck_since: dict[str, float] = {}
        while pending and time.monotonic() < deadline:
            for wf_id in list(pending):
                r = await self.call(0, "GET", f"/api/workflow/{wf_id}")
                wf = r.json()
                if wf["status"] != "RUNNING":
                    pending.discard(wf_id)
                    ended[wf_id] = wf
                    continue
                if wf["tasks"] and all(t["status"] in TERMINAL for t in wf["tasks"]):
                    # Deciding the next step takes a moment; stuck is when it never comes.
                    first = stuck_since.setdefault(wf_id, time.monotonic())
                    assert time.monotonic() - first < 10, f"{wf_id} is stuck: {wf['tasks']}"
                else:
                    stuck_since.pop(wf_id, None)
            await asyncio.sleep(0.2)
        if pending:
            example = (await self.call(0, "GET", f"/api/workflow/{min(pending)}")).json()
            tasks = [(t["referenceTaskName"], t["status"], t["taskId"]) for t in example["tasks"]]
            raise AssertionError(
                f"{len(pending)} workflows did not end, e.g. {min(pending)}: {tasks}"
            )
        return [ended[i] for i in ids]

    def check(
        self, workflows: list[dict[str, Any]], refs: Callable[[dict[str, Any]], list[str]]
    ) -> None:
        assert not [t for t, c in Counter(self.delivered).items() if c > 1], (
            "a task delivered twice"
        )
        for wf in workflows:
            assert wf["status"] == "COMPLETED", (
                wf["workflowId"],
                wf["status"],
                wf.get("reasonForIncompletion"),
            )
            assert not (
                wf["status"] == "RUNNING" and all(t["status"] in TERMINAL for t in wf["tasks"])
            )
            completed = [t for t in wf["tasks"] if t["status"] == "COMPLETED"]
            ids = [t["taskId"] for t in completed]
            assert len(ids) == len(set(ids))
            # Each step completed exactly once.
            assert sorted(t["referenceTaskName"] for t in completed) == sorted(refs(wf))
            for t in completed:
                if t["taskType"].startswith("chaos_"):
                    assert t["outputData"] == self.reported[t["taskId"]]


@pytest.fixture
def database() -> str:
    return pg_testdb.fresh_database(migrated=True)


@asynccontextmanager
async def cluster(database: str, tmp_path: Path, nodes: int) -> AsyncIterator[Cluster]:
    started = [Node(database, tmp_path / f"node{i}.log") for i in range(nodes)]
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    try:
        for node in started:
            node.start()
        async with httpx.AsyncClient(timeout=15, limits=limits) as client:
            for node in started:
                await wait_healthy(client, node.url)
            c = Cluster(started, client)
            try:
                yield c
            finally:
                await c.stop()
    finally:
        for node in started:
            node.stop()


async def define_pipeline(c: Cluster) -> None:
    task_defs = [{"name": n, **TASK_DEFAULTS} for n in TASKS]
    assert (await c.call(0, "POST", "/api/metadata/taskdefs", json=task_defs)).status_code == 200
    definition = {
        "name": "chaos_pipeline",
        "version": 1,
        "tasks": [
            {"name": n, "taskReferenceName": n, "inputParameters": {"n": "${workflow.input.n}"}}
            for n in TASKS
        ],
    }
    # Registered on node 0 only: the other nodes learn of it (notification or miss).
    r = await c.call(0, "POST", "/api/metadata/workflow", json=definition)
    assert r.status_code == 200, r.text


def pipeline_refs(wf: dict[str, Any]) -> list[str]:
    return list(TASKS)


async def test_a_node_killed_mid_run_loses_nothing(database: str, tmp_path: Path) -> None:
    async with cluster(database, tmp_path, 2) as c:
        await define_pipeline(c)
        ids = await c.start_workflows("chaos_pipeline", WORKFLOWS)
        c.simple_workers(TASKS)
        while c.completed < WORKFLOWS * len(TASKS) * 0.3:
            await asyncio.sleep(0.01)
        c.nodes[1].kill()  # its workers move to node 0
        killed_at = c.completed
        workflows = await c.wait_all_ended(ids, timeout=90)
        assert killed_at < WORKFLOWS * len(TASKS)
        c.check(workflows, pipeline_refs)


async def test_database_restart_mid_run_loses_nothing(database: str, tmp_path: Path) -> None:
    cluster_dir = os.environ.get(pg_testdb.DIR_ENV)
    if not cluster_dir:
        pytest.skip(f"restarting PostgreSQL needs {pg_testdb.DIR_ENV} (make test sets it)")
    script = Path(__file__).resolve().parents[2] / "scripts" / "pg-cluster.sh"
    async with cluster(database, tmp_path, 2) as c:
        await define_pipeline(c)
        ids = await c.start_workflows("chaos_pipeline", WORKFLOWS)
        c.simple_workers(TASKS)
        while c.completed < WORKFLOWS * len(TASKS) * 0.3:
            await asyncio.sleep(0.01)
        stopped_at = c.completed
        await asyncio.to_thread(subprocess.run, [str(script), "stop", cluster_dir], check=True)
        try:
            await asyncio.sleep(1)
            # The nodes answer 503 while the database is down.
            health = await c.client.get(f"{c.nodes[0].url}/health")
            assert health.status_code == 503, health.text
            await asyncio.sleep(4)
        finally:
            await asyncio.to_thread(
                subprocess.run, [str(script), "resume", cluster_dir], check=True
            )
        workflows = await c.wait_all_ended(ids, timeout=90)
        assert stopped_at < WORKFLOWS * len(TASKS)
        c.check(workflows, pipeline_refs)
        for node in c.nodes:  # both nodes are healthy again
            assert (await c.client.get(f"{node.url}/health")).status_code == 200


BRANCHES = 10
FORKS = 50


async def test_fork_branches_finishing_at_once_on_two_nodes_join_once(
    database: str, tmp_path: Path
) -> None:
    branch_refs = [f"b{i}" for i in range(BRANCHES)]
    async with cluster(database, tmp_path, 2) as c:
        # Branch tasks are held on purpose until all ten are out: a longer response timeout.
        task_defs = [
            {"name": "chaos_branch", **TASK_DEFAULTS, "responseTimeoutSeconds": 60},
            {"name": "chaos_after", **TASK_DEFAULTS},
        ]
        assert (
            await c.call(0, "POST", "/api/metadata/taskdefs", json=task_defs)
        ).status_code == 200
        definition = {
            "name": "chaos_fork",
            "version": 1,
            "tasks": [
                {
                    "name": "fork",
                    "taskReferenceName": "fork",
                    "type": "FORK_JOIN",
                    "forkTasks": [
                        [{"name": "chaos_branch", "taskReferenceName": ref, "type": "SIMPLE"}]
                        for ref in branch_refs
                    ],
                },
                {
                    "name": "join",
                    "taskReferenceName": "join",
                    "type": "JOIN",
                    "joinOn": branch_refs,
                },
                {"name": "chaos_after", "taskReferenceName": "after", "type": "SIMPLE"},
            ],
        }
        r = await c.call(1, "POST", "/api/metadata/workflow", json=definition)
        assert r.status_code == 200, r.text
        ids = await c.start_workflows("chaos_fork", FORKS)

        # Branch workers hold each workflow's branches until all ten are out, then report
        # all of them at once, half through each node.
        held: dict[str, list[dict[str, Any]]] = {}

        async def branches(node: int, worker: str) -> None:
            while True:
                for task in await c.poll(node, "chaos_branch", worker):
                    group = held.setdefault(task["workflowInstanceId"], [])
                    group.append(task)
                    if len(group) == BRANCHES:
                        await asyncio.gather(
                            *(c.report(i % 2, t, worker) for i, t in enumerate(group))
                        )
                    elif len(group) > BRANCHES:  # a retried branch: report it at once
                        await c.report(node, task, worker)

        for i in range(4):
            c.run(lambda i=i: branches(i % 2, f"branch-w{i}"))
        c.simple_workers(["chaos_after"])
        workflows = await c.wait_all_ended(ids, timeout=90)

        def refs(wf: dict[str, Any]) -> list[str]:
            return ["fork", *branch_refs, "join", "after"]

        c.check(workflows, refs)
        for wf in workflows:
            joins = [t for t in wf["tasks"] if t["referenceTaskName"] == "join"]
            assert len(joins) == 1 and joins[0]["status"] == "COMPLETED"  # exactly once
