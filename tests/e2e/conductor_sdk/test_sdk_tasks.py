"""TaskClient (and its TaskResourceApi, WorkflowExecutor's task methods): poll, update, logs,
queues, search and signals, the way a hand-written worker or an operator uses them."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from conductor.client.http.models import (
    StartWorkflowRequest,
    Task,
    TaskResult,
    WorkflowDef,
    WorkflowTask,
)
from conductor.client.http.models.signal_response import SignalResponse
from conductor.client.http.rest import ApiException
from conductor.client.orkes.orkes_metadata_client import OrkesMetadataClient
from conductor.client.orkes.orkes_task_client import OrkesTaskClient
from conductor.client.orkes.orkes_workflow_client import OrkesWorkflowClient
from conductor.client.workflow.executor.workflow_executor import WorkflowExecutor
from sdk_helpers import register_chain, task_by_ref, wait_for, wait_until


def test_poll_update_and_read(
    metadata_client: OrkesMetadataClient,
    workflow_client: OrkesWorkflowClient,
    task_client: OrkesTaskClient,
    names: Callable[[str], str],
) -> None:
    wf_name, t1, t2 = names("wf"), names("t1"), names("t2")
    register_chain(metadata_client, wf_name, [t1, t2])
    # 204 when there is nothing to do; the SDK reads the empty body as an empty Task.
    assert task_client.poll_task(t1, worker_id="w1").task_id is None
    assert task_client.batch_poll_tasks(t1, worker_id="w1", count=3) == []

    wid = workflow_client.start_workflow_by_name(wf_name, {"x": 1}, correlationId="corr-1")
    assert wait_until(lambda: task_client.get_queue_size_for_task(t1) == 1, what="queued")
    task = task_client.poll_task(t1, worker_id="w1")
    assert isinstance(task, Task)
    assert task.status == "IN_PROGRESS"
    assert (task.task_def_name, task.task_type) == (t1, t1)
    assert task.reference_task_name == "s0"
    assert task.workflow_instance_id == wid
    assert task.input_data == {"x": 1}
    assert task.worker_id == "w1"
    assert task.poll_count == 1
    assert task_client.get_queue_size_for_task(t1) == 0

    polls = task_client.get_task_poll_data(t1)
    assert [(p.queue_name, p.worker_id) for p in polls] == [(t1, "w1")]
    assert polls[0].last_poll_time > 0
    everyone = task_client.taskResourceApi.get_all_poll_data()
    assert (t1, "w1") in [(p.queue_name, p.worker_id) for p in everyone]

    task_client.add_task_log(task.task_id, "starting")
    task_client.add_task_log(task.task_id, "half way")
    logs = task_client.get_task_logs(task.task_id)
    assert [entry.log for entry in logs] == ["starting", "half way"]
    assert all(entry.task_id == task.task_id and entry.created_time > 0 for entry in logs)

    result = TaskResult(
        workflow_instance_id=wid,
        task_id=task.task_id,
        status="COMPLETED",
        output_data={"x": 2},
        worker_id="w1",
    )
    assert task_client.update_task(result) == task.task_id
    done = task_client.get_task(task.task_id)
    assert (done.status, done.output_data) == ("COMPLETED", {"x": 2})
    assert done.end_time >= done.start_time > 0

    [second] = wait_until(lambda: task_client.batch_poll_tasks(t2, worker_id="w2", count=5))
    assert (second.reference_task_name, second.input_data) == ("s1", {"x": 2})
    second_result = TaskResult(
        workflow_instance_id=wid, task_id=second.task_id, status="COMPLETED", output_data={"x": 3}
    )
    task_client.update_task(second_result)
    wf = wait_for(workflow_client, wid)
    assert (wf.status, wf.output, wf.correlation_id) == ("COMPLETED", {"x": 3}, "corr-1")
    assert [t.status for t in wf.tasks] == ["COMPLETED", "COMPLETED"]


def test_in_progress_failed_and_terminal_results(
    metadata_client: OrkesMetadataClient,
    workflow_client: OrkesWorkflowClient,
    task_client: OrkesTaskClient,
    names: Callable[[str], str],
) -> None:
    wf_name, t1 = names("wf"), names("t1")
    register_chain(metadata_client, wf_name, [t1], retry_count=1)
    wid = workflow_client.start_workflow(StartWorkflowRequest(name=wf_name, input={"x": "a"}))

    first = wait_until(lambda: task_client.poll_task(t1, worker_id="w"))
    # IN_PROGRESS with callbackAfterSeconds=0: the same task is offered again at once.
    task_client.update_task(
        TaskResult(
            workflow_instance_id=wid,
            task_id=first.task_id,
            status="IN_PROGRESS",
            callback_after_seconds=0,
            output_data={"progress": 50},
        )
    )
    again = wait_until(lambda: task_client.poll_task(t1, worker_id="w"))
    assert again.task_id == first.task_id
    assert again.output_data == {"progress": 50}
    assert again.poll_count == 2

    # FAILED with a retry left: a new task instance, retryCount 1, retriedTaskId the old one.
    task_client.update_task(
        TaskResult(
            workflow_instance_id=wid,
            task_id=first.task_id,
            status="FAILED",
            reason_for_incompletion="boom",
        )
    )
    retry = wait_until(lambda: task_client.poll_task(t1, worker_id="w"))
    assert retry.task_id != first.task_id
    assert (retry.retry_count, retry.retried_task_id) == (1, first.task_id)
    assert task_client.get_task(first.task_id).status == "FAILED"
    assert task_client.get_task(first.task_id).reason_for_incompletion == "boom"

    # FAILED_WITH_TERMINAL_ERROR: no retry, the workflow fails with the reason.
    task_client.update_task(
        TaskResult(
            workflow_instance_id=wid,
            task_id=retry.task_id,
            status="FAILED_WITH_TERMINAL_ERROR",
            reason_for_incompletion="fatal",
        )
    )
    wf = wait_for(workflow_client, wid)
    assert wf.status == "FAILED"
    assert "fatal" in (wf.reason_for_incompletion or "")
    assert [t.status for t in wf.tasks] == ["FAILED", "FAILED_WITH_TERMINAL_ERROR"]


def test_update_by_reference_name_and_sync(
    metadata_client: OrkesMetadataClient,
    workflow_client: OrkesWorkflowClient,
    task_client: OrkesTaskClient,
    executor: WorkflowExecutor,
    names: Callable[[str], str],
) -> None:
    wf_name, t1, t2, t3 = names("wf"), names("t1"), names("t2"), names("t3")
    register_chain(metadata_client, wf_name, [t1, t2, t3])
    wid = workflow_client.start_workflow_by_name(wf_name, {"x": 0})

    # TaskClient.update_task_by_ref_name wraps the output as {"result": output} (the SDK's
    # own choice); the server stores the body it is given. (Its worker_id argument cannot be
    # used: the SDK passes it on as a keyword its own API method rejects with a TypeError.)
    s0 = wait_until(lambda: task_by_ref(workflow_client.get_workflow(wid), "s0"))
    assert task_client.update_task_by_ref_name(wid, "s0", "COMPLETED", 7) == s0.task_id
    wf = wait_until(lambda: _with_task(workflow_client, wid, "s1"))
    assert task_by_ref(wf, "s0").output_data == {"result": 7}

    # update_task_sync answers the workflow after the update.
    wf = task_client.update_task_sync(wid, "s1", "COMPLETED", {"x": 5})
    assert wf.workflow_id == wid
    assert task_by_ref(wf, "s1").status == "COMPLETED"
    assert task_by_ref(wf, "s1").output_data == {"x": 5}

    # WorkflowExecutor.update_task_by_ref_name sends the output map as it is.
    wait_until(lambda: _with_task(workflow_client, wid, "s2"))
    executor.update_task_by_ref_name({"x": 6}, wid, "s2", "COMPLETED")
    wf = wait_for(workflow_client, wid)
    assert (wf.status, wf.output) == ("COMPLETED", {"x": 6})

    # No pending task of that reference name: sync answers 404.
    with pytest.raises(ApiException) as info:
        task_client.update_task_sync(wid, "s2", "COMPLETED", {"x": 1})
    assert info.value.status == 404


def test_executor_task_methods_and_update_v2(
    metadata_client: OrkesMetadataClient,
    workflow_client: OrkesWorkflowClient,
    task_client: OrkesTaskClient,
    executor: WorkflowExecutor,
    names: Callable[[str], str],
) -> None:
    wf_name, t1 = names("wf"), names("t1")
    register_chain(metadata_client, wf_name, [t1])
    first, second = (workflow_client.start_workflow_by_name(wf_name, {"x": i}) for i in (1, 2))
    task = wait_until(lambda: task_client.poll_task(t1, worker_id="v2"))
    assert executor.get_task(task.task_id).task_id == task.task_id

    # update-v2: report one result, get the next task of the same type in the same call.
    result = TaskResult(
        workflow_instance_id=task.workflow_instance_id,
        task_id=task.task_id,
        status="COMPLETED",
        output_data={"x": "done"},
        worker_id="v2",
    )
    following = task_client.taskResourceApi.update_task_v2(body=result)
    assert isinstance(following, Task)
    assert following.task_id != task.task_id
    assert following.status == "IN_PROGRESS"
    assert {task.workflow_instance_id, following.workflow_instance_id} == {first, second}

    # WorkflowExecutor.update_task: POST /tasks with a TaskResult it builds.
    assert (
        executor.update_task(
            following.task_id, following.workflow_instance_id, {"x": 9}, "COMPLETED"
        )
        == following.task_id
    )
    by_id = {wid: wait_for(workflow_client, wid) for wid in (first, second)}
    outputs = sorted(str(wf.output["x"]) for wf in by_id.values())
    assert outputs == ["9", "done"]
    assert all(wf.status == "COMPLETED" for wf in by_id.values())
    # update-v2 with nothing left to claim: 204, which the SDK answers as None.
    wid = workflow_client.start_workflow_by_name(wf_name, {"x": 3})
    task = wait_until(lambda: task_client.poll_task(t1, worker_id="v2"))
    result = TaskResult(workflow_instance_id=wid, task_id=task.task_id, status="COMPLETED")
    assert task_client.taskResourceApi.update_task_v2(body=result) is None
    assert wait_for(workflow_client, wid).status == "COMPLETED"


def test_queue_views(
    metadata_client: OrkesMetadataClient,
    workflow_client: OrkesWorkflowClient,
    task_client: OrkesTaskClient,
    names: Callable[[str], str],
) -> None:
    wf_name, t1 = names("wf"), names("t1")
    register_chain(metadata_client, wf_name, [t1])
    for i in range(3):
        workflow_client.start_workflow_by_name(wf_name, {"x": i})
    wait_until(lambda: task_client.get_queue_size_for_task(t1) == 3, what="3 queued")
    api = task_client.taskResourceApi
    assert api.size(task_type=[t1]) == {t1: 3}
    assert api.all()[t1] == 3


def test_requeue_pending_tasks(
    metadata_client: OrkesMetadataClient,
    workflow_client: OrkesWorkflowClient,
    task_client: OrkesTaskClient,
    names: Callable[[str], str],
) -> None:
    wf_name, t1 = names("wf"), names("t1")
    register_chain(metadata_client, wf_name, [t1])
    workflow_client.start_workflow_by_name(wf_name, {"x": 1})
    wait_until(lambda: task_client.get_queue_size_for_task(t1) == 1, what="queued")
    # POST /tasks/queue/requeue/{taskType}: the count requeued, as text.
    assert int(task_client.taskResourceApi.requeue_pending_task(t1)) >= 0
    assert task_client.get_queue_size_for_task(t1) == 1


def test_task_search(
    metadata_client: OrkesMetadataClient,
    workflow_client: OrkesWorkflowClient,
    task_client: OrkesTaskClient,
    names: Callable[[str], str],
) -> None:
    wf_name, t1 = names("wf"), names("t1")
    register_chain(metadata_client, wf_name, [t1])
    wid = workflow_client.start_workflow_by_name(wf_name, {"x": 1})
    wait_until(lambda: task_client.get_queue_size_for_task(t1) == 1, what="queued")
    api = task_client.taskResourceApi
    found = wait_until(lambda: api.search1(query=f"taskType='{t1}'").results, what="summary")
    assert [(s.workflow_id, s.task_def_name, s.status) for s in found] == [(wid, t1, "SCHEDULED")]
    full = api.search_v21(query=f"taskType='{t1}'")
    assert full.total_hits == 1
    assert full.results[0].workflow_instance_id == wid


def _with_task(workflow_client: OrkesWorkflowClient, wid: str, ref: str) -> object:
    wf = workflow_client.get_workflow(wid)
    return wf if any(t.reference_task_name == ref for t in wf.tasks) else None


def test_signal_wait_tasks(
    metadata_client: OrkesMetadataClient,
    workflow_client: OrkesWorkflowClient,
    executor: WorkflowExecutor,
    names: Callable[[str], str],
) -> None:
    name = names("wf")
    metadata_client.register_workflow_def(
        WorkflowDef(
            name=name,
            version=1,
            tasks=[
                WorkflowTask(name="w1", task_reference_name="w1", type="WAIT"),
                WorkflowTask(name="w2", task_reference_name="w2", type="WAIT"),
            ],
            output_parameters={"a": "${w1.output.a}", "b": "${w2.output.b}"},
            schema_version=2,
            timeout_seconds=0,
        ),
        overwrite=True,
    )
    wid = workflow_client.start_workflow_by_name(name, {})
    wait_until(lambda: _with_task(workflow_client, wid, "w1"))
    # signal_async: POST /tasks/{workflowId}/COMPLETED/signal completes the pending WAIT.
    executor.signal_async(wid, "COMPLETED", {"a": 1})
    wait_until(lambda: _with_task(workflow_client, wid, "w2"))
    # signal: the synchronous variant answers a SignalResponse.
    response = executor.signal(wid, "COMPLETED", {"b": 2}, return_strategy="TARGET_WORKFLOW")
    assert isinstance(response, SignalResponse)
    assert response.workflow_id == wid
    wf = wait_for(workflow_client, wid)
    assert (wf.status, wf.output) == ("COMPLETED", {"a": 1, "b": 2})
