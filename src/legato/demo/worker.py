"""The demo worker: polls Legato for the demo task types and completes them.

Plain asyncio + httpx against the Conductor task API, so it doubles as an example of what any
worker does: batch long-poll `GET /api/tasks/poll/batch/{type}`, do the work, report a
TaskResult with `POST /api/tasks`. Run it with `python -m legato.demo.worker --server URL`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import logging
import os
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

log = logging.getLogger("legato.demo.worker")

DEFAULT_SERVER = "http://127.0.0.1:8080"
BATCH_SIZE = 10
LONG_POLL_MS = 1000


class TaskFailure(Exception):
    """Raised by a handler: the task fails with this reason (terminal: no retries)."""

    def __init__(self, reason: str, *, terminal: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.terminal = terminal


def _digest(*parts: object) -> int:
    return int(hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()[:12], 16)


def validate_order(data: dict[str, Any]) -> dict[str, Any]:
    items = data.get("items")
    if not isinstance(items, list) or not items:
        raise TaskFailure("the order has no items", terminal=True)
    total = 0.0
    count = 0
    for item in items:
        if not isinstance(item, dict):
            raise TaskFailure(f"bad order item: {item!r}", terminal=True)
        qty = int(item.get("qty", 1))
        price = float(item.get("price", 0))
        if qty <= 0 or price < 0:
            raise TaskFailure(f"bad quantity or price in {item!r}", terminal=True)
        total += qty * price
        count += qty
    total = round(total, 2)
    return {
        "valid": True,
        "itemCount": count,
        "total": total,
        "currency": data.get("currency") or "EUR",
        "size": "big" if total >= 1000 else "small",
    }


def fraud_check(data: dict[str, Any]) -> dict[str, Any]:
    customer = data.get("customer") or {}
    email = customer.get("email", "") if isinstance(customer, dict) else ""
    score = _digest(data.get("orderId"), email) % 60  # demo: always approvable
    return {"score": score, "approved": score < 80, "model": "demo-fraud-v1"}


def charge_payment(data: dict[str, Any]) -> dict[str, Any]:
    amount = data.get("amount")
    if not isinstance(amount, int | float) or amount <= 0:
        raise TaskFailure(f"nothing to charge (amount {amount!r})", terminal=True)
    return {
        "chargeId": "ch_" + uuid.uuid4().hex[:16],
        "amount": amount,
        "currency": data.get("currency") or "EUR",
        "chargedAt": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def ship_order(data: dict[str, Any]) -> dict[str, Any]:
    address = data.get("address") or {}
    country = address.get("country", "") if isinstance(address, dict) else ""
    carrier = "DHL" if country not in ("US", "CA") else "UPS"
    days = 2 if country in ("DE", "FR", "NL", "BE") else 5
    return {
        "carrier": carrier,
        "trackingNumber": f"{carrier}{_digest(data.get('orderId'), time.time_ns()) % 10**10:010d}",
        "estimatedDelivery": (datetime.now(UTC) + timedelta(days=days)).date().isoformat(),
    }


HANDLERS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "demo_validate_order": validate_order,
    "demo_fraud_check": fraud_check,
    "demo_charge_payment": charge_payment,
    "demo_ship_order": ship_order,
}


def execute(
    task: dict[str, Any], handler: Callable[[dict[str, Any]], dict[str, Any]], worker_id: str
) -> dict[str, Any]:
    """Run the handler on one polled task and build its TaskResult."""
    result: dict[str, Any] = {
        "workflowInstanceId": task["workflowInstanceId"],
        "taskId": task["taskId"],
        "workerId": worker_id,
    }
    try:
        result["outputData"] = handler(task.get("inputData") or {})
        result["status"] = "COMPLETED"
    except TaskFailure as exc:
        result["status"] = "FAILED_WITH_TERMINAL_ERROR" if exc.terminal else "FAILED"
        result["reasonForIncompletion"] = exc.reason
        result["outputData"] = {"error": exc.reason}
    except Exception as exc:  # a bug in a handler fails the task (and it is retried)
        result["status"] = "FAILED"
        result["reasonForIncompletion"] = f"{type(exc).__name__}: {exc}"
        result["outputData"] = {"error": str(exc)}
    return result


class _Reachability:
    """Says once that the server is unreachable and once that it is back."""

    def __init__(self, server: str) -> None:
        self.server = server
        self.down_since: float | None = None
        self.said_down = False

    def failed(self, exc: Exception) -> None:
        if self.down_since is None:
            self.down_since = time.monotonic()
        if not self.said_down:
            self.said_down = True
            log.warning("cannot reach Legato at %s (%s); retrying", self.server, exc)

    def ok(self) -> None:
        if self.down_since is not None and time.monotonic() - self.down_since > 1.0:
            log.info("connected to Legato at %s", self.server)
            self.said_down = False
        self.down_since = None


async def _report(client: httpx.AsyncClient, result: dict[str, Any], stop: asyncio.Event) -> None:
    delay = 0.1
    for _attempt in range(8):
        try:
            response = await client.post("/api/tasks", json=result)
        except httpx.TransportError as exc:
            log.warning("update of task %s failed (%s); retrying", result["taskId"], exc)
        else:
            if response.status_code < 400:
                return
            log.error(
                "update of task %s rejected: %s %s",
                result["taskId"],
                response.status_code,
                response.text[:200],
            )
            return
        if stop.is_set():
            return
        await asyncio.sleep(delay)
        delay = min(delay * 2, 2.0)


async def _poll_loop(
    client: httpx.AsyncClient,
    task_type: str,
    worker_id: str,
    stop: asyncio.Event,
    reach: _Reachability,
) -> None:
    params: dict[str, str | int] = {
        "count": BATCH_SIZE,
        "timeout": LONG_POLL_MS,
        "workerid": worker_id,
    }
    backoff = 0.1
    while not stop.is_set():
        try:
            response = await client.get(f"/api/tasks/poll/batch/{task_type}", params=params)
            response.raise_for_status()
            tasks = response.json() if response.status_code != 204 and response.content else []
        except (httpx.TransportError, httpx.HTTPStatusError, ValueError) as exc:
            reach.failed(exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=backoff)
            backoff = min(backoff * 2, 5.0)
            continue
        reach.ok()
        backoff = 0.1
        results = [execute(task, HANDLERS[task_type], worker_id) for task in tasks]
        await asyncio.gather(*(_report(client, r, stop) for r in results))
        for task, result in zip(tasks, results, strict=True):
            log.info(
                "%s %s (%s) of workflow %s",
                result["status"].lower(),
                task_type,
                task.get("referenceTaskName"),
                task["workflowInstanceId"],
            )


async def run_worker(
    server: str,
    *,
    worker_id: str = "demo",
    stop: asyncio.Event | None = None,
    task_types: list[str] | None = None,
) -> None:
    """Poll every demo task type until `stop` is set (or the task is cancelled)."""
    stop = stop or asyncio.Event()
    reach = _Reachability(server)
    timeout = httpx.Timeout(10.0, read=LONG_POLL_MS / 1000 + 10.0)
    async with httpx.AsyncClient(base_url=server.rstrip("/"), timeout=timeout) as client:
        await asyncio.gather(
            *(
                _poll_loop(client, task_type, worker_id, stop, reach)
                for task_type in (task_types or list(HANDLERS))
            )
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m legato.demo.worker", description="Run the Legato demo worker."
    )
    parser.add_argument(
        "--server",
        default=os.environ.get("LEGATO_SERVER", DEFAULT_SERVER),
        metavar="URL",
        help=f"Legato server (default: $LEGATO_SERVER, else {DEFAULT_SERVER})",
    )
    parser.add_argument("--worker-id", default="demo", help="workerid reported to the server")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s demo worker: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    log.info("polling %s for %s (Ctrl-C to stop)", args.server, ", ".join(HANDLERS))
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run_worker(args.server, worker_id=args.worker_id))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
