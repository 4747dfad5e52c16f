"""Services on a real store with a fake clock; timers fired by hand."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

import pg_testdb
from legato.config import Settings
from legato.model import StartWorkflowRequest, Task, TaskDef, TaskResult, WorkflowDef
from legato.runners.timers import TimerLoop
from legato.service import FakeClock, Services
from legato.store import store_for_url

BACKENDS = ["sqlite", "postgresql"]


class Node:
    """One Legato node's services, driven by a test."""

    def __init__(self, services: Services, clock: FakeClock) -> None:
        self.services = services
        self.clock = clock
        self.timers = TimerLoop(services, 10)

    async def define(self, wf: dict[str, Any], *task_defs: dict[str, Any]) -> None:
        if task_defs:
            await self.services.definitions.register_task_defs(
                [TaskDef.model_validate(d) for d in task_defs]
            )
        await self.services.definitions.register_workflow_def(
            WorkflowDef.model_validate(wf), overwrite=True
        )

    async def start(self, name: str, input: dict[str, Any] | None = None) -> str:
        return await self.services.workflows.start(
            StartWorkflowRequest(name=name, input=input or {})
        )

    async def poll(self, task_type: str, count: int = 1) -> list[Task]:
        return await self.services.tasks.poll(task_type, worker_id="w", count=count)

    async def report(self, task: Task, status: str = "COMPLETED", **output: Any) -> None:
        await self.services.tasks.update(
            TaskResult(
                workflow_instance_id=task.workflow_instance_id,
                task_id=task.task_id,
                status=status,
                output_data=output,
                reason_for_incompletion="worker said no" if status != "COMPLETED" else None,
            )
        )

    async def advance(self, seconds: float) -> None:
        self.clock.advance(seconds)
        while await self.timers.run_once():
            pass

    async def get(self, workflow_id: str) -> Any:
        return await self.services.workflows.get(workflow_id)


def _url(backend: str, directory: Path) -> str:
    if backend == "postgresql":
        return pg_testdb.fresh_database(migrated=True)
    assert backend == "sqlite"
    return f"sqlite:///{directory / 'service.db'}"


@pytest.fixture(params=BACKENDS)
async def make_node(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[Callable[[], Any]]:
    url = _url(str(request.param), tmp_path)
    clock = FakeClock()
    opened: list[Services] = []

    async def factory() -> Node:
        settings = Settings(db=url, script_time_limit_s=0.5)
        services = Services(store_for_url(url), settings, clock)
        await services.open()
        opened.append(services)
        return Node(services, clock)

    yield factory
    for services in opened:
        await services.close()


@pytest.fixture
async def node(make_node: Callable[[], Any]) -> Node:
    return await make_node()  # type: ignore[no-any-return]
