"""Helpers of the SDK tests: waiting for a workflow, finding its tasks, running workers."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from conductor.client.automator.async_task_runner import AsyncTaskRunner
from conductor.client.automator.task_handler import get_registered_workers
from conductor.client.automator.task_runner import TaskRunner
from conductor.client.configuration.configuration import Configuration
from conductor.client.http.models import TaskDef, Workflow, WorkflowDef, WorkflowTask
from conductor.client.orkes.orkes_metadata_client import OrkesMetadataClient
from conductor.client.orkes.orkes_workflow_client import OrkesWorkflowClient
from conductor.client.worker.worker_interface import WorkerInterface

TERMINAL = frozenset({"COMPLETED", "FAILED", "TIMED_OUT", "TERMINATED"})


def wait_for(
    workflow_client: OrkesWorkflowClient,
    workflow_id: str,
    statuses: frozenset[str] | set[str] = TERMINAL,
    *,
    timeout: float = 15,
    include_tasks: bool = True,
) -> Workflow:
    """Poll `get_workflow` until the workflow's status is one of `statuses`."""
    deadline = time.monotonic() + timeout
    while True:
        wf = workflow_client.get_workflow(workflow_id, include_tasks=include_tasks)
        if wf.status in statuses:
            return wf
        if time.monotonic() > deadline:
            raise AssertionError(
                f"workflow {workflow_id} is {wf.status}, expected one of {sorted(statuses)}"
            )
        time.sleep(0.05)


def wait_until(check: Callable[[], Any], *, timeout: float = 15, what: str = "condition") -> Any:
    """Call `check` until it answers something truthy; return that."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def task_by_ref(wf: Workflow, ref: str) -> Any:
    """The latest task of `wf` with this reference name."""
    matching = [t for t in wf.tasks if t.reference_task_name == ref]
    assert matching, f"no task {ref} in {[t.reference_task_name for t in wf.tasks]}"
    return matching[-1]


def register_chain(
    metadata_client: OrkesMetadataClient,
    name: str,
    task_names: list[str],
    *,
    retry_count: int = 0,
    response_timeout_seconds: int = 30,
) -> WorkflowDef:
    """Register one task definition per name and a workflow running them one after another.

    Step i is `SIMPLE` task `task_names[i]` with reference `s{i}`; its input `x` is the
    workflow input `x` for the first step, else the previous step's output `x`. The workflow's
    output `x` is the last step's output `x`.
    """
    for task in task_names:
        metadata_client.register_task_def(
            TaskDef(
                name=task,
                retry_count=retry_count,
                retry_delay_seconds=0,
                retry_logic="FIXED",
                response_timeout_seconds=response_timeout_seconds,
                timeout_seconds=0,
                owner_email="sdk@example.com",
            )
        )
    tasks = []
    for i, task in enumerate(task_names):
        source = "${workflow.input.x}" if i == 0 else f"${{s{i - 1}.output.x}}"
        tasks.append(
            WorkflowTask(
                name=task,
                task_reference_name=f"s{i}",
                type="SIMPLE",
                input_parameters={"x": source},
            )
        )
    definition = WorkflowDef(
        name=name,
        version=1,
        tasks=tasks,
        output_parameters={"x": f"${{s{len(task_names) - 1}.output.x}}"},
        schema_version=2,
        timeout_seconds=0,
        owner_email="sdk@example.com",
    )
    metadata_client.register_workflow_def(definition, overwrite=True)
    return definition


def registered(name: str) -> WorkerInterface:
    """The SDK's Worker for a `@worker_task` function."""
    [worker] = [w for w in get_registered_workers() if w.get_task_definition_name() == name]
    return worker


@contextmanager
def thread_runners(configuration: Configuration, workers: list[WorkerInterface]) -> Iterator[None]:
    """Run each worker in a thread: `TaskRunner` for sync workers, `AsyncTaskRunner` (on its
    own event loop) for async ones, as TaskHandler picks them; stop them all on exit."""
    stops: list[Callable[[], None]] = []
    threads: list[threading.Thread] = []
    for worker in workers:
        execute = getattr(worker, "execute_function", worker.execute)
        if asyncio.iscoroutinefunction(execute):
            async_runner = AsyncTaskRunner(worker, configuration)
            loop = asyncio.new_event_loop()

            def run_async(
                r: AsyncTaskRunner = async_runner, lp: asyncio.AbstractEventLoop = loop
            ) -> None:
                lp.run_until_complete(r.run())
                lp.close()

            def stop_async(r: AsyncTaskRunner = async_runner) -> None:
                r._shutdown = True  # what AsyncTaskRunner.stop() sets, from another thread

            threads.append(threading.Thread(target=run_async, daemon=True))
            stops.append(stop_async)
        else:
            runner = TaskRunner(worker, configuration)
            threads.append(threading.Thread(target=runner.run, daemon=True))
            stops.append(runner.stop)
    for thread in threads:
        thread.start()
    try:
        yield
    finally:
        for stop in stops:
            stop()
        for thread in threads:
            thread.join(10)
        assert not any(t.is_alive() for t in threads), "a worker runner did not stop"
