"""`Client` and `AsyncClient` against a real Legato: definitions, executions, operations."""

from __future__ import annotations

from typing import Any

import pytest
from sdk_server import ThreadedServer, require, simple_def

from legato.client import (
    AsyncClient,
    BadRequestError,
    Client,
    ConflictError,
    NotFoundError,
    TaskDef,
    WorkflowStatus,
    dsl,
)

AUDIT = ("createTime", "updateTime", "createdBy", "updatedBy")


def human_flow(name: str = "sdk_human") -> dsl.WorkflowBuilder:
    return (
        dsl.workflow(name, owner_email="sdk@example.com")
        .then(
            dsl.human("approve"),
            dsl.task("sdk_after", input={"ok": dsl.ref("approve").output("ok")}),
        )
        .output(ok=dsl.ref("sdk_after").input("ok"))
    )


def test_a_built_definition_round_trips_unchanged(server: ThreadedServer) -> None:
    flow = (
        dsl.workflow("sdk_round_trip", 3, description="every operator", owner_email="a@b.c")
        .then(step := dsl.task("sdk_a", input={"x": dsl.input("x")}, retry_count=2))
        .then(
            dsl.switch(
                "route",
                value=step.output("kind"),
                cases={"big": [dsl.wait("cool", duration=3600)], "huge": [dsl.human("ask")]},
                default=[dsl.noop("nothing")],
            ),
            dsl.fork("both", [[dsl.task("sdk_a", "left")], [dsl.inline("right", "1 + 1")]]),
            dsl.do_while("loop", "$.loop['iteration'] < 2", [dsl.jq("jq", ".a", input={"a": 1})]),
            dsl.set_variable("remember", {"seen": True}),
            dsl.sub_workflow("child", "sdk_child", 1, input={"y": 1}),
            dsl.http("call", "http://127.0.0.1:9/x", method="POST", body={"a": 1}, optional=True),
            dsl.terminate("stop", "COMPLETED", output={"done": True}),
        )
        .output(result=step.output())
    )
    with Client(server.url) as client:
        client.register_workflow_def(dsl.workflow("sdk_child").then(dsl.noop("n")))
        client.register(flow)
        stored = client.get_workflow_def("sdk_round_trip", 3)
    for key in AUDIT:
        stored.pop(key, None)
    assert stored == flow.to_json()


def test_definitions(server: ThreadedServer) -> None:
    with Client(server.url) as client:
        client.register_task_defs(
            [simple_def("sdk_def_a"), TaskDef(retry_count=1).to_json("sdk_def_b")]
        )
        assert client.get_task_def("sdk_def_b")["retryCount"] == 1
        assert {"sdk_def_a", "sdk_def_b"} <= {d["name"] for d in client.list_task_defs()}
        client.update_task_def(simple_def("sdk_def_a", retryCount=7))
        assert client.get_task_def("sdk_def_a")["retryCount"] == 7
        client.delete_task_def("sdk_def_a")
        with pytest.raises(NotFoundError) as caught:
            client.get_task_def("sdk_def_a")
        assert "sdk_def_a" in caught.value.message

        flow = human_flow()
        client.register(flow, overwrite=False)
        with pytest.raises(ConflictError, match="already exists"):
            client.register_workflow_def(flow)
        client.register_workflow_def(flow, overwrite=True)
        assert any(d["name"] == "sdk_human" for d in client.list_workflow_defs())
        with pytest.raises(BadRequestError) as bad:
            client.register_workflow_def({"name": "sdk_bad", "tasks": []})
        assert bad.value.problems and bad.value.problems[0].path == "tasks"
        client.delete_workflow_def("sdk_human", 1)
        with pytest.raises(NotFoundError):
            client.get_workflow_def("sdk_human", 1)


def test_a_workflow_from_start_to_end(server: ThreadedServer) -> None:
    with Client(server.url) as client:
        client.register(human_flow())
        wf_id = client.start_workflow("sdk_human", {"a": 1}, correlation_id="c-1")
        wf = client.get_workflow(wf_id)
        assert wf.status is WorkflowStatus.RUNNING and wf.correlation_id == "c-1"
        assert wf.task("approve").status == "IN_PROGRESS"
        assert client.get_workflow_status(wf_id) == {
            "workflowId": wf_id,
            "status": "RUNNING",
            "correlationId": "c-1",
        }
        assert client.update_task_by_ref(wf_id, "approve", "COMPLETED", {"ok": True})
        (task,) = client.poll_tasks("sdk_after", worker_id="me", count=5, timeout_ms=200)
        assert task.input_data == {"ok": True}
        client.add_task_log(task.task_id, "a line")
        assert (
            client.update_task(
                {"workflowInstanceId": wf_id, "taskId": task.task_id, "status": "COMPLETED"}
            )
            is None
        )
        again = client.update_task(
            {"workflowInstanceId": wf_id, "taskId": task.task_id, "status": "FAILED"}
        )
        assert again is not None and "already COMPLETED" in again
        assert [e["log"] for e in client.get_task_logs(task.task_id)] == ["a line"]
        done = client.wait_for_workflow(wf_id, timeout=5)
        assert done.status == "COMPLETED" and done.output == {"ok": True}
        page = client.list_workflow_tasks(wf_id, status=["COMPLETED"])
        assert page.total_hits == 2 and len(page) == 2
        client.remove_workflow(wf_id)
        with pytest.raises(NotFoundError, match=wf_id):
            client.get_workflow(wf_id)


def test_terminate_and_queues(server: ThreadedServer) -> None:
    with Client(server.url) as client:
        client.register(dsl.workflow("sdk_queue").then(dsl.task("sdk_q")))
        wf_id = client.start_workflow("sdk_queue")
        assert client.get_queue_size("sdk_q") == 1
        assert client.poll_task("sdk_nothing_here", worker_id="me") is None
        assert any(p["workerId"] == "me" for p in client.list_poll_data("sdk_nothing_here"))
        client.terminate_workflow(wf_id, "changed my mind")
        wf = client.get_workflow(wf_id)
        assert wf.status == "TERMINATED" and wf.reason_for_incompletion == "changed my mind"
        assert client.get_queue_size("sdk_q") == 0
        with pytest.raises(NotFoundError):
            client.terminate_workflow("no-such-workflow")


async def test_the_async_client_runs_a_workflow(server: ThreadedServer) -> None:
    async with AsyncClient(server.url) as client:
        await client.register(human_flow("sdk_async_human"))
        wf_id = await client.start_workflow("sdk_async_human")
        await client.update_task_by_ref(wf_id, "approve", "COMPLETED", {"ok": 1})
        (task,) = await client.poll_tasks("sdk_after", worker_id="me", timeout_ms=500)
        await client.update_task(
            {"workflowInstanceId": wf_id, "taskId": task.task_id, "status": "COMPLETED"}
        )
        wf = await client.wait_for_workflow(wf_id, timeout=5)
        assert wf.status == "COMPLETED"
        assert (await client.health())["healthy"] is True
        assert await client.server_version()


# ------------------------------------------------------------------ other engineers' endpoints
def test_pause_and_resume(server: ThreadedServer) -> None:
    require(server, "PUT", "/api/workflow/x/pause")
    require(server, "PUT", "/api/workflow/x/resume")
    with Client(server.url) as client:
        client.register(human_flow("sdk_pause"))
        wf_id = client.start_workflow("sdk_pause")
        client.pause_workflow(wf_id)
        assert client.get_workflow(wf_id).status == "PAUSED"
        client.resume_workflow(wf_id)
        assert client.get_workflow(wf_id).status == "RUNNING"


def _failed_workflow(client: Client, name: str) -> str:
    client.register_task_defs([simple_def("sdk_fails")])
    client.register(dsl.workflow(name).then(dsl.task("sdk_fails")))
    wf_id = client.start_workflow(name)
    (task,) = client.poll_tasks("sdk_fails", worker_id="me", timeout_ms=500)
    client.update_task(
        {
            "workflowInstanceId": wf_id,
            "taskId": task.task_id,
            "status": "FAILED",
            "reasonForIncompletion": "x",
        }
    )
    assert client.wait_for_workflow(wf_id, timeout=5).status == "FAILED"
    return wf_id


def test_retry_restart_and_rerun(server: ThreadedServer) -> None:
    for path in ("retry", "restart", "rerun"):
        require(server, "POST", f"/api/workflow/x/{path}")
    with Client(server.url) as client:
        wf_id = _failed_workflow(client, "sdk_ops")
        client.retry_workflow(wf_id)
        assert client.get_workflow(wf_id).status == "RUNNING"
        client.terminate_workflow(wf_id)
        client.restart_workflow(wf_id)
        assert client.get_workflow(wf_id).status == "RUNNING"
        client.terminate_workflow(wf_id)
        assert client.rerun_workflow(wf_id, workflow_input={"again": True}) == wf_id
        assert client.get_workflow(wf_id).input == {"again": True}


def test_skip_task(server: ThreadedServer) -> None:
    require(server, "PUT", "/api/workflow/x/skiptask/y")
    with Client(server.url) as client:
        client.register(dsl.workflow("sdk_skip").then(dsl.human("first"), dsl.task("sdk_later")))
        wf_id = client.start_workflow("sdk_skip")
        client.skip_task(wf_id, "sdk_later")
        client.update_task_by_ref(wf_id, "first", "COMPLETED")
        wf = client.wait_for_workflow(wf_id, timeout=5)
        assert wf.status == "COMPLETED" and wf.task("sdk_later").status == "SKIPPED"


def test_bulk_operations(server: ThreadedServer) -> None:
    require(server, "POST", "/api/workflow/bulk/terminate")
    with Client(server.url) as client:
        client.register(human_flow("sdk_bulk"))
        ids = [client.start_workflow("sdk_bulk") for _ in range(2)]
        result = client.bulk_terminate_workflows([*ids, "no-such-id"], reason="bulk")
        assert sorted(result.successful) == sorted(ids)
        assert list(result.errors) == ["no-such-id"]


def test_search(server: ThreadedServer) -> None:
    require(server, "GET", "/api/workflow/search")
    with Client(server.url) as client:
        client.register(human_flow("sdk_search"))
        wf_id = client.start_workflow("sdk_search", correlation_id="find-me")
        found: Any = None
        for _ in range(50):  # the index may lag
            found = client.search_workflows("workflowType = 'sdk_search'")
            if found.total_hits:
                break
        assert [r["workflowId"] for r in found] == [wf_id]


def test_search_tasks(server: ThreadedServer) -> None:
    require(server, "GET", "/api/tasks/search")
    with Client(server.url) as client:
        client.register(dsl.workflow("sdk_search_t").then(dsl.task("sdk_st")))
        wf_id = client.start_workflow("sdk_search_t")
        found = client.search_tasks("taskType = 'sdk_st'")
        assert [r["workflowId"] for r in found] == [wf_id]


def test_more_definition_operations(server: ThreadedServer) -> None:
    require(server, "POST", "/api/metadata/workflow/validate")
    require(server, "PUT", "/api/metadata/workflow")
    with Client(server.url) as client:
        flow = dsl.workflow("sdk_validated").then(dsl.noop("n"))
        client.validate_workflow_def(flow)
        with pytest.raises(BadRequestError):
            client.validate_workflow_def({"name": "sdk_invalid", "tasks": []})
        client.update_workflow_defs([flow, dsl.workflow("sdk_validated", 2).then(dsl.noop("n"))])
        assert client.get_workflow_def("sdk_validated")["version"] == 2


def test_event_handlers(server: ThreadedServer) -> None:
    for method, path in (
        ("POST", "/api/event"),
        ("GET", "/api/event/x"),
        ("DELETE", "/api/event/x"),
    ):
        require(server, method, path)
    handler = {
        "name": "sdk_on_event",
        "event": "conductor:sdk_validated:sdk_queue",
        "active": True,
        "actions": [{"action": "start_workflow", "start_workflow": {"name": "sdk_validated"}}],
    }
    with Client(server.url) as client:
        client.register_event_handler(handler)
        assert [
            h["name"] for h in client.list_event_handlers_for("conductor:sdk_validated:sdk_queue")
        ] == ["sdk_on_event"]
        client.update_event_handler({**handler, "active": False})
        assert client.list_event_handlers_for("conductor:sdk_validated:sdk_queue") == []
        assert any(h["name"] == "sdk_on_event" for h in client.list_event_handlers())
        client.delete_event_handler("sdk_on_event")
        assert all(h["name"] != "sdk_on_event" for h in client.list_event_handlers())


def test_more_workflow_reads_and_operations(server: ThreadedServer) -> None:
    require(server, "GET", "/api/workflow/running/x")
    require(server, "GET", "/api/workflow/x/correlated/y")
    require(server, "POST", "/api/workflow/x/resetcallbacks")
    require(server, "DELETE", "/api/workflow/x/terminate-remove")
    with Client(server.url) as client:
        client.register(human_flow("sdk_reads"))
        wf_id = client.start_workflow("sdk_reads", correlation_id="sdk-corr")
        assert wf_id in client.list_running_workflows("sdk_reads", version=1)
        (found,) = client.find_correlated_workflows("sdk_reads", "sdk-corr")
        assert found.workflow_id == wf_id
        client.decide_workflow(wf_id)
        client.reset_callbacks(wf_id)
        assert client.get_task(client.get_workflow(wf_id).task("approve").task_id).status == (
            "IN_PROGRESS"
        )
        client.terminate_remove_workflow(wf_id, "gone")
        with pytest.raises(NotFoundError):
            client.get_workflow(wf_id)


def test_signal_and_update_v2(server: ThreadedServer) -> None:
    require(server, "POST", "/api/tasks/x/COMPLETED/signal")
    require(server, "POST", "/api/tasks/update-v2")
    with Client(server.url) as client:
        client.register(dsl.workflow("sdk_signal").then(dsl.wait("until_told"), dsl.task("sdk_v2")))
        wf_id = client.start_workflow("sdk_signal")
        other = client.start_workflow("sdk_signal")
        client.signal_workflow(wf_id, "COMPLETED", {"told": True})
        client.signal_workflow(other, "COMPLETED")
        assert client.get_workflow(wf_id).task("until_told").output_data == {"told": True}
        first = client.poll_task("sdk_v2", worker_id="me")
        assert first is not None
        following = client.update_task_v2(
            {
                "workflowInstanceId": first.workflow_instance_id,
                "taskId": first.task_id,
                "status": "COMPLETED",
                "workerId": "me",
            }
        )
        assert following is not None and following.task_type == "sdk_v2"
        assert client.list_queue_sizes().get("sdk_v2", 0) == 0


def test_execute_workflow(server: ThreadedServer) -> None:
    require(server, "POST", "/api/workflow/execute/x/1")
    with Client(server.url) as client:
        client.register(dsl.workflow("sdk_execute").then(dsl.noop("n")).output(x=dsl.input("x")))
        answer = client.execute_workflow("sdk_execute", {"x": 1}, version=1, wait_for_seconds=5)
    assert answer["status"] == "COMPLETED" and answer["output"] == {"x": 1}


def test_send_message(server: ThreadedServer) -> None:
    require(server, "POST", "/api/workflow/x/messages")
    with Client(server.url) as client:
        client.register(human_flow("sdk_messages"))
        wf_id = client.start_workflow("sdk_messages")
        assert client.send_message(wf_id, {"hello": 1})


def test_other_bulk_operations(server: ThreadedServer) -> None:
    for method, path in (
        ("PUT", "/api/workflow/bulk/pause"),
        ("PUT", "/api/workflow/bulk/resume"),
        ("POST", "/api/workflow/bulk/retry"),
        ("POST", "/api/workflow/bulk/restart"),
        ("DELETE", "/api/workflow/bulk/remove"),
        ("DELETE", "/api/workflow/bulk/terminate-remove"),
    ):
        require(server, method, path)
    with Client(server.url) as client:
        client.register(human_flow("sdk_bulk_ops"))
        ids = [client.start_workflow("sdk_bulk_ops") for _ in range(2)]
        assert sorted(client.bulk_pause_workflows(ids).successful) == sorted(ids)
        assert sorted(client.bulk_resume_workflows(ids).successful) == sorted(ids)
        client.bulk_terminate_workflows(ids)
        assert sorted(client.bulk_restart_workflows(ids).successful) == sorted(ids)
        client.bulk_terminate_workflows(ids)
        client.bulk_retry_workflows(ids)  # nothing failed: per-id errors, not an exception
        assert sorted(client.bulk_terminate_remove_workflows(ids).successful) == sorted(ids)
        assert sorted(client.bulk_remove_workflows(ids).errors) == sorted(ids)  # gone already
