"""The services of one node, wired explicitly (no singletons)."""

from __future__ import annotations

from legato.config import Settings
from legato.engine.context import EngineContext
from legato.expr.javascript import ScriptEngine
from legato.service.admin import AdminService
from legato.service.clock import Clock, SystemClock
from legato.service.definitions import BackgroundReload, DefinitionService
from legato.service.events import EventHandlerService
from legato.service.operations import OperationsService
from legato.service.search import SearchService
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
        self.operations = OperationsService(store, self.workflows, self.definitions, self.clock)
        self.admin = AdminService(store, self.workflows, self.clock, settings)
        self.events = EventHandlerService(store, self.clock)
        self.search = SearchService(store)
        # Definitions and event handlers changed on other nodes (PostgreSQL) are reloaded.
        self.handler_reloads = BackgroundReload(self.events.load, "event handlers")

    async def open(self) -> None:
        await self.store.open()
        await self.definitions.load()
        await self.events.load()
        self.definitions.watch()
        self.store.watch_definitions(self._handlers_changed)

    def _handlers_changed(self, kind: str) -> None:
        if kind in ("event_handler", "*"):
            self.handler_reloads.request()

    async def close(self) -> None:
        try:
            await self.definitions.reloads.stop()
            await self.handler_reloads.stop()
            await self.store.close()
        finally:
            self.scripts.close()
