"""`ClientBase`: every operation of the REST API, once, for both clients; no I/O here."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from typing import Any

from legato import __version__
from legato.client import call as c
from legato.client.call import Call, operation
from legato.client.metadata import MetadataOperations
from legato.client.tasks import TaskOperations
from legato.client.workflows import WorkflowOperations

DEFAULT_SERVER = "http://127.0.0.1:8080"
DEFAULT_TIMEOUT = 30.0
USER_AGENT = f"legato-python/{__version__}"


def server_url(server: str | None) -> str:
    """The server's base URL: the argument, else `$LEGATO_SERVER`, else the local default.
    A trailing `/api` (how Conductor SDKs name the server) is accepted and dropped."""
    url = (server or os.environ.get("LEGATO_SERVER") or DEFAULT_SERVER).strip().rstrip("/")
    if "://" not in url:
        url = "http://" + url
    if url.endswith("/api"):
        url = url[: -len("/api")]
    return url


def request_headers(extra: Mapping[str, str] | None) -> dict[str, str]:
    return {"Accept": "application/json, text/plain", "User-Agent": USER_AGENT, **(extra or {})}


def wait_delays(first: float = 0.02, most: float = 0.5) -> Iterator[float]:
    """How long to sleep between looks at a running workflow: 20 ms doubling to 500 ms."""
    delay = first
    while True:
        yield delay
        delay = min(delay * 2, most)


def registration(definition: Any) -> tuple[list[Any], Any]:
    """What registering a definition takes: the task definitions it declares (a builder's
    `task_defs()`), then the workflow definition itself."""
    task_defs = definition.task_defs() if callable(getattr(definition, "task_defs", None)) else []
    return list(task_defs), c.definition(definition)


class ClientBase(MetadataOperations, WorkflowOperations, TaskOperations):
    """The operations of `Client` and `AsyncClient`; each subclass only sends `Call`s."""

    server: str

    @operation
    def health() -> Call[dict[str, Any]]:
        """The server's health check (`ServiceUnavailableError` when unhealthy)."""
        return Call("GET", "/health", c.json_object)

    @operation
    def server_version() -> Call[str]:
        return Call("GET", "/api/version", c.text)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.server!r})"
