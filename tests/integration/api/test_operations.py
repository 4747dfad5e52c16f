"""Workflow operations over HTTP: pause, resume, retry, restart, rerun, skip, upgrade, ..."""

from __future__ import annotations

from typing import Any

import httpx
from api_helpers import (
    assert_error,
    complete,
    get_workflow,
    poll,
    register,
    run,
    simple,
    start,
    task_by_ref,
    wait_for,
    workflow_def,
)

ONCE = {"retryCount": 0}  # a worker task that fails the workflow at its first failure


def three(name: str = "ops_three", **overrides: Any) -> dict[str, Any]:
    return workflow_def(
        name,
        [
            simple(f"{name}_a", "a"),
            simple(f"{name}_b", "b", inputParameters={"x": "${a.output.x}"}, **ONCE),
            simple(f"{name}_c", "c"),
        ],
        **overrides,
    )


async def work(client: httpx.AsyncClient, task_type: str, **output: Any) -> dict[str, Any]:
    task = await poll(client, task_type)
    assert task is not None, f"no {task_type} task"
    await complete(client, task, output)
    return task


async def fail(client: httpx.AsyncClient, task_type: str) -> dict[str, Any]:
    task = await poll(client, task_type)
    assert task is not None
    await complete(client, task, {}, status="FAILED", reasonForIncompletion="broken")
    return task


async def finished(client: httpx.AsyncClient, name: str = "ops_three") -> str:
    wid = await run(client, three(name), {"n": 1})
    await work(client, f"{name}_a", x=1)
    await work(client, f"{name}_b")
    await work(client, f"{name}_c")
    assert (await wait_for(client, wid))["status"] == "COMPLETED"
    return wid


# ---------------------------------------------------------------------------- pause, resume
async def test_pause_holds_the_workflow_and_resume_goes_on(client: httpx.AsyncClient) -> None:
    wid = await run(client, three())
    r = await client.put(f"/api/workflow/{wid}/pause")
    assert r.status_code == 200 and r.content == b""
    assert (await get_workflow(client, wid))["status"] == "PAUSED"
    assert (await client.put(f"/api/workflow/{wid}/pause")).status_code == 200  # no-op
    await work(client, "ops_three_a", x=1)  # a running task still finishes ...
    assert await poll(client, "ops_three_b") is None  # ... but nothing new is scheduled
    r = await client.put(f"/api/workflow/{wid}/resume")
    assert r.status_code == 200 and r.content == b""
    wf = await get_workflow(client, wid)
    assert wf["status"] == "RUNNING" and wf["lastRetriedTime"] > 0
    assert (await poll(client, "ops_three_b")) is not None
    assert_error(await client.put(f"/api/workflow/{wid}/resume"), 409, wid, "not PAUSED")


async def test_pause_of_an_ended_workflow_is_refused(client: httpx.AsyncClient) -> None:
    wid = await finished(client)
    assert_error(await client.put(f"/api/workflow/{wid}/pause"), 409, wid, "COMPLETED")
    assert_error(await client.put("/api/workflow/nope/pause"), 404, "nope")
    assert_error(await client.put("/api/workflow/nope/resume"), 404, "nope")


# ---------------------------------------------------------------------------- retry
async def test_retry_keeps_the_failed_attempt_and_adds_a_new_one(client: httpx.AsyncClient) -> None:
    wid = await run(client, three())
    await work(client, "ops_three_a", x=7)
    assert_error(await client.post(f"/api/workflow/{wid}/retry"), 409, wid, "RUNNING")
    failed = await fail(client, "ops_three_b")
    assert (await wait_for(client, wid))["status"] == "FAILED"
    r = await client.post(f"/api/workflow/{wid}/retry")
    assert r.status_code == 204 and r.content == b""
    wf = await get_workflow(client, wid)
    assert wf["status"] == "RUNNING" and "reasonForIncompletion" not in wf
    attempts = [t for t in wf["tasks"] if t["referenceTaskName"] == "b"]
    assert [(t["status"], t["retried"], t["retryCount"]) for t in attempts] == [
        ("FAILED", True, 0),
        ("SCHEDULED", False, 1),
    ]
    assert attempts[0]["taskId"] == failed["taskId"]
    assert attempts[1]["retriedTaskId"] == failed["taskId"]
    assert attempts[1]["inputData"] == {"x": 7}
    await work(client, "ops_three_b")
    await work(client, "ops_three_c")
    assert (await wait_for(client, wid))["status"] == "COMPLETED"
    assert_error(await client.post(f"/api/workflow/{wid}/retry"), 409, wid, "restart")
    assert_error(await client.post("/api/workflow/nope/retry"), 404, "nope")


def parent_and_child(child_tasks: list[dict[str, Any]]) -> tuple[dict[str, Any], dict[str, Any]]:
    child = workflow_def("ops_child", child_tasks)
    parent = workflow_def(
        "ops_parent",
        [
            {
                "name": "sub",
                "taskReferenceName": "sub",
                "type": "SUB_WORKFLOW",
                "subWorkflowParam": {"name": "ops_child", "version": 1},
            },
            simple("ops_after", "after"),
        ],
    )
    return parent, child


async def test_retry_resuming_the_sub_workflow(client: httpx.AsyncClient) -> None:
    parent, child = parent_and_child([simple("ops_child_step", "step", **ONCE)])
    await register(client, child)
    wid = await run(client, parent)
    failed = await fail(client, "ops_child_step")
    wf = await wait_for(client, wid)
    assert wf["status"] == "FAILED"
    sub = task_by_ref(wf, "sub")
    child_id = sub["subWorkflowId"]
    r = await client.post(f"/api/workflow/{wid}/retry", params={"resumeSubworkflowTasks": True})
    assert r.status_code == 204
    # The failed child runs again (same id); the parent waits for it again (same task).
    wf = await get_workflow(client, wid)
    assert wf["status"] == "RUNNING"
    assert [t["taskId"] for t in wf["tasks"]] == [sub["taskId"]]
    assert wf["tasks"][0]["status"] == "IN_PROGRESS"
    child_wf = await get_workflow(client, child_id)
    assert child_wf["status"] == "RUNNING"
    assert [t["status"] for t in child_wf["tasks"]] == ["FAILED", "SCHEDULED"]
    logs = (await client.get(f"/api/tasks/{sub['taskId']}/log")).json()
    assert f"Sub workflow {child_id} retried." in [entry["log"] for entry in logs]
    again = await work(client, "ops_child_step")
    assert again["taskId"] != failed["taskId"]
    await work(client, "ops_after")
    assert (await wait_for(client, wid))["status"] == "COMPLETED"


async def test_retry_of_the_parent_starts_a_new_child(client: httpx.AsyncClient) -> None:
    parent, child = parent_and_child([simple("ops_child_step", "step", **ONCE)])
    await register(client, child)
    wid = await run(client, parent)
    await fail(client, "ops_child_step")
    old_child = task_by_ref(await wait_for(client, wid), "sub")["subWorkflowId"]
    assert (await client.post(f"/api/workflow/{wid}/retry")).status_code == 204
    wf = await get_workflow(client, wid)
    new_child = task_by_ref(wf, "sub")["subWorkflowId"]
    assert new_child != old_child
    assert (await get_workflow(client, old_child))["status"] == "FAILED"
    assert (await get_workflow(client, new_child))["status"] == "RUNNING"


# ---------------------------------------------------------------------------- restart
async def test_restart_runs_again_and_keeps_the_earlier_run_in_history(
    client: httpx.AsyncClient,
) -> None:
    wid = await finished(client)
    before = await get_workflow(client, wid)
    assert before["history"] == []
    r = await client.post(f"/api/workflow/{wid}/restart")
    assert r.status_code == 204 and r.content == b""
    wf = await get_workflow(client, wid)
    assert wf["status"] == "RUNNING" and wf["output"] == {}
    assert [t["referenceTaskName"] for t in wf["tasks"]] == ["a"]
    assert wf["tasks"][0]["taskId"] not in {t["taskId"] for t in before["tasks"]}
    [earlier] = wf["history"]
    assert earlier["status"] == "COMPLETED" and earlier["workflowId"] == wid
    assert [t["taskId"] for t in earlier["tasks"]] == [t["taskId"] for t in before["tasks"]]
    assert_error(await client.post(f"/api/workflow/{wid}/restart"), 409, wid, "RUNNING")
    # the earlier run's tasks are gone from the execution (their record is in `history`)
    r = await client.get(f"/api/tasks/{before['tasks'][0]['taskId']}")
    assert r.status_code == 404


async def test_restart_with_the_latest_definition(client: httpx.AsyncClient) -> None:
    wid = await finished(client)
    v2 = three()
    v2["version"] = 2
    v2["tasks"].insert(0, simple("ops_first", "first"))
    await register(client, v2)
    r = await client.post(f"/api/workflow/{wid}/restart", params={"useLatestDefinitions": True})
    assert r.status_code == 204
    wf = await get_workflow(client, wid)
    assert wf["workflowVersion"] == 2 and wf["workflowDefinition"]["version"] == 2
    assert [t["referenceTaskName"] for t in wf["tasks"]] == ["first"]


async def test_restart_refused_for_a_completed_non_restartable_workflow(
    client: httpx.AsyncClient,
) -> None:
    await register(client, three("ops_once", restartable=False))
    wid = await start(client, "ops_once")
    await work(client, "ops_once_a")
    await work(client, "ops_once_b")
    await work(client, "ops_once_c")
    await wait_for(client, wid)
    assert_error(await client.post(f"/api/workflow/{wid}/restart"), 409, "not restartable")


async def test_restart_of_a_parent_starts_its_sub_workflow_again(
    client: httpx.AsyncClient,
) -> None:
    parent, child = parent_and_child([simple("ops_child_step", "step", **ONCE)])
    await register(client, child)
    wid = await run(client, parent)
    await fail(client, "ops_child_step")
    old_child = task_by_ref(await wait_for(client, wid), "sub")["subWorkflowId"]
    assert (await client.post(f"/api/workflow/{wid}/restart")).status_code == 204
    new_child = task_by_ref(await get_workflow(client, wid), "sub")["subWorkflowId"]
    assert new_child != old_child
    child_wf = await get_workflow(client, new_child)
    assert child_wf["status"] == "RUNNING" and child_wf["parentWorkflowId"] == wid


# ---------------------------------------------------------------------------- rerun
async def test_rerun_from_a_task_with_new_input(client: httpx.AsyncClient) -> None:
    wid = await finished(client)
    before = await get_workflow(client, wid)
    a, b, _c = before["tasks"]
    r = await client.post(
        f"/api/workflow/{wid}/rerun",
        json={"reRunFromTaskId": b["taskId"], "taskInput": {"x": "again"}},
    )
    assert r.status_code == 200 and r.text == wid
    assert r.headers["content-type"].startswith("text/plain")
    wf = await get_workflow(client, wid)
    assert wf["status"] == "RUNNING"
    assert [t["referenceTaskName"] for t in wf["tasks"]] == ["a", "b"]
    assert wf["tasks"][0]["taskId"] == a["taskId"]  # what came before stays as it was
    assert wf["tasks"][1]["inputData"] == {"x": "again"}
    assert [t["taskId"] for t in wf["history"][0]["tasks"]] == [
        t["taskId"] for t in before["tasks"]
    ]
    task = await work(client, "ops_three_b")
    assert task["inputData"] == {"x": "again"}
    await work(client, "ops_three_c")
    assert (await wait_for(client, wid))["status"] == "COMPLETED"


async def test_rerun_from_the_start_with_new_input(client: httpx.AsyncClient) -> None:
    wid = await finished(client)
    r = await client.post(
        f"/api/workflow/{wid}/rerun", json={"workflowInput": {"n": 2}, "correlationId": "c2"}
    )
    assert r.text == wid
    wf = await get_workflow(client, wid)
    assert (wf["input"], wf["correlationId"]) == ({"n": 2}, "c2")
    assert [t["referenceTaskName"] for t in wf["tasks"]] == ["a"]
    assert len(wf["history"]) == 1


async def test_rerun_refusals(client: httpx.AsyncClient) -> None:
    wid = await run(client, three())
    assert_error(await client.post(f"/api/workflow/{wid}/rerun", json={}), 409, wid, "RUNNING")
    await client.delete(f"/api/workflow/{wid}")
    r = await client.post(f"/api/workflow/{wid}/rerun", json={"reRunFromTaskId": "nope"})
    assert_error(r, 404, "nope")
    assert_error(await client.post("/api/workflow/nope/rerun", json={}), 404, "nope")
    r = await client.post(f"/api/workflow/{wid}/rerun", json={"workflowInput": 3})
    assert_error(r, 400, "workflowInput")


async def test_rerun_of_a_task_inside_a_sub_workflow(client: httpx.AsyncClient) -> None:
    parent, child = parent_and_child([simple("ops_child_step", "step")])
    await register(client, child)
    wid = await run(client, parent)
    step = await work(client, "ops_child_step", v=1)
    await work(client, "ops_after")
    wf = await wait_for(client, wid)
    child_id = task_by_ref(wf, "sub")["subWorkflowId"]
    r = await client.post(
        f"/api/workflow/{wid}/rerun",
        json={"reRunFromTaskId": step["taskId"], "correlationId": "top"},
    )
    assert r.text == wid
    wf = await get_workflow(client, wid)
    assert wf["status"] == "RUNNING" and wf["correlationId"] == "top"
    assert task_by_ref(wf, "sub")["status"] == "IN_PROGRESS"
    child_wf = await get_workflow(client, child_id)
    assert child_wf["status"] == "RUNNING" and "correlationId" not in child_wf
    assert len(child_wf["history"]) == 1
    await work(client, "ops_child_step", v=2)
    await work(client, "ops_after")
    assert (await wait_for(client, wid))["status"] == "COMPLETED"


# ---------------------------------------------------------------------------- skip
async def test_skip_a_task_not_reached_yet(client: httpx.AsyncClient) -> None:
    wid = await run(client, three())
    r = await client.put(f"/api/workflow/{wid}/skiptask/b", json={"taskOutput": {"skipped": True}})
    assert r.status_code == 200 and r.content == b""
    await work(client, "ops_three_a")
    assert await poll(client, "ops_three_b") is None
    await work(client, "ops_three_c")
    wf = await wait_for(client, wid)
    assert wf["status"] == "COMPLETED"
    b = task_by_ref(wf, "b")
    assert (b["status"], b["outputData"]) == ("SKIPPED", {"skipped": True})


async def test_skip_with_the_python_sdk_query_parameter(client: httpx.AsyncClient) -> None:
    wid = await run(client, three())
    # conductor-python sends the SkipTaskRequest as one query parameter: a dict's repr.
    request = {"taskInput": {"i": 1}, "taskOutput": {"o": True}}
    r = await client.put(
        f"/api/workflow/{wid}/skiptask/c", params={"skipTaskRequest": str(request)}, json={}
    )
    assert r.status_code == 200
    c = task_by_ref(await get_workflow(client, wid), "c")
    assert (c["inputData"], c["outputData"]) == ({"i": 1}, {"o": True})


async def test_skip_refusals(client: httpx.AsyncClient) -> None:
    wid = await run(client, three())
    assert_error(await client.put(f"/api/workflow/{wid}/skiptask/a"), 409, "scheduled already")
    assert_error(await client.put(f"/api/workflow/{wid}/skiptask/zz"), 404, "zz")
    r = await client.put(f"/api/workflow/{wid}/skiptask/b", params={"skipTaskRequest": "[1]"})
    assert_error(r, 400, "skipTaskRequest")
    await client.put(f"/api/workflow/{wid}/pause")
    assert_error(await client.put(f"/api/workflow/{wid}/skiptask/b"), 409, "PAUSED")


# ---------------------------------------------------------------------------- callbacks, variables
async def test_reset_callbacks_makes_a_postponed_task_pollable(client: httpx.AsyncClient) -> None:
    wid = await run(client, three())
    task = await poll(client, "ops_three_a")
    assert task is not None
    await complete(client, task, {}, status="IN_PROGRESS", callbackAfterSeconds=600)
    assert await poll(client, "ops_three_a") is None
    r = await client.post(f"/api/workflow/{wid}/resetcallbacks")
    assert r.status_code == 204
    again = await poll(client, "ops_three_a")
    assert again is not None and again["taskId"] == task["taskId"]
    await client.delete(f"/api/workflow/{wid}")
    assert_error(await client.post(f"/api/workflow/{wid}/resetcallbacks"), 409, "TERMINATED")


async def test_update_variables(client: httpx.AsyncClient) -> None:
    wid = await run(client, three(variables={"keep": 1, "change": 1}))
    r = await client.post(f"/api/workflow/{wid}/variables", json={"change": 2, "new": [3]})
    assert r.status_code == 200
    assert r.json()["variables"] == {"keep": 1, "change": 2, "new": [3]}
    assert (await get_workflow(client, wid))["variables"]["new"] == [3]
    assert_error(await client.post(f"/api/workflow/{wid}/variables", json=[1]), 400)
    await client.delete(f"/api/workflow/{wid}")
    assert_error(await client.post(f"/api/workflow/{wid}/variables", json={}), 409, "ended")


# ---------------------------------------------------------------------------- upgrade
async def test_upgrade_moves_a_running_execution_to_a_new_version(
    client: httpx.AsyncClient,
) -> None:
    wid = await run(client, three())
    await work(client, "ops_three_a", x=1)
    v2 = three()
    v2["version"] = 2
    v2["tasks"].insert(0, simple("ops_new_first", "new_first"))
    v2["tasks"].append(simple("ops_new_last", "new_last"))
    await register(client, v2)
    r = await client.post(
        f"/api/workflow/{wid}/upgrade",
        json={"name": "ops_three", "version": 2, "taskOutput": {"new_first": {"o": 1}}},
    )
    assert r.status_code == 200 and r.content == b""
    wf = await get_workflow(client, wid)
    assert wf["workflowVersion"] == 2
    assert task_by_ref(wf, "new_first")["status"] == "SKIPPED"
    assert task_by_ref(wf, "new_first")["outputData"] == {"o": 1}
    await work(client, "ops_three_b")
    await work(client, "ops_three_c")
    await work(client, "ops_new_last")
    assert (await wait_for(client, wid))["status"] == "COMPLETED"
    r = await client.post(f"/api/workflow/{wid}/upgrade", json={"name": "ops_three"})
    assert_error(r, 409, "COMPLETED")


async def test_upgrade_refusals(client: httpx.AsyncClient) -> None:
    wid = await run(client, three())
    r = await client.post(f"/api/workflow/{wid}/upgrade", json={"name": "other", "version": 1})
    assert_error(r, 400, "name")
    r = await client.post(f"/api/workflow/{wid}/upgrade", json={"name": "ops_three", "version": 9})
    assert_error(r, 404, "ops_three")
    v2 = workflow_def("ops_three", [simple("ops_z", "z")], version=2)
    await register(client, v2)
    r = await client.post(f"/api/workflow/{wid}/upgrade", json={"name": "ops_three", "version": 2})
    assert_error(r, 409, "a")
    assert_error(await client.post(f"/api/workflow/{wid}/upgrade", json={}), 400, "name")


# ---------------------------------------------------------------------------- terminate
async def test_terminate_can_trigger_the_failure_workflow(client: httpx.AsyncClient) -> None:
    await register(client, workflow_def("ops_cleanup", [simple("ops_cleanup_step", "s")]))
    wid = await run(client, three(failureWorkflow="ops_cleanup"))
    r = await client.delete(
        f"/api/workflow/{wid}", params={"reason": "stop", "triggerFailureWorkflow": True}
    )
    assert r.status_code == 200
    wf = await get_workflow(client, wid)
    assert wf["status"] == "TERMINATED"
    cleanup = await get_workflow(client, wf["output"]["conductor.failure_workflow"])
    assert cleanup["input"]["reason"] == "stop"


async def test_terminate_remove_of_an_ended_workflow_removes_it(
    client: httpx.AsyncClient,
) -> None:
    wid = await finished(client)
    r = await client.delete(f"/api/workflow/{wid}/terminate-remove")
    assert r.status_code == 200
    assert_error(await client.get(f"/api/workflow/{wid}"), 404)
