"""Parsing raw JSON: pydantic errors become FieldProblems with Conductor paths and plain words."""

from __future__ import annotations

from typing import Any

import pytest

from legato.errors import FieldProblem, ValidationError
from legato.model.definitions import TaskDef, WorkflowDef
from legato.model.validation import parse_task_def, parse_task_defs, parse_workflow_def

from .factories import task, workflow


def parse_problems(data: Any) -> list[FieldProblem]:
    with pytest.raises(ValidationError) as caught:
        parse_workflow_def(data)
    return caught.value.problems


@pytest.mark.parametrize(
    ("data", "path", "message"),
    [
        pytest.param(
            workflow(task("a"), task("b"), {"name": "c"}),
            "tasks[2].taskReferenceName",
            "field required",
            id="missing reference name",
        ),
        pytest.param(
            workflow(
                task("s", "SWITCH", decisionCases={"big": [task("x"), task("y") | {"name": 7}]})
            ),
            "tasks[0].decisionCases.big[1].name",
            "must be a string",
            id="wrong type in a switch branch",
        ),
        pytest.param(
            workflow(
                task("f", "FORK_JOIN", forkTasks=[[task("a")], [task("b") | {"startDelay": "x"}]])
            ),
            "tasks[0].forkTasks[1][0].startDelay",
            "must be an integer",
            id="non-integer in a fork branch",
        ),
        pytest.param(
            workflow(timeoutSeconds=-1),
            "timeoutSeconds",
            "must be greater than or equal to 0",
            id="negative timeout",
        ),
        pytest.param(
            workflow(timeoutPolicy="RETRY"),
            "timeoutPolicy",
            "must be one of TIME_OUT_WF or ALERT_ONLY",
            id="task-only timeout policy on a workflow",
        ),
        pytest.param(
            workflow(task("s", "SUB_WORKFLOW", subWorkflowParam={"workflowDefinition": 5})),
            "tasks[0].subWorkflowParam.workflowDefinition",
            "must be an object or a string",
            id="union field reported once",
        ),
        pytest.param(workflow(tasks=None), "tasks", "must be an array, not null", id="null tasks"),
        pytest.param(
            workflow(tasks=["a"]), "tasks[0]", "must be an object", id="task not an object"
        ),
        pytest.param(
            workflow(task("a", taskDefinition={"name": "a", "retryCount": -1})),
            "tasks[0].taskDefinition.retryCount",
            "must be greater than or equal to 0",
            id="inline task definition",
        ),
        pytest.param(
            workflow(task("a", inputParameters=["x"])),
            "tasks[0].inputParameters",
            "must be an object",
            id="input parameters as a list",
        ),
    ],
)
def test_parse_problem_path_and_message(data: Any, path: str, message: str) -> None:
    problems = parse_problems(data)

    assert [(p.path, p.message) for p in problems] == [(path, message)]


def test_parse_reports_every_error_at_once() -> None:
    data = workflow(task("a") | {"optional": "maybe"}, {"name": "b"}, name=None, version="x")

    problems = parse_problems(data)

    assert {p.path for p in problems} == {
        "name",
        "version",
        "tasks[0].optional",
        "tasks[1].taskReferenceName",
    }


def test_parse_error_names_the_workflow_and_keeps_the_value() -> None:
    with pytest.raises(ValidationError) as caught:
        parse_workflow_def(workflow(name="orders", timeoutSeconds="soon"))

    assert caught.value.message == "Validation failed for workflow definition orders"
    assert caught.value.problems == [FieldProblem("timeoutSeconds", "must be an integer", "soon")]


@pytest.mark.parametrize("body", [[], "wf", None, 3])
def test_non_object_body_is_rejected(body: Any) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_workflow_def(body)

    assert "must be a JSON object" in caught.value.message
    assert caught.value.problems[0].path == ""


def test_valid_json_parses_with_snake_case_attributes() -> None:
    definition = parse_workflow_def(workflow(task("a", inputParameters={"x": 1})))

    assert isinstance(definition, WorkflowDef)
    assert definition.tasks[0].task_reference_name == "a"
    assert definition.tasks[0].input_parameters == {"x": 1}


def test_unknown_fields_are_kept() -> None:
    definition = parse_workflow_def(workflow(somethingNew={"a": 1}))

    assert definition.to_json()["somethingNew"] == {"a": 1}


def test_parse_task_def() -> None:
    assert parse_task_def({"name": "t", "retryCount": 1}) == TaskDef(name="t", retry_count=1)
    with pytest.raises(ValidationError) as caught:
        parse_task_def({"name": "t", "retryLogic": "RANDOM"})
    assert caught.value.message == "Validation failed for task definition t"
    assert [p.path for p in caught.value.problems] == ["retryLogic"]
    assert "FIXED" in caught.value.problems[0].message


def test_parse_task_defs_paths_are_indexed() -> None:
    with pytest.raises(ValidationError) as caught:
        parse_task_defs([{"name": "ok"}, {"name": "bad", "responseTimeoutSeconds": "long"}, {}])

    assert [(p.path, p.message) for p in caught.value.problems] == [
        ("[1].responseTimeoutSeconds", "must be an integer"),
        ("[2].name", "field required"),
    ]


def test_parse_task_defs_wants_an_array() -> None:
    with pytest.raises(ValidationError) as caught:
        parse_task_defs({"name": "t"})

    assert "must be a JSON array" in caught.value.message
    assert [t.name for t in parse_task_defs([{"name": "a"}, {"name": "b"}])] == ["a", "b"]
