"""Conductor's search result shapes: WorkflowSummary and TaskSummary, as JSON objects.

Times are ISO-8601 UTC strings (`yyyy-MM-dd'T'HH:mm:ss.SSS'Z'`); input and output are strings,
Java's `Map.toString` form (`{k=v, k2=v2}`) by default or JSON when `json_io` (Conductor's
`conductor.app.summary-input-output-json-serialization.enabled`). Absent values are omitted,
as Conductor's JSON omits nulls. Field order follows Conductor's classes.
"""

from __future__ import annotations

import time
from typing import Any

import orjson

from legato.expr.rendering import java_string
from legato.model import Task, Workflow
from legato.search.documents import classifier_of


def iso_time(epoch_ms: int) -> str:
    """`2024-05-01T12:00:00.123Z` for epoch milliseconds (UTC)."""
    seconds, millis = divmod(int(epoch_ms), 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{millis:03d}Z"


def io_string(value: dict[str, Any], *, json_io: bool = False) -> str:
    if json_io:
        return orjson.dumps(value).decode()
    return java_string(value)


def java_length(text: str) -> int:
    """`String.length()` in Java: UTF-16 code units."""
    return len(text) if text.isascii() else len(text.encode("utf-16-le")) // 2


def workflow_summary(wf: Workflow, *, json_io: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "workflowType": wf.workflow_name,
        "version": wf.workflow_version,
        "workflowId": wf.workflow_id,
    }
    if wf.correlation_id is not None:
        out["correlationId"] = wf.correlation_id
    out["startTime"] = iso_time(wf.create_time)
    out["updateTime"] = iso_time(wf.update_time)
    if wf.end_time > 0:
        out["endTime"] = iso_time(wf.end_time)
    out["status"] = wf.status.value
    input_text = io_string(wf.input, json_io=json_io)
    output_text = io_string(wf.output, json_io=json_io)
    out["input"] = input_text
    out["output"] = output_text
    if wf.reason_for_incompletion is not None:
        out["reasonForIncompletion"] = wf.reason_for_incompletion
    out["executionTime"] = wf.end_time - wf.create_time if wf.end_time > 0 else 0
    if wf.event is not None:
        out["event"] = wf.event
    out["failedReferenceTaskNames"] = ",".join(wf.failed_reference_task_names)
    out["priority"] = wf.priority
    out["failedTaskNames"] = list(wf.failed_task_names)
    if wf.created_by is not None:
        out["createdBy"] = wf.created_by
    out["taskToDomain"] = dict(wf.task_to_domain)
    if wf.idempotency_key is not None:
        out["idempotencyKey"] = wf.idempotency_key
    out["parentWorkflowId"] = wf.parent_workflow_id or ""
    out["classifier"] = classifier_of(wf.definition)
    out["inputSize"] = java_length(input_text)
    out["outputSize"] = java_length(output_text)
    return out


def task_summary(task: Task, *, json_io: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "workflowId": task.workflow_instance_id,
        "workflowType": task.workflow_type,
    }
    if task.correlation_id is not None:
        out["correlationId"] = task.correlation_id
    out["scheduledTime"] = iso_time(task.scheduled_time)
    out["startTime"] = iso_time(task.start_time)
    out["updateTime"] = iso_time(task.update_time)
    out["endTime"] = iso_time(task.end_time)
    out["status"] = task.status.value
    if task.reason_for_incompletion is not None:
        out["reasonForIncompletion"] = task.reason_for_incompletion
    out["executionTime"] = task.end_time - task.start_time if task.end_time > 0 else 0
    out["queueWaitTime"] = queue_wait_time(task)
    out["taskDefName"] = task.task_def_name
    out["taskType"] = task.task_type
    out["input"] = io_string(task.input_data, json_io=json_io)
    out["output"] = io_string(task.output_data, json_io=json_io)
    out["taskId"] = task.task_id
    out["workflowPriority"] = task.workflow_priority
    if task.domain is not None:
        out["domain"] = task.domain
    return out


def queue_wait_time(task: Task) -> int:
    """From scheduled to first picked up (0 until then), as Task JSON's `queueWaitTime`."""
    if task.start_time > 0 and task.scheduled_time > 0:
        return task.start_time - task.scheduled_time
    return 0
