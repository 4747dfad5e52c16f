"""`EmbeddedEngine`: Legato's engine as a library inside this process. No server, no HTTP.

    async with EmbeddedEngine(workers=[greet]) as engine:
        await engine.register(flow)
        wf = await engine.run_workflow(flow, {"name": "Ada"})

The same services the server runs (store, decider, timers, the HTTP task runner), on SQLite
(a temporary file unless `db` names one), with the given worker tasks run by a `Worker`
that polls in process. Methods mirror `AsyncClient`'s and return the same types; errors are
the engine's own `legato.errors` exceptions (which the client's subclass).
"""

from __future__ import annotations

import asyncio
import atexit
import shutil
import sqlite3
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from legato.client.base import registration, wait_delays
from legato.client.call import definition as definition_json
from legato.client.errors import WaitTimeoutError
from legato.client.models import Workflow
from legato.client.workflows import start_request
from legato.config import Settings
from legato.embedded.transport import LocalTaskTransport, parse_model
from legato.model import StartWorkflowRequest
from legato.model.validation import parse_task_defs, parse_workflow_def
from legato.runners.http import HttpTaskRunner
from legato.runners.timers import TimerLoop
from legato.service import Clock, Services
from legato.store import migrate
from legato.store.sqlite import SqliteStore
from legato.worker.runner import Worker
from legato.worker.task import WorkerTask

__all__ = ["EmbeddedEngine"]


def _db_url(db: str | Path) -> str:
    text = str(db)
    return text if text.startswith("sqlite:") else f"sqlite:///{Path(text).resolve()}"


_template_lock = threading.Lock()
_template: Path | None = None


def fresh_database(path: Path) -> None:
    """An empty Legato database at `path`, copied from one built once per process: running
    the migrations takes a few hundred milliseconds, a copy about one (tests make many)."""
    global _template
    with _template_lock:
        if _template is None or not _template.exists():
            directory = Path(tempfile.mkdtemp(prefix="legato-template-"))
            atexit.register(shutil.rmtree, directory, True)
            candidate = directory / "template.db"
            migrate.upgrade(f"sqlite:///{candidate}")
            _template = candidate
        source = sqlite3.connect(_template)
        target = sqlite3.connect(path)
        try:
            source.backup(target)
        finally:
            target.close()
            source.close()


class EmbeddedEngine:
    def __init__(
        self,
        workers: Sequence[WorkerTask[..., Any]] = (),
        *,
        db: str | Path | None = None,
        clock: Clock | None = None,
        background: bool = True,
        timer_interval_ms: int = 50,
        worker_id: str = "embedded",
        settings: Mapping[str, Any] | None = None,
    ) -> None:
        """`db`: a SQLite file path or `sqlite:///` URL (default: a temporary file, deleted
        on close). `background`: run the timer loop, the HTTP task runner and the workers
        (False leaves driving to the caller, as `legato.testing` does)."""
        self.workers = list(workers)
        self._tmpdir: str | None = None
        if db is None:
            self._tmpdir = tempfile.mkdtemp(prefix="legato-embedded-")
            db = Path(self._tmpdir) / "legato.db"
        self._db_path = Path(db) if self._tmpdir is not None else None
        self.db_url = _db_url(db)
        self.settings = Settings(
            db=self.db_url, timer_interval_ms=timer_interval_ms, **dict(settings or {})
        )
        self.services = Services(SqliteStore(self.db_url), self.settings, clock)
        self.background = background
        self.worker_id = worker_id
        self.worker: Worker | None = None
        self._loops: list[asyncio.Task[None]] = []

    # ------------------------------------------------------------------ lifecycle
    async def open(self) -> None:
        if self._db_path is not None:
            await asyncio.to_thread(fresh_database, self._db_path)
        await self.services.open()
        if not self.background:
            return
        self._loops = [
            asyncio.create_task(TimerLoop(self.services, self.settings.timer_interval_ms).run()),
            asyncio.create_task(
                HttpTaskRunner(self.services, self.settings.system_task_workers).run()
            ),
        ]
        if self.workers:
            self.worker = Worker(
                self.workers,
                transport=LocalTaskTransport(self.services),
                worker_id=self.worker_id,
                handle_signals=False,
                shutdown_grace_seconds=5.0,
                poll_timeout_ms=100,  # in process a poll costs little; a short one stops fast
            )
            await self.worker.__aenter__()

    async def close(self) -> None:
        try:
            if self.worker is not None:
                await self.worker.__aexit__(None, None, None)
                self.worker = None
            for loop in self._loops:
                loop.cancel()
            await asyncio.gather(*self._loops, return_exceptions=True)
            self._loops = []
        finally:
            await self.services.close()
            if self._tmpdir is not None:
                shutil.rmtree(self._tmpdir, ignore_errors=True)

    async def __aenter__(self) -> EmbeddedEngine:
        await self.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # ------------------------------------------------------------------ definitions
    async def register_task_defs(self, task_defs: Sequence[Any]) -> None:
        defs = parse_task_defs([definition_json(d) for d in task_defs])
        await self.services.definitions.register_task_defs(defs)

    async def register_workflow_def(self, definition: Any, *, overwrite: bool = False) -> None:
        parsed = parse_workflow_def(definition_json(definition))
        await self.services.definitions.register_workflow_def(parsed, overwrite=overwrite)

    async def register(self, definition: Any, *, overwrite: bool = True) -> None:
        """A workflow definition and the task definitions it declares (see `Client.register`)."""
        task_defs, workflow_def = registration(definition)
        if task_defs:
            await self.register_task_defs(task_defs)
        await self.register_workflow_def(workflow_def, overwrite=overwrite)

    # ------------------------------------------------------------------ executions
    async def start_workflow(
        self,
        workflow: Any,
        input: Mapping[str, Any] | None = None,
        *,
        version: int | None = None,
        correlation_id: str | None = None,
        priority: int | None = None,
        task_to_domain: Mapping[str, str] | None = None,
        idempotency_key: str | None = None,
        idempotency_strategy: str | None = None,
    ) -> str:
        body = start_request(
            workflow,
            input,
            version=version,
            correlation_id=correlation_id,
            priority=priority,
            task_to_domain=task_to_domain,
            idempotency_key=idempotency_key,
            idempotency_strategy=idempotency_strategy,
        )
        request = parse_model(StartWorkflowRequest, body, "start workflow request")
        return await self.services.workflows.start(request)

    async def get_workflow(self, workflow_id: str, *, include_tasks: bool = True) -> Workflow:
        wf = await self.services.workflows.get(workflow_id)
        return Workflow.from_json(
            self.services.workflows.workflow_json(wf, include_tasks=include_tasks)
        )

    async def wait_for_workflow(self, workflow_id: str, *, timeout: float = 60.0) -> Workflow:
        """The workflow once it has ended; `WaitTimeoutError` after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        for delay in wait_delays(first=0.001, most=0.05):
            wf = await self.services.workflows.get(workflow_id)
            if wf.status.terminal:
                return await self.get_workflow(workflow_id)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise WaitTimeoutError(
                    f"workflow {workflow_id} is still {wf.status.value} after {timeout:g} s",
                    await self.get_workflow(workflow_id),
                )
            await asyncio.sleep(min(delay, remaining))
        raise AssertionError("unreachable")  # pragma: no cover

    async def run_workflow(
        self,
        workflow: Any,
        input: Mapping[str, Any] | None = None,
        *,
        timeout: float = 60.0,
        version: int | None = None,
        correlation_id: str | None = None,
    ) -> Workflow:
        """Start a workflow and wait for its end."""
        workflow_id = await self.start_workflow(
            workflow, input, version=version, correlation_id=correlation_id
        )
        return await self.wait_for_workflow(workflow_id, timeout=timeout)

    async def terminate_workflow(self, workflow_id: str, reason: str | None = None) -> None:
        await self.services.workflows.terminate(workflow_id, reason)

    async def remove_workflow(self, workflow_id: str) -> None:
        await self.services.workflows.remove(workflow_id)

    async def update_task_by_ref(
        self,
        workflow_id: str,
        task_ref: str,
        status: str,
        output: Mapping[str, Any] | None = None,
    ) -> str:
        """Set the status of the pending task with this reference name (HUMAN, WAIT, ...);
        its id, empty when none was pending."""
        task_id = await self.services.tasks.update_by_ref(
            workflow_id, task_ref, status, dict(output or {})
        )
        return task_id or ""

    async def get_task_logs(self, task_id: str) -> list[dict[str, Any]]:
        logs = await self.services.tasks.logs(task_id)
        return [{"log": e.log, "taskId": e.task_id, "createdTime": e.created_time} for e in logs]
