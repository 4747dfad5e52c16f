"""SDK workers against Legato: the 3-step workflow of `sdk_workers` run by thread-based runners
(`TaskRunner` / `AsyncTaskRunner`) and by `TaskHandler`'s worker processes, and failing workers.
"""

from __future__ import annotations

from collections.abc import Callable

import sdk_workers
from conductor.client.automator.task_handler import TaskHandler
from conductor.client.configuration.configuration import Configuration
from conductor.client.http.models import TaskDef, WorkflowDef, WorkflowTask
from conductor.client.orkes.orkes_metadata_client import OrkesMetadataClient
from conductor.client.orkes.orkes_task_client import OrkesTaskClient
from conductor.client.orkes.orkes_workflow_client import OrkesWorkflowClient
from sdk_helpers import registered, task_by_ref, thread_runners, wait_for


def register_three_steps(
    metadata_client: OrkesMetadataClient, name: str, *, retry_count: int = 0
) -> None:
    for task, _, _ in sdk_workers.WORKFLOW_STEPS:
        metadata_client.register_task_def(
            TaskDef(name=task, retry_count=retry_count, retry_delay_seconds=0, timeout_seconds=0)
        )
    metadata_client.register_workflow_def(
        WorkflowDef(
            name=name,
            version=1,
            tasks=[
                WorkflowTask(
                    name=task, task_reference_name=ref, type="SIMPLE", input_parameters=inputs
                )
                for task, ref, inputs in sdk_workers.WORKFLOW_STEPS
            ],
            output_parameters=sdk_workers.WORKFLOW_OUTPUT,
            schema_version=2,
            timeout_seconds=0,
        ),
        overwrite=True,
    )


def assert_three_steps_completed(
    workflow_client: OrkesWorkflowClient, task_client: OrkesTaskClient, wid: str, name: str
) -> None:
    wf = wait_for(workflow_client, wid, timeout=30)
    expected = f"HELLO, {name.upper()}!"
    assert wf.status == "COMPLETED", wf.reason_for_incompletion
    assert wf.output == {"text": expected, "length": len(expected)}
    assert [(t.reference_task_name, t.status) for t in wf.tasks] == [
        ("greet", "COMPLETED"),
        ("shout", "COMPLETED"),
        ("measure", "COMPLETED"),
    ]
    assert task_by_ref(wf, "greet").output_data == {"greeting": f"Hello, {name}"}
    shout = task_by_ref(wf, "shout")
    assert shout.worker_id  # the SDK reports its identity
    assert [entry.log for entry in task_client.get_task_logs(shout.task_id)] == ["shouted"]


def test_workers_in_threads(
    configuration: Configuration,
    metadata_client: OrkesMetadataClient,
    workflow_client: OrkesWorkflowClient,
    task_client: OrkesTaskClient,
    names: Callable[[str], str],
) -> None:
    workflow = names("wf")
    register_three_steps(metadata_client, workflow)
    workers = [
        registered(sdk_workers.GREET),
        sdk_workers.Shout(),
        registered(sdk_workers.MEASURE),
    ]
    with thread_runners(configuration, workers):
        ids = {
            who: workflow_client.start_workflow_by_name(workflow, {"name": who})
            for who in ("Ada", "Bob", "Cy")
        }
        for who, wid in ids.items():
            assert_three_steps_completed(workflow_client, task_client, wid, who)


def test_workers_in_processes(
    configuration: Configuration,
    metadata_client: OrkesMetadataClient,
    workflow_client: OrkesWorkflowClient,
    task_client: OrkesTaskClient,
    names: Callable[[str], str],
) -> None:
    workflow = names("wf")
    register_three_steps(metadata_client, workflow)
    wid = workflow_client.start_workflow_by_name(workflow, {"name": "Eve"})
    # One spawned process per worker: the class-based one given, the @worker_task functions
    # found by scanning (sync ones on TaskRunner, the async one on AsyncTaskRunner).
    handler = TaskHandler(
        workers=[sdk_workers.Shout()],
        configuration=configuration,
        scan_for_annotated_workers=True,
        monitor_processes=False,
    )
    handler.start_processes()
    try:
        assert_three_steps_completed(workflow_client, task_client, wid, "Eve")
    finally:
        handler.stop_processes()
    assert not any(p.is_alive() for p in handler.task_runner_processes)


def test_failing_workers(
    configuration: Configuration,
    metadata_client: OrkesMetadataClient,
    workflow_client: OrkesWorkflowClient,
    task_client: OrkesTaskClient,
    names: Callable[[str], str],
) -> None:
    flaky_wf, fatal_wf = names("flaky"), names("fatal")
    metadata_client.register_task_def(
        TaskDef(
            name=sdk_workers.FLAKY,
            retry_count=2,
            retry_delay_seconds=0,
            timeout_seconds=0,
            response_timeout_seconds=5,
        )
    )
    metadata_client.register_task_def(
        TaskDef(
            name=sdk_workers.FATAL,
            retry_count=2,
            retry_delay_seconds=0,
            timeout_seconds=0,
            response_timeout_seconds=5,
        )
    )
    for name, task, inputs in (
        (flaky_wf, sdk_workers.FLAKY, {"attempt": "${workflow.input.attempt}"}),
        (fatal_wf, sdk_workers.FATAL, {"order": "${workflow.input.order}"}),
    ):
        metadata_client.register_workflow_def(
            WorkflowDef(
                name=name,
                version=1,
                tasks=[
                    WorkflowTask(name=task, task_reference_name="work", input_parameters=inputs)
                ],
                schema_version=2,
                timeout_seconds=0,
            ),
            overwrite=True,
        )
    with thread_runners(
        configuration, [registered(sdk_workers.FLAKY), registered(sdk_workers.FATAL)]
    ):
        flaky = workflow_client.start_workflow_by_name(flaky_wf, {"attempt": 7})
        fatal = workflow_client.start_workflow_by_name(fatal_wf, {"order": "A-1"})
        flaky_run = wait_for(workflow_client, flaky, timeout=100)
        fatal_run = wait_for(workflow_client, fatal, timeout=100)

    # An exception: FAILED, retried retryCount times, then the workflow FAILED.
    assert flaky_run.status == "FAILED"
    assert [t.retry_count for t in flaky_run.tasks] == [0, 1, 2]
    ran = [t for t in flaky_run.tasks if t.status == "FAILED"]
    assert ran and all(t.status in ("FAILED", "TIMED_OUT") for t in flaky_run.tasks)
    assert all(t.reason_for_incompletion == "flaky worker gave up on attempt 7" for t in ran)
    assert (
        "attempt 7" in (flaky_run.reason_for_incompletion or "")
        or flaky_run.tasks[-1].status == "TIMED_OUT"
    )
    logs = task_client.get_task_logs(ran[0].task_id)
    assert any("RuntimeError" in entry.log for entry in logs)  # the traceback the SDK attached

    # A NonRetryableException: FAILED_WITH_TERMINAL_ERROR at once, no retry.
    # (On a loaded machine the official SDK's runner thread has, rarely, taken a task and never
    # reported it; its response timeout then offers the task again, as at-least-once delivery
    # promises. Such attempts end TIMED_OUT; the one the worker ran is the last.)
    assert fatal_run.status == "FAILED"
    *lost, last = fatal_run.tasks
    assert all(t.status == "TIMED_OUT" for t in lost)
    assert last.status == "FAILED_WITH_TERMINAL_ERROR"
    assert last.reason_for_incompletion == "order A-1 can never be shipped"
