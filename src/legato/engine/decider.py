"""The decider: a pure function from (execution, fact, now) to a Decision.

`decide()` works on the execution it is given (updating it in place, so the caller holds the new
state) and returns a Decision listing every change, which the service persists in one
transaction. It performs no I/O and never raises for a workflow's own mistakes: a bad expression
or script fails its task with a reason.
"""

from __future__ import annotations

import uuid
from functools import lru_cache
from typing import Any

import orjson

from legato.engine import operations, retry, timeouts
from legato.engine.context import EngineContext
from legato.engine.decision import Decision, ParentNotice, WorkflowStart
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
from legato.store.base import QueueEntry, TaskLog
from legato.tasks import do_while
from legato.tasks.base import Handler
from legato.tasks.registry import handler_for, is_worker_type

MAX_PASSES = 1000
# A domain counts as served when a worker polled it this recently (Conductor's
# activeWorkerLastPollTimeout).
ACTIVE_WORKER_MS = 10_000

# Types that are never retried (Conductor's built-in control-flow tasks).
BUILT_IN = frozenset({"DECISION", "SWITCH", "FORK", "JOIN", "EXCLUSIVE_JOIN", "DO_WHILE"})


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
            self._apply_update(fact)
        elif isinstance(fact, ChildFinished):
            self._apply_child(fact)
        elif isinstance(fact, Terminate):
            if self.wf.status != WorkflowStatus.TERMINATED:
                self.finish(
                    WorkflowStatus.TERMINATED,
                    fact.reason,
                    failure_workflow=fact.trigger_failure_workflow,
                )
        elif isinstance(fact, UpdateVariables):
            self._apply_variables(fact)
        elif isinstance(fact, OPERATOR_FACTS):
            operations.apply(self, fact)
        elif isinstance(fact, Tick | Reevaluate):
            pass

    def _apply_update(self, fact: TaskUpdate) -> None:
        task = self.find_task(fact.task_id)
        if task is None:
            self.decision.ignored = f"No such task {fact.task_id} in workflow {self.wf.workflow_id}"
            return
        if task.status.terminal:
            self.decision.ignored = f"Task {task.task_id} is already {task.status.value}"
            return
        if self.wf.status.terminal:
            self.decision.ignored = (
                f"Workflow {self.wf.workflow_id} is already {self.wf.status.value}"
            )
            return
        for line in fact.logs:
            self.decision.logs.append(TaskLog(task.task_id, line, self.now))
        if fact.worker_id:
            task.worker_id = fact.worker_id
        task.update_time = self.now
        self.dirty(task)
        if fact.extend_lease:
            return
        if fact.output_data is not None:
            task.output_data = fact.output_data
        if fact.reason_for_incompletion is not None:
            task.reason_for_incompletion = fact.reason_for_incompletion
        status = fact.status
        if status == TaskStatus.IN_PROGRESS:
            task.callback_after_seconds = fact.callback_after_seconds
            if task.callback_from_worker:
                # A worker says "not done yet, call me back": the task is offered again later.
                task.status = TaskStatus.SCHEDULED
                self.enqueue(task, delay_ms=fact.callback_after_seconds * 1000)
            else:
                task.status = TaskStatus.IN_PROGRESS
            return
        if task.start_time == 0:
            task.start_time = self.now
        if fact.retry_after_seconds is not None:
            task.retry_after_seconds = fact.retry_after_seconds
        self.set_status(task, status)

    def _apply_variables(self, fact: UpdateVariables) -> None:
        merged = dict(self.wf.variables)
        for key, value in fact.variables.items():
            current = merged.get(key)
            if fact.append_array and isinstance(current, list):
                merged[key] = current + (value if isinstance(value, list) else [value])
            else:
                merged[key] = value
        size = len(orjson.dumps(merged))
        if size > self.ctx.max_variables_bytes:
            self.decision.ignored = (
                f"The variables payload size: {size} of workflow {self.wf.workflow_id} is "
                f"greater than the permissible limit: {self.ctx.max_variables_bytes} bytes"
            )
            return
        self.wf.variables = merged
        self.invalidate_scope()
        self.touch()

    def _apply_child(self, fact: ChildFinished) -> None:
        task = self.find_task(fact.task_id)
        if task is None or task.status.terminal:
            self.decision.ignored = f"Task {fact.task_id} is not waiting for a sub-workflow"
            return
        status = {
            WorkflowStatus.COMPLETED: TaskStatus.COMPLETED,
            WorkflowStatus.FAILED: TaskStatus.FAILED,
            WorkflowStatus.TIMED_OUT: TaskStatus.TIMED_OUT,
            WorkflowStatus.TERMINATED: TaskStatus.CANCELED,
        }.get(fact.status)
        if status is None:
            return
        task.output_data = {**fact.output, "subWorkflowId": fact.child_id}
        if status != TaskStatus.COMPLETED:
            task.reason_for_incompletion = fact.reason or (
                f"Sub workflow {fact.child_id} ended with status {fact.status.value}"
            )
        self.set_status(task, status)

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
                    self._process_terminal(task)
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
            self._check_completion()
        if wf.status == WorkflowStatus.RUNNING:
            wake = timeouts.next_wake(self)
            if wake != wf.next_wake_at:
                wf.next_wake_at = wake
                self.touch()
        elif wf.next_wake_at is not None:
            wf.next_wake_at = None
            self.touch()

    def _process_terminal(self, task: Task) -> None:
        status = task.status
        if status.successful:
            task.executed = True
            self.dirty(task)
            self.schedule_successors(task)
            return
        if self._retry(task):
            return
        wt = self.workflow_task(task)
        loop_ref = self.graph.loop_of.get(task.base_ref)
        if wt is not None and wt.optional and status != TaskStatus.CANCELED:
            task.status = TaskStatus.COMPLETED_WITH_ERRORS
            task.executed = True
            self.dirty(task)
            self.schedule_successors(task)
            return
        if wt is not None and wt.permissive and status != TaskStatus.CANCELED:
            task.executed = True
            self.dirty(task)
            self._record_failed(task)
            self.schedule_successors(task)
            return
        task.executed = True
        self.dirty(task)
        if loop_ref is not None:
            loop = self.latest(loop_ref)
            if loop is not None and not loop.status.terminal:
                loop.reason_for_incompletion = (
                    f"Task {task.reference_task_name} of the loop ended with {status.value}"
                )
                self.set_status(loop, TaskStatus.FAILED)
                loop.executed = True
        self.fail_from_task(task)

    def _retry(self, task: Task) -> bool:
        if not task.status.retriable or task.task_type in BUILT_IN:
            return False
        wt = self.workflow_task(task)
        if wt is None:
            return False
        task_def = self.task_def_for(wt)
        allowed = wt.retry_count if wt.retry_count is not None else task_def.retry_count
        if task.retry_count >= allowed:
            return False
        if task_def.total_timeout_seconds > 0:
            first = task.first_scheduled_time or task.scheduled_time
            if self.now - first >= task_def.total_timeout_seconds * 1000:
                return False
        if task.retry_after_seconds is not None:
            delay_ms = task.retry_after_seconds * 1000
        else:
            delay_ms = retry.delay_ms(task_def, task.retry_count, self.ctx.random())
        task.retried = True
        task.executed = True
        self.dirty(task)
        self.schedule(
            wt,
            task.iteration,
            retry_of=task,
            delay_ms=delay_ms,
        )
        return True

    def _check_completion(self) -> None:
        wf = self.wf
        for task in wf.tasks:
            if not task.status.terminal:
                return
            if not task.executed and not task.retried:
                return
        permissive = [
            t
            for t in wf.tasks
            if not t.retried
            and t.status
            in (TaskStatus.FAILED, TaskStatus.FAILED_WITH_TERMINAL_ERROR, TaskStatus.TIMED_OUT)
            and (wt := self.workflow_task(t)) is not None
            and wt.permissive
        ]
        if permissive:
            reasons = "; ".join(
                f"Task {t.task_id} failed with status: {t.status.value} and reason: "
                f"'{t.reason_for_incompletion}'"
                for t in permissive
            )
            self.finish(WorkflowStatus.FAILED, reasons, failure_workflow=True, failed=permissive[0])
            return
        self.finish(WorkflowStatus.COMPLETED, None, failure_workflow=False)

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
        name = queue_name or self.queue_name(task)
        self.decision.enqueue.append(
            QueueEntry(
                task_id=task.task_id,
                workflow_id=self.wf.workflow_id,
                queue_name=name,
                visible_at=self.now + delay_ms,
                priority=self.wf.priority,
            )
        )

    def queue_name(self, task: Task) -> str:
        domain = self.domain_for(task)
        task.domain = domain
        return f"{domain}:{task.task_type}" if domain else task.task_type

    def domain_for(self, task: Task) -> str | None:
        mapping = self.wf.task_to_domain
        if not mapping or not task.callback_from_worker:
            return None
        spec = mapping.get(task.task_def_name) or mapping.get("*")
        if not spec:
            return None
        choices = [d.strip() for d in spec.split(",") if d.strip()]
        if not choices:
            return None
        # Conductor: the first domain with a worker polling lately, else the last one named.
        chosen = choices[-1]
        for domain in choices[:-1]:
            last = self.ctx.last_poll(task.task_type, None if domain == "NO_DOMAIN" else domain)
            if last is not None and self.now - last <= ACTIVE_WORKER_MS:
                chosen = domain
                break
        return None if chosen == "NO_DOMAIN" else chosen

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
        self._record_failed(task)
        reason = (
            f"Task {task.task_id} failed with status: {task.status.value} and reason: "
            f"'{task.reason_for_incompletion}'"
        )
        self.finish(status, reason, failure_workflow=True, failed=task)

    def _record_failed(self, task: Task) -> None:
        if task.status in (TaskStatus.FAILED, TaskStatus.FAILED_WITH_TERMINAL_ERROR):
            if task.reference_task_name not in self.wf.failed_reference_task_names:
                self.wf.failed_reference_task_names.append(task.reference_task_name)
            if task.task_def_name not in self.wf.failed_task_names:
                self.wf.failed_task_names.append(task.task_def_name)
            self.touch()

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
            self._start_failure_workflow(status, reason, failed)
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

    def _start_failure_workflow(
        self, status: WorkflowStatus, reason: str | None, failed: Task | None
    ) -> None:
        wf = self.wf
        name = wf.definition.failure_workflow
        if not name:
            return
        if name.startswith("${"):
            resolved = self.resolve(name)
            name = resolved if isinstance(resolved, str) else None
        definition = (
            self.ctx.workflow_def(name, wf.definition.failure_workflow_version) if name else None
        )
        if definition is None:
            wf.output = {
                **wf.output,
                "conductor.failure_workflow": f"Error starting failure workflow "
                f"{wf.definition.failure_workflow}: no such workflow definition",
            }
            return
        child_id = self.ctx.new_id()
        payload = {
            **wf.input,
            "workflowId": wf.workflow_id,
            "reason": reason,
            "failureStatus": status.value,
            "failedWorkflow": wf.to_json(include_tasks=True),
        }
        if failed is not None:
            payload["failureTaskId"] = failed.task_id
        wf.output = {**wf.output, "conductor.failure_workflow": child_id}
        self.decision.start_workflows.append(
            WorkflowStart(
                workflow_id=child_id,
                definition=definition,
                input=payload,
                correlation_id=wf.correlation_id,
                task_to_domain=dict(wf.task_to_domain),
                priority=wf.priority,
            )
        )

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
