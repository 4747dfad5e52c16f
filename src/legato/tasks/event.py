"""EVENT: publish a message on the built-in `conductor` event queue, inside the decision.

The message is part of the decision (`Decision.events`), so it is written in the same
transaction as the task's completion: a crash never loses it nor publishes it twice. Its id is
the task id; its payload is the task's output: the resolved input (with `sink` and
`asyncComplete`) plus `workflowInstanceId`, `workflowType`, `workflowVersion`, `correlationId`,
`taskToDomain` and `event_produced` (the queue's event key). The task completes at once, or with
`asyncComplete` stays IN_PROGRESS until an event handler (or the task API) completes it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from legato.events.sinks import SinkError, queue_for_sink
from legato.model import TaskStatus, TaskType
from legato.store.base import EventMessage
from legato.tasks.base import Handler

if TYPE_CHECKING:
    from legato.engine.decider import Run
    from legato.model import Task, WorkflowTask


def schedule(
    run: Run, wt: WorkflowTask, iteration: int, retry_of: Task | None, delay_ms: int
) -> None:
    task_id = run.ctx.new_id()
    input_data = run.resolve_input(wt, task_id)
    sink = run.resolve(wt.sink, task_id)
    input_data["sink"] = sink
    input_data["asyncComplete"] = wt.async_complete
    task = run.new_task(
        wt,
        iteration,
        task_type=TaskType.EVENT.value,
        status=TaskStatus.IN_PROGRESS,
        input_data=input_data,
        retry_of=retry_of,
        task_id=task_id,
    )
    if not isinstance(sink, str) or not sink:
        _fail(run, task, "No sink specified in task" if not sink else f"Invalid sink: {sink!r}")
        return
    wf = run.wf
    try:
        queue_name = queue_for_sink(sink, wf.workflow_name, task.reference_task_name)
    except SinkError as exc:
        _fail(run, task, str(exc))
        return
    output = {
        **input_data,
        "workflowInstanceId": wf.workflow_id,
        "workflowType": wf.workflow_name,
        "workflowVersion": wf.workflow_version,
        "correlationId": wf.correlation_id,
        "taskToDomain": dict(wf.task_to_domain),
        "event_produced": queue_name,
    }
    task.output_data = output
    run.decision.events.append(
        EventMessage(
            message_id=task.task_id,
            queue_name=queue_name,
            payload=dict(output),
            created_time=run.now,
        )
    )
    if input_data.get("asyncComplete") is not True:
        run.set_status(task, TaskStatus.COMPLETED)


def _fail(run: Run, task: Task, reason: str) -> None:
    task.reason_for_incompletion = reason
    run.set_status(task, TaskStatus.FAILED)


HANDLER = Handler(schedule=schedule)
