"""SET_VARIABLE: writes its input into `workflow.variables`."""

from __future__ import annotations

from typing import TYPE_CHECKING

import orjson

from legato.model import TaskStatus, TaskType
from legato.tasks.base import Handler

if TYPE_CHECKING:
    from legato.engine.decider import Run
    from legato.model import Task, WorkflowTask


def schedule(
    run: Run, wt: WorkflowTask, iteration: int, retry_of: Task | None, delay_ms: int
) -> None:
    task = run.new_task(
        wt,
        iteration,
        task_type=TaskType.SET_VARIABLE.value,
        status=TaskStatus.IN_PROGRESS,
        retry_of=retry_of,
    )
    merged = {**run.wf.variables, **task.input_data}
    size = len(orjson.dumps(merged))
    limit = run.ctx.max_variables_bytes
    if size > limit:
        task.reason_for_incompletion = (
            f"The variables payload size: {size} of workflow {run.wf.workflow_id} is greater than "
            f"the permissible limit: {limit} bytes"
        )
        run.set_status(task, TaskStatus.FAILED_WITH_TERMINAL_ERROR)
        return
    run.wf.variables = merged
    run.touch()
    run.invalidate_scope()
    run.set_status(task, TaskStatus.COMPLETED)


HANDLER = Handler(schedule=schedule)
