"""The per-type rules for Conductor's system tasks: EVENT, HTTP, KAFKA_PUBLISH,
JSON_JQ_TRANSFORM, INLINE and LAMBDA. They check the inputs each task needs (which a registered
task definition's ``inputTemplate`` may supply), and the sinks, scripts and jq queries that
would otherwise only fail at run time.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from legato.model.definitions import WorkflowTask
from legato.model.validation.common import _blank, _is_expression, _scalar_or_none
from legato.model.validation.operators import JS_EVALUATORS

if TYPE_CHECKING:
    from legato.model.validation.workflows import _Check

INLINE_EVALUATORS = ("javascript", "graaljs", "value-param")


def _event(c: _Check, task: WorkflowTask, path: str) -> None:
    from legato.events.sinks import literal_sink_problem

    if _blank(task.sink):
        c.required(task, path, "sink")
        return
    assert task.sink is not None
    if _is_expression(task.sink):
        c.templates(f"{path}.sink", task.sink)
    problem = literal_sink_problem(task.sink)
    if problem is not None:
        c.add(f"{path}.sink", problem, task.sink)


def _http(c: _Check, task: WorkflowTask, path: str) -> None:
    inputs = task.input_parameters
    where = f"{path}.inputParameters"
    if "http_request" in inputs:
        request = inputs["http_request"]
        if isinstance(request, dict):
            _uri_and_method(c, request, f"{where}.http_request")
        elif not _is_expression(request):
            c.add(
                f"{where}.http_request",
                "http_request must be an object or a ${...} expression",
                _scalar_or_none(request),
            )
    elif c.from_template(task, "http_request"):
        return
    elif "uri" in inputs or "method" in inputs:
        task_def = c.task_def_for(task)
        merged = {**(task_def.input_template if task_def else {}), **inputs}
        _uri_and_method(c, merged, where)
    else:
        c.add(
            f"{where}.http_request",
            "inputParameters.http_request or inputParameters.uri field is required for "
            f"taskType: HTTP taskName: {task.name}",
        )


def _uri_and_method(c: _Check, request: Mapping[str, Any], where: str) -> None:
    for key in ("uri", "method"):
        value = request.get(key)
        if _blank(value):
            c.add(f"{where}.{key}", f"{key} is required in an HTTP request")
        elif not isinstance(value, str):
            c.add(f"{where}.{key}", f"{key} must be a string", _scalar_or_none(value))


def _required_input(key: str) -> Callable[[_Check, WorkflowTask, str], None]:
    def rule(c: _Check, task: WorkflowTask, path: str) -> None:
        if key not in task.input_parameters and not c.from_template(task, key):
            c.add(
                f"{path}.inputParameters.{key}",
                f"inputParameters.{key} field is required for taskType: {task.type} "
                f"taskName: {task.name}",
            )

    return rule


def _json_jq(c: _Check, task: WorkflowTask, path: str) -> None:
    _required_input("queryExpression")(c, task, path)
    query = task.input_parameters.get("queryExpression")
    where = f"{path}.inputParameters.queryExpression"
    if "queryExpression" not in task.input_parameters or _is_expression(query):
        return
    if not isinstance(query, str) or not query.strip():
        c.add(where, "queryExpression must be a non-empty jq expression", _scalar_or_none(query))
        return
    from legato.expr.jq import jq_syntax_error

    error = jq_syntax_error(query)
    if error is not None:
        first_line = error.strip().splitlines()[0] if error.strip() else error
        c.add(where, f"queryExpression is not a valid jq expression: {first_line}", query)


def _inline(c: _Check, task: WorkflowTask, path: str) -> None:
    inputs = task.input_parameters
    where = f"{path}.inputParameters"
    evaluator = inputs.get("evaluatorType")
    if (
        evaluator is not None
        and evaluator not in INLINE_EVALUATORS
        and not _is_expression(evaluator)
    ):
        c.add(
            f"{where}.evaluatorType",
            f"evaluatorType must be one of {', '.join(INLINE_EVALUATORS)}",
            _scalar_or_none(evaluator),
        )
    expression = inputs.get("expression")
    if _blank(expression):
        c.add(
            f"{where}.expression",
            f"inputParameters.expression field is required for taskType: INLINE "
            f"taskName: {task.name}",
        )
    elif not isinstance(expression, str):
        c.add(f"{where}.expression", "expression must be a string", _scalar_or_none(expression))
    elif (evaluator is None or evaluator in JS_EVALUATORS) and "${" not in expression:
        c.script(f"{where}.expression", expression)


def _lambda(c: _Check, task: WorkflowTask, path: str) -> None:
    body = task.input_parameters.get("scriptExpression")
    where = f"{path}.inputParameters.scriptExpression"
    if _blank(body):
        c.add(
            where,
            f"inputParameters.scriptExpression field is required for taskType: LAMBDA "
            f"taskName: {task.name}",
        )
    elif not isinstance(body, str):
        c.add(where, "scriptExpression must be a string", _scalar_or_none(body))
    elif "${" not in body:
        c.script(where, "function scriptFun(){" + body + "\n} scriptFun();", body)
