"""Validation of event handlers: every problem found, each naming its field.

Conductor's own rules (a name, an event, at least one action) plus what would otherwise only
fail when a message arrives: an unknown action, an action without its parameters, a condition
that does not parse, an evaluator Legato does not have, an event no queue of this version
serves.
"""

from __future__ import annotations

from typing import Any

import pydantic

from legato.errors import FieldProblem, ValidationError
from legato.events.model import ACTION_TYPES, Action, ActionType, EventHandler
from legato.events.sinks import event_problem
from legato.expr.javascript import syntax_error
from legato.model.validation import pydantic_problems

JS_EVALUATORS = ("javascript", "graaljs")
EVALUATORS = (*JS_EVALUATORS, "value-param")


def parse_event_handler(data: Any) -> EventHandler:
    """An `EventHandler` from parsed JSON; `ValidationError` naming every malformed field.
    (`handler_problems` checks the rules; the service applies them.)"""
    if not isinstance(data, dict):
        raise ValidationError(
            "An event handler must be a JSON object",
            [FieldProblem("", "must be a JSON object")],
        )
    try:
        return EventHandler.model_validate(data)
    except pydantic.ValidationError as exc:
        raise ValidationError(
            _failed(data.get("name")), pydantic_problems(exc, EventHandler)
        ) from exc


def validate_event_handler(handler: EventHandler) -> None:
    problems = handler_problems(handler)
    if problems:
        raise ValidationError(_failed(handler.name), problems)


def handler_problems(handler: EventHandler) -> list[FieldProblem]:
    problems: list[FieldProblem] = []
    add = problems.append
    if not handler.name.strip():
        add(FieldProblem("name", "Missing event handler name", handler.name))
    if not handler.event.strip():
        add(FieldProblem("event", "Missing event location", handler.event))
    else:
        problem = event_problem(handler.event)
        if problem is not None:
            add(FieldProblem("event", problem, handler.event))
    if not handler.actions:
        add(FieldProblem("actions", "No actions specified. Please specify at-least one action"))
    for index, action in enumerate(handler.actions):
        problems.extend(_action_problems(action, f"actions[{index}]"))
    evaluator = handler.evaluator_type
    if evaluator is not None and evaluator not in EVALUATORS:
        add(
            FieldProblem(
                "evaluatorType", f"evaluatorType must be one of {', '.join(EVALUATORS)}", evaluator
            )
        )
    condition = handler.condition
    if condition and condition.strip() and (evaluator is None or evaluator in JS_EVALUATORS):
        message = syntax_error(condition)
        if message is not None:
            add(FieldProblem("condition", f"the condition is not valid JavaScript: {message}"))
    return problems


def _action_problems(action: Action, path: str) -> list[FieldProblem]:
    if action.action not in ACTION_TYPES:
        return [
            FieldProblem(
                f"{path}.action",
                f"unknown action '{action.action}'; expected one of {', '.join(ACTION_TYPES)}",
                action.action,
            )
        ]
    kind = ActionType(action.action)
    where = f"{path}.{kind.value}"
    missing = FieldProblem(where, f"action {kind.value} needs its parameters in '{kind.value}'")
    if kind is ActionType.START_WORKFLOW:
        start = action.start_workflow
        if start is None:
            return [missing]
        if not start.name or not start.name.strip():
            return [FieldProblem(f"{where}.name", "start_workflow needs the workflow name")]
        return []
    if kind in (ActionType.COMPLETE_TASK, ActionType.FAIL_TASK):
        details = action.complete_task if kind is ActionType.COMPLETE_TASK else action.fail_task
        if details is None:
            return [missing]
        if not details.task_id and not (details.workflow_id and details.task_ref_name):
            return [
                FieldProblem(
                    where, f"{kind.value} needs a taskId, or a workflowId and a taskRefName"
                )
            ]
        return []
    if kind is ActionType.TERMINATE_WORKFLOW:
        terminate = action.terminate_workflow
        if terminate is None:
            return [missing]
        if not terminate.workflow_id:
            return [FieldProblem(f"{where}.workflowId", "terminate_workflow needs a workflowId")]
        return []
    update = action.update_workflow_variables
    if update is None:
        return [missing]
    if not update.workflow_id:
        return [FieldProblem(f"{where}.workflowId", "update_workflow_variables needs a workflowId")]
    return []


def _failed(name: Any) -> str:
    if isinstance(name, str) and name:
        return f"Validation failed for event handler {name}"
    return "Validation failed for event handler"
