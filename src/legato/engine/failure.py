"""The failure workflow (the definition's `failureWorkflow`), started when a workflow fails.

Called from `Run.finish`; pure like the rest of the decider: the start is a `WorkflowStart` in
the decision.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from legato.engine.decision import WorkflowStart
from legato.model import Task, WorkflowStatus

if TYPE_CHECKING:
    from legato.engine.decider import Run


def start_workflow(
    run: Run, status: WorkflowStatus, reason: str | None, failed: Task | None
) -> None:
    wf = run.wf
    name = wf.definition.failure_workflow
    if not name:
        return
    if name.startswith("${"):
        resolved = run.resolve(name)
        name = resolved if isinstance(resolved, str) else None
    definition = (
        run.ctx.workflow_def(name, wf.definition.failure_workflow_version) if name else None
    )
    if definition is None:
        wf.output = {
            **wf.output,
            "conductor.failure_workflow": f"Error starting failure workflow "
            f"{wf.definition.failure_workflow}: no such workflow definition",
        }
        return
    child_id = run.ctx.new_id()
    payload = {
        **wf.input,
        "workflowId": wf.workflow_id,
        "reason": reason,
        "failureStatus": status.value,
        "failedWorkflow": wf.to_json(include_tasks=True),
    }
    if failed is not None:
        payload["failureTaskId"] = failed.task_id
    wf.output = {**wf.output, "conductor.failure_workflow": child_id}
    run.decision.start_workflows.append(
        WorkflowStart(
            workflow_id=child_id,
            definition=definition,
            input=payload,
            correlation_id=wf.correlation_id,
            task_to_domain=dict(wf.task_to_domain),
            priority=wf.priority,
        )
    )
