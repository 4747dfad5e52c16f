"""What follows when a task ends: its successors, a retry, an optional or permissive pass, or
the workflow's failure; and whether the workflow is complete.

Called from `Run.settle` (`record_failed` also from `Run.fail_from_task`); pure like the rest
of the decider.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from legato.engine import retry
from legato.model import Task, TaskStatus, WorkflowStatus

if TYPE_CHECKING:
    from legato.engine.decider import Run

# Types that are never retried (Conductor's built-in control-flow tasks).
BUILT_IN = frozenset({"DECISION", "SWITCH", "FORK", "JOIN", "EXCLUSIVE_JOIN", "DO_WHILE"})


def process_terminal(run: Run, task: Task) -> None:
    status = task.status
    if status.successful:
        task.executed = True
        run.dirty(task)
        run.schedule_successors(task)
        return
    if retry_task(run, task):
        return
    wt = run.workflow_task(task)
    loop_ref = run.graph.loop_of.get(task.base_ref)
    if wt is not None and wt.optional and status != TaskStatus.CANCELED:
        task.status = TaskStatus.COMPLETED_WITH_ERRORS
        task.executed = True
        run.dirty(task)
        run.schedule_successors(task)
        return
    if wt is not None and wt.permissive and status != TaskStatus.CANCELED:
        task.executed = True
        run.dirty(task)
        record_failed(run, task)
        run.schedule_successors(task)
        return
    task.executed = True
    run.dirty(task)
    if loop_ref is not None:
        loop = run.latest(loop_ref)
        if loop is not None and not loop.status.terminal:
            loop.reason_for_incompletion = (
                f"Task {task.reference_task_name} of the loop ended with {status.value}"
            )
            run.set_status(loop, TaskStatus.FAILED)
            loop.executed = True
    run.fail_from_task(task)


def retry_task(run: Run, task: Task) -> bool:
    if not task.status.retriable or task.task_type in BUILT_IN:
        return False
    wt = run.workflow_task(task)
    if wt is None:
        return False
    task_def = run.task_def_for(wt)
    allowed = wt.retry_count if wt.retry_count is not None else task_def.retry_count
    if task.retry_count >= allowed:
        return False
    if task_def.total_timeout_seconds > 0:
        first = task.first_scheduled_time or task.scheduled_time
        if run.now - first >= task_def.total_timeout_seconds * 1000:
            return False
    if task.retry_after_seconds is not None:
        delay_ms = task.retry_after_seconds * 1000
    else:
        delay_ms = retry.delay_ms(task_def, task.retry_count, run.ctx.random())
    task.retried = True
    task.executed = True
    run.dirty(task)
    run.schedule(
        wt,
        task.iteration,
        retry_of=task,
        delay_ms=delay_ms,
    )
    return True


def check_completion(run: Run) -> None:
    wf = run.wf
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
        and (wt := run.workflow_task(t)) is not None
        and wt.permissive
    ]
    if permissive:
        reasons = "; ".join(
            f"Task {t.task_id} failed with status: {t.status.value} and reason: "
            f"'{t.reason_for_incompletion}'"
            for t in permissive
        )
        run.finish(WorkflowStatus.FAILED, reasons, failure_workflow=True, failed=permissive[0])
        return
    run.finish(WorkflowStatus.COMPLETED, None, failure_workflow=False)


def record_failed(run: Run, task: Task) -> None:
    if task.status in (TaskStatus.FAILED, TaskStatus.FAILED_WITH_TERMINAL_ERROR):
        if task.reference_task_name not in run.wf.failed_reference_task_names:
            run.wf.failed_reference_task_names.append(task.reference_task_name)
        if task.task_def_name not in run.wf.failed_task_names:
            run.wf.failed_task_names.append(task.task_def_name)
        run.touch()
