"""The per-type rules for Conductor's operators: SWITCH, DECISION, DO_WHILE, FORK_JOIN,
FORK_JOIN_DYNAMIC, SUB_WORKFLOW, DYNAMIC, TERMINATE and WAIT (Conductor's
``WorkflowTaskTypeConstraint``, plus run-time failures caught early). Each rule takes the
workflow's `_Check`, the task and its path, and adds what it finds to the check.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pydantic

from legato.model.definitions import WorkflowDef, WorkflowTask
from legato.model.validation.common import _blank, _is_expression, _join, _scalar_or_none
from legato.model.validation.parsing import pydantic_problems

if TYPE_CHECKING:
    from legato.model.validation.workflows import _Check

SWITCH_EVALUATORS = ("value-param", "javascript", "graaljs")
JS_EVALUATORS = ("javascript", "graaljs")
TERMINATION_STATUSES = ("COMPLETED", "FAILED", "TERMINATED")
IDEMPOTENCY_STRATEGIES = ("FAIL", "RETURN_EXISTING", "FAIL_ON_RUNNING")


def _switch(c: _Check, task: WorkflowTask, path: str) -> None:
    evaluator = task.evaluator_type
    if _blank(evaluator):
        c.required(task, path, "evaluatorType")
    elif evaluator not in SWITCH_EVALUATORS:
        c.add(
            f"{path}.evaluatorType",
            f"evaluatorType must be one of {', '.join(SWITCH_EVALUATORS)}",
            evaluator,
        )
    if _blank(task.expression):
        c.required(task, path, "expression")
    elif evaluator in JS_EVALUATORS and task.expression is not None:
        c.script(f"{path}.expression", task.expression)
    _needs_cases(c, task, path)


def _decision(c: _Check, task: WorkflowTask, path: str) -> None:
    if _blank(task.case_value_param) and _blank(task.case_expression):
        c.add(
            f"{path}.caseValueParam",
            f"caseValueParam or caseExpression field is required for taskType: DECISION "
            f"taskName: {task.name}",
        )
    elif task.case_expression is not None and task.case_expression.strip():
        c.script(f"{path}.caseExpression", task.case_expression)
    _needs_cases(c, task, path)


def _needs_cases(c: _Check, task: WorkflowTask, path: str) -> None:
    if not task.decision_cases:
        c.add(
            f"{path}.decisionCases",
            f"decisionCases should have at least one case for taskType: {task.type} "
            f"taskName: {task.name}",
        )


def _do_while(c: _Check, task: WorkflowTask, path: str) -> None:
    if task.loop_condition is not None and task.loop_condition.strip():
        c.script(f"{path}.loopCondition", task.loop_condition)
    elif _blank(task.items):
        c.add(
            f"{path}.loopCondition",
            f"loopCondition (or items) field is required for taskType: DO_WHILE "
            f"taskName: {task.name}",
        )
    if task.items is not None and not _blank(task.items):
        if _is_expression(task.items):
            c.templates(f"{path}.items", task.items)
        else:
            c.add(
                f"{path}.items", "items must be a ${...} expression resolving to a list", task.items
            )
    if not task.loop_over:
        c.required(task, path, "loopOver")


def _fork_join(c: _Check, task: WorkflowTask, path: str) -> None:
    if not task.fork_tasks:
        c.add(
            f"{path}.forkTasks",
            f"forkTasks should have at least one task for taskType: FORK_JOIN taskName: {task.name}",
        )
    for number, branch in enumerate(task.fork_tasks):
        if not branch:
            c.add(f"{path}.forkTasks[{number}]", "a fork branch must contain at least one task")


def _fork_join_dynamic(c: _Check, task: WorkflowTask, path: str) -> None:
    if "forkTaskInputs" in task.input_parameters:
        return
    legacy = task.dynamic_fork_join_tasks_param
    tasks_param = task.dynamic_fork_tasks_param
    input_param = task.dynamic_fork_tasks_input_param_name
    if legacy is not None and (tasks_param is not None or input_param is not None):
        c.add(
            f"{path}.dynamicForkJoinTasksParam",
            "dynamicForkJoinTasksParam or the combination of dynamicForkTasksParam and "
            f"dynamicForkTasksInputParamName can be used for taskType: FORK_JOIN_DYNAMIC "
            f"taskName: {task.name}, not both",
            legacy,
        )
    elif legacy is None:
        if _blank(tasks_param):
            c.required(task, path, "dynamicForkTasksParam")
        if _blank(input_param):
            c.required(task, path, "dynamicForkTasksInputParamName")


def _sub_workflow(c: _Check, task: WorkflowTask, path: str) -> None:
    params = task.sub_workflow_param
    if params is None:
        c.required(task, path, "subWorkflowParam")
        return
    where = f"{path}.subWorkflowParam"
    inline = params.workflow_definition
    if isinstance(inline, str):
        if not (inline.startswith("${") and inline.endswith("}")):
            c.add(
                f"{where}.workflowDefinition",
                "workflowDefinition is a string, but not a valid DSL string (a ${...} expression)",
                inline,
            )
        else:
            c.templates(f"{where}.workflowDefinition", inline)
    elif isinstance(inline, dict):
        _inline_workflow(c, inline, f"{where}.workflowDefinition")
    elif _blank(params.name):
        c.add(f"{where}.name", "subWorkflowParam needs a name or a workflowDefinition")
    for key, value in (("name", params.name), ("idempotencyKey", params.idempotency_key)):
        if _is_expression(value):
            c.templates(f"{where}.{key}", value)
    if isinstance(params.priority, str):
        c.templates(f"{where}.priority", params.priority)
    elif isinstance(params.priority, int) and not 0 <= params.priority <= 99:
        c.add(f"{where}.priority", "priority must be between 0 and 99", params.priority)
    strategy = params.idempotency_strategy
    if strategy is not None and strategy not in IDEMPOTENCY_STRATEGIES:
        c.add(
            f"{where}.idempotencyStrategy",
            f"idempotencyStrategy must be one of {', '.join(IDEMPOTENCY_STRATEGIES)}",
            strategy,
        )


def _inline_workflow(c: _Check, data: dict[str, Any], path: str) -> None:
    from legato.model.validation.workflows import (
        workflow_def_problems,  # workflows imports this module
    )

    prefix = _join(c.prefix, path)
    try:
        inline = WorkflowDef.model_validate(data)
    except pydantic.ValidationError as exc:
        c.problems.extend(pydantic_problems(exc, WorkflowDef, prefix))
        return
    c.problems.extend(workflow_def_problems(inline, c.task_defs, prefix))


def _dynamic(c: _Check, task: WorkflowTask, path: str) -> None:
    if _blank(task.dynamic_task_name_param):
        c.required(task, path, "dynamicTaskNameParam")


def _terminate(c: _Check, task: WorkflowTask, path: str) -> None:
    if task.optional:
        c.add(f"{path}.optional", f"terminate task cannot be optional, taskName: {task.name}", True)
    status = task.input_parameters.get("terminationStatus")
    if status not in TERMINATION_STATUSES and not _is_expression(status):
        c.add(
            f"{path}.inputParameters.terminationStatus",
            "terminate task must have a terminationStatus parameter set to COMPLETED, FAILED "
            f"or TERMINATED, taskName: {task.name}",
            _scalar_or_none(status),
        )


def _wait(c: _Check, task: WorkflowTask, path: str) -> None:
    from legato.expr.durations import parse_duration, parse_until

    inputs = task.input_parameters
    where = f"{path}.inputParameters"
    given = {k: inputs[k] for k in ("duration", "until") if not _blank(inputs.get(k))}
    if len(given) == 2:
        c.add(where, "Both 'duration' and 'until' specified. Please provide only one input")
    parsers: dict[str, Callable[[str], int]] = {"duration": parse_duration, "until": parse_until}
    for key, value in given.items():
        if isinstance(value, dict | list):
            c.add(f"{where}.{key}", f"{key} must be a string")
        elif not _is_expression(value):
            try:
                parsers[key](str(value))
            except ValueError as exc:
                c.add(f"{where}.{key}", f"Unable to parse {key}: {exc}", value)
