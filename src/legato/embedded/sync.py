"""`SyncEmbeddedEngine`: `EmbeddedEngine` for code without an event loop (scripts, sync tests).

The engine runs on an event loop in a background thread, so timers and workers keep going
between calls; each method blocks until its coroutine is done.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine, Mapping, Sequence
from typing import Any, TypeVar

from legato.client.models import Workflow
from legato.embedded.engine import EmbeddedEngine
from legato.worker.task import WorkerTask

__all__ = ["SyncEmbeddedEngine"]

T = TypeVar("T")


def new_event_loop() -> asyncio.AbstractEventLoop:
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is not on every platform
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


class SyncEmbeddedEngine:
    def __init__(self, workers: Sequence[WorkerTask[..., Any]] = (), **options: Any) -> None:
        """The options of `EmbeddedEngine`."""
        self.engine = EmbeddedEngine(workers, **options)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    def _call(self, coro: Coroutine[Any, Any, T]) -> T:
        if self._loop is None:
            coro.close()
            raise RuntimeError("the engine is not open (use `with SyncEmbeddedEngine(...)`)")
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()

    def open(self) -> None:
        loop = new_event_loop()
        self._thread = threading.Thread(
            target=loop.run_forever, name="legato-embedded", daemon=True
        )
        self._thread.start()
        self._loop = loop
        self._call(self.engine.open())

    def close(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        try:
            self._call(self.engine.close())
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join()
            loop.close()
            self._loop = self._thread = None

    def __enter__(self) -> SyncEmbeddedEngine:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ the engine's methods
    def register(self, definition: Any, *, overwrite: bool = True) -> None:
        self._call(self.engine.register(definition, overwrite=overwrite))

    def register_task_defs(self, task_defs: Sequence[Any]) -> None:
        self._call(self.engine.register_task_defs(task_defs))

    def register_workflow_def(self, definition: Any, *, overwrite: bool = False) -> None:
        self._call(self.engine.register_workflow_def(definition, overwrite=overwrite))

    def start_workflow(
        self, workflow: Any, input: Mapping[str, Any] | None = None, **options: Any
    ) -> str:
        return self._call(self.engine.start_workflow(workflow, input, **options))

    def get_workflow(self, workflow_id: str, *, include_tasks: bool = True) -> Workflow:
        return self._call(self.engine.get_workflow(workflow_id, include_tasks=include_tasks))

    def wait_for_workflow(self, workflow_id: str, *, timeout: float = 60.0) -> Workflow:
        return self._call(self.engine.wait_for_workflow(workflow_id, timeout=timeout))

    def run_workflow(
        self,
        workflow: Any,
        input: Mapping[str, Any] | None = None,
        *,
        timeout: float = 60.0,
        **options: Any,
    ) -> Workflow:
        return self._call(self.engine.run_workflow(workflow, input, timeout=timeout, **options))

    def terminate_workflow(self, workflow_id: str, reason: str | None = None) -> None:
        self._call(self.engine.terminate_workflow(workflow_id, reason))

    def update_task_by_ref(
        self,
        workflow_id: str,
        task_ref: str,
        status: str,
        output: Mapping[str, Any] | None = None,
    ) -> str:
        return self._call(self.engine.update_task_by_ref(workflow_id, task_ref, status, output))

    def get_task_logs(self, task_id: str) -> list[dict[str, Any]]:
        return self._call(self.engine.get_task_logs(task_id))
