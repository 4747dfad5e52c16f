"""TERMINATE: ends the workflow with the given status; its output becomes the workflow's."""

from __future__ import annotations

from typing import TYPE_CHECKING

from legato.model import TaskStatus, TaskType, WorkflowStatus
from legato.tasks.base import Handler

if TYPE_CHECKING:
    from legato.engine.decider import Run
    from legato.model import Task, WorkflowTask

_STATUSES = {
    s.value: s for s in (WorkflowStatus.COMPLETED, WorkflowStatus.FAILED, WorkflowStatus.TERMINATED)
}


def schedule(
    run: Run, wt: WorkflowTask, iteration: int, retry_of: Task | None, delay_ms: int
) -> None:
    task = run.new_task(
        wt,
        iteration,
        task_type=TaskType.TERMINATE.value,
        status=TaskStatus.IN_PROGRESS,
        retry_of=retry_of,
    )
    data = task.input_data
    status = _STATUSES.get(str(data.get("terminationStatus", "")).upper())
    if status is None:
        task.reason_for_incompletion = (
            f"terminationStatus '{data.get('terminationStatus')}' is not one of COMPLETED, "
            "FAILED, TERMINATED"
        )
        run.set_status(task, TaskStatus.FAILED)
        return
    output = data.get("workflowOutput")
    task.output_data = (
        output if isinstance(output, dict) else ({} if output is None else {"output": output})
    )
    run.set_status(task, TaskStatus.COMPLETED)
    task.executed = True
    reason = data.get("terminationReason")
    if reason is None and status != WorkflowStatus.COMPLETED:
        reason = f"Workflow terminated by TERMINATE task {task.reference_task_name}"
    run.terminate_with(status, reason if reason is None else str(reason), task.output_data, task)


HANDLER = Handler(schedule=schedule)
