"""The decider: a pure function from (execution, fact, now) to a Decision.

`decide()` works on the execution it is given (updating it in place, so the caller holds the new
state) and returns a Decision listing every change, which the service persists in one
transaction. It performs no I/O and never raises for a workflow's own mistakes: a bad expression
or script fails its task with a reason.

`Run` holds the loop, scheduling, endings and lookups; sibling modules hold functions of a `Run`
for the rest: `updates` (task updates, sub-workflow ends, variables), `operations` (operator
facts), `outcomes` (what follows when a task ends), `timeouts`, `domains` (task-to-domain) and
`failure` (the failure workflow).
"""

from __future__ import annotations

import uuid
from functools import lru_cache
from typing import Any

from legato.engine import domains, failure, operations, outcomes, timeouts, updates
from legato.engine.context import EngineContext
from legato.engine.decision import Decision, ParentNotice
from legato.engine.facts import (
    OPERATOR_FACTS,
    ChildFinished,
    Fact,
    Reevaluate,
    Start,
    TaskUpdate,
    Terminate,
    Tick,
    UpdateVariables,
)
from legato.engine.graph import DefinitionGraph, graph_of
from legato.engine.scope import build_scope
from legato.expr.params import resolve
from legato.model import (
    Task,
    TaskDef,
    TaskStatus,
    TaskType,
    Workflow,
    WorkflowDef,
    WorkflowStatus,
    WorkflowTask,
)
from legato.store.base import QueueEntry
from legato.tasks import do_while
from legato.tasks.base import Handler
from legato.tasks.registry import handler_for, is_worker_type

MAX_PASSES = 1000


def decide(workflow: Workflow, fact: Fact, now: int, ctx: EngineContext) -> Decision:
    run = Run(workflow, now, ctx)
    run.apply(fact)
    run.settle()
    return run.decision


class Run:
    """One decision in progress: the execution, the clock reading and the changes so far."""

    def __init__(self, workflow: Workflow, now: int, ctx: EngineContext) -> None:
        self.wf = workflow
        self.now = now
        self.ctx = ctx
        self.graph: DefinitionGraph = graph_of(workflow.definition)
        self.decision = Decision()
        self._new_ids: set[str] = set()
        self._scope: dict[str, Any] | None = None
        self._terminate_output: dict[str, Any] | None = None
        # Input given by an operator for a task about to be scheduled (a rerun's taskInput).
        self.input_overrides: dict[str, dict[str, Any]] = {}

    # ------------------------------------------------------------------ facts
    def apply(self, fact: Fact) -> None:
        if isinstance(fact, Start):
            self.touch()
            first = self.wf.definition.tasks[0]
            self.schedule(first, 0)
        elif isinstance(fact, TaskUpdate):
            updates.apply_update(self, fact)
        elif isinstance(fact, ChildFinished):
            updates.apply_child(self, fact)
        elif isinstance(fact, Terminate):
            if self.wf.status != WorkflowStatus.TERMINATED:
                self.finish(
                    WorkflowStatus.TERMINATED,
                    fact.reason,
                    failure_workflow=fact.trigger_failure_workflow,
                )
        elif isinstance(fact, UpdateVariables):
            updates.apply_variables(self, fact)
        elif isinstance(fact, OPERATOR_FACTS):
            operations.apply(self, fact)
        elif isinstance(fact, Tick | Reevaluate):
            pass

    # ------------------------------------------------------------------ the loop
    def settle(self) -> None:
        """Advance the workflow until nothing more follows from what is known now."""
        wf = self.wf
        if wf.status == WorkflowStatus.RUNNING:
            timeouts.check(self)
        for _ in range(MAX_PASSES):
            if wf.status != WorkflowStatus.RUNNING:
                break
            progressed = False
            for task in list(wf.tasks):
                if wf.status != WorkflowStatus.RUNNING:
                    break
                if task.status.terminal and not task.executed and not task.retried:
                    progressed = True
                    outcomes.process_terminal(self, task)
            if wf.status != WorkflowStatus.RUNNING:
                break
            for task in list(wf.tasks):
                if wf.status != WorkflowStatus.RUNNING:
                    break
                if not task.status.terminal:
                    handler = self.handler_for(task.task_type)
                    if handler.evaluate is not None and handler.evaluate(self, task):
                        progressed = True
            if not progressed:
                break
        if wf.status == WorkflowStatus.RUNNING:
            outcomes.check_completion(self)
        if wf.status == WorkflowStatus.RUNNING:
            wake = timeouts.next_wake(self)
            if wake != wf.next_wake_at:
                wf.next_wake_at = wake
                self.touch()
        elif wf.next_wake_at is not None:
            wf.next_wake_at = None
            self.touch()

    # ------------------------------------------------------------------ scheduling
    def schedule_successors(self, task: Task) -> None:
        handler = self.handler_for(task.task_type)
        if handler.successors is not None:
            handler.successors(self, task)
            return
        self.schedule_next_after(task)

    def schedule_next_after(self, task: Task) -> None:
        nxt = self.graph.next_after(task.base_ref)
        if nxt.task is not None:
            self.schedule(nxt.task, self.iteration_for(nxt.task))
        elif nxt.loop_end is not None:
            loop = self.latest(nxt.loop_end.task_reference_name)
            if loop is not None and not loop.status.terminal:
                do_while.iteration_done(self, loop)

    def iteration_for(self, wt: WorkflowTask) -> int:
        loop_ref = self.graph.loop_of.get(wt.task_reference_name)
        if loop_ref is None:
            return 0
        loop = self.latest(loop_ref)
        return loop.iteration if loop is not None else 0

    def schedule(
        self,
        wt: WorkflowTask,
        iteration: int,
        *,
        retry_of: Task | None = None,
        delay_ms: int = 0,
        dynamic: bool = False,
    ) -> None:
        """Create the task(s) of `wt`. `dynamic`: `wt` is not in the definition (a dynamic
        fork branch, a resolved DYNAMIC task); its tasks carry it so they can be found again."""
        ref = wt.task_reference_name if iteration == 0 else f"{wt.task_reference_name}__{iteration}"
        if retry_of is None:
            existing = operations.scheduled(self.wf, ref)
            if existing is not None:
                if existing.status == TaskStatus.SKIPPED:  # skipped by an operator
                    operations.pass_over(self, existing)
                return
        first_new = len(self.decision.new_tasks)
        self.handler_for(wt.type).schedule(self, wt, iteration, retry_of, delay_ms)
        carried = wt.to_json() if dynamic else retry_of.dynamic_task if retry_of else None
        if carried is not None:
            for task in self.decision.new_tasks[first_new:]:
                if task.reference_task_name == ref:
                    task.dynamic_task = carried

    def new_task(
        self,
        wt: WorkflowTask,
        iteration: int,
        *,
        task_type: str | None = None,
        status: TaskStatus = TaskStatus.SCHEDULED,
        input_data: dict[str, Any] | None = None,
        retry_of: Task | None = None,
        task_id: str | None = None,
    ) -> Task:
        wf = self.wf
        task_id = task_id or self.ctx.new_id()
        ref = wt.task_reference_name if iteration == 0 else f"{wt.task_reference_name}__{iteration}"
        task_def = self.task_def_for(wt)
        if input_data is None:
            override = self.input_overrides.pop(ref, None) if self.input_overrides else None
            input_data = override if override is not None else self.resolve_input(wt, task_id)
        resolved_type = task_type or (wt.name if self.is_worker_type(wt.type) else wt.type)
        task = Task(
            task_id=task_id,
            workflow_instance_id=wf.workflow_id,
            task_type=resolved_type,
            task_def_name=wt.name,
            reference_task_name=ref,
            status=status,
            seq=len(wf.tasks) + 1,
            input_data=input_data,
            workflow_type=wf.workflow_name,
            correlation_id=wf.correlation_id,
            scheduled_time=self.now,
            update_time=self.now,
            start_delay_in_seconds=wt.start_delay,
            callback_after_seconds=wt.start_delay,
            response_timeout_seconds=task_def.response_timeout_seconds,
            workflow_priority=wf.priority,
            iteration=iteration,
            first_scheduled_time=self.now,
            callback_from_worker=self.is_worker_type(wt.type),
        )
        if status == TaskStatus.IN_PROGRESS:
            task.start_time = self.now
        if retry_of is not None:
            task.retry_count = retry_of.retry_count + 1
            task.retried_task_id = retry_of.task_id
            task.first_scheduled_time = retry_of.first_scheduled_time or retry_of.scheduled_time
            task.domain = retry_of.domain
        wf.tasks.append(task)
        self.decision.new_tasks.append(task)
        self._new_ids.add(task.task_id)
        self._scope = None
        self.touch()
        return task

    def resolve_input(self, wt: WorkflowTask, task_id: str) -> dict[str, Any]:
        task_def = self.task_def_for(wt)
        params = wt.input_parameters
        template = task_def.input_template
        if template:
            params = {**template, **params}
        resolved = resolve(params, self.scope(), task_id=task_id)
        if not isinstance(resolved, dict):
            return {}
        if template:
            for key, value in template.items():
                if resolved.get(key) is None:
                    resolved[key] = value
        return resolved

    def resolve(self, value: Any, task_id: str | None = None) -> Any:
        return resolve(value, self.scope(), task_id=task_id)

    def enqueue(self, task: Task, *, delay_ms: int = 0, queue_name: str | None = None) -> None:
        name = queue_name or domains.queue_name(self, task)
        self.decision.enqueue.append(
            QueueEntry(
                task_id=task.task_id,
                workflow_id=self.wf.workflow_id,
                queue_name=name,
                visible_at=self.now + delay_ms,
                priority=self.wf.priority,
            )
        )

    # ------------------------------------------------------------------ endings
    def set_status(self, task: Task, status: TaskStatus) -> None:
        task.status = status
        task.update_time = self.now
        if status.terminal:
            task.end_time = self.now
            if task.task_id in self._new_ids:
                self.decision.enqueue = [
                    e for e in self.decision.enqueue if e.task_id != task.task_id
                ]
            elif self.is_queued_type(task):
                self.decision.dequeue.append(task.task_id)
        self._scope = None
        self.dirty(task)

    def fail_from_task(self, task: Task) -> None:
        status = {
            TaskStatus.TIMED_OUT: WorkflowStatus.TIMED_OUT,
            TaskStatus.CANCELED: WorkflowStatus.TERMINATED,
        }.get(task.status, WorkflowStatus.FAILED)
        outcomes.record_failed(self, task)
        reason = (
            f"Task {task.task_id} failed with status: {task.status.value} and reason: "
            f"'{task.reason_for_incompletion}'"
        )
        self.finish(status, reason, failure_workflow=True, failed=task)

    def terminate_with(
        self, status: WorkflowStatus, reason: str | None, output: dict[str, Any], task: Task
    ) -> None:
        """A TERMINATE task ends the workflow: its output becomes the workflow output."""
        self._terminate_output = output
        self.finish(
            status,
            reason,
            failure_workflow=status != WorkflowStatus.COMPLETED,
            failed=task,
        )

    def finish(
        self,
        status: WorkflowStatus,
        reason: str | None,
        *,
        failure_workflow: bool,
        failed: Task | None = None,
    ) -> None:
        wf = self.wf
        was_terminal = wf.status.terminal
        wf.status = status
        wf.end_time = self.now
        wf.update_time = self.now
        if reason is not None or status != WorkflowStatus.COMPLETED:
            wf.reason_for_incompletion = reason
        wf.next_wake_at = None
        self.touch()
        for task in wf.tasks:
            if not task.status.terminal:
                task.reason_for_incompletion = task.reason_for_incompletion or (
                    f"Workflow is {status.value}"
                )
                self.set_status(task, TaskStatus.CANCELED)
                task.executed = True
                if task.task_type == TaskType.SUB_WORKFLOW.value and task.sub_workflow_id:
                    self.decision.terminate_workflows.append(
                        (
                            task.sub_workflow_id,
                            f"Parent workflow has been terminated with status {status.value}",
                        )
                    )
        if not was_terminal or self._terminate_output is not None:
            wf.output = self._workflow_output()
        if failure_workflow and status != WorkflowStatus.COMPLETED:
            failure.start_workflow(self, status, reason, failed)
        if wf.parent_workflow_id and wf.parent_workflow_task_id:
            self.decision.parent_notice = ParentNotice(
                parent_workflow_id=wf.parent_workflow_id,
                parent_task_id=wf.parent_workflow_task_id,
                child_id=wf.workflow_id,
                status=status,
                output=wf.output,
                reason=reason,
            )

    def _workflow_output(self) -> dict[str, Any]:
        if self._terminate_output is not None:
            return self._terminate_output
        params = self.wf.definition.output_parameters
        if params:
            out = self.resolve(params)
            return out if isinstance(out, dict) else {}
        for task in reversed(self.wf.tasks):
            return dict(task.output_data)
        return {}

    # ------------------------------------------------------------------ lookups
    def handler_for(self, task_type: str) -> Handler:
        return handler_for(task_type)

    def is_worker_type(self, task_type: str) -> bool:
        return is_worker_type(task_type)

    def is_queued_type(self, task: Task) -> bool:
        """Tasks handed out through a queue (workers and async system tasks)."""
        return self.handler_for(task.task_type).queued

    def task_def_for(self, wt: WorkflowTask) -> TaskDef:
        if wt.task_definition is not None:
            return wt.task_definition
        found = self.ctx.task_def(wt.name)
        if found is not None:
            return found
        return (
            _adhoc_worker_def(wt.name)
            if self.is_worker_type(wt.type)
            else _adhoc_system_def(wt.name)
        )

    def workflow_task(self, task: Task) -> WorkflowTask | None:
        if task.dynamic_task is not None:
            return WorkflowTask.model_validate(task.dynamic_task)
        return self.graph.by_ref.get(task.base_ref)

    def find_task(self, task_id: str) -> Task | None:
        for task in reversed(self.wf.tasks):
            if task.task_id == task_id:
                return task
        return None

    def latest(self, ref: str) -> Task | None:
        """The latest attempt of the latest iteration of a reference name (without suffix)."""
        for task in reversed(self.wf.tasks):
            if task.reference_task_name == ref or task.base_ref == ref:
                return task
        return None

    def latest_exact(self, ref: str) -> Task | None:
        for task in reversed(self.wf.tasks):
            if task.reference_task_name == ref:
                return task
        return None

    def scope(self) -> dict[str, Any]:
        if self._scope is None:
            self._scope = build_scope(self.wf)
        return self._scope

    def invalidate_scope(self) -> None:
        self._scope = None

    def dirty(self, task: Task) -> None:
        if task.task_id not in self._new_ids:
            self.decision.updated_tasks[task.task_id] = task

    def touch(self) -> None:
        self.wf.update_time = self.now
        self.decision.workflow_changed = True

    def child_id(self, task: Task) -> str:
        """Deterministic sub-workflow id: re-deciding never starts a second child."""
        key = f"subworkflow:{self.wf.workflow_id}:{task.task_id}:{task.retry_count}"
        return str(uuid.uuid5(uuid.NAMESPACE_URL, key))


@lru_cache(maxsize=4096)
def _adhoc_worker_def(name: str) -> TaskDef:
    return TaskDef(name=name)


@lru_cache(maxsize=4096)
def _adhoc_system_def(name: str) -> TaskDef:
    return TaskDef(name=name, retry_count=0, response_timeout_seconds=0)


def workflow_task_of(workflow: Workflow, task: Task) -> WorkflowTask | None:
    """The definition of an execution's task (for rendering Conductor's Task JSON)."""
    if task.dynamic_task is not None:
        return WorkflowTask.model_validate(task.dynamic_task)
    return graph_of(workflow.definition).by_ref.get(task.base_ref)


def definition_has_scripts(definition: WorkflowDef) -> bool:
    return graph_of(definition).has_scripts
