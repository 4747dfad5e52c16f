"""Factories for raw (JSON-shaped) definitions: keyword overrides, no scenario fixtures."""

from __future__ import annotations

from typing import Any

from legato.errors import FieldProblem
from legato.model.definitions import TaskDef
from legato.model.validation import parse_workflow_def, workflow_def_problems


def task(ref: str, type_: str = "SIMPLE", **fields: Any) -> dict[str, Any]:
    """A WorkflowTask as JSON; `fields` use Conductor's camelCase names."""
    return {"name": ref, "taskReferenceName": ref, "type": type_, **fields}


def workflow(*tasks: dict[str, Any], **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "wf",
        "version": 1,
        "schemaVersion": 2,
        "ownerEmail": "a@b.c",
        "timeoutSeconds": 0,
        "tasks": list(tasks) or [task("only")],
    }
    body.update(fields)
    return body


def problems_of(
    data: dict[str, Any], task_defs: dict[str, TaskDef] | None = None
) -> list[FieldProblem]:
    return workflow_def_problems(parse_workflow_def(data), task_defs)


def fork(ref: str, *branches: list[dict[str, Any]]) -> dict[str, Any]:
    return task(ref, "FORK_JOIN", forkTasks=list(branches))


def join(ref: str, *on: str) -> dict[str, Any]:
    return task(ref, "JOIN", joinOn=list(on))


def switch(ref: str, **fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "evaluatorType": "value-param",
        "expression": "kind",
        "inputParameters": {"kind": "${workflow.input.kind}"},
        "decisionCases": {"big": [task(f"{ref}_big")]},
    }
    base.update(fields)
    return task(ref, "SWITCH", **base)


def loop(ref: str, *body: dict[str, Any], **fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "loopCondition": f"$.{ref}['iteration'] < 3",
        "loopOver": list(body) or [task(f"{ref}_body")],
    }
    base.update(fields)
    return task(ref, "DO_WHILE", **base)
