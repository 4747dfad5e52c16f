"""Tasks: polling and reporting (what workers do), reading tasks, logs and queues (`/api/tasks`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from legato.client import call as c
from legato.client.call import Answer, Call, operation
from legato.client.models import SearchResult, Task
from legato.client.search import search_call

T = TypeVar("T")

IGNORED_HEADER = "x-legato-ignored"


def ignored_reason(answer: Answer) -> str | None:
    """Why the server did not apply a TaskResult (the task had ended already), or None."""
    return answer.headers.get(IGNORED_HEADER)


def _batch_poll(
    task_type: str,
    decode: Callable[[Answer], T],
    worker_id: str | None,
    domain: str | None,
    count: int,
    timeout_ms: int,
) -> Call[T]:
    """`GET /api/tasks/poll/batch/{task_type}`, the answer decoded by `decode`."""
    return Call(
        "GET",
        f"/api/tasks/poll/batch/{c.seg(task_type)}",
        decode,
        params=c.query(workerid=worker_id, domain=domain, count=count, timeout=timeout_ms),
    )


def poll_call(
    task_type: str,
    *,
    worker_id: str | None = None,
    domain: str | None = None,
    count: int = 1,
    timeout_ms: int = 100,
) -> Call[list[dict[str, Any]]]:
    """The batch poll, answered as raw Task JSON (what the worker runtime wants)."""
    return _batch_poll(task_type, c.json_list, worker_id, domain, count, timeout_ms)


def update_call(result: Mapping[str, Any]) -> Call[str | None]:
    """`POST /api/tasks`, decoded as the reason it was ignored (None when applied)."""
    return Call("POST", "/api/tasks", ignored_reason, body=c.dumps(dict(result)))


class TaskOperations:
    @operation
    def poll_task(
        task_type: str, *, worker_id: str | None = None, domain: str | None = None
    ) -> Call[Task | None]:
        """Claim one task of this type, or None."""
        return Call(
            "GET",
            f"/api/tasks/poll/{c.seg(task_type)}",
            c.optional_task,
            params=c.query(workerid=worker_id, domain=domain),
        )

    @operation
    def poll_tasks(
        task_type: str,
        *,
        worker_id: str | None = None,
        domain: str | None = None,
        count: int = 1,
        timeout_ms: int = 100,
    ) -> Call[list[Task]]:
        """Claim up to `count` tasks, waiting up to `timeout_ms` (at most 5000) for the first."""
        return _batch_poll(task_type, c.tasks, worker_id, domain, count, timeout_ms)

    @operation
    def update_task(result: Mapping[str, Any]) -> Call[str | None]:
        """Report a TaskResult (Conductor JSON: workflowInstanceId, taskId, status,
        outputData, ...). None when applied; else the reason the server ignored it (the task
        or its workflow had ended already)."""
        return update_call(result)

    @operation
    def update_task_v2(result: Mapping[str, Any]) -> Call[Task | None]:
        """Report a TaskResult and claim the next task of the same type, if there is one."""
        return Call("POST", "/api/tasks/update-v2", c.optional_task, body=c.dumps(dict(result)))

    @operation
    def update_task_by_ref(
        workflow_id: str,
        task_ref: str,
        status: str,
        output: Mapping[str, Any] | None = None,
        *,
        worker_id: str | None = None,
    ) -> Call[str]:
        """Set the status of the pending task with this reference name (a HUMAN or WAIT task,
        say); its task id, empty when no such task was pending."""
        return Call(
            "POST",
            f"/api/tasks/{c.seg(workflow_id)}/{c.seg(task_ref)}/{c.seg(status)}",
            c.text,
            params=c.query(workerid=worker_id),
            body=c.dumps(dict(output or {})),
        )

    @operation
    def signal_workflow(
        workflow_id: str, status: str, output: Mapping[str, Any] | None = None
    ) -> Call[None]:
        """Set the status of the workflow's first pending WAIT (or HUMAN) task."""
        return Call(
            "POST",
            f"/api/tasks/{c.seg(workflow_id)}/{c.seg(status)}/signal",
            c.no_content,
            body=c.dumps(dict(output or {})),
        )

    @operation
    def get_task(task_id: str) -> Call[Task]:
        return Call("GET", f"/api/tasks/{c.seg(task_id)}", c.task)

    @operation
    def get_task_logs(task_id: str) -> Call[list[dict[str, Any]]]:
        """`[{log, taskId, createdTime}]`, oldest first."""
        return Call("GET", f"/api/tasks/{c.seg(task_id)}/log", c.json_list)

    @operation
    def add_task_log(task_id: str, line: str) -> Call[None]:
        return Call(
            "POST",
            f"/api/tasks/{c.seg(task_id)}/log",
            c.no_content,
            body=line.encode(),
            content_type="text/plain",
        )

    @operation
    def get_queue_size(task_type: str, *, domain: str | None = None) -> Call[int]:
        """Tasks waiting for a worker on this task type's queue (delayed ones included)."""
        return Call(
            "GET",
            "/api/tasks/queue/size",
            c.integer,
            params=c.query(taskType=task_type, domain=domain),
        )

    @operation
    def list_queue_sizes() -> Call[dict[str, int]]:
        return Call("GET", "/api/tasks/queue/all", c.json_object)

    @operation
    def list_poll_data(task_type: str) -> Call[list[dict[str, Any]]]:
        """The last poll of each worker of a task type."""
        return Call(
            "GET", "/api/tasks/queue/polldata", c.json_list, params=c.query(taskType=task_type)
        )

    @operation
    def search_tasks(
        query: str | None = None,
        *,
        free_text: str = "*",
        start: int = 0,
        size: int = 100,
        sort: str | None = None,
    ) -> Call[SearchResult[dict[str, Any]]]:
        """Task summaries matching `query` (`taskType = 'x' AND status = 'FAILED'`)."""
        return search_call(
            "/api/tasks/search", query, free_text=free_text, start=start, size=size, sort=sort
        )
