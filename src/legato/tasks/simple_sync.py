"""Sync system tasks that only complete: NOOP, and HUMAN / WAIT that wait for the outside."""

from __future__ import annotations

from typing import TYPE_CHECKING

from legato.expr.durations import parse_duration, parse_until
from legato.model import TaskStatus, TaskType
from legato.tasks.base import Handler

if TYPE_CHECKING:
    from legato.engine.decider import Run
    from legato.model import Task, WorkflowTask


def schedule_noop(
    run: Run, wt: WorkflowTask, iteration: int, retry_of: Task | None, delay_ms: int
) -> None:
    task = run.new_task(
        wt,
        iteration,
        task_type=TaskType.NOOP.value,
        status=TaskStatus.IN_PROGRESS,
        retry_of=retry_of,
    )
    run.set_status(task, TaskStatus.COMPLETED)


def schedule_human(
    run: Run, wt: WorkflowTask, iteration: int, retry_of: Task | None, delay_ms: int
) -> None:
    run.new_task(
        wt,
        iteration,
        task_type=TaskType.HUMAN.value,
        status=TaskStatus.IN_PROGRESS,
        retry_of=retry_of,
    )


def schedule_wait(
    run: Run, wt: WorkflowTask, iteration: int, retry_of: Task | None, delay_ms: int
) -> None:
    task = run.new_task(
        wt,
        iteration,
        task_type=TaskType.WAIT.value,
        status=TaskStatus.IN_PROGRESS,
        retry_of=retry_of,
    )
    duration = task.input_data.get("duration")
    until = task.input_data.get("until")
    if duration not in (None, "") and until not in (None, ""):
        task.reason_for_incompletion = (
            "Both 'duration' and 'until' specified. Please provide only one input"
        )
        run.set_status(task, TaskStatus.FAILED_WITH_TERMINAL_ERROR)
        return
    try:
        if duration not in (None, ""):
            task.wait_timeout = run.now + parse_duration(str(duration)) * 1000
        elif until not in (None, ""):
            task.wait_timeout = parse_until(str(until))
    except ValueError as exc:
        task.reason_for_incompletion = f"Invalid wait input: {exc}"
        run.set_status(task, TaskStatus.FAILED_WITH_TERMINAL_ERROR)
        return
    if task.wait_timeout and task.wait_timeout <= run.now:
        run.set_status(task, TaskStatus.COMPLETED)


NOOP = Handler(schedule=schedule_noop)
HUMAN = Handler(schedule=schedule_human)
WAIT = Handler(schedule=schedule_wait)
