"""SUB_WORKFLOW: start a child workflow in the same transaction; finish when the child ends."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import ValidationError as PydanticValidationError

from legato.engine.decision import WorkflowStart
from legato.model import TaskStatus, TaskType, WorkflowDef
from legato.tasks.base import Handler

if TYPE_CHECKING:
    from legato.engine.decider import Run
    from legato.model import Task, WorkflowTask


def schedule(
    run: Run, wt: WorkflowTask, iteration: int, retry_of: Task | None, delay_ms: int
) -> None:
    wf = run.wf
    params: dict[str, Any] = (
        wt.sub_workflow_param.model_dump(by_alias=True, exclude_none=True)
        if wt.sub_workflow_param is not None
        else {}
    )
    # An inline definition is the child's own: its `${...}` belong to the child, not to us.
    # Only a `${...}` string naming a definition is resolved here.
    inline_def = params.pop("workflowDefinition", None)
    resolved = run.resolve(params)
    resolved["workflowDefinition"] = (
        run.resolve(inline_def) if isinstance(inline_def, str) else inline_def
    )
    workflow_input = run.resolve_input(wt, "")
    inline = resolved.get("workflowDefinition")
    name = resolved.get("name")
    version = resolved.get("version")
    if isinstance(inline, dict):
        name = inline.get("name", name)
        version = inline.get("version", version)
    task_to_domain = resolved.get("taskToDomain") or dict(wf.task_to_domain)
    priority = resolved.get("priority")
    input_data: dict[str, Any] = {
        "subWorkflowName": name,
        "subWorkflowVersion": version,
        "subWorkflowTaskToDomain": task_to_domain,
        "priority": priority if priority is not None else wf.priority,
        "workflowInput": workflow_input,
    }
    if isinstance(inline, dict):
        input_data["subWorkflowDefinition"] = inline
    task = run.new_task(
        wt,
        iteration,
        task_type=TaskType.SUB_WORKFLOW.value,
        status=TaskStatus.IN_PROGRESS,
        input_data=input_data,
        retry_of=retry_of,
    )
    definition: WorkflowDef | None = None
    problem = None
    if isinstance(inline, dict):
        try:
            definition = WorkflowDef.model_validate(inline)
        except PydanticValidationError as exc:
            problem = f"Invalid inline sub-workflow definition: {exc.errors()[0]['msg']}"
    elif isinstance(name, str) and name:
        try:
            wanted = int(version) if version not in (None, "") else None
        except (TypeError, ValueError):
            wanted = None
            problem = f"Invalid sub-workflow version {version!r}"
        if problem is None:
            definition = run.ctx.workflow_def(name, wanted)
            if definition is None:
                problem = f"No such workflow definition: {name} version {version or 'latest'}"
    else:
        problem = "subWorkflowParam needs a name or a workflowDefinition"
    if definition is None:
        task.reason_for_incompletion = problem
        run.set_status(task, TaskStatus.FAILED)
        return
    child_id = run.child_id(task)
    task.sub_workflow_id = child_id
    task.output_data = {"subWorkflowId": child_id}
    try:
        child_priority = int(input_data["priority"])
    except (TypeError, ValueError):
        child_priority = wf.priority
    run.decision.start_workflows.append(
        WorkflowStart(
            workflow_id=child_id,
            definition=definition,
            input=workflow_input,
            correlation_id=wf.correlation_id,
            task_to_domain=task_to_domain,
            priority=child_priority,
            parent_workflow_id=wf.workflow_id,
            parent_workflow_task_id=task.task_id,
        )
    )


HANDLER = Handler(schedule=schedule)
