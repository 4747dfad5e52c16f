"""Workflow executions: start, inspect, search, and every operation on them (`/api/workflow`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from legato.client import call as c
from legato.client.call import Answer, Call, operation
from legato.client.models import BulkResult, SearchResult, Task, Workflow
from legato.client.search import search_call


def _bulk(answer: Answer) -> BulkResult:
    return BulkResult.from_json(c.json_object(answer))


def _bulk_call(
    method: str, action: str, workflow_ids: Iterable[str], **params: Any
) -> Call[BulkResult]:
    """A bulk operation (`/api/workflow/bulk/{action}`): the ids as the body, a BulkResult back."""
    return Call(
        method,
        f"/api/workflow/bulk/{action}",
        _bulk,
        params=c.query(**params),
        body=c.dumps(list(workflow_ids)),
    )


def _on_workflow(method: str, workflow_id: str, action: str = "", **params: Any) -> Call[None]:
    """An operation on one execution (`/api/workflow/{id}{action}`) answered with no content."""
    return Call(
        method,
        f"/api/workflow/{c.seg(workflow_id)}{action}",
        c.no_content,
        params=c.query(**params),
    )


def _name_of(workflow: Any) -> str:
    """A workflow name, or the name of a definition builder."""
    if isinstance(workflow, str):
        return workflow
    name = getattr(workflow, "name", None)
    if isinstance(name, str):
        return name
    raise TypeError(f"expected a workflow name or definition, not {type(workflow).__name__}")


def start_request(
    workflow: Any,
    input: Mapping[str, Any] | None = None,
    *,
    version: int | None = None,
    correlation_id: str | None = None,
    priority: int | None = None,
    task_to_domain: Mapping[str, str] | None = None,
    idempotency_key: str | None = None,
    idempotency_strategy: str | None = None,
    workflow_def: Any = None,
) -> dict[str, Any]:
    """Conductor's StartWorkflowRequest."""
    body: dict[str, Any] = {"name": _name_of(workflow), "input": dict(input or {})}
    if version is None and not isinstance(workflow, str):
        version = getattr(workflow, "version", None)
    for key, value in (
        ("version", version),
        ("correlationId", correlation_id),
        ("priority", priority),
        ("taskToDomain", dict(task_to_domain) if task_to_domain else None),
        ("idempotencyKey", idempotency_key),
        ("idempotencyStrategy", idempotency_strategy),
        ("workflowDef", c.definition(workflow_def) if workflow_def is not None else None),
    ):
        if value is not None:
            body[key] = value
    return body


class WorkflowOperations:
    @operation
    def start_workflow(
        workflow: Any,
        input: Mapping[str, Any] | None = None,
        *,
        version: int | None = None,
        correlation_id: str | None = None,
        priority: int | None = None,
        task_to_domain: Mapping[str, str] | None = None,
        idempotency_key: str | None = None,
        idempotency_strategy: str | None = None,
        workflow_def: Any = None,
    ) -> Call[str]:
        """Start a workflow (by name, or a definition builder); the new workflow's id."""
        body = start_request(
            workflow,
            input,
            version=version,
            correlation_id=correlation_id,
            priority=priority,
            task_to_domain=task_to_domain,
            idempotency_key=idempotency_key,
            idempotency_strategy=idempotency_strategy,
            workflow_def=workflow_def,
        )
        return Call("POST", "/api/workflow", c.text, body=c.dumps(body))

    @operation
    def execute_workflow(
        workflow: Any,
        input: Mapping[str, Any] | None = None,
        *,
        version: int = 0,
        request_id: str | None = None,
        wait_until_task_ref: str | None = None,
        wait_for_seconds: int = 10,
        return_strategy: str | None = None,
        correlation_id: str | None = None,
    ) -> Call[dict[str, Any]]:
        """Start a workflow and let the server wait (up to `wait_for_seconds`) for it to end or
        block; Conductor's SignalResponse (`POST /api/workflow/execute/{name}/{version}`)."""
        body = start_request(workflow, input, version=version, correlation_id=correlation_id)
        return Call(
            "POST",
            f"/api/workflow/execute/{c.seg(body['name'])}/{c.seg(version)}",
            c.json_object,
            params=c.query(
                requestId=request_id,
                waitUntilTaskRef=wait_until_task_ref,
                waitForSeconds=wait_for_seconds,
                returnStrategy=return_strategy,
            ),
            body=c.dumps(body),
        )

    @operation
    def get_workflow(workflow_id: str, *, include_tasks: bool = True) -> Call[Workflow]:
        """A workflow execution; `NotFoundError` if there is none."""
        return Call(
            "GET",
            f"/api/workflow/{c.seg(workflow_id)}",
            c.workflow,
            params=c.query(includeTasks=include_tasks),
        )

    @operation
    def get_workflow_status(
        workflow_id: str, *, include_output: bool = False, include_variables: bool = False
    ) -> Call[dict[str, Any]]:
        """`{workflowId, status, correlationId?, output?, variables?}`."""
        return Call(
            "GET",
            f"/api/workflow/{c.seg(workflow_id)}/status",
            c.json_object,
            params=c.query(includeOutput=include_output, includeVariables=include_variables),
        )

    @operation
    def list_workflow_tasks(
        workflow_id: str,
        *,
        start: int = 0,
        count: int = 15,
        status: Iterable[str] | None = None,
    ) -> Call[SearchResult[Task]]:
        """A page of a workflow's tasks, optionally only those in the given statuses."""
        return Call(
            "GET",
            f"/api/workflow/{c.seg(workflow_id)}/tasks",
            c.search_of(Task.from_json),
            params=c.query(start=start, count=count, status=list(status) if status else None),
        )

    @operation
    def find_correlated_workflows(
        name: str, correlation_id: str, *, include_closed: bool = False, include_tasks: bool = False
    ) -> Call[list[Workflow]]:
        return Call(
            "GET",
            f"/api/workflow/{c.seg(name)}/correlated/{c.seg(correlation_id)}",
            c.workflows,
            params=c.query(includeClosed=include_closed, includeTasks=include_tasks),
        )

    @operation
    def list_running_workflows(
        name: str,
        *,
        version: int | None = None,
        start_time: int | None = None,
        end_time: int | None = None,
    ) -> Call[list[str]]:
        """Ids of the non-terminal executions of a workflow definition."""
        return Call(
            "GET",
            f"/api/workflow/running/{c.seg(name)}",
            c.json_list,
            params=c.query(version=version, startTime=start_time, endTime=end_time),
        )

    @operation
    def search_workflows(
        query: str | None = None,
        *,
        free_text: str = "*",
        start: int = 0,
        size: int = 100,
        sort: str | None = None,
    ) -> Call[SearchResult[dict[str, Any]]]:
        """Workflow summaries matching `query` (`status = 'FAILED' AND workflowType = 'x'`)."""
        return search_call(
            "/api/workflow/search", query, free_text=free_text, start=start, size=size, sort=sort
        )

    # ------------------------------------------------------------------ operations
    @operation
    def terminate_workflow(workflow_id: str, reason: str | None = None) -> Call[None]:
        return _on_workflow("DELETE", workflow_id, reason=reason)

    @operation
    def remove_workflow(workflow_id: str, *, archive: bool = True) -> Call[None]:
        """Delete an execution (terminate it first, or use `terminate_remove_workflow`)."""
        return _on_workflow("DELETE", workflow_id, "/remove", archiveWorkflow=archive)

    @operation
    def terminate_remove_workflow(
        workflow_id: str, reason: str | None = None, *, archive: bool = True
    ) -> Call[None]:
        return _on_workflow(
            "DELETE", workflow_id, "/terminate-remove", reason=reason, archiveWorkflow=archive
        )

    @operation
    def pause_workflow(workflow_id: str) -> Call[None]:
        return _on_workflow("PUT", workflow_id, "/pause")

    @operation
    def resume_workflow(workflow_id: str) -> Call[None]:
        return _on_workflow("PUT", workflow_id, "/resume")

    @operation
    def retry_workflow(workflow_id: str, *, resume_subworkflow_tasks: bool = False) -> Call[None]:
        """Retry the failed tasks of an ended workflow."""
        return _on_workflow(
            "POST", workflow_id, "/retry", resumeSubworkflowTasks=resume_subworkflow_tasks
        )

    @operation
    def restart_workflow(workflow_id: str, *, use_latest_definitions: bool = False) -> Call[None]:
        """Run an ended workflow again from the start, under the same id."""
        return _on_workflow(
            "POST", workflow_id, "/restart", useLatestDefinitions=use_latest_definitions
        )

    @operation
    def rerun_workflow(
        workflow_id: str,
        *,
        from_task_id: str | None = None,
        task_input: Mapping[str, Any] | None = None,
        workflow_input: Mapping[str, Any] | None = None,
        correlation_id: str | None = None,
    ) -> Call[str]:
        """Run an ended workflow again from a task (or the start); its id."""
        body: dict[str, Any] = {"reRunFromWorkflowId": workflow_id}
        for key, value in (
            ("reRunFromTaskId", from_task_id),
            ("taskInput", dict(task_input) if task_input is not None else None),
            ("workflowInput", dict(workflow_input) if workflow_input is not None else None),
            ("correlationId", correlation_id),
        ):
            if value is not None:
                body[key] = value
        return Call("POST", f"/api/workflow/{c.seg(workflow_id)}/rerun", c.text, body=c.dumps(body))

    @operation
    def skip_task(
        workflow_id: str,
        task_ref: str,
        *,
        task_input: Mapping[str, Any] | None = None,
        task_output: Mapping[str, Any] | None = None,
    ) -> Call[None]:
        """Skip a task of a running workflow that has not been scheduled yet."""
        body = None
        if task_input is not None or task_output is not None:
            body = c.dumps(
                {"taskInput": dict(task_input or {}), "taskOutput": dict(task_output or {})}
            )
        return Call(
            "PUT",
            f"/api/workflow/{c.seg(workflow_id)}/skiptask/{c.seg(task_ref)}",
            c.no_content,
            body=body,
        )

    @operation
    def reset_callbacks(workflow_id: str) -> Call[None]:
        """Make every task waiting for its `callbackAfterSeconds` pollable now."""
        return _on_workflow("POST", workflow_id, "/resetcallbacks")

    @operation
    def decide_workflow(workflow_id: str) -> Call[None]:
        """Have the engine evaluate the workflow now."""
        return Call("PUT", f"/api/workflow/decide/{c.seg(workflow_id)}", c.no_content)

    @operation
    def send_message(workflow_id: str, message: Mapping[str, Any]) -> Call[str]:
        """Push a message to a running workflow's message queue; the message id."""
        return Call(
            "POST",
            f"/api/workflow/{c.seg(workflow_id)}/messages",
            c.text,
            body=c.dumps(dict(message)),
        )

    # ------------------------------------------------------------------ bulk
    @operation
    def bulk_pause_workflows(workflow_ids: Iterable[str]) -> Call[BulkResult]:
        return _bulk_call("PUT", "pause", workflow_ids)

    @operation
    def bulk_resume_workflows(workflow_ids: Iterable[str]) -> Call[BulkResult]:
        return _bulk_call("PUT", "resume", workflow_ids)

    @operation
    def bulk_restart_workflows(
        workflow_ids: Iterable[str], *, use_latest_definitions: bool = False
    ) -> Call[BulkResult]:
        return _bulk_call(
            "POST", "restart", workflow_ids, useLatestDefinitions=use_latest_definitions
        )

    @operation
    def bulk_retry_workflows(workflow_ids: Iterable[str]) -> Call[BulkResult]:
        return _bulk_call("POST", "retry", workflow_ids)

    @operation
    def bulk_terminate_workflows(
        workflow_ids: Iterable[str], reason: str | None = None
    ) -> Call[BulkResult]:
        return _bulk_call("POST", "terminate", workflow_ids, reason=reason)

    @operation
    def bulk_remove_workflows(
        workflow_ids: Iterable[str], *, archive: bool = True
    ) -> Call[BulkResult]:
        return _bulk_call("DELETE", "remove", workflow_ids, archiveWorkflow=archive)

    @operation
    def bulk_terminate_remove_workflows(
        workflow_ids: Iterable[str], reason: str | None = None, *, archive: bool = True
    ) -> Call[BulkResult]:
        return _bulk_call(
            "DELETE", "terminate-remove", workflow_ids, reason=reason, archiveWorkflow=archive
        )
