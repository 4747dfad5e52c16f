"""START_WORKFLOW: start another workflow, fire and forget, in the same transaction."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from pydantic import ValidationError as PydanticValidationError

from legato.engine.decision import WorkflowStart
from legato.model import StartWorkflowRequest, TaskStatus, TaskType
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
        task_type=TaskType.START_WORKFLOW.value,
        status=TaskStatus.IN_PROGRESS,
        retry_of=retry_of,
    )
    raw = task.input_data.get("startWorkflow")
    problem = None
    request = None
    if not isinstance(raw, dict):
        problem = "Input 'startWorkflow' must be a StartWorkflowRequest object"
    else:
        try:
            request = StartWorkflowRequest.model_validate(raw)
        except PydanticValidationError as exc:
            first = exc.errors()[0]
            problem = f"Invalid startWorkflow.{'.'.join(map(str, first['loc']))}: {first['msg']}"
    definition = None
    if request is not None:
        definition = request.workflow_def or run.ctx.workflow_def(request.name, request.version)
        if definition is None:
            problem = (
                f"No such workflow definition: {request.name} version {request.version or 'latest'}"
            )
    if problem is not None or request is None or definition is None:
        task.reason_for_incompletion = problem
        run.set_status(task, TaskStatus.FAILED)
        return
    wf = run.wf
    # Deterministic: deciding this step again can never start a second workflow.
    workflow_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"start:{wf.workflow_id}:{task.task_id}"))
    run.decision.start_workflows.append(
        WorkflowStart(
            workflow_id=workflow_id,
            definition=definition,
            input=request.input,
            correlation_id=request.correlation_id
            if request.correlation_id is not None
            else wf.correlation_id,
            task_to_domain=request.task_to_domain or dict(wf.task_to_domain),
            priority=request.priority,
        )
    )
    task.output_data = {"workflowId": workflow_id}
    run.set_status(task, TaskStatus.COMPLETED)


HANDLER = Handler(schedule=schedule)
