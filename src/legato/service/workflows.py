"""Workflow use cases, and the one door every state change goes through.

`WorkflowService.act(workflow_id, fact)` locks the workflow in this process, loads it, asks the
decider, follows the decision to the workflows it touches (sub-workflows started, parents told a
child ended, children terminated, failure workflows) and commits all of it in one transaction.
A revision conflict (another node changed a workflow meanwhile) re-runs the whole step.
"""

from __future__ import annotations

import asyncio
import copy
import random
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from legato.engine.context import EngineContext
from legato.engine.decider import decide, definition_has_scripts, workflow_task_of
from legato.engine.decision import Decision, WorkflowStart
from legato.engine.facts import ChildFinished, ChildRevived, Fact, Start, Terminate
from legato.errors import (
    ConflictError,
    LegatoError,
    NotFoundError,
    RevisionConflict,
    ValidationError,
)
from legato.model import (
    StartWorkflowRequest,
    Task,
    Workflow,
    WorkflowDef,
    WorkflowStatus,
)
from legato.service.cache import RunningWorkflows
from legato.service.clock import Clock
from legato.service.definitions import DefinitionService, snapshot_of
from legato.store.base import (
    ArchivedRun,
    Changeset,
    EventMessage,
    QueueEntry,
    Store,
    WorkflowWrite,
)

MAX_ATTEMPTS = 20


class WorkflowLocks:
    """Serialises facts on one workflow within this process (other nodes: revision checks)."""

    def __init__(self) -> None:
        self._locks: dict[str, asyncio.Lock] = {}
        self._users: dict[str, int] = {}

    @asynccontextmanager
    async def hold(self, workflow_id: str) -> AsyncIterator[None]:
        lock = self._locks.get(workflow_id)
        if lock is None:
            lock = self._locks[workflow_id] = asyncio.Lock()
        self._users[workflow_id] = self._users.get(workflow_id, 0) + 1
        try:
            async with lock:
                yield
        finally:
            left = self._users[workflow_id] - 1
            if left:
                self._users[workflow_id] = left
            else:
                del self._users[workflow_id]
                del self._locks[workflow_id]


@dataclass(slots=True)
class _Pending:
    """Everything one step will write for one workflow."""

    workflow: Workflow
    expected_rev: int | None
    new_tasks: dict[str, Task] = field(default_factory=dict)
    updated_tasks: dict[str, Task] = field(default_factory=dict)
    # Operator changes (engine/operations.py): tasks dropped, runs archived, a new definition.
    removed_task_ids: list[str] = field(default_factory=list)
    archived_runs: list[ArchivedRun] = field(default_factory=list)
    definition_changed: bool = False


class _Step:
    """The decisions of one step, across every workflow they reach, merged into one Changeset."""

    def __init__(self) -> None:
        self.pending: dict[str, _Pending] = {}
        self.queue: dict[str, QueueEntry | None] = {}  # task id -> entry, or None: remove
        self.logs: list = []  # type: ignore[type-arg]
        self.events: list[EventMessage] = []
        self.decisions: list[tuple[Workflow, Decision]] = []

    def add(self, wf: Workflow, decision: Decision) -> None:
        self.decisions.append((wf, decision))
        p = self.pending[wf.workflow_id]
        for t in decision.new_tasks:
            p.new_tasks[t.task_id] = t
        for tid, t in decision.updated_tasks.items():
            if tid not in p.new_tasks:
                p.updated_tasks[tid] = t
        for e in decision.enqueue:
            self.queue[e.task_id] = e
        for tid in decision.dequeue:
            self.queue[tid] = None
        self.logs.extend(decision.logs)
        self.events.extend(decision.events)
        for tid in decision.removed_tasks:
            p.new_tasks.pop(tid, None)
            p.updated_tasks.pop(tid, None)
            self.queue.pop(tid, None)  # the store drops a removed task's queue entry itself
            p.removed_task_ids.append(tid)
        p.archived_runs.extend(decision.archived_runs)
        p.definition_changed = p.definition_changed or decision.definition_changed

    def changeset(self) -> Changeset:
        cs = Changeset()
        for p in self.pending.values():
            write = WorkflowWrite(
                workflow=p.workflow,
                expected_rev=p.expected_rev,
                new_tasks=list(p.new_tasks.values()),
                updated_tasks=list(p.updated_tasks.values()),
                removed_task_ids=p.removed_task_ids,
                archived_runs=p.archived_runs,
            )
            if p.expected_rev is None or p.definition_changed:
                write.definition_hash, write.definition_json = snapshot_of(p.workflow.definition)
            cs.workflows.append(write)
        for tid, entry in self.queue.items():
            if entry is None:
                cs.dequeue.append(tid)
            else:
                cs.enqueue.append(entry)
        cs.logs = self.logs
        cs.events = self.events
        return cs


class WorkflowService:
    def __init__(
        self,
        store: Store,
        definitions: DefinitionService,
        ctx: EngineContext,
        clock: Clock,
    ) -> None:
        self.store = store
        self.definitions = definitions
        self.ctx = ctx
        self.clock = clock
        self.locks = WorkflowLocks()
        self.running = RunningWorkflows()
        # Called with the workflows whose state changed, after each commit (live views, waiters).
        # Called with the ids of workflows whose state changed (a commit, or tasks claimed by
        # workers), on the event loop: live views and sync-execute waiters.
        self.listeners: list[Callable[[set[str]], None]] = []

    # ------------------------------------------------------------------ use cases
    async def start(
        self,
        request: StartWorkflowRequest,
        *,
        workflow_id: str | None = None,
        event: str | None = None,
    ) -> str:
        """Start a workflow; `workflow_id` chooses its id (a deterministic one makes a repeated
        start fail with ConflictError), `event` names the event that started it."""
        definition = request.workflow_def
        if definition is None:
            definition = await self.definitions.find_workflow_def(request.name, request.version)
            if definition is None:
                suffix = f" and version: {request.version}" if request.version else ""
                raise NotFoundError(f"No such workflow found by name: {request.name}{suffix}")
        else:
            self.definitions.validate_workflow_def(definition)
        now = self.clock.now_ms()
        wf = self._new_workflow(
            WorkflowStart(
                workflow_id=workflow_id or str(uuid.uuid4()),
                definition=definition,
                input=request.input,
                correlation_id=request.correlation_id,
                task_to_domain=dict(request.task_to_domain),
                priority=request.priority,
            ),
            now,
        )
        wf.created_by = request.created_by
        wf.idempotency_key = request.idempotency_key
        wf.event = event
        step = _Step()
        step.pending[wf.workflow_id] = _Pending(wf, None)
        await self._decide_into(step, wf, Start(), now)
        await self._commit(step)
        return wf.workflow_id

    async def get(self, workflow_id: str) -> Workflow:
        wf = await self.store.load_workflow(workflow_id)
        if wf is None:
            raise NotFoundError(f"No such workflow found by id: {workflow_id}")
        return wf

    async def terminate(self, workflow_id: str, reason: str | None) -> None:
        wf = await self.get(workflow_id)
        if wf.status == WorkflowStatus.COMPLETED:
            raise ConflictError(f"Workflow {workflow_id} is COMPLETED and cannot be terminated")
        if wf.status == WorkflowStatus.TERMINATED:
            return
        await self.act(workflow_id, Terminate(reason))

    async def remove(self, workflow_id: str) -> None:
        self.running.drop(workflow_id)
        if not await self.store.remove_workflow(workflow_id):
            raise NotFoundError(f"No such workflow found by id: {workflow_id}")

    # ------------------------------------------------------------------ the one door
    async def act(
        self, workflow_id: str, fact: Fact | Callable[[Workflow], Fact | None]
    ) -> tuple[Workflow, Decision]:
        """Apply a fact (or a function choosing one from the loaded workflow) and commit."""
        async with self.locks.hold(workflow_id):
            for attempt in range(MAX_ATTEMPTS):
                wf = self.running.take(workflow_id) if attempt == 0 else None
                # A cached copy may be behind changes other nodes made (their claims, their
                # facts): a commit would find out (revision check), but an outcome that commits
                # nothing (an error, nothing to do) is only trusted on state loaded afresh.
                cached = wf is not None
                if wf is None:
                    wf = await self.store.load_workflow(workflow_id)
                if wf is None:
                    raise NotFoundError(f"No such workflow found by id: {workflow_id}")
                try:
                    chosen = fact(wf) if callable(fact) else fact
                except LegatoError:
                    if cached:
                        continue
                    self.running.put(wf)
                    raise
                except BaseException:
                    self.running.put(wf)
                    raise
                if chosen is None:
                    if cached:
                        continue
                    self.running.put(wf)
                    return wf, Decision(ignored="nothing to do")
                now = self.clock.now_ms()
                step = _Step()
                step.pending[wf.workflow_id] = _Pending(wf, wf.rev)
                decision = await self._decide_into(step, wf, chosen, now)
                if len(step.decisions) == 1 and decision.empty and not decision.workflow_changed:
                    if cached:
                        continue
                    self.running.put(wf)
                    return wf, decision
                try:
                    await self._commit(step)
                except RevisionConflict:
                    # Another node (or a claim) changed a workflow of this step: decide again
                    # from fresh state, backing off a little so contenders spread out.
                    await asyncio.sleep(random.uniform(0, 0.002) * attempt)
                    continue
                return wf, decision
        raise ConflictError(f"Workflow {workflow_id} is changing too often; try again")

    async def _decide_into(self, step: _Step, wf: Workflow, fact: Fact, now: int) -> Decision:
        decision = await self._decide(wf, fact, now)
        step.add(wf, decision)
        await self._follow(step, wf, decision, now)
        return decision

    async def _decide(self, wf: Workflow, fact: Fact, now: int) -> Decision:
        if definition_has_scripts(wf.definition):
            # Scripts run in a sandbox with a time limit; keep them off the event loop.
            return await asyncio.to_thread(decide, wf, fact, now, self.ctx)
        return decide(wf, fact, now, self.ctx)

    async def _follow(self, step: _Step, wf: Workflow, decision: Decision, now: int) -> None:
        """Carry a decision's consequences to the other workflows it reaches, in the same step."""
        for start in decision.start_workflows:
            child = self._new_workflow(start, now)
            step.pending[child.workflow_id] = _Pending(child, None)
            await self._decide_into(step, child, Start(), now)
        for child_id, reason in decision.terminate_workflows:
            running = await self._load_into(step, child_id)
            if running is not None and not running.status.terminal:
                await self._decide_into(step, running, Terminate(reason), now)
        revival = decision.revive_parent
        if revival is not None:
            parent = await self._load_into(step, revival.parent_workflow_id)
            if parent is not None:
                await self._decide_into(
                    step,
                    parent,
                    ChildRevived(
                        task_id=revival.parent_task_id,
                        child_id=revival.child_id,
                        operation=revival.operation,
                        workflow_input=revival.workflow_input,
                        correlation_id=revival.correlation_id,
                        overrides_for=revival.overrides_for,
                    ),
                    now,
                )
        notice = decision.parent_notice
        if notice is not None:
            parent = await self._load_into(step, notice.parent_workflow_id)
            if parent is not None and not parent.status.terminal:
                await self._decide_into(
                    step,
                    parent,
                    ChildFinished(
                        task_id=notice.parent_task_id,
                        child_id=notice.child_id,
                        status=notice.status,
                        output=notice.output,
                        reason=notice.reason,
                    ),
                    now,
                )

    async def _load_into(self, step: _Step, workflow_id: str) -> Workflow | None:
        p = step.pending.get(workflow_id)
        if p is not None:
            return p.workflow
        wf = self.running.take(workflow_id) or await self.store.load_workflow(workflow_id)
        if wf is None:
            return None
        step.pending[workflow_id] = _Pending(wf, wf.rev)
        return wf

    async def _commit(self, step: _Step) -> None:
        """Commit a step; on success its workflows go (back) into the cache, else nowhere."""
        await self.store.commit(step.changeset())
        for p in step.pending.values():
            self.running.put(p.workflow)
        self.changed(set(step.pending))

    def changed(self, workflow_ids: set[str]) -> None:
        for listener in self.listeners:
            listener(workflow_ids)

    def _new_workflow(self, start: WorkflowStart, now: int) -> Workflow:
        definition: WorkflowDef = start.definition
        if not definition.tasks:
            raise ValidationError(f"Workflow definition {definition.name} has no tasks")
        wf_input = dict(start.input)
        for key, value in definition.input_template.items():
            wf_input.setdefault(key, value)
        return Workflow(
            workflow_id=start.workflow_id,
            workflow_name=definition.name,
            workflow_version=definition.version,
            status=WorkflowStatus.RUNNING,
            definition=definition,
            input=wf_input,
            correlation_id=start.correlation_id,
            create_time=now,
            update_time=now,
            parent_workflow_id=start.parent_workflow_id,
            parent_workflow_task_id=start.parent_workflow_task_id,
            variables=copy.deepcopy(definition.variables),
            priority=start.priority,
            task_to_domain=start.task_to_domain,
        )

    # ------------------------------------------------------------------ rendering
    def workflow_json(self, wf: Workflow, *, include_tasks: bool = True) -> dict:  # type: ignore[type-arg]
        return wf.to_json(include_tasks=include_tasks, task_lookup=workflow_task_of)
