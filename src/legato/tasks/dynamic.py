"""DYNAMIC (a worker task whose name comes from the input) and FORK_JOIN_DYNAMIC (branches
that come from the input), both resolved when they are scheduled."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import ValidationError as PydanticValidationError

from legato.model import TaskStatus, TaskType, WorkflowTask
from legato.tasks import fork_join
from legato.tasks.base import Handler

if TYPE_CHECKING:
    from legato.engine.decider import Run
    from legato.model import Task


# ------------------------------------------------------------------------------ DYNAMIC
def schedule_dynamic(
    run: Run, wt: WorkflowTask, iteration: int, retry_of: Task | None, delay_ms: int
) -> None:
    params = run.resolve_input(wt, "")
    name = params.get(wt.dynamic_task_name_param or "")
    if isinstance(name, str) and name and run.ctx.task_def(name) is not None:
        resolved = wt.model_copy(update={"name": name, "type": TaskType.SIMPLE.value})
        run.schedule(resolved, iteration, retry_of=retry_of, delay_ms=delay_ms, dynamic=True)
        return
    task = run.new_task(
        wt, iteration, task_type=TaskType.DYNAMIC.value, status=TaskStatus.IN_PROGRESS
    )
    task.reason_for_incompletion = (
        f"Invalid task specified. Cannot find task by name {name!r} in the task definitions"
        if isinstance(name, str) and name
        else f"DYNAMIC task {wt.task_reference_name}: input parameter "
        f"'{wt.dynamic_task_name_param}' gives no task name"
    )
    run.set_status(task, TaskStatus.FAILED_WITH_TERMINAL_ERROR)


# ------------------------------------------------------------------------------ FORK_JOIN_DYNAMIC
class _BadFork(Exception):
    pass


def schedule_fork(
    run: Run, wt: WorkflowTask, iteration: int, retry_of: Task | None, delay_ms: int
) -> None:
    params = run.resolve_input(wt, "")
    fork = run.new_task(
        wt,
        iteration,
        task_type=TaskType.FORK.value,
        status=TaskStatus.IN_PROGRESS,
        input_data=params,
    )
    try:
        branches = _branches(run, wt, params)
        refs = [b.task_reference_name for b, _ in branches]
        if len(set(refs)) != len(refs):
            raise _BadFork(f"Dynamic fork {wt.task_reference_name} has duplicate reference names")
        taken = {t.base_ref for t in run.wf.tasks} | set(run.graph.by_ref)
        clashes = sorted(set(refs) & taken)
        if clashes:
            raise _BadFork(f"Dynamic fork reference names already in use: {', '.join(clashes)}")
    except _BadFork as exc:
        fork.reason_for_incompletion = str(exc)
        run.set_status(fork, TaskStatus.FAILED_WITH_TERMINAL_ERROR)
        return
    fork.input_data["forkedTasks"] = refs
    fork.input_data["forkedTaskDefs"] = [b.to_json() for b, _ in branches]
    run.set_status(fork, TaskStatus.COMPLETED)
    fork.executed = True
    for branch, _ in branches:
        run.schedule(branch, iteration, dynamic=True)
    join = run.graph.next_after(wt.task_reference_name).task
    if join is not None and join.type in (TaskType.JOIN.value, TaskType.EXCLUSIVE_JOIN.value):
        fork_join.schedule_join_on(run, join, run.iteration_for(join), refs)
    else:
        fork.reason_for_incompletion = "A FORK_JOIN_DYNAMIC must be followed by a JOIN"
        run.set_status(fork, TaskStatus.FAILED_WITH_TERMINAL_ERROR)
        fork.executed = False


def _branches(
    run: Run, wt: WorkflowTask, params: dict[str, Any]
) -> list[tuple[WorkflowTask, dict[str, Any]]]:
    """The branch tasks of a dynamic fork, from whichever of Conductor's three input forms."""
    if "forkTaskInputs" in params and (
        params.get("forkTaskName") or params.get("forkTaskType") or params.get("forkTaskWorkflow")
    ):
        return _simple_form(run, wt, params)
    if wt.dynamic_fork_tasks_param:
        tasks = params.get(wt.dynamic_fork_tasks_param)
        inputs = params.get(wt.dynamic_fork_tasks_input_param_name or "")
        if not isinstance(tasks, list):
            raise _BadFork(
                f"Input '{wt.dynamic_fork_tasks_param}' of dynamic fork "
                f"{wt.task_reference_name} must be a list of tasks"
            )
        if inputs is None:
            inputs = {}
        if not isinstance(inputs, dict):
            raise _BadFork(
                f"Input '{wt.dynamic_fork_tasks_input_param_name}' of dynamic fork "
                f"{wt.task_reference_name} must be a map of reference name to input"
            )
        out = []
        for i, item in enumerate(tasks):
            branch = _task(item, f"{wt.dynamic_fork_tasks_param}[{i}]")
            branch_input = inputs.get(branch.task_reference_name) or {}
            if not isinstance(branch_input, dict):
                raise _BadFork(
                    f"Input of dynamic fork branch {branch.task_reference_name} is not a map"
                )
            branch = branch.model_copy(
                update={"input_parameters": {**branch.input_parameters, **branch_input}}
            )
            out.append((branch, branch_input))
        return out
    if wt.dynamic_fork_join_tasks_param:
        spec = params.get(wt.dynamic_fork_join_tasks_param)
        dynamic = spec.get("dynamicTasks") if isinstance(spec, dict) else None
        if not isinstance(dynamic, list):
            raise _BadFork(
                f"Input '{wt.dynamic_fork_join_tasks_param}' of dynamic fork "
                f"{wt.task_reference_name} must hold a 'dynamicTasks' list"
            )
        out = []
        for i, item in enumerate(dynamic):
            if not isinstance(item, dict) or not item.get("referenceName"):
                raise _BadFork(f"dynamicTasks[{i}] needs a referenceName")
            branch_input = item.get("input") or {}
            data: dict[str, Any] = {
                "name": item.get("taskName") or item.get("referenceName"),
                "taskReferenceName": item["referenceName"],
                "type": item.get("type") or TaskType.SIMPLE.value,
                "inputParameters": branch_input,
            }
            if item.get("workflowName"):
                data["type"] = TaskType.SUB_WORKFLOW.value
                data["subWorkflowParam"] = {"name": item["workflowName"]}
            out.append((_task(data, f"dynamicTasks[{i}]"), branch_input))
        return out
    raise _BadFork(f"Dynamic fork {wt.task_reference_name} has no dynamic tasks input")


def _simple_form(
    run: Run, wt: WorkflowTask, params: dict[str, Any]
) -> list[tuple[WorkflowTask, dict[str, Any]]]:
    inputs = params.get("forkTaskInputs")
    if not isinstance(inputs, list):
        raise _BadFork(
            f"Input 'forkTaskInputs' of dynamic fork {wt.task_reference_name} must be a list"
        )
    workflow = params.get("forkTaskWorkflow")
    name = workflow or params.get("forkTaskName") or params.get("forkTaskType")
    task_type = (
        TaskType.SUB_WORKFLOW.value
        if workflow
        else params.get("forkTaskType") or TaskType.SIMPLE.value
    )
    other_forks = sum(
        1 for t in run.graph.by_ref.values() if t.type == TaskType.FORK_JOIN_DYNAMIC.value
    )
    prefix = f"_{wt.task_reference_name}_{name}" if other_forks > 1 else f"_{name}"
    out = []
    for i, element in enumerate(inputs):
        branch_input = dict(element) if isinstance(element, dict) else {"input": element}
        branch_input["__index"] = i
        data: dict[str, Any] = {
            "name": name,
            "taskReferenceName": f"{prefix}_{i}",
            "type": task_type,
            "inputParameters": branch_input,
            "optional": wt.optional,
        }
        if workflow:
            version = params.get("forkTaskWorkflowVersion")
            data["subWorkflowParam"] = {
                "name": workflow,
                **({"version": int(version)} if version not in (None, "") else {}),
            }
        out.append((_task(data, f"forkTaskInputs[{i}]"), branch_input))
    return out


def _task(data: Any, where: str) -> WorkflowTask:
    if isinstance(data, WorkflowTask):
        return data
    if not isinstance(data, dict) or not data.get("taskReferenceName"):
        raise _BadFork(f"{where}: a dynamic fork branch needs a taskReferenceName")
    try:
        return WorkflowTask.model_validate(data)
    except PydanticValidationError as exc:
        first = exc.errors()[0]
        raise _BadFork(f"{where}: {'.'.join(map(str, first['loc']))}: {first['msg']}") from None


DYNAMIC = Handler(schedule=schedule_dynamic)
FORK_JOIN_DYNAMIC = Handler(schedule=schedule_fork)
