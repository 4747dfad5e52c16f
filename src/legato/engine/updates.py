"""Facts that report progress on a running workflow: a task update (from a worker or an API
call), a sub-workflow that ended, a variables update.

Called from `Run.apply`; pure like the rest of the decider.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import orjson

from legato.engine.facts import ChildFinished, TaskUpdate, UpdateVariables
from legato.model import TaskStatus, WorkflowStatus
from legato.store.base import TaskLog

if TYPE_CHECKING:
    from legato.engine.decider import Run


def apply_update(run: Run, fact: TaskUpdate) -> None:
    task = run.find_task(fact.task_id)
    if task is None:
        run.decision.ignored = f"No such task {fact.task_id} in workflow {run.wf.workflow_id}"
        return
    if task.status.terminal:
        run.decision.ignored = f"Task {task.task_id} is already {task.status.value}"
        return
    if run.wf.status.terminal:
        run.decision.ignored = f"Workflow {run.wf.workflow_id} is already {run.wf.status.value}"
        return
    for line in fact.logs:
        run.decision.logs.append(TaskLog(task.task_id, line, run.now))
    if fact.worker_id:
        task.worker_id = fact.worker_id
    task.update_time = run.now
    run.dirty(task)
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
            run.enqueue(task, delay_ms=fact.callback_after_seconds * 1000)
        else:
            task.status = TaskStatus.IN_PROGRESS
        return
    if task.start_time == 0:
        task.start_time = run.now
    if fact.retry_after_seconds is not None:
        task.retry_after_seconds = fact.retry_after_seconds
    run.set_status(task, status)


def apply_variables(run: Run, fact: UpdateVariables) -> None:
    merged = dict(run.wf.variables)
    for key, value in fact.variables.items():
        current = merged.get(key)
        if fact.append_array and isinstance(current, list):
            merged[key] = current + (value if isinstance(value, list) else [value])
        else:
            merged[key] = value
    size = len(orjson.dumps(merged))
    if size > run.ctx.max_variables_bytes:
        run.decision.ignored = (
            f"The variables payload size: {size} of workflow {run.wf.workflow_id} is "
            f"greater than the permissible limit: {run.ctx.max_variables_bytes} bytes"
        )
        return
    run.wf.variables = merged
    run.invalidate_scope()
    run.touch()


def apply_child(run: Run, fact: ChildFinished) -> None:
    task = run.find_task(fact.task_id)
    if task is None or task.status.terminal:
        run.decision.ignored = f"Task {fact.task_id} is not waiting for a sub-workflow"
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
    run.set_status(task, status)
