"""Synchronous answers: wait until a workflow blocks or ends, then answer a SignalResponse.

Used by the synchronous execute endpoint (start, then wait) and by the synchronous signal
(signal a waiting task, then wait). A workflow is blocked when it, or a running sub-workflow of
it, has a WAIT task without a deadline that has not ended, or when a task named in
`waitUntilTaskRef` has ended (Conductor's `WorkflowSignalResponder`). Waiting is woken by the
commits of the workflows concerned (`WorkflowService.listeners`), with a slow poll as a backstop
for changes made by other nodes.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from typing import Any

from legato.engine.decider import workflow_task_of
from legato.errors import NotFoundError
from legato.model import Task, TaskType, Workflow
from legato.model.operations import ReturnStrategy
from legato.service.workflows import WorkflowService
from legato.store.base import Store

POLL_S = 0.25  # backstop: look again this often even when no local commit woke us
MAX_DEPTH = 16  # sub-workflow nesting followed at most


@dataclass(slots=True)
class Blocking:
    """What holds a workflow tree up: the blocking tasks, the (sub-)workflow of the first."""

    tasks: list[Task] = field(default_factory=list)
    workflow: Workflow | None = None
    tree: set[str] = field(default_factory=set)  # ids of every workflow looked at


@dataclass(eq=False, slots=True)
class _Waiter:
    watching: set[str]
    event: asyncio.Event = field(default_factory=asyncio.Event)


class SignalResponder:
    def __init__(self, store: Store, workflows: WorkflowService) -> None:
        self.store = store
        self._waiters: set[_Waiter] = set()
        workflows.listeners.append(self._changed)

    def _changed(self, ids: set[str]) -> None:
        if not self._waiters:
            return
        for waiter in self._waiters:
            if waiter.watching & ids:
                waiter.event.set()

    async def respond(
        self,
        workflow_id: str,
        task_refs: list[str],
        strategy: ReturnStrategy,
        request_id: str,
        timeout_s: float,
    ) -> dict[str, Any]:
        """Wait until the workflow ends or blocks (at most `timeout_s`) and answer for it."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        waiter = _Waiter({workflow_id})
        self._waiters.add(waiter)
        try:
            while True:
                waiter.event.clear()
                wf = await self.store.load_workflow(workflow_id)
                if wf is None:
                    raise NotFoundError(f"No such workflow found by id: {workflow_id}")
                blocking = await self.blocking(wf, task_refs)
                waiter.watching = blocking.tree
                if wf.status.terminal or blocking.tasks:
                    return render(wf, blocking, strategy, request_id, timed_out=False)
                remaining = deadline - loop.time()
                if remaining <= 0:
                    return render(wf, Blocking(), strategy, request_id, timed_out=True)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(waiter.event.wait(), min(remaining, POLL_S))
        finally:
            self._waiters.discard(waiter)

    async def blocking(self, wf: Workflow, task_refs: list[str], depth: int = 0) -> Blocking:
        found = Blocking(tree={wf.workflow_id})
        refs = set(task_refs)
        for task in wf.tasks:
            if (
                task.task_type == TaskType.WAIT.value
                and not task.status.terminal
                and not task.wait_timeout
            ) or (task.reference_task_name in refs and task.status.terminal):
                found.tasks.append(task)
                found.workflow = found.workflow or wf
            if (
                task.task_type == TaskType.SUB_WORKFLOW.value
                and task.sub_workflow_id
                and not task.status.terminal
                and depth < MAX_DEPTH
            ):
                child = await self.store.load_workflow(task.sub_workflow_id)
                if child is None:
                    continue
                inner = await self.blocking(child, task_refs, depth + 1)
                found.tree |= inner.tree
                if inner.tasks:
                    found.tasks.extend(inner.tasks)
                    found.workflow = found.workflow or inner.workflow
        return found

    async def pending_wait(self, wf: Workflow, depth: int = 0) -> tuple[Workflow, Task] | None:
        """The first WAIT task not ended, in the workflow or (then) its running sub-workflows:
        the task a signal resolves (Conductor's `findPendingBlockingTask`)."""
        for task in wf.tasks:
            if task.task_type == TaskType.WAIT.value and not task.status.terminal:
                return wf, task
        if depth >= MAX_DEPTH:
            return None
        for task in wf.tasks:
            if (
                task.task_type == TaskType.SUB_WORKFLOW.value
                and task.sub_workflow_id
                and not task.status.terminal
            ):
                child = await self.store.load_workflow(task.sub_workflow_id)
                if child is not None:
                    found = await self.pending_wait(child, depth + 1)
                    if found is not None:
                        return found
        return None


# ---------------------------------------------------------------------------- rendering
def render(
    target: Workflow,
    blocking: Blocking,
    strategy: ReturnStrategy,
    request_id: str,
    *,
    timed_out: bool,
) -> dict[str, Any]:
    """Conductor's NotificationResult.toResponse: a WorkflowRun or a TaskRun."""
    if blocking.tasks and strategy in (
        ReturnStrategy.BLOCKING_TASK,
        ReturnStrategy.BLOCKING_TASK_INPUT,
    ):
        return task_run(blocking.tasks[0], target, strategy, request_id, timed_out)
    if blocking.tasks and strategy == ReturnStrategy.BLOCKING_WORKFLOW:
        return workflow_run(blocking.workflow or target, target, strategy, request_id, timed_out)
    # Nothing blocks (the workflow ended, or the wait timed out). Conductor answers an empty
    # body for the task strategies then; Legato answers the target workflow, labelled so.
    if strategy in (ReturnStrategy.BLOCKING_TASK, ReturnStrategy.BLOCKING_TASK_INPUT):
        strategy = ReturnStrategy.TARGET_WORKFLOW
    return workflow_run(target, target, strategy, request_id, timed_out)


def _common(
    target: Workflow, strategy: ReturnStrategy, request_id: str, timed_out: bool
) -> dict[str, Any]:
    return {
        "responseType": strategy.value,
        "targetWorkflowId": target.workflow_id,
        "targetWorkflowStatus": target.status.value,
        "requestId": request_id,
    }


def workflow_run(
    wf: Workflow,
    target: Workflow,
    strategy: ReturnStrategy,
    request_id: str,
    timed_out: bool,
) -> dict[str, Any]:
    out = _common(target, strategy, request_id, timed_out)
    out["workflowId"] = wf.workflow_id
    if wf.correlation_id is not None:
        out["correlationId"] = wf.correlation_id
    out.update(
        input=wf.input,
        output=wf.output,
        signalTimeout=timed_out,
        priority=wf.priority,
        variables=wf.variables,
        tasks=[t.to_json(workflow_task_of(wf, t)) for t in wf.tasks],
        createTime=wf.create_time,
        status=wf.status.value,
        updateTime=wf.update_time,
    )
    if wf.created_by is not None:
        out["createdBy"] = wf.created_by
    return out


def task_run(
    task: Task,
    target: Workflow,
    strategy: ReturnStrategy,
    request_id: str,
    timed_out: bool,
) -> dict[str, Any]:
    out = _common(target, strategy, request_id, timed_out)
    out["workflowId"] = task.workflow_instance_id
    if task.correlation_id is not None:
        out["correlationId"] = task.correlation_id
    out.update(
        input=task.input_data,
        output=task.output_data,
        signalTimeout=timed_out,
        taskType=task.task_type,
        taskId=task.task_id,
        referenceTaskName=task.reference_task_name,
        retryCount=task.retry_count,
        taskDefName=task.task_def_name,
        workflowType=task.workflow_type,
        priority=task.workflow_priority,
        createTime=task.start_time,
        updateTime=task.update_time,
        status=task.status.value,
    )
    for key, value in (
        ("retriedTaskId", task.retried_task_id),
        ("reasonForIncompletion", task.reason_for_incompletion),
        ("createdBy", task.worker_id),
    ):
        if value is not None:
            out[key] = value
    return out
