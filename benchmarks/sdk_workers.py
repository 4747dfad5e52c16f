"""Tasks/s of one SDK worker process against one Legato server, for a no-op task: Legato's SDK
(sync and async functions) side by side with conductor-python's TaskHandler, in the same run.

For each contender: a fresh task type, N single-task workflows started before the worker
(so the queue is full), then ONE worker process with the same concurrency. The rate is
measured in steady state: tasks claimed while the queue drains from 90% to 10% of N (the
worker's concurrency bounds claimed-but-unfinished tasks), then every workflow is checked
COMPLETED. Also printed: the worker process's CPU seconds per 1000 tasks.

    python benchmarks/sdk_workers.py [--tasks 3000] [--concurrency 32] [--rounds 1]

Needs `conductor-python` (in the `dev` extra). The server runs as a subprocess
(`legato server`); the Legato worker processes use uvloop; conductor-python's TaskHandler runs
its worker in its own process, as it always does.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psutil
import uvloop

from legato.client import AsyncClient, dsl

CONTENDERS = ("legato-sync", "legato-async", "conductor-sync", "conductor-async")


# ------------------------------------------------------------------------------ worker roles
def run_legato_worker(mode: str, task: str, server: str, concurrency: int) -> None:
    from legato.worker import Worker, worker_task

    if mode == "sync":

        def noop() -> None:
            return None

    else:

        async def noop() -> None:  # type: ignore[misc]
            return None

    wt = worker_task(task, concurrency=concurrency)(noop)
    worker = Worker([wt], server=server, poll_timeout_ms=1000)
    asyncio.Runner(loop_factory=uvloop.new_event_loop).run(worker.run())


def _conductor_sync(task: object) -> dict[str, object]:
    return {}


async def _conductor_async(task: object) -> dict[str, object]:
    return {}


def run_conductor_worker(mode: str, task: str, server: str, concurrency: int) -> None:
    import logging

    from conductor.client.automator.task_handler import TaskHandler
    from conductor.client.configuration.configuration import Configuration
    from conductor.client.worker.worker import Worker

    logging.getLogger("conductor").setLevel(logging.WARNING)
    fn = _conductor_sync if mode == "sync" else _conductor_async
    worker = Worker(
        task_definition_name=task,
        execute_function=fn,
        thread_count=concurrency,
        poll_interval=1,
        poll_timeout=100,
    )
    config = Configuration(server_api_url=f"{server}/api")
    stop = False

    def on_term(*_: object) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, on_term)
    handler = TaskHandler(
        workers=[worker],
        configuration=config,
        scan_for_annotated_workers=False,
        monitor_processes=False,
    )
    handler.start_processes()
    try:
        while not stop:
            time.sleep(0.05)
    finally:
        handler.stop_processes()


# ------------------------------------------------------------------------------ the bench
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(port: int, directory: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "LEGATO_LOG_LEVEL": "warning"}
    cmd = [sys.executable, "-m", "legato.cli", "server", "--port", str(port)]
    cmd += ["--db", f"sqlite:///{directory / 'bench.db'}"]
    with (directory / "server.log").open("wb") as log:
        return subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)


@dataclass
class Result:
    name: str
    tasks_per_s: float
    cpu_ms_per_task: float


async def measure(
    client: AsyncClient,
    server: str,
    name: str,
    n: int,
    concurrency: int,
    round_no: int,
    directory: Path,
) -> Result:
    task = f"bench_{name.replace('-', '_')}_{round_no}"
    await client.register_task_defs(
        [{"name": task, "retryCount": 0, "responseTimeoutSeconds": 600}]
    )
    await client.register(dsl.workflow(f"wf_{task}").then(dsl.task(task)))
    sem = asyncio.Semaphore(64)

    async def start_one(i: int) -> str:
        async with sem:
            return await client.start_workflow(f"wf_{task}", {"i": i})

    ids = await asyncio.gather(*(start_one(i) for i in range(n)))
    sdk, mode = name.split("-")
    cmd = [sys.executable, __file__, "--role", f"{sdk}-worker", "--mode", mode]
    cmd += ["--task", task, "--server", server, "--concurrency", str(concurrency)]
    with (directory / f"{task}.log").open("wb") as log:
        worker = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    proc = psutil.Process(worker.pid)

    def cpu() -> float:
        total = 0.0
        for p in [proc, *proc.children(recursive=True)]:
            try:
                times = p.cpu_times()
                total += times.user + times.system
            except psutil.Error:
                pass
        return total

    high, low = int(n * 0.9), int(n * 0.1)
    t_high = t_low = 0.0
    cpu_high = cpu_low = 0.0
    deadline = time.monotonic() + 600
    try:
        while True:
            size = await client.get_queue_size(task)
            now = time.perf_counter()
            if not t_high and size <= high:
                t_high, cpu_high, at_high = now, cpu(), size
            if size <= low:
                t_low, cpu_low, at_low = now, cpu(), size
                break
            if time.monotonic() > deadline:
                raise SystemExit(f"{name}: the queue did not drain")
            await asyncio.sleep(0.01)
        for wf_id in ids[:: max(1, n // 50)] + ids[-5:]:
            for _ in range(500):
                wf = await client.get_workflow(wf_id, include_tasks=False)
                if wf.status == "COMPLETED":
                    break
                await asyncio.sleep(0.02)
            else:
                raise SystemExit(f"{name}: workflow {wf_id} did not complete")
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(30)
        except subprocess.TimeoutExpired:
            for child in proc.children(recursive=True):
                child.kill()
            worker.kill()
    done = at_high - at_low
    return Result(name, done / (t_low - t_high), (cpu_low - cpu_high) * 1000 / done)


async def bench(args: argparse.Namespace) -> None:
    directory = Path(tempfile.mkdtemp(prefix="legato-sdk-bench-"))
    port = free_port()
    server = f"http://127.0.0.1:{port}"
    process = start_server(port, directory)
    results: dict[str, list[Result]] = {name: [] for name in args.only}
    try:
        async with AsyncClient(server) as client:
            for _ in range(300):
                try:
                    await client.health()
                    break
                except Exception:
                    await asyncio.sleep(0.1)
            for round_no in range(args.rounds):
                for name in args.only:
                    result = await measure(
                        client, server, name, args.tasks, args.concurrency, round_no, directory
                    )
                    results[name].append(result)
                    print(f"  {name:<16} {result.tasks_per_s:8.0f} tasks/s", flush=True)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(30)
    print()
    print(
        f"One SDK worker process, no-op task, {args.tasks} tasks, concurrency {args.concurrency}, "
        f"{os.cpu_count()} cores, best of {args.rounds}"
    )
    print(f"  {'contender':<16} {'tasks/s':>8}  {'CPU ms/task':>11}")
    best = {name: max(rs, key=lambda r: r.tasks_per_s) for name, rs in results.items()}
    for name, r in best.items():
        print(f"  {name:<16} {r.tasks_per_s:8.0f}  {r.cpu_ms_per_task:11.3f}")
    for mode in ("sync", "async"):
        ours, theirs = best.get(f"legato-{mode}"), best.get(f"conductor-{mode}")
        if ours and theirs:
            print(
                f"  {mode:<5} Legato / conductor-python: {ours.tasks_per_s / theirs.tasks_per_s:5.2f}x"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--only", nargs="+", choices=CONTENDERS, default=list(CONTENDERS))
    parser.add_argument(
        "--role", choices=("legato-worker", "conductor-worker"), help=argparse.SUPPRESS
    )
    parser.add_argument("--mode", choices=("sync", "async"), help=argparse.SUPPRESS)
    parser.add_argument("--task", help=argparse.SUPPRESS)
    parser.add_argument("--server", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.role == "legato-worker":
        run_legato_worker(args.mode, args.task, args.server, args.concurrency)
    elif args.role == "conductor-worker":
        run_conductor_worker(args.mode, args.task, args.server, args.concurrency)
    else:
        uvloop.run(bench(args))


if __name__ == "__main__":
    main()
