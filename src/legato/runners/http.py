"""The in-server runner of HTTP tasks: claims them from the HTTP queue, calls, reports."""

from __future__ import annotations

import asyncio
import logging
import socket
from typing import Any

import httpx
import orjson

from legato.errors import LegatoError
from legato.model import Task, TaskResult
from legato.service.container import Services
from legato.tasks.http import QUEUE, call_limit_ms, request_of, timeouts_ms

log = logging.getLogger("legato.http")


class HttpTaskRunner:
    def __init__(self, services: Services, concurrency: int) -> None:
        self.services = services
        self.concurrency = concurrency
        self.worker_id = f"legato-http@{socket.gethostname()}"
        self._slots = asyncio.Semaphore(concurrency)
        self._running: set[asyncio.Task[None]] = set()

    async def run(self) -> None:
        async with httpx.AsyncClient(follow_redirects=True) as client:
            try:
                while True:
                    await self._slots.acquire()
                    free = 1
                    while free < self.concurrency and not self._slots.locked():
                        await self._slots.acquire()
                        free += 1
                    try:
                        tasks = await self.services.tasks.poll(
                            QUEUE, worker_id=self.worker_id, count=free, timeout_ms=1000
                        )
                    except asyncio.CancelledError:
                        raise
                    except Exception:
                        log.exception("polling HTTP tasks failed")
                        tasks = []
                        await asyncio.sleep(1)
                    for _ in range(free - len(tasks)):
                        self._slots.release()
                    for task in tasks:
                        job = asyncio.create_task(self._execute(client, task))
                        self._running.add(job)
                        job.add_done_callback(self._done)
            finally:
                for job in self._running:
                    job.cancel()

    def _done(self, job: asyncio.Task[None]) -> None:
        self._running.discard(job)
        self._slots.release()

    async def _execute(self, client: httpx.AsyncClient, task: Task) -> None:
        output, status, reason = await call(client, task.input_data)
        if status == "COMPLETED" and _async_complete(task):
            status = "IN_PROGRESS"
        result = TaskResult(
            workflow_instance_id=task.workflow_instance_id,
            task_id=task.task_id,
            status=status,
            output_data=output,
            reason_for_incompletion=reason,
            worker_id=self.worker_id,
        )
        try:
            await self.services.tasks.update(result)
        except LegatoError:
            log.exception("reporting HTTP task %s failed", task.task_id)


def _async_complete(task: Task) -> bool:
    return bool(task.input_data.get("asyncComplete"))


async def call(
    client: httpx.AsyncClient, data: dict[str, Any]
) -> tuple[dict[str, Any], str, str | None]:
    """Make the request an HTTP task describes: (output, task status, reason)."""
    request = request_of(data)
    uri = request.get("uri")
    method = request.get("method")
    if not isinstance(uri, str) or not uri:
        return (
            {},
            "FAILED",
            "Missing HTTP URI. See documentation for HttpTask for required input parameters",
        )
    if not isinstance(method, str) or not method:
        return {}, "FAILED", "No HTTP method specified"
    headers = {str(k): _header(v) for k, v in (request.get("headers") or {}).items()}
    accept = request.get("accept") or "application/json"
    headers.setdefault("Accept", ", ".join(accept) if isinstance(accept, list) else str(accept))
    content_type = request.get("contentType") or "application/json"
    body = request.get("body")
    content: bytes | None = None
    if body is not None:
        headers.setdefault("Content-Type", str(content_type))
        content = body.encode() if isinstance(body, str) else orjson.dumps(body)
    connect_ms, read_ms = timeouts_ms(request)
    timeout = httpx.Timeout(read_ms / 1000, connect=connect_ms / 1000)
    limit_s = call_limit_ms(data) / 1000
    try:
        # Within the task's lease (tasks/http.py), however slowly the answer trickles in.
        async with asyncio.timeout(limit_s):
            response = await client.request(
                method.upper(), uri, headers=headers, content=content, timeout=timeout
            )
    except (httpx.HTTPError, ValueError) as exc:
        message = f"Failed to invoke HTTP task due to: {type(exc).__name__}: {exc}"
        return {"response": message}, "FAILED", message
    except TimeoutError:
        message = f"Failed to invoke HTTP task: no complete answer within {limit_s:.0f} s"
        return {"response": message}, "FAILED", message
    out_headers: dict[str, list[str]] = {}
    for key, value in response.headers.multi_items():
        out_headers.setdefault(key, []).append(value)
    payload: Any
    try:
        payload = orjson.loads(response.content) if response.content else None
    except orjson.JSONDecodeError:
        payload = response.text
    output = {
        "response": {
            "statusCode": response.status_code,
            "reasonPhrase": response.reason_phrase,
            "headers": out_headers,
            "body": payload,
        }
    }
    if 200 <= response.status_code < 300:
        return output, "COMPLETED", None
    reason = f"Failed to invoke HTTP task due to: {response.status_code} {response.reason_phrase}"
    return output, "FAILED", reason


def _header(value: Any) -> str:
    """A header value; a list (as Conductor's SDKs send them) is several values of one header."""
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)
