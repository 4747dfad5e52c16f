"""WorkflowClient, WorkflowExecutor and the workflow/bulk APIs under them: start, read, control.

The workflow used by most tests is `register_chain`'s: SIMPLE steps `s0`, `s1`, ... passing `x`
along; the tests play the worker with the TaskClient.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from conductor.client.http.api.workflow_bulk_resource_api import WorkflowBulkResourceApi
from conductor.client.http.models import (
    RerunWorkflowRequest,
    SkipTaskRequest,
    StartWorkflowRequest,
    Task,
    TaskResult,
    Workflow,
    WorkflowDef,
    WorkflowStatus,
    WorkflowTask,
)
from conductor.client.http.models.correlation_ids_search_request import (
    CorrelationIdsSearchRequest,
)
from conductor.client.http.models.start_workflow_request import IdempotencyStrategy
from conductor.client.http.models.workflow_state_update import WorkflowStateUpdate
from conductor.client.http.models.workflow_test_request import WorkflowTestRequest
from conductor.client.http.rest import ApiException
from conductor.client.orkes.orkes_metadata_client import OrkesMetadataClient
from conductor.client.orkes.orkes_task_client import OrkesTaskClient
from conductor.client.orkes.orkes_workflow_client import OrkesWorkflowClient
from conductor.client.workflow.executor.workflow_executor import WorkflowExecutor
from sdk_helpers import register_chain, task_by_ref, wait_for, wait_until


def poll_one(task_client: OrkesTaskClient, task_type: str) -> Task:
    """Poll until a task of `task_type` comes (a 204 reads as an empty Task in the SDK)."""

    def attempt() -> Task | None:
        task = task_client.poll_task(task_type, worker_id="test")
        return task if task is not None and task.task_id else None

    task: Task = wait_until(attempt, what=f"a {task_type} task")
    return task


def complete(task_client: OrkesTaskClient, task_type: str, output: dict[str, object]) -> str:
    """Poll one task of `task_type` and complete it with `output`; its workflow's id."""
    task = poll_one(task_client, task_type)
    task_client.update_task(
        TaskResult(
            workflow_instance_id=task.workflow_instance_id,
            task_id=task.task_id,
            status="COMPLETED",
            output_data=output,
        )
    )
    return str(task.workflow_instance_id)


def fail(task_client: OrkesTaskClient, task_type: str, reason: str) -> None:
    task = poll_one(task_client, task_type)
    task_client.update_task(
        TaskResult(
            workflow_instance_id=task.workflow_instance_id,
            task_id=task.task_id,
            status="FAILED_WITH_TERMINAL_ERROR",
            reason_for_incompletion=reason,
        )
    )


def scheduled(workflow_client: OrkesWorkflowClient, wid: str, ref: str) -> Workflow | None:
    wf = workflow_client.get_workflow(wid)
    return wf if any(t.reference_task_name == ref for t in wf.tasks) else None


# ------------------------------------------------------------------------------ start and read
def test_start_get_status_and_remove(
    metadata_client: OrkesMetadataClient,
    workflow_client: OrkesWorkflowClient,
    task_client: OrkesTaskClient,
    executor: WorkflowExecutor,
    names: Callable[[str], str],
) -> None:
    name, t1 = names("wf"), names("t1")
    register_chain(metadata_client, name, [t1])
    by_name = workflow_client.start_workflow_by_name(
        name, {"x": "a"}, version=1, correlationId="c-1", priority=5
    )
    request = StartWorkflowRequest(name=name, version=1, input={"x": "b"}, correlation_id="c-2")
    by_request = workflow_client.start_workflow(request)
    [via_executor] = executor.start_workflows(StartWorkflowRequest(name=name, input={"x": "c"}))
    assert len({by_name, by_request, via_executor}) == 3

    wf = workflow_client.get_workflow(by_name)
    assert isinstance(wf, Workflow)
    assert (wf.workflow_id, wf.workflow_name, wf.workflow_version) == (by_name, name, 1)
    assert (wf.status, wf.input, wf.correlation_id, wf.priority) == (
        "RUNNING",
        {"x": "a"},
        "c-1",
        5,
    )
    assert wf.create_time > 0
    assert [(t.reference_task_name, t.status) for t in wf.tasks] == [("s0", "SCHEDULED")]
    # (OrkesWorkflowClient.get_workflow drops include_tasks=False; the API method sends it.)
    api = workflow_client.workflowResourceApi
    assert api.get_execution_status(by_name, include_tasks=False).tasks in (None, [])
    assert executor.get_workflow(by_request, include_tasks=True).correlation_id == "c-2"

    status = workflow_client.get_workflow_status(
        by_name, include_output=True, include_variables=True
    )
    assert isinstance(status, WorkflowStatus)
    assert (status.workflow_id, status.status, status.correlation_id) == (by_name, "RUNNING", "c-1")
    assert (status.output, status.variables) == ({}, {})
    bare = executor.get_workflow_status(by_name)
    assert bare.status == "RUNNING"
    assert bare.output is None

    for _ in range(3):
        complete(task_client, t1, {"x": "done"})
    wf = wait_for(workflow_client, by_name)
    assert (wf.status, wf.output) == ("COMPLETED", {"x": "done"})
    assert wf.end_time >= wf.start_time > 0

    # delete_workflow / remove_workflow / WorkflowExecutor.remove_workflow: DELETE .../remove.
    workflow_client.delete_workflow(by_name)
    workflow_client.remove_workflow(by_request)
    executor.remove_workflow(via_executor, archive_workflow=False)
    for wid in (by_name, by_request, via_executor):
        with pytest.raises(ApiException) as info:
            workflow_client.get_workflow(wid)
        assert info.value.status == 404


def test_unknown_workflow_is_404(
    workflow_client: OrkesWorkflowClient, names: Callable[[str], str]
) -> None:
    with pytest.raises(ApiException) as info:
        workflow_client.start_workflow_by_name(names("missing"), {})
    assert info.value.status == 404
    with pytest.raises(ApiException) as info:
        workflow_client.get_workflow(str(uuid.uuid4()))
    assert info.value.status == 404
    with pytest.raises(ApiException) as info:
        workflow_client.get_workflow_status(str(uuid.uuid4()))
    assert info.value.status == 404


def test_terminate(
    metadata_client: OrkesMetadataClient,
    workflow_client: OrkesWorkflowClient,
    task_client: OrkesTaskClient,
    executor: WorkflowExecutor,
    names: Callable[[str], str],
) -> None:
    name, t1 = names("wf"), names("t1")
    register_chain(metadata_client, name, [t1])
    first = workflow_client.start_workflow_by_name(name, {"x": 1})
    second = workflow_client.start_workflow_by_name(name, {"x": 2})
    workflow_client.terminate_workflow(first, reason="no longer needed")
    executor.terminate(second, reason="also not", trigger_failure_workflow=False)
    for wid, reason in ((first, "no longer needed"), (second, "also not")):
        wf = workflow_client.get_workflow(wid)
        assert (wf.status, wf.reason_for_incompletion) == ("TERMINATED", reason)
        assert [t.status for t in wf.tasks] == ["CANCELED"]
    # Terminating a COMPLETED workflow is a conflict.
    third = workflow_client.start_workflow_by_name(name, {"x": 3})
    complete(task_client, t1, {"x": 3})
    assert wait_for(workflow_client, third).status == "COMPLETED"
    with pytest.raises(ApiException) as info:
        workflow_client.terminate_workflow(third, reason="too late")
    assert info.value.status == 409
    assert workflow_client.get_workflow(third).status == "COMPLETED"


def test_running_and_correlated(
    metadata_client: OrkesMetadataClient,
    workflow_client: OrkesWorkflowClient,
    task_client: OrkesTaskClient,
    executor: WorkflowExecutor,
    names: Callable[[str], str],
) -> None:
    name, t1 = names("wf"), names("t1")
    register_chain(metadata_client, name, [t1])
    done = workflow_client.start_workflow_by_name(name, {"x": 1}, correlationId="order-1")
    complete(task_client, t1, {"x": 1})
    wait_for(workflow_client, done)
    running = workflow_client.start_workflow_by_name(name, {"x": 2}, correlationId="order-1")
    other = workflow_client.start_workflow_by_name(name, {"x": 3}, correlationId="order-2")

    api = workflow_client.workflowResourceApi
    assert sorted(api.get_running_workflow(name, version=1)) == sorted([running, other])

    # POST /workflow/{name}/correlated: running ones only, unless include_completed.
    open_only = workflow_client.get_by_correlation_ids(name, ["order-1", "order-2"])
    assert {k: [w.workflow_id for w in v] for k, v in open_only.items()} == {
        "order-1": [running],
        "order-2": [other],
    }
    closed = executor.get_by_correlation_ids(name, ["order-1"], include_closed=True)
    assert sorted(w.workflow_id for w in closed["order-1"]) == sorted([done, running])
    # GET /workflow/{name}/correlated/{correlationId}
    listed = api.get_workflows2(name, "order-1", include_closed=True, include_tasks=True)
    assert sorted(w.workflow_id for w in listed) == sorted([done, running])
    assert all(w.tasks for w in listed)


def test_correlated_batch(
    metadata_client: OrkesMetadataClient,
    workflow_client: OrkesWorkflowClient,
    names: Callable[[str], str],
) -> None:
    name, t1 = names("wf"), names("t1")
    register_chain(metadata_client, name, [t1])
    wid = workflow_client.start_workflow_by_name(name, {"x": 1}, correlationId="batch-1")
    request = CorrelationIdsSearchRequest(correlation_ids=["batch-1"], workflow_names=[name])
    # (WorkflowExecutor.get_by_correlation_ids_and_names passes a keyword the client it calls
    # does not take, so it cannot be used; the client method can.)
    found = workflow_client.get_by_correlation_ids_in_batch(request, include_completed=True)
    assert [w.workflow_id for w in found["batch-1"]] == [wid]


def test_search(
    metadata_client: OrkesMetadataClient,
    workflow_client: OrkesWorkflowClient,
    executor: WorkflowExecutor,
    names: Callable[[str], str],
) -> None:
    name, t1 = names("wf"), names("t1")
    register_chain(metadata_client, name, [t1])
    wid = workflow_client.start_workflow_by_name(name, {"x": 1}, correlationId="s-1")

    def found() -> object:
        return workflow_client.search(query=f"workflowType='{name}'").results

    [summary] = wait_until(found, what="a search hit")
    assert (summary.workflow_id, summary.workflow_type, summary.version) == (wid, name, 1)
    assert (summary.status, summary.correlation_id) == ("RUNNING", "s-1")
    assert executor.search(query=f"workflowType='{name}' AND status='COMPLETED'").results == []
    assert [s.workflow_id for s in executor.search(free_text=wid).results] == [wid]


def test_test_workflow(workflow_client: OrkesWorkflowClient, names: Callable[[str], str]) -> None:
    name = names("wf")
    definition = WorkflowDef(
        name=name,
        version=1,
        tasks=[
            WorkflowTask(name="mocked", task_reference_name="m", type="SIMPLE"),
            WorkflowTask(
                name="calc",
                task_reference_name="calc",
                type="INLINE",
                input_parameters={
                    "evaluatorType": "graaljs",
                    "expression": "$.v * 2",
                    "v": "${m.output.v}",
                },
            ),
        ],
        output_parameters={"doubled": "${calc.output.result}"},
        schema_version=2,
    )
    request = WorkflowTestRequest(
        name=name,
        version=1,
        workflow_def=definition,
        input={},
        task_ref_to_mock_output={"m": [{"status": "COMPLETED", "output": {"v": 21}}]},
    )
    wf = workflow_client.test_workflow(request)
    assert isinstance(wf, Workflow)
    assert (wf.status, wf.output) == ("COMPLETED", {"doubled": 42})
    assert task_by_ref(wf, "m").output_data == {"v": 21}


def test_start_with_idempotency_key(
    metadata_client: OrkesMetadataClient,
    workflow_client: OrkesWorkflowClient,
    names: Callable[[str], str],
) -> None:
    name, t1 = names("wf"), names("t1")
    register_chain(metadata_client, name, [t1])
    key = names("key")

    def start(strategy: IdempotencyStrategy) -> str:
        request = StartWorkflowRequest(name=name, input={"x": 1})
        request.idempotency_key = key
        request.idempotency_strategy = strategy
        return workflow_client.start_workflow(request)

    first = start(IdempotencyStrategy.RETURN_EXISTING)
    assert start(IdempotencyStrategy.RETURN_EXISTING) == first
    with pytest.raises(ApiException) as info:
        start(IdempotencyStrategy.FAIL)
    assert info.value.status == 409


# ------------------------------------------------------------------------------ control
def test_pause_and_resume(
    metadata_client: OrkesMetadataClient,
    workflow_client: OrkesWorkflowClient,
    task_client: OrkesTaskClient,
    executor: WorkflowExecutor,
    names: Callable[[str], str],
) -> None:
    name, t1, t2 = names("wf"), names("t1"), names("t2")
    register_chain(metadata_client, name, [t1, t2])
    wid = workflow_client.start_workflow_by_name(name, {"x": 1})
    workflow_client.pause_workflow(wid)
    assert workflow_client.get_workflow(wid).status == "PAUSED"
    # The task already queued can still be worked, but nothing new is scheduled while paused.
    complete(task_client, t1, {"x": 2})
    wait_until(lambda: task_by_ref(workflow_client.get_workflow(wid), "s0").status == "COMPLETED")
    wf = workflow_client.get_workflow(wid)
    assert wf.status == "PAUSED"
    assert [t.reference_task_name for t in wf.tasks] == ["s0"]

    executor.resume(wid)
    wait_until(lambda: scheduled(workflow_client, wid, "s1"), what="s1 after resume")
    assert workflow_client.get_workflow(wid).status == "RUNNING"
    executor.pause(wid)
    assert workflow_client.get_workflow_status(wid).status == "PAUSED"
    workflow_client.resume_workflow(wid)
    complete(task_client, t2, {"x": 3})
    wf = wait_for(workflow_client, wid)
    assert (wf.status, wf.output) == ("COMPLETED", {"x": 3})


def test_retry_restart_and_rerun(
    metadata_client: OrkesMetadataClient,
    workflow_client: OrkesWorkflowClient,
    task_client: OrkesTaskClient,
    executor: WorkflowExecutor,
    names: Callable[[str], str],
) -> None:
    name, t1, t2 = names("wf"), names("t1"), names("t2")
    register_chain(metadata_client, name, [t1, t2])
    wid = workflow_client.start_workflow_by_name(name, {"x": 1})
    complete(task_client, t1, {"x": 2})
    fail(task_client, t2, "broken")
    failed = wait_for(workflow_client, wid)
    assert failed.status == "FAILED"

    # retry: the failed task is scheduled again (a new instance), the workflow RUNNING again.
    workflow_client.retry_workflow(wid)
    wf = workflow_client.get_workflow(wid)
    assert wf.status == "RUNNING"
    assert [(t.reference_task_name, t.status) for t in wf.tasks][-1] == ("s1", "SCHEDULED")
    complete(task_client, t2, {"x": 3})
    wf = wait_for(workflow_client, wid)
    assert (wf.status, wf.output) == ("COMPLETED", {"x": 3})

    # restart: the same workflow id from the beginning, its earlier tasks gone.
    executor.restart(wid, use_latest_definitions=True)
    wf = workflow_client.get_workflow(wid)
    assert wf.status == "RUNNING"
    assert [(t.reference_task_name, t.status) for t in wf.tasks] == [("s0", "SCHEDULED")]
    complete(task_client, t1, {"x": 10})
    complete(task_client, t2, {"x": 11})
    wf = wait_for(workflow_client, wid)
    assert (wf.status, wf.output) == ("COMPLETED", {"x": 11})

    # rerun from s1 with new input for it: answers the workflow id; s0 is kept.
    s1 = task_by_ref(wf, "s1")
    rerun = RerunWorkflowRequest(re_run_from_task_id=s1.task_id, task_input={"x": "again"})
    assert workflow_client.rerun_workflow(wid, rerun) == wid
    task = poll_one(task_client, t2)
    assert task.input_data == {"x": "again"}
    task_client.update_task(
        TaskResult(
            workflow_instance_id=wid,
            task_id=task.task_id,
            status="COMPLETED",
            output_data={"x": 12},
        )
    )
    wf = wait_for(workflow_client, wid)
    assert (wf.status, wf.output) == ("COMPLETED", {"x": 12})
    assert task_by_ref(wf, "s0").output_data == {"x": 10}

    # executor.rerun with workflow input: from the start.
    executor.rerun(RerunWorkflowRequest(workflow_input={"x": "fresh"}), wid)
    task = poll_one(task_client, t1)
    assert task.input_data == {"x": "fresh"}
    # retry of a running workflow is refused.
    with pytest.raises(ApiException) as info:
        executor.retry(wid)
    assert 400 <= info.value.status < 600


def test_skip_task(
    metadata_client: OrkesMetadataClient,
    workflow_client: OrkesWorkflowClient,
    task_client: OrkesTaskClient,
    executor: WorkflowExecutor,
    names: Callable[[str], str],
) -> None:
    name, t1, t2, t3 = names("wf"), names("t1"), names("t2"), names("t3")
    register_chain(metadata_client, name, [t1, t2, t3])
    wid = workflow_client.start_workflow_by_name(name, {"x": 1})
    wait_until(lambda: scheduled(workflow_client, wid, "s0"))
    # As in Conductor, only a task not reached yet can be skipped: s1, while s0 is pending.
    workflow_client.skip_task_from_workflow(wid, "s1", SkipTaskRequest())
    assert task_by_ref(workflow_client.get_workflow(wid), "s1").status == "SKIPPED"
    with pytest.raises(ApiException) as info:
        executor.skip_task_from_workflow(wid, "s0", SkipTaskRequest(task_input={}, task_output={}))
    assert 400 <= info.value.status < 600
    complete(task_client, t1, {"x": 2})
    wait_until(lambda: scheduled(workflow_client, wid, "s2"), what="s2 after s0, s1 skipped")
    complete(task_client, t3, {"x": "end"})
    wf = wait_for(workflow_client, wid)
    assert (wf.status, wf.output) == ("COMPLETED", {"x": "end"})
    assert {t.reference_task_name: t.status for t in wf.tasks} == {
        "s0": "COMPLETED",
        "s1": "SKIPPED",
        "s2": "COMPLETED",
    }


def test_decide_and_reset_callbacks(
    metadata_client: OrkesMetadataClient,
    workflow_client: OrkesWorkflowClient,
    task_client: OrkesTaskClient,
    names: Callable[[str], str],
) -> None:
    name, t1 = names("wf"), names("t1")
    register_chain(metadata_client, name, [t1])
    wid = workflow_client.start_workflow_by_name(name, {"x": 1})
    task = poll_one(task_client, t1)
    task_client.update_task(
        TaskResult(
            workflow_instance_id=wid,
            task_id=task.task_id,
            status="IN_PROGRESS",
            callback_after_seconds=3600,
        )
    )
    api = workflow_client.workflowResourceApi
    api.decide(wid)
    assert workflow_client.get_workflow(wid).status == "RUNNING"
    assert task_client.poll_task(t1, worker_id="test").task_id is None  # called back in an hour
    # resetcallbacks: the callback is due now, so the task can be polled at once.
    api.reset_workflow(wid)
    again = poll_one(task_client, t1)
    assert again.task_id == task.task_id


def test_variables_and_state_update(
    metadata_client: OrkesMetadataClient,
    workflow_client: OrkesWorkflowClient,
    names: Callable[[str], str],
) -> None:
    name = names("wf")
    metadata_client.register_workflow_def(
        WorkflowDef(
            name=name,
            version=1,
            tasks=[WorkflowTask(name="w", task_reference_name="w", type="WAIT")],
            output_parameters={"color": "${workflow.variables.color}", "w": "${w.output.v}"},
            variables={"color": "red"},
            schema_version=2,
            timeout_seconds=0,
        ),
        overwrite=True,
    )
    wid = workflow_client.start_workflow_by_name(name, {})
    workflow_client.update_variables(wid, {"color": "blue", "size": 3})
    status = workflow_client.get_workflow_status(wid, include_variables=True)
    assert status.variables == {"color": "blue", "size": 3}

    update = WorkflowStateUpdate(
        task_reference_name="w",
        task_result=TaskResult(status="COMPLETED", output_data={"v": "ok"}),
        variables={"color": "green"},
    )
    run = workflow_client.update_state(wid, update, wait_for_seconds=5)
    assert run.workflow_id == wid
    wf = wait_for(workflow_client, wid)
    assert (wf.status, wf.output) == ("COMPLETED", {"color": "green", "w": "ok"})


def test_upgrade_running_workflow(
    metadata_client: OrkesMetadataClient,
    workflow_client: OrkesWorkflowClient,
    task_client: OrkesTaskClient,
    names: Callable[[str], str],
) -> None:
    name, t1, t2 = names("wf"), names("t1"), names("t2")
    register_chain(metadata_client, name, [t1])
    wid = workflow_client.start_workflow_by_name(name, {"x": 1})
    v2 = register_chain(metadata_client, name, [t1, t2])
    v2.version = 2
    metadata_client.register_workflow_def(v2, overwrite=True)
    workflow_client.workflowResourceApi.upgrade_running_workflow_to_version(
        {"name": name, "version": 2}, wid
    )
    assert workflow_client.get_workflow(wid).workflow_version == 2
    complete(task_client, t1, {"x": 2})
    complete(task_client, t2, {"x": 3})
    wf = wait_for(workflow_client, wid)
    assert (wf.status, wf.output) == ("COMPLETED", {"x": 3})


def test_bulk_operations(
    metadata_client: OrkesMetadataClient,
    workflow_client: OrkesWorkflowClient,
    names: Callable[[str], str],
) -> None:
    name, t1 = names("wf"), names("t1")
    register_chain(metadata_client, name, [t1])
    ids = [workflow_client.start_workflow_by_name(name, {"x": i}) for i in range(3)]
    bulk = WorkflowBulkResourceApi(workflow_client.api_client)
    missing = str(uuid.uuid4())

    paused = bulk.pause_workflow([*ids, missing])
    assert sorted(paused.bulk_successful_results) == sorted(ids)
    assert list(paused.bulk_error_results) == [missing]
    assert {workflow_client.get_workflow(w).status for w in ids} == {"PAUSED"}
    resumed = bulk.resume_workflow(ids)
    assert sorted(resumed.bulk_successful_results) == sorted(ids)
    assert {workflow_client.get_workflow(w).status for w in ids} == {"RUNNING"}
    terminated = bulk.terminate(ids, reason="bulk stop")
    assert sorted(terminated.bulk_successful_results) == sorted(ids)
    assert {workflow_client.get_workflow(w).status for w in ids} == {"TERMINATED"}
    restarted = bulk.restart(ids)
    assert sorted(restarted.bulk_successful_results) == sorted(ids)
    assert {workflow_client.get_workflow(w).status for w in ids} == {"RUNNING"}
    workflow_client.terminate_workflow(ids[0])
    retried = bulk.retry([ids[0]])
    assert retried.bulk_successful_results == [ids[0]] or retried.bulk_error_results
