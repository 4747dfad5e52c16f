"""Operator repairs and views: requeue, sweep, verify-and-repair, queue contents, config."""

from __future__ import annotations

from typing import Any

from legato.config import Settings
from legato.engine.facts import Reevaluate
from legato.model import Task
from legato.service.clock import Clock
from legato.service.tasks import queue_name
from legato.service.workflows import WorkflowService
from legato.store.base import Store


class AdminService:
    def __init__(
        self, store: Store, workflows: WorkflowService, clock: Clock, settings: Settings
    ) -> None:
        self.store = store
        self.workflows = workflows
        self.clock = clock
        self.settings = settings

    async def requeue_pending(self, task_type: str) -> int:
        """Make sure every SCHEDULED task of a type is in its queue; how many were added."""
        return await self.store.requeue_missing(self.clock.now_ms(), task_type=task_type)

    async def repair(self, workflow_id: str) -> int:
        """Decide the workflow again and re-queue any SCHEDULED task missing from its queue."""
        await self.workflows.act(workflow_id, Reevaluate())
        return await self.store.requeue_missing(self.clock.now_ms(), workflow_id=workflow_id)

    async def pending(
        self, task_type: str, domain: str | None, start: int, count: int
    ) -> list[Task]:
        return await self.store.list_queue(queue_name(task_type, domain), start, count)

    def config(self) -> dict[str, Any]:
        return {f"legato.{k}": v for k, v in self.settings.model_dump().items()}
