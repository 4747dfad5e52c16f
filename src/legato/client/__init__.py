"""Legato's client: talk to a Legato (or Conductor) server over its REST API.

`Client` (sync) and `AsyncClient` (asyncio) have the same methods: definitions, starting
workflows (and waiting for them), reading and searching, and every workflow operation.
Errors are `legato.client.errors` exceptions carrying the server's message. `dsl` builds
workflow definitions in Python.
"""

from legato.client import dsl
from legato.client.async_client import AsyncClient
from legato.client.call import Call
from legato.client.dsl import TaskDef
from legato.client.errors import (
    ApiError,
    BadRequestError,
    ConflictError,
    NotFoundError,
    PayloadTooLargeError,
    ServerError,
    ServiceUnavailableError,
    TooManyRequestsError,
    TransportError,
    WaitTimeoutError,
)
from legato.client.models import (
    BulkResult,
    SearchResult,
    Task,
    TaskStatus,
    Workflow,
    WorkflowStatus,
)
from legato.client.sync_client import Client
from legato.client.transport import HttptoolsTransport
from legato.errors import LegatoError

__all__ = [
    "ApiError",
    "AsyncClient",
    "BadRequestError",
    "BulkResult",
    "Call",
    "Client",
    "ConflictError",
    "HttptoolsTransport",
    "LegatoError",
    "NotFoundError",
    "PayloadTooLargeError",
    "SearchResult",
    "ServerError",
    "ServiceUnavailableError",
    "Task",
    "TaskDef",
    "TaskStatus",
    "TooManyRequestsError",
    "TransportError",
    "WaitTimeoutError",
    "Workflow",
    "WorkflowStatus",
    "dsl",
]
