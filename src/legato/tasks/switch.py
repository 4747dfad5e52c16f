"""SWITCH and its deprecated form DECISION: pick a branch inside the decision."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from legato.expr.javascript import ScriptError
from legato.expr.rendering import java_string
from legato.model import TaskStatus, TaskType
from legato.tasks.base import Handler

if TYPE_CHECKING:
    from legato.engine.decider import Run
    from legato.model import Task, WorkflowTask


def _case(run: Run, wt: WorkflowTask, data: dict[str, Any]) -> str:
    if wt.type == TaskType.DECISION.value:
        if wt.case_value_param:
            value = data.get(wt.case_value_param)
        else:
            value = run.ctx.scripts.evaluate(wt.case_expression or "", data)
    elif (wt.evaluator_type or "value-param") == "value-param":
        value = data.get(wt.expression or "")
    else:
        value = run.ctx.scripts.evaluate(wt.expression or "", data)
    return java_string(value)


def schedule(
    run: Run, wt: WorkflowTask, iteration: int, retry_of: Task | None, delay_ms: int
) -> None:
    task = run.new_task(wt, iteration, task_type=wt.type, status=TaskStatus.IN_PROGRESS)
    data = task.input_data
    try:
        case = _case(run, wt, data)
    except ScriptError as exc:
        task.reason_for_incompletion = f"Error evaluating the switch expression: {exc}"
        status = (
            TaskStatus.FAILED_WITH_TERMINAL_ERROR
            if wt.type == TaskType.DECISION.value
            else TaskStatus.FAILED
        )
        run.set_status(task, status)
        return
    data["case"] = case
    if wt.decision_cases.get(case) or (case not in wt.decision_cases and wt.default_case):
        data["hasChildren"] = "true"
    if wt.type == TaskType.DECISION.value:
        task.output_data = {"caseOutput": [case]}
    else:
        task.output_data = {"evaluationResult": [case], "selectedCase": case}
    run.set_status(task, TaskStatus.COMPLETED)


def successors(run: Run, task: Task) -> None:
    wt = run.workflow_task(task)
    case = task.input_data.get("case")
    branch = None
    if wt is not None and isinstance(case, str):
        branch = wt.decision_cases.get(case) if case in wt.decision_cases else wt.default_case
    if branch:
        run.schedule(branch[0], run.iteration_for(branch[0]))
    else:
        run.schedule_next_after(task)


SWITCH = Handler(schedule=schedule, successors=successors)
