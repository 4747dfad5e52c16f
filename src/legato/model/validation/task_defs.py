"""Semantic checks of task definitions: the name rule (Conductor's ``ValidNameConstraint``,
shared with workflow definitions), response and total timeouts (``TaskTimeoutConstraint``) and
rate limits.
"""

from __future__ import annotations

import re

from legato.errors import FieldProblem, ValidationError
from legato.model.definitions import TaskDef
from legato.model.validation.common import _join

NAME_PATTERN = re.compile(r"^[A-Za-z0-9_<>{}#\s-]+$")
INVALID_NAME_MESSAGE = (
    "Allowed characters are alphanumeric, underscores, spaces, hyphens, "
    "and special characters like <, >, {, }, #"
)


def task_def_problems(task_def: TaskDef, prefix: str = "") -> list[FieldProblem]:
    """Every semantic problem of a task definition (paths relative to `prefix`)."""
    out: list[FieldProblem] = []
    name = task_def.name

    def add(field_name: str, message: str, value: object = None) -> None:
        out.append(FieldProblem(_join(prefix, field_name), message, value))

    if not name or not name.strip():
        add("name", "TaskDef name cannot be null or empty", name)
    elif not NAME_PATTERN.match(name):
        add("name", f"Invalid name '{name}'. {INVALID_NAME_MESSAGE}", name)
    response, timeout = task_def.response_timeout_seconds, task_def.timeout_seconds
    if response < 1:
        add(
            "responseTimeoutSeconds",
            f"TaskDef responseTimeoutSeconds: {response} should be minimum 1 second",
            response,
        )
    elif timeout > 0 and response > timeout:
        add(
            "responseTimeoutSeconds",
            f"TaskDef: {name} responseTimeoutSeconds: {response} "
            f"must be less than timeoutSeconds: {timeout}",
            response,
        )
    total = task_def.total_timeout_seconds
    if timeout > 0 and total > 0 and timeout > total:
        add(
            "totalTimeoutSeconds",
            f"TaskDef: {name} timeoutSeconds: {timeout} "
            f"must be less than or equal to totalTimeoutSeconds: {total}",
            total,
        )
    per, window = task_def.rate_limit_per_frequency, task_def.rate_limit_frequency_in_seconds
    if (per is None) != (window is None):
        missing = "rateLimitFrequencyInSeconds" if window is None else "rateLimitPerFrequency"
        add(
            missing,
            "rateLimitPerFrequency and rateLimitFrequencyInSeconds must be given together",
        )
    elif per and not window:
        add(
            "rateLimitFrequencyInSeconds",
            "rateLimitFrequencyInSeconds must be at least 1 when rateLimitPerFrequency is set",
            window,
        )
    return out


def validate_task_def(task_def: TaskDef) -> None:
    """Raise `ValidationError` carrying every problem of `task_def`, if it has any."""
    problems = task_def_problems(task_def)
    if problems:
        raise ValidationError(f"Validation failed for task definition {task_def.name}", problems)
