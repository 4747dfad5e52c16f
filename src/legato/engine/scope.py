"""The document `${...}` expressions are resolved against (Conductor's §4.2 context)."""

from __future__ import annotations

from typing import Any

from legato.model import Workflow


def build_scope(wf: Workflow) -> dict[str, Any]:
    scope: dict[str, Any] = {
        "workflow": {
            "input": wf.input,
            "output": wf.output,
            "status": wf.status.value,
            "workflowId": wf.workflow_id,
            "parentWorkflowId": wf.parent_workflow_id,
            "parentWorkflowTaskId": wf.parent_workflow_task_id,
            "workflowType": wf.workflow_name,
            "version": wf.workflow_version,
            "correlationId": wf.correlation_id,
            "reasonForIncompletion": wf.reason_for_incompletion,
            "schemaVersion": wf.definition.schema_version,
            "variables": wf.variables,
        }
    }
    # Tasks are in seq order: a later attempt or iteration of a reference replaces the earlier.
    for t in wf.tasks:
        scope[t.base_ref] = {
            "input": t.input_data,
            "output": t.output_data,
            "taskType": t.task_type,
            "status": t.status.value,
            "referenceTaskName": t.reference_task_name,
            "retryCount": t.retry_count,
            "correlationId": t.correlation_id,
            "pollCount": t.poll_count,
            "taskDefName": t.task_def_name,
            "scheduledTime": t.scheduled_time,
            "startTime": t.start_time,
            "endTime": t.end_time,
            "workflowInstanceId": t.workflow_instance_id,
            "taskId": t.task_id,
            "reasonForIncompletion": t.reason_for_incompletion,
            "callbackAfterSeconds": t.callback_after_seconds,
            "workerId": t.worker_id,
            "iteration": t.iteration,
        }
    return scope
