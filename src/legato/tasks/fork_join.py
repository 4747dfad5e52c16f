"""FORK_JOIN (executed as a FORK task) and JOIN."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from legato.model import TaskStatus, TaskType
from legato.tasks.base import Handler

if TYPE_CHECKING:
    from legato.engine.decider import Run
    from legato.model import Task, WorkflowTask


def schedule_fork(
    run: Run, wt: WorkflowTask, iteration: int, retry_of: Task | None, delay_ms: int
) -> None:
    task = run.new_task(wt, iteration, task_type=TaskType.FORK.value, status=TaskStatus.IN_PROGRESS)
    run.set_status(task, TaskStatus.COMPLETED)


def fork_successors(run: Run, task: Task) -> None:
    wt = run.workflow_task(task)
    if wt is None:
        return
    for branch in wt.fork_tasks:
        if branch:
            run.schedule(branch[0], run.iteration_for(branch[0]))
    join = run.graph.next_after(task.base_ref).task
    if join is not None:
        run.schedule(join, run.iteration_for(join))


def schedule_join(
    run: Run, wt: WorkflowTask, iteration: int, retry_of: Task | None, delay_ms: int
) -> None:
    schedule_join_on(run, wt, iteration, list(wt.join_on))


def schedule_join_on(run: Run, wt: WorkflowTask, iteration: int, refs: list[str]) -> None:
    """A JOIN (or EXCLUSIVE_JOIN) waiting on `refs`: the definition's, or a dynamic fork's."""
    data: dict[str, Any] = {"joinOn": refs}
    if wt.type == TaskType.EXCLUSIVE_JOIN.value:
        data["defaultExclusiveJoinTask"] = list(wt.default_exclusive_join_task)
    run.new_task(wt, iteration, task_type=wt.type, status=TaskStatus.IN_PROGRESS, input_data=data)


def evaluate_join(run: Run, task: Task) -> bool:
    refs = task.input_data.get("joinOn") or []
    suffix = f"__{task.iteration}" if task.iteration else ""
    output: dict[str, Any] = {}
    failed: list[Task] = []
    with_errors: list[Task] = []
    for ref in refs:
        joined = run.latest_exact(f"{ref}{suffix}")
        if joined is None or not joined.status.terminal or not joined.executed:
            return False
        if joined.output_data:
            output[ref] = joined.output_data
        if joined.status == TaskStatus.COMPLETED_WITH_ERRORS:
            with_errors.append(joined)
        elif not joined.status.successful:
            failed.append(joined)
    task.output_data = output
    if failed:
        task.reason_for_incompletion = " ".join(
            f"{t.reference_task_name} {t.status.value}: {t.reason_for_incompletion}" for t in failed
        )
        canceled = all(t.status == TaskStatus.CANCELED for t in failed)
        run.set_status(task, TaskStatus.CANCELED if canceled else TaskStatus.FAILED)
    elif with_errors:
        task.reason_for_incompletion = " ".join(
            f"{t.task_def_name}/{t.task_id} completed with errors" for t in with_errors
        )
        run.set_status(task, TaskStatus.COMPLETED_WITH_ERRORS)
    else:
        run.set_status(task, TaskStatus.COMPLETED)
    return True


def evaluate_exclusive_join(run: Run, task: Task) -> bool:
    """Done when the first scheduled (not skipped) joinOn task ends; its output is the output."""
    suffix = f"__{task.iteration}" if task.iteration else ""
    candidates = [run.latest_exact(f"{ref}{suffix}") for ref in task.input_data.get("joinOn") or []]
    scheduled = [t for t in candidates if t is not None and t.status != TaskStatus.SKIPPED]
    if not scheduled:
        defaults = task.input_data.get("defaultExclusiveJoinTask") or []
        candidates = [run.latest_exact(f"{ref}{suffix}") for ref in defaults]
        scheduled = [t for t in candidates if t is not None and t.status != TaskStatus.SKIPPED]
    if not scheduled:
        if any(not t.status.terminal for t in run.wf.tasks if t is not task):
            return False
        task.reason_for_incompletion = (
            "None of the joinOn or defaultExclusiveJoinTask tasks of this EXCLUSIVE_JOIN ran"
        )
        run.set_status(task, TaskStatus.FAILED)
        return True
    joined = scheduled[0]
    if not joined.status.terminal or not joined.executed:
        return False
    task.output_data = dict(joined.output_data)
    if joined.status.successful:
        run.set_status(task, TaskStatus.COMPLETED)
    else:
        task.reason_for_incompletion = (
            f"{joined.reference_task_name} {joined.status.value}: {joined.reason_for_incompletion}"
        )
        run.set_status(task, TaskStatus.FAILED)
    return True


FORK = Handler(schedule=schedule_fork, successors=fork_successors)
EXCLUSIVE_JOIN = Handler(schedule=schedule_join, evaluate=evaluate_exclusive_join)
JOIN = Handler(schedule=schedule_join, evaluate=evaluate_join)
