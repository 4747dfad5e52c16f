"""Timeouts: which have passed (and what follows), and when the next one falls due."""

from __future__ import annotations

from typing import TYPE_CHECKING

from legato.model import (
    Task,
    TaskDef,
    TaskStatus,
    TaskTimeoutPolicy,
    TaskType,
    WorkflowStatus,
    WorkflowTimeoutPolicy,
)
from legato.store.base import TaskLog

if TYPE_CHECKING:
    from legato.engine.decider import Run


def check(run: Run) -> None:
    wf = run.wf
    now = run.now
    definition = wf.definition
    if (
        definition.timeout_seconds > 0
        and definition.timeout_policy == WorkflowTimeoutPolicy.TIME_OUT_WF
    ):
        started = wf.last_retried_time or wf.create_time
        elapsed = now - started
        if elapsed >= definition.timeout_seconds * 1000:
            run.finish(
                WorkflowStatus.TIMED_OUT,
                f"Workflow timed out after {elapsed // 1000} seconds. Timeout configured as "
                f"{definition.timeout_seconds} seconds. Timeout policy configured to TIME_OUT_WF",
                failure_workflow=True,
            )
            return
    for task in list(wf.tasks):
        if task.status.terminal:
            continue
        if wf.status != WorkflowStatus.RUNNING:
            return
        if task.task_type == TaskType.WAIT.value:
            if task.wait_timeout and now >= task.wait_timeout:
                run.set_status(task, TaskStatus.COMPLETED)
            continue
        for kind, deadline, task_def in _deadlines(run, task):
            if now < deadline:
                continue
            if kind == "response" and _runner_lease(run, task, task_def):
                _offer_again(run, task)
                break
            if kind == "response":
                task.reason_for_incompletion = (
                    f"responseTimeout: {task.response_timeout_seconds} exceeded for taskId: "
                    f"{task.task_id}"
                )
                run.set_status(task, TaskStatus.TIMED_OUT)
                break
            if task_def.timeout_policy == TaskTimeoutPolicy.ALERT_ONLY:
                continue
            task.reason_for_incompletion = _reason(kind, task_def, now, task)
            run.set_status(task, TaskStatus.TIMED_OUT)
            if task_def.timeout_policy == TaskTimeoutPolicy.TIME_OUT_WF:
                task.executed = True
                run.fail_from_task(task)
            break


def _runner_lease(run: Run, task: Task, task_def: TaskDef) -> bool:
    """Whether the task's response timeout is an in-server runner's lease (tasks/http.py)
    rather than one its definition asks for."""
    return run.handler_for(task.task_type).runner_lease and task_def.response_timeout_seconds <= 0


def _offer_again(run: Run, task: Task) -> None:
    """The runner that held the task stopped (its node died): the task is queued again."""
    run.decision.logs.append(
        TaskLog(
            task.task_id,
            f"The runner holding this task ({task.worker_id or 'unknown'}) stopped answering"
            f" within its {task.response_timeout_seconds} s lease; the task is offered again",
            run.now,
        )
    )
    task.status = TaskStatus.SCHEDULED
    task.update_time = run.now
    task.callback_after_seconds = 0
    run.dirty(task)
    run.enqueue(task, queue_name=task.task_type)  # a runner's queue is named by its type


def _reason(kind: str, task_def: TaskDef, now: int, task: Task) -> str:
    policy = task_def.timeout_policy.value
    if kind == "poll":
        return (
            f"Task poll timed out after {task_def.poll_timeout_seconds} seconds. "
            f"Timeout policy configured to {policy}"
        )
    if kind == "total":
        return (
            f"Task total timeout of {task_def.total_timeout_seconds} seconds exceeded. "
            f"Timeout policy configured to {policy}"
        )
    elapsed = (now - task.start_time) // 1000
    return (
        f"Task timed out after {elapsed} seconds. Timeout configured as "
        f"{task_def.timeout_seconds} seconds. Timeout policy configured to {policy}"
    )


def _deadlines(run: Run, task: Task) -> list[tuple[str, int, TaskDef]]:
    wt = run.workflow_task(task)
    if wt is None:
        return []
    task_def = run.task_def_for(wt)
    queued = run.is_queued_type(task)
    out: list[tuple[str, int, TaskDef]] = []
    if task.status == TaskStatus.SCHEDULED and queued and task_def.poll_timeout_seconds:
        start = task.update_time + task.callback_after_seconds * 1000
        out.append(("poll", start + task_def.poll_timeout_seconds * 1000, task_def))
    if (
        task.status == TaskStatus.IN_PROGRESS
        and queued
        and task.response_timeout_seconds > 0
        and not wt.async_complete
    ):
        grace = (task.response_timeout_seconds + task.callback_after_seconds) * 1000
        out.append(("response", task.update_time + grace, task_def))
    if task_def.timeout_seconds > 0 and task.start_time > 0:
        out.append(("task", task.start_time + task_def.timeout_seconds * 1000, task_def))
    if task_def.total_timeout_seconds > 0:
        first = task.first_scheduled_time or task.scheduled_time
        out.append(("total", first + task_def.total_timeout_seconds * 1000, task_def))
    return out


def next_wake(run: Run) -> int | None:
    """The earliest future moment at which deciding again could change something."""
    wf = run.wf
    now = run.now
    best: int | None = None

    def consider(at: int) -> None:
        nonlocal best
        if at > now and (best is None or at < best):
            best = at

    definition = wf.definition
    if (
        definition.timeout_seconds > 0
        and definition.timeout_policy == WorkflowTimeoutPolicy.TIME_OUT_WF
    ):
        consider((wf.last_retried_time or wf.create_time) + definition.timeout_seconds * 1000)
    for task in wf.tasks:
        if task.status.terminal:
            continue
        if task.task_type == TaskType.WAIT.value:
            if task.wait_timeout:
                consider(task.wait_timeout)
            continue
        for _kind, deadline, _task_def in _deadlines(run, task):
            consider(deadline)
    return best
