"""TaskDef rules (Conductor's TaskTimeoutConstraint and friends)."""

from __future__ import annotations

from typing import Any

import pytest

from legato.errors import ValidationError
from legato.model.definitions import TaskDef
from legato.model.validation import parse_task_def, task_def_problems, validate_task_def


def task_def(**fields: Any) -> TaskDef:
    return parse_task_def({"name": "charge", "ownerEmail": "a@b.c", **fields})


@pytest.mark.parametrize(
    ("fields", "path", "message"),
    [
        pytest.param({"name": "a/b"}, "name", "Invalid name 'a/b'", id="name pattern"),
        pytest.param({"name": ""}, "name", "TaskDef name cannot be null or empty", id="empty name"),
        pytest.param(
            {"responseTimeoutSeconds": 0},
            "responseTimeoutSeconds",
            "TaskDef responseTimeoutSeconds: 0 should be minimum 1 second",
            id="response timeout zero",
        ),
        pytest.param(
            {"timeoutSeconds": 30, "responseTimeoutSeconds": 60},
            "responseTimeoutSeconds",
            "TaskDef: charge responseTimeoutSeconds: 60 must be less than timeoutSeconds: 30",
            id="response timeout above timeout",
        ),
        pytest.param(
            {"timeoutSeconds": 60, "responseTimeoutSeconds": 10, "totalTimeoutSeconds": 30},
            "totalTimeoutSeconds",
            "TaskDef: charge timeoutSeconds: 60 must be less than or equal to totalTimeoutSeconds: 30",
            id="timeout above total timeout",
        ),
        pytest.param(
            {"rateLimitPerFrequency": 10},
            "rateLimitFrequencyInSeconds",
            "must be given together",
            id="rate limit without window",
        ),
        pytest.param(
            {"rateLimitFrequencyInSeconds": 5},
            "rateLimitPerFrequency",
            "must be given together",
            id="window without rate limit",
        ),
        pytest.param(
            {"rateLimitPerFrequency": 10, "rateLimitFrequencyInSeconds": 0},
            "rateLimitFrequencyInSeconds",
            "must be at least 1",
            id="zero window",
        ),
    ],
)
def test_task_def_problem(fields: dict[str, Any], path: str, message: str) -> None:
    problems = task_def_problems(task_def(**fields))

    assert [p.path for p in problems] == [path]
    assert message in problems[0].message


@pytest.mark.parametrize(
    "fields",
    [
        pytest.param({}, id="defaults"),
        pytest.param({"timeoutSeconds": 60, "responseTimeoutSeconds": 60}, id="equal timeouts"),
        pytest.param({"timeoutSeconds": 0, "responseTimeoutSeconds": 7200}, id="no timeout"),
        pytest.param(
            {"timeoutSeconds": 60, "responseTimeoutSeconds": 10, "totalTimeoutSeconds": 60},
            id="total equals timeout",
        ),
        # what Conductor's own getters export when no rate limit is set
        pytest.param(
            {"rateLimitPerFrequency": 0, "rateLimitFrequencyInSeconds": 1}, id="conductor export"
        ),
        pytest.param({"name": "task <v2> #1 {x}"}, id="all allowed name characters"),
    ],
)
def test_valid_task_def_has_no_problem(fields: dict[str, Any]) -> None:
    assert task_def_problems(task_def(**fields)) == []


def test_validate_task_def_raises_with_every_problem() -> None:
    bad = task_def(name="a.b", timeoutSeconds=5, responseTimeoutSeconds=10, rateLimitPerFrequency=1)

    with pytest.raises(ValidationError) as caught:
        validate_task_def(bad)

    assert caught.value.message == "Validation failed for task definition a.b"
    assert [p.path for p in caught.value.problems] == [
        "name",
        "responseTimeoutSeconds",
        "rateLimitFrequencyInSeconds",
    ]
    validate_task_def(task_def())  # a good one does not raise
