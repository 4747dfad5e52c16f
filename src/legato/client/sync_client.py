"""`Client`: the synchronous client, over `httpx.Client`."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any, TypeVar

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

T = TypeVar("T")


class Client(ClientBase):
    """A synchronous client of a Legato (or Conductor) server.

    `server` defaults to `$LEGATO_SERVER`, else `http://127.0.0.1:8080`. Every method raises
    a `legato.client.errors` exception on failure, carrying the server's message.
    """

    def __init__(
        self,
        server: str | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        headers: Mapping[str, str] | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.server = server_url(server)
        self._http = httpx.Client(
            base_url=self.server,
            timeout=timeout,
            headers=request_headers(headers),
            transport=transport,
        )

    def send(self, call: Call[T]) -> T:
        """Make one request described by a `Call` and decode its answer."""
        headers = {"Content-Type": call.content_type} if call.body is not None else None
        try:
            response = self._http.request(
                call.method, call.path, params=call.params, content=call.body, headers=headers
            )
        except httpx.TimeoutException as exc:
            raise TransportError(
                f"{call.method} {call.path}: Legato at {self.server} did not answer in time"
            ) from exc
        except httpx.HTTPError as exc:
            raise TransportError(
                f"{call.method} {call.path}: cannot reach Legato at {self.server}: {exc}"
            ) from exc
        return call.finish(Answer(response.status_code, response.headers, response.content))

    _send = send

    # ------------------------------------------------------------------ composite operations
    def wait_for_workflow(self, workflow_id: str, *, timeout: float = 60.0) -> Workflow:
        """The workflow once it has ended (any terminal status); `WaitTimeoutError` if it is
        still running after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        for delay in wait_delays():
            wf = self.get_workflow(workflow_id)
            if wf.terminal:
                return wf
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise WaitTimeoutError(
                    f"workflow {workflow_id} is still {wf.status} after {timeout:g} s", wf
                )
            time.sleep(min(delay, remaining))
        raise AssertionError("unreachable")  # pragma: no cover

    def run_workflow(
        self,
        workflow: Any,
        input: Mapping[str, Any] | None = None,
        *,
        timeout: float = 60.0,
        **start: Any,
    ) -> Workflow:
        """Start a workflow and wait for its end (see `start_workflow`, `wait_for_workflow`)."""
        workflow_id = self.start_workflow(workflow, input, **start)
        return self.wait_for_workflow(workflow_id, timeout=timeout)

    def register(self, definition: Any, *, overwrite: bool = True) -> None:
        """Register a workflow definition and the task definitions it declares (a
        `dsl.workflow(...)` builder declares those of its worker tasks)."""
        task_defs, workflow_def = registration(definition)
        if task_defs:
            self.register_task_defs(task_defs)
        self.register_workflow_def(workflow_def, overwrite=overwrite)

    # ------------------------------------------------------------------ lifecycle
    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
