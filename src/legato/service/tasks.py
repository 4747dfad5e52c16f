"""Task use cases: workers poll and report; operators look tasks up."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from legato.engine.decider import workflow_task_of
from legato.engine.facts import TaskUpdate
from legato.errors import FieldProblem, NotFoundError, ValidationError
from legato.model import RESULT_STATUSES, Task, TaskResult, TaskStatus, Workflow
from legato.service.clock import Clock
from legato.service.workflows import WorkflowService
from legato.store.base import ClaimLimits, Store, TaskLog

MAX_POLL_TIMEOUT_MS = 5000
MAX_BATCH = 1000


def queue_name(task_type: str, domain: str | None) -> str:
    return f"{domain}:{task_type}" if domain else task_type


class RecentPolls:
    """When workers last polled each (task type, domain) on this node: the decider picks the
    first domain of a `taskToDomain` fallback list that a worker is serving."""

    def __init__(self) -> None:
        self._last: dict[tuple[str, str | None], int] = {}

    def polled(self, task_type: str, domain: str | None, now: int) -> None:
        self._last[(task_type, domain)] = now

    def last_poll(self, task_type: str, domain: str | None) -> int | None:
        return self._last.get((task_type, domain))


class TaskService:
    def __init__(
        self,
        store: Store,
        workflows: WorkflowService,
        clock: Clock,
        polls: RecentPolls | None = None,
    ) -> None:
        self.store = store
        self.workflows = workflows
        self.clock = clock
        self.polls = polls or RecentPolls()

    # ------------------------------------------------------------------ polling
    async def poll(
        self,
        task_type: str,
        *,
        worker_id: str | None = None,
        domain: str | None = None,
        count: int = 1,
        timeout_ms: int = 0,
        client_gone: Callable[[], Awaitable[bool]] | None = None,
    ) -> list[Task]:
        """Claim up to `count` tasks, waiting up to `timeout_ms` for the first. A long poll
        whose client went away while it waited (`client_gone()`) claims nothing: the tasks
        would only come back after their response timeout."""
        problems = []
        if count < 1 or count > MAX_BATCH:
            problems.append(FieldProblem("count", f"must be between 1 and {MAX_BATCH}", count))
        if timeout_ms < 0 or timeout_ms > MAX_POLL_TIMEOUT_MS:
            problems.append(
                FieldProblem(
                    "timeout", f"must be between 0 and {MAX_POLL_TIMEOUT_MS} ms", timeout_ms
                )
            )
        if problems:
            raise ValidationError("Invalid poll request", problems)
        name = queue_name(task_type, domain or None)
        limits = self._limits(task_type)
        self.polls.polled(task_type, domain or None, self.clock.now_ms())
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_ms / 1000
        while True:
            claimed = await self.store.claim_tasks(
                name, count, worker_id, self.clock.now_ms(), domain or None, limits
            )
            if claimed:
                self.workflows.running.claimed(claimed)
                self.workflows.changed({c.task.workflow_instance_id for c in claimed})
                return [c.task for c in claimed]
            remaining = deadline - loop.time()
            if remaining <= 0:
                return []  # claim_tasks recorded the poll already
            await self.store.wait_for_work(name, remaining)
            if client_gone is not None and await client_gone():
                return []

    def _limits(self, task_type: str) -> ClaimLimits | None:
        task_def = self.workflows.definitions.task_def(task_type)
        if task_def is None:
            return None
        limits = ClaimLimits(
            task_def_name=task_type,
            concurrent_exec_limit=task_def.concurrent_exec_limit,
            rate_limit_per_frequency=task_def.rate_limit_per_frequency,
            rate_limit_frequency_in_seconds=task_def.rate_limit_frequency_in_seconds,
        )
        return limits if limits.active else None

    # ------------------------------------------------------------------ updates
    async def update(self, result: TaskResult) -> tuple[Task, str | None]:
        """Apply a worker's TaskResult: the task as it now stands, and why nothing changed
        when the result was not applied (the task or its workflow had ended already)."""
        try:
            status = TaskStatus(result.status)
        except ValueError:
            status = None
        if status is None or status not in RESULT_STATUSES:
            raise ValidationError(
                "Invalid task result",
                [
                    FieldProblem(
                        "status",
                        "must be one of IN_PROGRESS, COMPLETED, FAILED, FAILED_WITH_TERMINAL_ERROR",
                        result.status,
                    )
                ],
            )
        fact = TaskUpdate(
            task_id=result.task_id,
            status=status,
            output_data=result.output_data,
            reason_for_incompletion=result.reason_for_incompletion,
            callback_after_seconds=result.callback_after_seconds,
            worker_id=result.worker_id,
            extend_lease=result.extend_lease,
            logs=tuple(entry.log for entry in result.logs),
            retry_after_seconds=result.retry_after_seconds,
        )

        def choose(wf: Workflow) -> TaskUpdate:
            if _find(wf, result.task_id) is None:
                raise NotFoundError(
                    f"No such task found by id: {result.task_id} in workflow "
                    f"{result.workflow_instance_id}"
                )
            return fact

        wf, decision = await self.workflows.act(result.workflow_instance_id, choose)
        task = _find(wf, result.task_id)
        assert task is not None
        return task, decision.ignored

    async def update_by_ref(
        self,
        workflow_id: str,
        ref: str,
        status: str,
        output: dict[str, Any],
        worker_id: str | None = None,
    ) -> str | None:
        """Complete (or fail) the pending task with this reference name; its id, or None."""
        try:
            parsed = TaskStatus(status)
        except ValueError:
            parsed = None
        if parsed is None or parsed not in RESULT_STATUSES:
            raise ValidationError(
                "Invalid task status",
                [
                    FieldProblem(
                        "status",
                        "must be one of IN_PROGRESS, COMPLETED, FAILED, FAILED_WITH_TERMINAL_ERROR",
                        status,
                    )
                ],
            )
        found: list[str] = []

        def choose(wf: Workflow) -> TaskUpdate | None:
            task = _pending_by_ref(wf, ref)
            if task is None:
                return None
            found.append(task.task_id)
            return TaskUpdate(
                task_id=task.task_id, status=parsed, output_data=output, worker_id=worker_id
            )

        await self.workflows.act(workflow_id, choose)
        return found[0] if found else None

    # ------------------------------------------------------------------ reading
    async def get(self, task_id: str) -> Task:
        task = await self.store.load_task(task_id)
        if task is None:
            raise NotFoundError(f"No such task found by id: {task_id}")
        return task

    async def task_json(self, task: Task) -> dict[str, Any]:
        wf = await self.store.load_workflow(task.workflow_instance_id)
        wt = workflow_task_of(wf, task) if wf is not None else None
        return task.to_json(wt)

    async def logs(self, task_id: str) -> list[TaskLog]:
        return await self.store.get_task_logs(task_id)

    async def add_log(self, task_id: str, line: str) -> None:
        task = await self.get(task_id)
        from legato.store.base import Changeset

        await self.store.commit(Changeset(logs=[TaskLog(task.task_id, line, self.clock.now_ms())]))

    async def queue_sizes(self, task_types: list[str] | None = None) -> dict[str, int]:
        return await self.store.queue_sizes(task_types)


def _find(wf: Workflow, task_id: str) -> Task | None:
    for task in reversed(wf.tasks):
        if task.task_id == task_id:
            return task
    return None


def _pending_by_ref(wf: Workflow, ref: str) -> Task | None:
    """The pending task with this reference name, or its latest loop iteration."""
    best: Task | None = None
    for task in wf.tasks:
        if task.status.terminal:
            continue
        if task.reference_task_name == ref:
            return task
        if task.base_ref == ref and (best is None or task.iteration > best.iteration):
            best = task
    return best
