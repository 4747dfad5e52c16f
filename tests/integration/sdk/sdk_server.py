"""A real Legato app served by uvicorn on a local socket, in a thread of the test process
(so both the sync and the async client can talk to it), and small helpers."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from starlette.routing import Match


class ThreadedServer:
    def __init__(self, app: FastAPI) -> None:
        self.app = app
        config = uvicorn.Config(
            app, host="127.0.0.1", port=0, log_level="warning", access_log=False, lifespan="on"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self._run, name="legato-test-server", daemon=True)

    def _run(self) -> None:
        asyncio.run(self.server.serve())

    def start(self) -> None:
        self.thread.start()
        while not self.server.started:
            if not self.thread.is_alive():
                raise RuntimeError("the test server did not start")
            threading.Event().wait(0.01)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)

    @property
    def url(self) -> str:
        port = self.server.servers[0].sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    def serves(self, method: str, path: str) -> bool:
        """Whether the app has a route for this method and concrete path."""
        scope = {"type": "http", "method": method, "path": path, "root_path": ""}
        return any(route.matches(scope)[0] == Match.FULL for route in self.app.router.routes)


def require(server: ThreadedServer, method: str, path: str) -> None:
    """Skip the test when another engineer's endpoint is not in this build yet."""
    if not server.serves(method, path):
        pytest.skip(f"endpoint not served yet: {method} {path}")


def simple_def(name: str, **overrides: Any) -> dict[str, Any]:
    return {"name": name, "retryCount": 0, "responseTimeoutSeconds": 60, **overrides}
