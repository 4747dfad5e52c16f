"""`make run`: a server, the demo definitions, the demo worker and one workflow, end to end.

Starts `legato server` as a child process (configured like it by the `LEGATO_*` environment),
waits for `GET /health`, registers the definitions of this package, runs the demo worker in
this process, starts one order and waits for it, prints where to look, then keeps the server
and the worker running until Ctrl-C and stops the server cleanly.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
import sys
import time
from collections.abc import Awaitable
from typing import Any, TypeVar

import httpx
import orjson
import pydantic

from legato import cli
from legato.config import Settings
from legato.demo import DEMO_DIR, WORKFLOW_NAME
from legato.demo.worker import run_worker

T = TypeVar("T")

START_TIMEOUT_S = 30.0
WORKFLOW_TIMEOUT_S = 60.0

SAMPLE_ORDER: dict[str, Any] = {
    "orderId": "A-1001",
    "customer": {"name": "Ada Lovelace", "email": "ada@example.com"},
    "currency": "EUR",
    "items": [
        {"sku": "LAPTOP-14", "qty": 1, "price": 1299.0},
        {"sku": "USB-C-HUB", "qty": 2, "price": 34.5},
    ],
    "address": {"street": "12 Analytical Row", "city": "Berlin", "country": "DE"},
}


class Stopped(Exception):
    """Ctrl-C (or SIGTERM) arrived while waiting."""


class DemoError(Exception):
    pass


def client_host(host: str) -> str:
    """Where a local client reaches a server listening on `host`."""
    if host in ("", "0.0.0.0"):
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def port_in_use(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host.strip("[]"), port), timeout=0.5):
            return True
    except OSError:
        return False


async def until_stopped(awaitable: Awaitable[T], stop: asyncio.Event) -> T:
    """Await `awaitable` unless `stop` is set first (then cancel it and raise `Stopped`)."""
    work = asyncio.ensure_future(awaitable)
    stopper = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({work, stopper}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopper.cancel()
    if not work.done():
        work.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await work
        raise Stopped
    return work.result()


async def wait_healthy(http: httpx.AsyncClient, proc: asyncio.subprocess.Process) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        if proc.returncode is not None:
            raise DemoError(f"the server exited with code {proc.returncode} (see its log above)")
        with contextlib.suppress(httpx.TransportError):
            if (await http.get("/health")).status_code == 200:
                return
        if time.monotonic() > deadline:
            raise DemoError(f"the server did not answer GET /health within {START_TIMEOUT_S:g} s")
        await asyncio.sleep(0.1)


def register_demo(url: str) -> None:
    """Register this package's definitions with the CLI's own code path."""
    if cli.main(["def", "register", str(DEMO_DIR), "--overwrite", "--server", url]) != 0:
        raise DemoError("registering the demo definitions failed")


async def run_order(http: httpx.AsyncClient) -> dict[str, Any]:
    request = {"name": WORKFLOW_NAME, "input": SAMPLE_ORDER, "correlationId": "demo"}
    response = await http.post("/api/workflow", json=request)
    if response.status_code >= 400:
        raise DemoError(f"start failed: {response.status_code} {response.text[:300]}")
    workflow_id = response.text.strip().strip('"')
    print(f"started {WORKFLOW_NAME} {workflow_id}, waiting for it to finish...")
    deadline = time.monotonic() + WORKFLOW_TIMEOUT_S
    delay = 0.02
    while True:
        response = await http.get(f"/api/workflow/{workflow_id}", params={"includeTasks": "false"})
        if response.status_code >= 400:
            raise DemoError(f"GET workflow failed: {response.status_code} {response.text[:300]}")
        wf: dict[str, Any] = response.json()
        if wf.get("status") in ("COMPLETED", "FAILED", "TIMED_OUT", "TERMINATED"):
            return wf
        if time.monotonic() > deadline:
            wf.setdefault("workflowId", workflow_id)
            return wf
        await asyncio.sleep(delay)
        delay = min(delay * 2, 0.5)


def print_tour(url: str, wf: dict[str, Any]) -> None:
    workflow_id = wf.get("workflowId", "?")
    status = wf.get("status")
    took = ""
    if wf.get("endTime") and wf.get("startTime"):
        took = f" in {(wf['endTime'] - wf['startTime']) / 1000:.2f} s"
    print()
    print(f"Workflow {WORKFLOW_NAME} {workflow_id}: {status}{took}")
    if wf.get("reasonForIncompletion"):
        print(f"  reason: {wf['reasonForIncompletion']}")
    output = orjson.dumps(wf.get("output") or {}, option=orjson.OPT_INDENT_2).decode()
    print("  output: " + output.replace("\n", "\n  "))
    server = "" if url == cli.DEFAULT_SERVER else f" --server {url}"
    print()
    print("Look around:")
    print(f"  web UI        {url}/executions/{workflow_id}")
    print(f"  this run      {url}/api/workflow/{workflow_id}")
    print(f"  its tasks     .venv/bin/legato workflow get {workflow_id} --tasks{server}")
    print(f"  API docs      {url}/docs")
    print("  curl tour     README.md, section 'A five-minute tour'")
    print(
        f"  another one   .venv/bin/legato workflow start {WORKFLOW_NAME} --wait{server} "
        f'--input \'{{"orderId": "A-1002", "items": '
        f'[{{"sku": "MUG", "qty": 2, "price": 9.5}}]}}\''
    )
    print()
    print("The server and the demo worker keep running. Press Ctrl-C to stop.", flush=True)


async def stop_server(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is None:
        proc.terminate()
        try:
            await asyncio.wait_for(proc.wait(), timeout=15)
        except TimeoutError:
            proc.kill()
            await proc.wait()


async def demo(settings: Settings) -> int:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)

    url = f"http://{client_host(settings.host)}:{settings.port}"
    if port_in_use(client_host(settings.host), settings.port):
        print(
            f"error: something already listens on {url}; stop it, or pick another port: "
            f"LEGATO_PORT={settings.port + 1} make run",
            file=sys.stderr,
        )
        return 1
    # A new session: Ctrl-C reaches only this process, which then stops the server once.
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "legato.cli", "server", start_new_session=True
    )
    worker: asyncio.Task[None] | None = None
    try:
        async with httpx.AsyncClient(base_url=url, timeout=10.0) as http:
            await until_stopped(wait_healthy(http, proc), stop)
            await until_stopped(asyncio.to_thread(register_demo, url), stop)
            worker = asyncio.create_task(run_worker(url, stop=stop))
            wf = await until_stopped(run_order(http), stop)
            print_tour(url, wf)
            server_exit = asyncio.ensure_future(proc.wait())
            await until_stopped(
                asyncio.wait({server_exit, worker}, return_when=asyncio.FIRST_COMPLETED), stop
            )
            if proc.returncode is not None:
                raise DemoError(f"the server exited with code {proc.returncode}")
            worker.result()  # the worker never ends on its own: surface its error
        return 0
    except Stopped:
        return 0
    except DemoError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        print("\nstopping...", flush=True)
        stop.set()
        if worker is not None:
            with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(worker, timeout=5)
        await stop_server(proc)
        print("Legato stopped.")


def main() -> int:
    try:
        settings = Settings()
    except pydantic.ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        print(f"error: invalid LEGATO_* settings: {problems}", file=sys.stderr)
        return 1
    logging.basicConfig(level=logging.INFO, format="demo worker: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    return asyncio.run(demo(settings))


if __name__ == "__main__":
    raise SystemExit(main())
