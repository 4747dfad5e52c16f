"""The SDK's public surface is pinned, and the SDK never loads the server."""

from __future__ import annotations

import json
import subprocess
import sys

import legato.client
import legato.client.dsl
import legato.embedded
import legato.testing
import legato.worker

SERVER_PACKAGES = (
    "legato.api",
    "legato.engine",
    "legato.service",
    "legato.store",
    "legato.runners",
    "legato.expr",
    "legato.model",
    "legato.tasks",
    "legato.config",
    "fastapi",
    "sqlalchemy",
    "uvicorn",
    "alembic",
)


def test_importing_the_sdk_loads_no_server_module() -> None:
    code = (
        "import sys, json; import legato.worker, legato.client; "
        "print(json.dumps(sorted(sys.modules)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    ).stdout
    loaded = json.loads(out)
    assert "legato.worker" in loaded
    assert "legato.client" in loaded
    server = [m for m in loaded if m.startswith(SERVER_PACKAGES)]
    assert server == []


def test_worker_exports() -> None:
    assert legato.worker.__all__ == [
        "HttpTaskTransport",
        "InProgress",
        "TaskContext",
        "TaskError",
        "TaskTransport",
        "Worker",
        "WorkerLoadError",
        "WorkerStats",
        "WorkerTask",
        "execute",
        "load_workers",
        "worker_task",
    ]


def test_client_exports() -> None:
    assert legato.client.__all__ == [
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


def test_dsl_exports() -> None:
    assert legato.client.dsl.__all__ == [
        "Step",
        "TaskDef",
        "WorkflowBuilder",
        "do_while",
        "dynamic",
        "event",
        "fork",
        "http",
        "human",
        "inline",
        "input",
        "jq",
        "noop",
        "ref",
        "set_variable",
        "sub_workflow",
        "switch",
        "task",
        "terminate",
        "variable",
        "wait",
        "workflow",
    ]


def test_testing_and_embedded_exports() -> None:
    assert legato.testing.__all__ == [
        "NO_ANSWER",
        "Execution",
        "SyncWorkflowEnvironment",
        "WorkflowEnvironment",
    ]
    assert legato.embedded.__all__ == [
        "EmbeddedEngine",
        "LocalTaskTransport",
        "SyncEmbeddedEngine",
    ]


def test_every_export_exists() -> None:
    for module in (legato.worker, legato.client, legato.client.dsl, legato.testing):
        for name in module.__all__:
            assert hasattr(module, name), f"{module.__name__}.{name}"


def test_client_operations_are_the_same_on_both_clients() -> None:
    sync_ops = {n for n in dir(legato.client.Client) if not n.startswith("_")}
    async_ops = {n for n in dir(legato.client.AsyncClient) if not n.startswith("_")}
    assert sync_ops - {"close"} == async_ops - {"aclose"}


def test_sdk_statuses_are_the_servers() -> None:
    from legato.model import TaskStatus, WorkflowStatus

    assert [s.value for s in legato.client.TaskStatus] == [s.value for s in TaskStatus]
    assert [s.value for s in legato.client.WorkflowStatus] == [s.value for s in WorkflowStatus]
    for status in TaskStatus:
        assert legato.client.TaskStatus(status.value).terminal == status.terminal
    for wf_status in WorkflowStatus:
        assert legato.client.WorkflowStatus(wf_status.value).terminal == wf_status.terminal


def test_client_errors_are_legato_errors() -> None:
    from legato import errors

    assert issubclass(legato.client.NotFoundError, errors.NotFoundError)
    assert issubclass(legato.client.ConflictError, errors.ConflictError)
    assert issubclass(legato.client.BadRequestError, errors.ValidationError)
    assert issubclass(legato.client.TransportError, errors.LegatoError)
    assert json.dumps(legato.client.NotFoundError.http_status) == "404"
