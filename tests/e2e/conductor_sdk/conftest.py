"""The official Conductor Python SDK (`conductor-python`) against a real Legato server.

One server process per backend for the session (a free port, fast timers; a temporary SQLite
database, then a PostgreSQL one when LEGATO_TEST_POSTGRES_URL is set); the SDK's own clients
are built against it and every test drives Legato only through them. Names
are unique per test (`names`), so tests share the server without seeing each other's work.
"""

from __future__ import annotations

import itertools
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from conductor.client.configuration.configuration import Configuration
from conductor.client.http.api_client import ApiClient
from conductor.client.orkes.orkes_metadata_client import OrkesMetadataClient
from conductor.client.orkes.orkes_task_client import OrkesTaskClient
from conductor.client.orkes.orkes_workflow_client import OrkesWorkflowClient
from conductor.client.workflow.executor.workflow_executor import WorkflowExecutor

import pg_testdb

HERE = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # The SDK's models call `@deprecated` properties on construction (TaskDef.owner_app, ...):
    # its own DeprecationWarnings are not Legato's concern.
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.filterwarnings("ignore::DeprecationWarning"))
            item.add_marker(pytest.mark.timeout(240))


# ------------------------------------------------------------------------------ the server
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def server_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """`http://127.0.0.1:PORT`: one Legato server per backend for the whole session (the
    PostgreSQL one when LEGATO_TEST_POSTGRES_URL names a server, as under `make test`)."""
    directory = tmp_path_factory.mktemp("legato-sdk")
    database = f"sqlite:///{directory / 'legato.db'}"
    if request.param == "postgresql":
        database = pg_testdb.fresh_database(migrated=True, per_test=False)
    port = free_port()
    log = (directory / "server.log").open("wb")
    env = {
        **os.environ,
        "LEGATO_TIMER_INTERVAL_MS": "50",
        "LEGATO_LOG_LEVEL": "warning",
    }
    cmd = [sys.executable, "-m", "legato.cli", "server", "--port", str(port)]
    cmd += ["--db", database]
    process = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                log.flush()
                output = (directory / "server.log").read_text(errors="replace")
                raise RuntimeError(f"Legato did not start:\n{output}")
            time.sleep(0.05)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
        log.close()
        if request.param == "postgresql":
            pg_testdb.release_database(database)


@pytest.fixture(scope="session")
def configuration(server_url: str) -> Configuration:
    config = Configuration(server_api_url=f"{server_url}/api")
    # No key, no secret: the SDK then never asks for a token (Conductor OSS has no auth), even
    # when CONDUCTOR_AUTH_KEY happens to be set in the environment.
    config.authentication_settings = None
    return config


def _close(*api_clients: ApiClient) -> None:
    """Close the SDK's httpx clients (left open, their sockets warn at interpreter exit)."""
    for api_client in api_clients:
        api_client.rest_client.close()


@pytest.fixture(scope="session")
def metadata_client(configuration: Configuration) -> Iterator[OrkesMetadataClient]:
    client = OrkesMetadataClient(configuration)
    yield client
    _close(client.api_client)


@pytest.fixture(scope="session")
def workflow_client(configuration: Configuration) -> Iterator[OrkesWorkflowClient]:
    client = OrkesWorkflowClient(configuration)
    yield client
    _close(client.api_client)


@pytest.fixture(scope="session")
def task_client(configuration: Configuration) -> Iterator[OrkesTaskClient]:
    client = OrkesTaskClient(configuration)
    yield client
    _close(client.api_client)


@pytest.fixture(scope="session")
def executor(configuration: Configuration) -> Iterator[WorkflowExecutor]:
    executor = WorkflowExecutor(configuration)
    yield executor
    _close(executor.metadata_client.api_client, executor.workflow_client.api_client)


# ------------------------------------------------------------------------------ helpers
_counter = itertools.count()


@pytest.fixture
def names(request: pytest.FixtureRequest) -> Callable[[str], str]:
    """`names("task")` -> a name unique to this test (task, workflow and event names)."""
    stem = request.node.name.replace("[", "_").replace("]", "").replace("-", "_")[:40]

    def make(kind: str) -> str:
        return f"sdk_{stem}_{kind}_{next(_counter)}"

    return make


# ------------------------------------------------------------------------------ HTTP target
class _EchoHandler(BaseHTTPRequestHandler):
    """Answers every request with JSON describing it: `{method, path, body, header}`."""

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode(errors="replace")
        status = int(self.path.rsplit("/", 1)[1]) if self.path.startswith("/status/") else 200
        payload = json.dumps(
            {
                "method": self.command,
                "path": self.path,
                "body": body,
                "header": self.headers.get("X-Test"),
            }
        ).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_DELETE = _answer

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="session")
def http_target() -> Iterator[str]:
    """`http://127.0.0.1:PORT`: a tiny local HTTP server for HTTP tasks to call."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _EchoHandler)
    thread = threading.Thread(target=server.serve_forever, name="sdk-http-target", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
