"""`AsyncClient`: the asyncio client, over `httpx.AsyncClient` and `HttptoolsTransport`."""

from __future__ import annotations

import asyncio
import time
import urllib.request
from collections.abc import Mapping
from typing import Any, TypeVar
from urllib.parse import urlencode

import httpx

from legato.client.base import (
    DEFAULT_TIMEOUT,
    ClientBase,
    registration,
    request_headers,
    server_url,
    wait_delays,
)
from legato.client.call import Answer, Call
from legato.client.errors import TransportError, WaitTimeoutError
from legato.client.models import Workflow
from legato.client.transport import HttptoolsTransport

T = TypeVar("T")


class AsyncClient(ClientBase):
    """An asyncio client of a Legato (or Conductor) server; the same methods as `Client`,
    awaited. `transport` replaces the network (tests pass `httpx.ASGITransport(app)`)."""

    def __init__(
        self,
        server: str | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        headers: Mapping[str, str] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.server = server_url(server)
        self.timeout = timeout
        if transport is None:
            transport = HttptoolsTransport()
        self._http = httpx.AsyncClient(
            base_url=self.server,
            timeout=timeout,
            headers=request_headers(headers),
            transport=transport,
        )
        # The hot path: with our own transport and no proxy to go through, requests skip
        # httpx's request building (URL parsing and header models cost more than the I/O).
        self._fast: _FastPath | None = None
        if isinstance(transport, HttptoolsTransport) and not _proxied():
            self._fast = _FastPath(transport, self.server, request_headers(headers))

    async def send(self, call: Call[T], *, timeout: float | None = None) -> T:
        """Make one request described by a `Call` and decode its answer."""
        answer_headers: Mapping[str, str]
        try:
            if self._fast is not None:
                status, answer_headers, content = await self._fast.send(
                    call, self.timeout if timeout is None else timeout
                )
            else:
                response = await self._http.request(
                    call.method,
                    call.path,
                    params=call.params,
                    content=call.body,
                    headers={"Content-Type": call.content_type} if call.body is not None else None,
                    timeout=timeout if timeout is not None else httpx.USE_CLIENT_DEFAULT,
                )
                status, answer_headers, content = (
                    response.status_code,
                    response.headers,
                    response.content,
                )
        except httpx.TimeoutException as exc:
            raise TransportError(
                f"{call.method} {call.path}: Legato at {self.server} did not answer in time"
            ) from exc
        except httpx.HTTPError as exc:
            raise TransportError(
                f"{call.method} {call.path}: cannot reach Legato at {self.server}: {exc}"
            ) from exc
        return call.finish(Answer(status, answer_headers, content))

    async def _send(self, call: Call[T]) -> T:
        return await self.send(call)

    # ------------------------------------------------------------------ composite operations
    async def wait_for_workflow(self, workflow_id: str, *, timeout: float = 60.0) -> Workflow:
        """The workflow once it has ended (any terminal status); `WaitTimeoutError` if it is
        still running after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        for delay in wait_delays():
            wf = await self.get_workflow(workflow_id)
            if wf.terminal:
                return wf
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise WaitTimeoutError(
                    f"workflow {workflow_id} is still {wf.status} after {timeout:g} s", wf
                )
            await asyncio.sleep(min(delay, remaining))
        raise AssertionError("unreachable")  # pragma: no cover

    async def run_workflow(
        self,
        workflow: Any,
        input: Mapping[str, Any] | None = None,
        *,
        timeout: float = 60.0,
        **start: Any,
    ) -> Workflow:
        """Start a workflow and wait for its end (see `start_workflow`, `wait_for_workflow`)."""
        workflow_id = await self.start_workflow(workflow, input, **start)
        return await self.wait_for_workflow(workflow_id, timeout=timeout)

    async def register(self, definition: Any, *, overwrite: bool = True) -> None:
        """Register a workflow definition and the task definitions it declares (a
        `dsl.workflow(...)` builder declares those of its worker tasks)."""
        task_defs, workflow_def = registration(definition)
        if task_defs:
            await self.register_task_defs(task_defs)
        await self.register_workflow_def(workflow_def, overwrite=overwrite)

    # ------------------------------------------------------------------ lifecycle
    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


def _proxied() -> bool:
    """Whether the environment names a proxy (then httpx's routing is used throughout)."""
    proxies = urllib.request.getproxies()
    return any(key in proxies for key in ("http", "https", "all"))


class _FastPath:
    """Renders a `Call` straight into request bytes for `HttptoolsTransport.exchange`."""

    def __init__(
        self, transport: HttptoolsTransport, server: str, headers: Mapping[str, str]
    ) -> None:
        url = httpx.URL(server)
        self.transport = transport
        self.scheme = url.scheme
        self.host = url.host
        self.port = url.port
        self.prefix = url.raw_path.rstrip(b"/")
        host = url.netloc
        lines = [b"Host: " + host]
        lines += [f"{k}: {v}".encode("latin-1") for k, v in headers.items()]
        lines.append(b"Accept-Encoding: identity")
        self.common = b"\r\n".join(lines) + b"\r\n"

    async def send(self, call: Call[Any], timeout: float) -> tuple[int, dict[str, str], bytes]:
        target = self.prefix + call.path.encode()
        if call.params:
            target += b"?" + urlencode(call.params, doseq=True).encode()
        body = call.body or b""
        head = b"%s %s HTTP/1.1\r\n%s" % (call.method.encode(), target, self.common)
        if call.body is not None or call.method in ("POST", "PUT", "PATCH"):
            head += b"Content-Type: %s\r\nContent-Length: %d\r\n" % (
                call.content_type.encode(),
                len(body),
            )
        status, raw_headers, content = await self.transport.exchange(
            self.scheme,
            self.host,
            self.port,
            head + b"\r\n",
            body,
            idempotent=call.method in ("GET", "PUT", "DELETE"),
            connect_timeout=timeout,
            read_timeout=timeout,
        )
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in raw_headers}
        return status, headers, content
