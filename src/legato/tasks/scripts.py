"""INLINE and LAMBDA (JavaScript) and JSON_JQ_TRANSFORM (jq): evaluated inside the decision.

The service runs decisions of definitions with scripts off the event loop, and the sandbox caps
each evaluation's time and memory, so a runaway script fails only its own task.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from legato.expr.javascript import ScriptError
from legato.expr.jq import JqError, run_jq
from legato.model import TaskStatus, TaskType
from legato.tasks.base import Handler

if TYPE_CHECKING:
    from legato.engine.decider import Run
    from legato.model import Task, WorkflowTask

_JS = ("javascript", "graaljs")


def schedule_inline(
    run: Run, wt: WorkflowTask, iteration: int, retry_of: Task | None, delay_ms: int
) -> None:
    task = run.new_task(
        wt,
        iteration,
        task_type=TaskType.INLINE.value,
        status=TaskStatus.IN_PROGRESS,
        retry_of=retry_of,
    )
    data = task.input_data
    evaluator = data.get("evaluatorType") or "javascript"
    expression = data.get("expression")
    if not isinstance(expression, str) or not expression.strip():
        _fail(run, task, "Empty 'expression' in INLINE task's input parameters", terminal=True)
        return
    if evaluator == "value-param":
        _complete(run, task, data.get(expression))
        return
    if evaluator not in _JS:
        _fail(run, task, f"Unknown evaluator '{evaluator}' in INLINE task", terminal=True)
        return
    try:
        result = run.ctx.scripts.evaluate(expression, data)
    except ScriptError as exc:
        _fail(run, task, str(exc))
        return
    _complete(run, task, result)


def schedule_lambda(
    run: Run, wt: WorkflowTask, iteration: int, retry_of: Task | None, delay_ms: int
) -> None:
    task = run.new_task(
        wt,
        iteration,
        task_type=TaskType.LAMBDA.value,
        status=TaskStatus.IN_PROGRESS,
        retry_of=retry_of,
    )
    body = task.input_data.get("scriptExpression") or wt.script_expression
    if not isinstance(body, str) or not body.strip():
        _fail(
            run, task, "Empty 'scriptExpression' in LAMBDA task's input parameters", terminal=True
        )
        return
    try:
        result = run.ctx.scripts.evaluate(f"(function scriptFun(){{{body}\n}})()", task.input_data)
    except ScriptError as exc:
        _fail(run, task, str(exc))
        return
    _complete(run, task, result)


def schedule_jq(
    run: Run, wt: WorkflowTask, iteration: int, retry_of: Task | None, delay_ms: int
) -> None:
    task = run.new_task(
        wt,
        iteration,
        task_type=TaskType.JSON_JQ_TRANSFORM.value,
        status=TaskStatus.IN_PROGRESS,
        retry_of=retry_of,
    )
    query = task.input_data.get("queryExpression")
    if not isinstance(query, str) or not query.strip():
        _fail(run, task, "Empty 'queryExpression' in JSON_JQ_TRANSFORM task", terminal=True)
        return
    try:
        results = run_jq(query, task.input_data)
    except JqError as exc:
        _fail(run, task, str(exc))
        return
    task.output_data = {"result": results[0] if results else None, "resultList": results}
    run.set_status(task, TaskStatus.COMPLETED)


def _complete(run: Run, task: Task, result: Any) -> None:
    task.output_data = {"result": result}
    run.set_status(task, TaskStatus.COMPLETED)


def _fail(run: Run, task: Task, message: str, *, terminal: bool = False) -> None:
    task.output_data = {"error": message}
    task.reason_for_incompletion = message
    run.set_status(task, TaskStatus.FAILED_WITH_TERMINAL_ERROR if terminal else TaskStatus.FAILED)


INLINE = Handler(schedule=schedule_inline)
LAMBDA = Handler(schedule=schedule_lambda)
JSON_JQ_TRANSFORM = Handler(schedule=schedule_jq)
