"""`SyncWorkflowEnvironment`: `WorkflowEnvironment` for plain (non-async) test functions."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Mapping, Sequence
from typing import Any, TypeVar

from legato.client.models import Workflow
from legato.testing.environment import Execution, WorkflowEnvironment
from legato.worker.task import WorkerTask

__all__ = ["SyncWorkflowEnvironment"]

T = TypeVar("T")


class SyncWorkflowEnvironment:
    """The same environment, each method run to completion on a private event loop.

    with SyncWorkflowEnvironment([charge], mocks={...}) as env:
        env.register(flow)
        assert env.run_workflow(flow, {"amount": 5}).status == "COMPLETED"
    """

    def __init__(self, workers: Sequence[WorkerTask[..., Any]] = (), **options: Any) -> None:
        """The options of `WorkflowEnvironment`."""
        self.env = WorkflowEnvironment(workers, **options)
        self._runner: asyncio.Runner | None = None

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        if self._runner is None:
            coro.close()
            raise RuntimeError("the environment is not open (use `with SyncWorkflowEnvironment`)")
        return self._runner.run(coro)

    def __enter__(self) -> SyncWorkflowEnvironment:
        self._runner = asyncio.Runner()
        self._run(self.env.__aenter__())
        return self

    def __exit__(self, *exc: object) -> None:
        runner, self._runner = self._runner, None
        if runner is None:
            return
        try:
            runner.run(self.env.__aexit__(None, None, None))
        finally:
            runner.close()

    @property
    def clock(self) -> Any:
        return self.env.clock

    @property
    def executions(self) -> list[Execution]:
        return self.env.executions

    def executions_of(self, ref: str) -> list[Execution]:
        return self.env.executions_of(ref)

    def register(self, definition: Any, *, overwrite: bool = True) -> None:
        self._run(self.env.register(definition, overwrite=overwrite))

    def register_task_defs(self, task_defs: Sequence[Any]) -> None:
        self._run(self.env.register_task_defs(task_defs))

    def start_workflow(
        self, workflow: Any, input: Mapping[str, Any] | None = None, **options: Any
    ) -> str:
        return self._run(self.env.start_workflow(workflow, input, **options))

    def run_workflow(
        self, workflow: Any, input: Mapping[str, Any] | None = None, **options: Any
    ) -> Workflow:
        return self._run(self.env.run_workflow(workflow, input, **options))

    def drive(self, workflow_id: str) -> Workflow:
        return self._run(self.env.drive(workflow_id))

    def get_workflow(self, workflow_id: str) -> Workflow:
        return self._run(self.env.get_workflow(workflow_id))

    def advance(self, seconds: float) -> None:
        self._run(self.env.advance(seconds))

    def complete_task(
        self,
        workflow_id: str,
        task_ref: str,
        output: Mapping[str, Any] | None = None,
        *,
        status: str = "COMPLETED",
    ) -> None:
        self._run(self.env.complete_task(workflow_id, task_ref, output, status=status))

    def terminate_workflow(self, workflow_id: str, reason: str | None = None) -> None:
        self._run(self.env.terminate_workflow(workflow_id, reason))

    def get_task_logs(self, task_id: str) -> list[dict[str, Any]]:
        return self._run(self.env.get_task_logs(task_id))
