"""HTTP: queued for the in-server HTTP runner, never called inside a decision."""

from __future__ import annotations

from typing import TYPE_CHECKING

from legato.model import TaskType
from legato.tasks.base import Handler

if TYPE_CHECKING:
    from legato.engine.decider import Run
    from legato.model import Task, WorkflowTask

QUEUE = TaskType.HTTP.value


def schedule(
    run: Run, wt: WorkflowTask, iteration: int, retry_of: Task | None, delay_ms: int
) -> None:
    task = run.new_task(wt, iteration, task_type=QUEUE, retry_of=retry_of)
    delay_ms = max(delay_ms, wt.start_delay * 1000)
    task.callback_after_seconds = delay_ms // 1000
    run.enqueue(task, delay_ms=delay_ms, queue_name=QUEUE)


HANDLER = Handler(schedule=schedule, queued=True)
