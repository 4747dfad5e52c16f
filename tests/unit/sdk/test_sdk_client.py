"""`Client` and `AsyncClient` against a mocked network: requests, decoding, error mapping."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sdk_factories import Recorder, json_response, text_response, workflow_json

from legato.client import (
    ApiError,
    AsyncClient,
    BadRequestError,
    Client,
    ConflictError,
    NotFoundError,
    ServerError,
    ServiceUnavailableError,
    TransportError,
    WaitTimeoutError,
    Workflow,
    WorkflowStatus,
    dsl,
)
from legato.client.base import server_url


def client_for(recorder: Recorder) -> Client:
    return Client("http://legato.test", transport=httpx.MockTransport(recorder))


def test_server_url_defaults_and_conductor_style() -> None:
    assert server_url("localhost:9000/") == "http://localhost:9000"
    assert server_url("http://h:8080/api") == "http://h:8080"
    assert server_url("https://x.example") == "https://x.example"


def test_server_url_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEGATO_SERVER", "http://elsewhere:1234")
    assert server_url(None) == "http://elsewhere:1234"
    monkeypatch.delenv("LEGATO_SERVER")
    assert server_url(None) == "http://127.0.0.1:8080"


def test_start_workflow_sends_a_start_request_and_reads_the_text_id() -> None:
    rec = Recorder(lambda r: text_response("wf-9"))
    with client_for(rec) as client:
        wf_id = client.start_workflow(
            "orders", {"a": 1}, version=2, correlation_id="c-1", idempotency_key="k"
        )
    assert wf_id == "wf-9"
    assert rec.last.method == "POST"
    assert rec.last.url.path == "/api/workflow"
    assert rec.last.headers["content-type"] == "application/json"
    assert rec.body() == {
        "name": "orders",
        "input": {"a": 1},
        "version": 2,
        "correlationId": "c-1",
        "idempotencyKey": "k",
    }


def test_start_workflow_takes_a_builder_for_name_and_version() -> None:
    rec = Recorder(lambda r: text_response('"wf-quoted"'))
    flow = dsl.workflow("built", version=3).then(dsl.noop("n"))
    with client_for(rec) as client:
        assert client.start_workflow(flow) == "wf-quoted"
    assert rec.body() == {"name": "built", "input": {}, "version": 3}


def test_get_workflow_decodes_a_workflow_view() -> None:
    body = workflow_json(
        "FAILED",
        reasonForIncompletion="boom",
        tasks=[
            {"taskId": "t1", "referenceTaskName": "a", "status": "FAILED", "taskType": "x"},
            {"taskId": "t2", "referenceTaskName": "a", "status": "COMPLETED", "retryCount": 1},
        ],
    )
    rec = Recorder(lambda r: json_response(body))
    with client_for(rec) as client:
        wf = client.get_workflow("wf 1/x", include_tasks=True)
    assert rec.last.url.raw_path == b"/api/workflow/wf%201%2Fx?includeTasks=true"
    assert isinstance(wf, Workflow)
    assert wf.status is WorkflowStatus.FAILED and wf.terminal
    assert wf.reason_for_incompletion == "boom"
    assert wf.task("a").task_id == "t2"
    assert [t.task_id for t in wf.attempts("a")] == ["t1", "t2"]
    assert wf.find_task("zzz") is None
    with pytest.raises(KeyError, match="has no task 'zzz'"):
        wf.task("zzz")
    assert wf.raw == body


@pytest.mark.parametrize(
    ("call", "method", "path", "params"),
    [
        (lambda c: c.pause_workflow("w"), "PUT", "/api/workflow/w/pause", {}),
        (lambda c: c.resume_workflow("w"), "PUT", "/api/workflow/w/resume", {}),
        (
            lambda c: c.retry_workflow("w", resume_subworkflow_tasks=True),
            "POST",
            "/api/workflow/w/retry",
            {"resumeSubworkflowTasks": "true"},
        ),
        (
            lambda c: c.restart_workflow("w"),
            "POST",
            "/api/workflow/w/restart",
            {"useLatestDefinitions": "false"},
        ),
        (
            lambda c: c.terminate_workflow("w", "why"),
            "DELETE",
            "/api/workflow/w",
            {"reason": "why"},
        ),
        (
            lambda c: c.remove_workflow("w"),
            "DELETE",
            "/api/workflow/w/remove",
            {"archiveWorkflow": "true"},
        ),
        (lambda c: c.skip_task("w", "ref"), "PUT", "/api/workflow/w/skiptask/ref", {}),
        (lambda c: c.reset_callbacks("w"), "POST", "/api/workflow/w/resetcallbacks", {}),
        (lambda c: c.decide_workflow("w"), "PUT", "/api/workflow/decide/w", {}),
        (lambda c: c.delete_task_def("t"), "DELETE", "/api/metadata/taskdefs/t", {}),
        (lambda c: c.delete_workflow_def("f", 2), "DELETE", "/api/metadata/workflow/f/2", {}),
        (
            lambda c: c.search_workflows("status = 'FAILED'", size=5),
            "GET",
            "/api/workflow/search",
            {"query": "status = 'FAILED'", "freeText": "*", "start": "0", "size": "5"},
        ),
        (
            lambda c: c.list_workflow_tasks("w", status=["FAILED", "COMPLETED"]),
            "GET",
            "/api/workflow/w/tasks",
            {"start": "0", "count": "15", "status": ["FAILED", "COMPLETED"]},
        ),
        (
            lambda c: c.poll_tasks("t", worker_id="me", count=3, timeout_ms=500),
            "GET",
            "/api/tasks/poll/batch/t",
            {"workerid": "me", "count": "3", "timeout": "500"},
        ),
    ],
)
def test_operations_call_conductors_paths(
    call: Any, method: str, path: str, params: dict[str, str]
) -> None:
    rec = Recorder(lambda r: json_response({"results": [], "totalHits": 0}))
    with client_for(rec) as client:
        call(client)
    assert rec.last.method == method
    assert rec.last.url.path == path
    url_params = rec.last.url.params
    got = {k: v if len(v := url_params.get_list(k)) > 1 else v[0] for k in url_params}
    assert got == params


def test_rerun_and_bulk_bodies() -> None:
    rec = Recorder(
        lambda r: (
            text_response("w")
            if r.url.path.endswith("rerun")
            else json_response({"bulkSuccessfulResults": ["a"], "bulkErrorResults": {"b": "nope"}})
        )
    )
    with client_for(rec) as client:
        assert client.rerun_workflow("w", from_task_id="t", task_input={"x": 1}) == "w"
        assert rec.body() == {
            "reRunFromWorkflowId": "w",
            "reRunFromTaskId": "t",
            "taskInput": {"x": 1},
        }
        result = client.bulk_terminate_workflows(["a", "b"], reason="r")
    assert rec.last.url.path == "/api/workflow/bulk/terminate"
    assert rec.body() == ["a", "b"]
    assert result.successful == ["a"] and result.errors == {"b": "nope"}


def test_update_task_returns_the_ignored_reason() -> None:
    rec = Recorder(
        lambda r: text_response("t1", **{"X-Legato-Ignored": "Task t1 is already COMPLETED"})
    )
    with client_for(rec) as client:
        reason = client.update_task(
            {"workflowInstanceId": "w", "taskId": "t1", "status": "COMPLETED"}
        )
    assert reason == "Task t1 is already COMPLETED"


def test_add_task_log_sends_plain_text() -> None:
    rec = Recorder()
    with client_for(rec) as client:
        client.add_task_log("t1", "hello")
    assert rec.last.headers["content-type"] == "text/plain"
    assert rec.last.content == b"hello"


def test_poll_task_none_on_204() -> None:
    rec = Recorder(lambda r: httpx.Response(204))
    with client_for(rec) as client:
        assert client.poll_task("t") is None


def test_register_registers_task_defs_then_the_workflow() -> None:
    from legato.client import TaskDef
    from legato.worker import worker_task

    @worker_task("reg_a", task_def=TaskDef(retry_count=1, retry_delay_seconds=2))
    def a() -> None: ...

    rec = Recorder()
    flow = dsl.workflow("reg").then(dsl.task(a))
    with client_for(rec) as client:
        client.register(flow)
    assert [r.url.path for r in rec.requests] == [
        "/api/metadata/taskdefs",
        "/api/metadata/workflow",
    ]
    assert rec.body(0)[0]["name"] == "reg_a" and rec.body(0)[0]["retryCount"] == 1
    assert rec.requests[1].url.params["overwrite"] == "true"
    assert rec.body(1) == flow.to_json()


# ------------------------------------------------------------------------------ errors
@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, BadRequestError),
        (404, NotFoundError),
        (409, ConflictError),
        (500, ServerError),
        (503, ServiceUnavailableError),
        (418, ApiError),
    ],
)
def test_error_statuses_map_to_one_tree(status: int, cls: type[ApiError]) -> None:
    body = {
        "status": status,
        "message": "the server's words",
        "validationErrors": [{"path": "tasks[0].name", "message": "bad", "invalidValue": 3}],
    }
    rec = Recorder(lambda r: json_response(body, status))
    with client_for(rec) as client, pytest.raises(cls) as caught:
        client.get_workflow("w")
    exc = caught.value
    assert type(exc) is cls
    assert exc.message == "the server's words"
    assert exc.status_code == status
    assert exc.problems[0].path == "tasks[0].name" and exc.problems[0].invalid_value == 3
    assert "GET /api/workflow/w" in str(exc) and "tasks[0].name: bad" in str(exc)


def test_error_without_json_body_keeps_the_text() -> None:
    rec = Recorder(lambda r: httpx.Response(502, text="Bad gateway from the proxy\nmore"))
    with client_for(rec) as client, pytest.raises(ServerError, match="Bad gateway from the proxy"):
        client.health()


def test_retryable_comes_from_the_body_or_the_class() -> None:
    rec = Recorder(lambda r: json_response({"message": "db down", "retryable": True}, 500))
    with client_for(rec) as client, pytest.raises(ServerError) as caught:
        client.health()
    assert caught.value.retryable is True
    assert ServiceUnavailableError.retryable is True and NotFoundError.retryable is False


def test_transport_errors_are_translated() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    with client_for(Recorder(refuse)) as client, pytest.raises(TransportError) as caught:
        client.get_workflow("w")
    assert "cannot reach Legato at http://legato.test" in str(caught.value)
    assert isinstance(caught.value.__cause__, httpx.ConnectError)


def test_wait_for_workflow_times_out_with_the_last_state() -> None:
    rec = Recorder(lambda r: json_response(workflow_json("RUNNING")))
    with client_for(rec) as client, pytest.raises(WaitTimeoutError) as caught:
        client.wait_for_workflow("wf-1", timeout=0.05)
    assert caught.value.workflow.status == "RUNNING"


def test_run_workflow_starts_and_waits() -> None:
    answers = iter(
        [
            text_response("wf-1"),
            json_response(workflow_json("RUNNING")),
            json_response(workflow_json()),
        ]
    )
    with client_for(Recorder(lambda r: next(answers))) as client:
        wf = client.run_workflow("flow", {"x": 1}, timeout=5)
    assert wf.status == "COMPLETED"


# ------------------------------------------------------------------------------ async
async def test_async_client_same_operations() -> None:
    rec = Recorder(lambda r: json_response(workflow_json("RUNNING")))
    async with AsyncClient("legato.test", transport=httpx.MockTransport(rec)) as client:
        wf = await client.get_workflow("wf-1", include_tasks=False)
        with pytest.raises(WaitTimeoutError):
            await client.wait_for_workflow("wf-1", timeout=0.03)
    assert wf.status == "RUNNING"
    assert rec.requests[0].url.params["includeTasks"] == "false"
    assert rec.requests[0].headers["user-agent"].startswith("legato-python/")


async def test_async_client_maps_errors() -> None:
    rec = Recorder(lambda r: json_response({"message": "No such workflow"}, 404))
    async with AsyncClient("legato.test", transport=httpx.MockTransport(rec)) as client:
        with pytest.raises(NotFoundError, match="No such workflow"):
            await client.get_workflow("nope")
