"""Task and workflow definitions: validated, stored, and held in memory for the decider.

With several nodes on one database, definitions registered on another node reach this one's
memory two ways: the store tells us (`watch`: PostgreSQL notifies every node of a change and
the whole set is reloaded in the background), and a lookup that misses reloads at once.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import orjson

from legato.errors import FieldProblem, NotFoundError, ValidationError
from legato.model import TaskDef, WorkflowDef
from legato.model.validation import validate_task_def, validate_workflow_def
from legato.service.clock import Clock
from legato.store.base import Store
from legato.tasks.registry import UNSUPPORTED_TYPES

log = logging.getLogger("legato.definitions")


class BackgroundReload:
    """Runs `load()` in the background on request, one run at a time; requests made during a
    run cause one more run. A failed run (the database is down) is retried with backoff."""

    def __init__(self, load: Callable[[], Awaitable[None]], what: str) -> None:
        self._load = load
        self._what = what
        self._task: asyncio.Task[None] | None = None
        self._again = False

    def request(self) -> None:
        if self._task is not None and not self._task.done():
            self._again = True
            return
        self._again = False
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        delay = 0.1
        while True:
            self._again = False
            try:
                await self._load()
            except Exception as exc:
                log.warning("reloading %s failed (%s); retrying in %.1f s", self._what, exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
                self._again = True
            if not self._again:
                return

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


class DefinitionService:
    """Definitions are few and read on every decision, so all of them live in memory too."""

    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock
        self._task_defs: dict[str, TaskDef] = {}
        self._workflow_defs: dict[str, dict[int, WorkflowDef]] = {}
        # Bumped by every change made through this node, so that a reload that read the
        # store before such a change does not overwrite it with older data.
        self._epoch = 0
        self.reloads = BackgroundReload(self.load, "definitions")

    async def load(self) -> None:
        for _ in range(5):
            epoch = self._epoch
            task_defs = {d.name: d for d in await self.store.list_task_defs()}
            workflow_defs: dict[str, dict[int, WorkflowDef]] = {}
            for d in await self.store.list_workflow_defs():
                workflow_defs.setdefault(d.name, {})[d.version] = d
            if epoch == self._epoch:
                break
        self._task_defs, self._workflow_defs = task_defs, workflow_defs

    def watch(self) -> None:
        """Reload when the store says another node changed definitions."""
        self.store.watch_definitions(self._changed)

    def _changed(self, kind: str) -> None:
        if kind in ("task", "workflow", "*"):
            self.reloads.request()

    async def find_workflow_def(self, name: str, version: int | None = None) -> WorkflowDef | None:
        """`workflow_def`, reloading from the store on a miss (registered on another node)."""
        found = self.workflow_def(name, version)
        if found is None:
            await self.load()
            found = self.workflow_def(name, version)
        return found

    async def find_task_def(self, name: str) -> TaskDef | None:
        """`task_def`, reloading from the store on a miss (registered on another node)."""
        found = self.task_def(name)
        if found is None:
            await self.load()
            found = self.task_def(name)
        return found

    # ------------------------------------------------------------ lookups (no I/O)
    def task_def(self, name: str) -> TaskDef | None:
        return self._task_defs.get(name)

    def workflow_def(self, name: str, version: int | None = None) -> WorkflowDef | None:
        versions = self._workflow_defs.get(name)
        if not versions:
            return None
        if version is None or version == 0:
            return versions[max(versions)]
        return versions.get(version)

    # ------------------------------------------------------------ task defs
    async def register_task_defs(self, defs: list[TaskDef]) -> None:
        now = self.clock.now_ms()
        for d in defs:
            validate_task_def(d)
            existing = self._task_defs.get(d.name)
            d.create_time = existing.create_time if existing and existing.create_time else now
            d.update_time = now
        self._epoch += 1
        await self.store.put_task_defs(defs)
        for d in defs:
            self._task_defs[d.name] = d

    async def get_task_def(self, name: str) -> TaskDef:
        found = await self.find_task_def(name)
        if found is None:
            raise NotFoundError(f"No such taskType found by name: {name}")
        return found

    def list_task_defs(self) -> list[TaskDef]:
        return sorted(self._task_defs.values(), key=lambda d: d.name)

    async def delete_task_def(self, name: str) -> None:
        self._epoch += 1
        if not await self.store.delete_task_def(name):
            raise NotFoundError(f"No such taskType found by name: {name}")
        self._task_defs.pop(name, None)

    # ------------------------------------------------------------ workflow defs
    def validate_workflow_def(self, definition: WorkflowDef) -> None:
        problems: list[FieldProblem] = []
        for path, wt in _walk_with_paths(definition):
            if wt.type in UNSUPPORTED_TYPES:
                problems.append(
                    FieldProblem(
                        f"{path}.type",
                        f"task type {wt.type} is not supported by this Legato version",
                        wt.type,
                    )
                )
        try:
            validate_workflow_def(definition, self._task_defs)
        except ValidationError as exc:
            exc.problems.extend(problems)
            raise
        if problems:
            raise ValidationError(
                f"Validation failed for workflow definition {definition.name}", problems
            )

    async def register_workflow_def(self, definition: WorkflowDef, *, overwrite: bool) -> None:
        self.validate_workflow_def(definition)
        now = self.clock.now_ms()
        existing = self.workflow_def(definition.name, definition.version)
        definition.create_time = (
            existing.create_time if existing is not None and existing.create_time else now
        )
        definition.update_time = now if existing is not None else None
        self._epoch += 1
        await self.store.put_workflow_def(definition, overwrite=overwrite)
        self._workflow_defs.setdefault(definition.name, {})[definition.version] = definition

    async def get_workflow_def(self, name: str, version: int | None = None) -> WorkflowDef:
        found = await self.find_workflow_def(name, version)
        if found is None:
            suffix = f" and version: {version}" if version else ""
            raise NotFoundError(f"No such workflow found by name: {name}{suffix}")
        return found

    def list_workflow_defs(self) -> list[WorkflowDef]:
        return [
            d
            for name in sorted(self._workflow_defs)
            for _, d in sorted(self._workflow_defs[name].items())
        ]

    def latest_workflow_defs(self) -> list[WorkflowDef]:
        return [
            versions[max(versions)]
            for _, versions in sorted(self._workflow_defs.items())
            if versions
        ]

    async def delete_workflow_def(self, name: str, version: int) -> None:
        self._epoch += 1
        if not await self.store.delete_workflow_def(name, version):
            raise NotFoundError(f"No such workflow definition: {name} version: {version}")
        versions = self._workflow_defs.get(name, {})
        versions.pop(version, None)
        if not versions:
            self._workflow_defs.pop(name, None)


def _walk_with_paths(definition: WorkflowDef) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []

    def visit(tasks: list[Any], prefix: str) -> None:
        for i, wt in enumerate(tasks):
            path = f"{prefix}[{i}]"
            out.append((path, wt))
            for case, branch in wt.decision_cases.items():
                visit(branch, f"{path}.decisionCases.{case}")
            visit(wt.default_case, f"{path}.defaultCase")
            for b, branch in enumerate(wt.fork_tasks):
                visit(branch, f"{path}.forkTasks[{b}]")
            visit(wt.loop_over, f"{path}.loopOver")

    visit(definition.tasks, "tasks")
    return out


def snapshot_of(definition: WorkflowDef) -> tuple[str, bytes]:
    """The content hash and body under which a running workflow keeps its definition."""
    return definition.derived("snapshot", _snapshot)


def _snapshot(definition: WorkflowDef) -> tuple[str, bytes]:
    body = orjson.dumps(definition.to_json(), option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(body).hexdigest(), body
