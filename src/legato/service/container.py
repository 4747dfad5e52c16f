"""The services of one node, wired explicitly (no singletons)."""

from __future__ import annotations

from legato.config import Settings
from legato.engine.context import EngineContext
from legato.expr.javascript import ScriptEngine
from legato.service.admin import AdminService
from legato.service.clock import Clock, SystemClock
from legato.service.definitions import DefinitionService
from legato.service.tasks import RecentPolls, TaskService
from legato.service.workflows import WorkflowService
from legato.store.base import Store


class Services:
    def __init__(self, store: Store, settings: Settings, clock: Clock | None = None) -> None:
        self.store = store
        self.settings = settings
        self.clock = clock or SystemClock()
        self.scripts = ScriptEngine(
            time_limit_s=settings.script_time_limit_s,
            memory_limit_bytes=settings.script_memory_mb * 1024 * 1024,
        )
        self.definitions = DefinitionService(store, self.clock)
        self.polls = RecentPolls()
        self.ctx = EngineContext(
            task_def=self.definitions.task_def,
            workflow_def=self.definitions.workflow_def,
            scripts=self.scripts,
            last_poll=self.polls.last_poll,
        )
        self.workflows = WorkflowService(store, self.definitions, self.ctx, self.clock)
        self.tasks = TaskService(store, self.workflows, self.clock, self.polls)
        self.admin = AdminService(store, self.workflows, self.clock, settings)

    async def open(self) -> None:
        await self.store.open()
        await self.definitions.load()

    async def close(self) -> None:
        try:
            await self.store.close()
        finally:
            self.scripts.close()
