"""Semantic rules of workflow definitions: each malformed definition yields exactly one problem."""

from __future__ import annotations

from typing import Any

import pytest

from legato.errors import ValidationError
from legato.model.definitions import TaskDef
from legato.model.validation import validate_workflow_def

from .factories import fork, join, loop, problems_of, switch, task, workflow

HTTP_OK = {"http_request": {"uri": "http://x", "method": "GET"}}

CASES: list[tuple[str, dict[str, Any], str, str]] = [
    # --- the definition itself -------------------------------------------------------------
    ("blank workflow name", workflow(name="  "), "name", "cannot be null or empty"),
    ("workflow name with a dot", workflow(name="a.b"), "name", "Invalid name 'a.b'"),
    ("empty task list", workflow(tasks=[]), "tasks", "WorkflowTask list cannot be empty"),
    ("schema version 1", workflow(schemaVersion=1), "schemaVersion", "2 is only supported"),
    (
        "failureWorkflow expression deeper than workflow.input.X",
        workflow(failureWorkflow="${workflow.input.a.b}"),
        "failureWorkflow",
        "${workflow.input.<key>}",
    ),
    (
        "outputParameters refer to an unknown task",
        workflow(task("a"), outputParameters={"out": "${ghost.output.x}"}),
        "outputParameters.out",
        "unknown reference 'ghost'",
    ),
    # --- every task --------------------------------------------------------------------------
    ("blank task name", workflow(task("a") | {"name": ""}), "tasks[0].name", "name cannot be"),
    (
        "blank reference name",
        workflow(task("a"), task("b") | {"taskReferenceName": ""}),
        "tasks[1].taskReferenceName",
        "taskReferenceName cannot be empty",
    ),
    (
        "duplicate reference name inside a switch branch",
        workflow(task("a"), switch("s", decisionCases={"big": [task("x"), task("a")]})),
        "tasks[1].decisionCases.big[1].taskReferenceName",
        "taskReferenceName: a should be unique",
    ),
    (
        "duplicate reference name inside a loop body",
        workflow(task("a"), loop("l", task("a"))),
        "tasks[1].loopOver[0].taskReferenceName",
        "already used at tasks[0]",
    ),
    (
        "reference name with the loop delimiter",
        workflow(task("a__1")),
        "tasks[0].taskReferenceName",
        "must not contain '__'",
    ),
    (
        "lower-case type",
        workflow(task("a", "simple")),
        "tasks[0].type",
        "unknown task type 'simple'",
    ),
    ("FORK in a definition", workflow(task("a", "FORK")), "tasks[0].type", "use FORK_JOIN"),
    (
        "input expression refers to an unknown task",
        workflow(task("a", inputParameters={"x": "${nobody.output}"})),
        "tasks[0].inputParameters.x",
        "unknown reference 'nobody'",
    ),
    (
        "unknown reference deep inside a fork branch",
        workflow(
            fork("f", [task("b1", inputParameters={"a": {"b": ["ok", "${typo.output}"]}})]),
            join("j", "b1"),
        ),
        "tasks[0].forkTasks[0][0].inputParameters.a.b[1]",
        "unknown reference 'typo'",
    ),
    (
        "inline taskDefinition response timeout above timeout",
        workflow(
            task(
                "a",
                taskDefinition={"name": "a", "timeoutSeconds": 10, "responseTimeoutSeconds": 60},
            )
        ),
        "tasks[0].taskDefinition.responseTimeoutSeconds",
        "TaskDef: a responseTimeoutSeconds: 60 must be less than timeoutSeconds: 10",
    ),
    # --- SWITCH / DECISION -------------------------------------------------------------------
    (
        "SWITCH without evaluatorType",
        workflow(switch("s", evaluatorType=None)),
        "tasks[0].evaluatorType",
        "evaluatorType field is required for taskType: SWITCH",
    ),
    (
        "SWITCH with the python evaluator",
        workflow(switch("s", evaluatorType="python")),
        "tasks[0].evaluatorType",
        "must be one of value-param, javascript, graaljs",
    ),
    (
        "SWITCH without expression",
        workflow(switch("s", expression="")),
        "tasks[0].expression",
        "expression field is required",
    ),
    (
        "SWITCH javascript that does not compile",
        workflow(switch("s", evaluatorType="javascript", expression="$.kind == ")),
        "tasks[0].expression",
        "Expression is not well formatted",
    ),
    (
        "SWITCH graaljs that does not compile",
        workflow(switch("s", evaluatorType="graaljs", expression="function (")),
        "tasks[0].expression",
        "Expression is not well formatted",
    ),
    (
        "SWITCH without cases",
        workflow(switch("s", decisionCases={})),
        "tasks[0].decisionCases",
        "decisionCases should have at least one case",
    ),
    (
        "DECISION without caseValueParam or caseExpression",
        workflow(task("d", "DECISION", decisionCases={"a": [task("x")]})),
        "tasks[0].caseValueParam",
        "caseValueParam or caseExpression field is required",
    ),
    (
        "DECISION caseExpression that does not compile",
        workflow(task("d", "DECISION", caseExpression="(($.a", decisionCases={"a": [task("x")]})),
        "tasks[0].caseExpression",
        "Expression is not well formatted",
    ),
    # --- DO_WHILE ------------------------------------------------------------------------------
    (
        "DO_WHILE without loopCondition or items",
        workflow(loop("l", loopCondition=None)),
        "tasks[0].loopCondition",
        "loopCondition (or items) field is required",
    ),
    (
        "DO_WHILE loopCondition that does not compile",
        workflow(loop("l", loopCondition="$.l['iteration'] <")),
        "tasks[0].loopCondition",
        "Expression is not well formatted",
    ),
    (
        "DO_WHILE without a body",
        workflow(loop("l", loopOver=[])),
        "tasks[0].loopOver",
        "loopOver field is required",
    ),
    (
        "DO_WHILE nested inside a switch inside a DO_WHILE",
        workflow(loop("outer", switch("s", decisionCases={"a": [loop("inner")]}))),
        "tasks[0].loopOver[0].decisionCases.a[0].type",
        "nested DO_WHILE is not supported",
    ),
    (
        "DO_WHILE items that is not an expression",
        workflow(loop("l", loopCondition=None, items="[1, 2]")),
        "tasks[0].items",
        "must be a ${...} expression",
    ),
    # --- FORK_JOIN / JOIN ------------------------------------------------------------------
    (
        "FORK_JOIN without branches",
        workflow(fork("f"), join("j")),
        "tasks[0].forkTasks",
        "forkTasks should have at least one task",
    ),
    (
        "FORK_JOIN with an empty branch",
        workflow(fork("f", [task("b1")], []), join("j", "b1")),
        "tasks[0].forkTasks[1]",
        "must contain at least one task",
    ),
    (
        "FORK_JOIN not followed by a JOIN",
        workflow(fork("f", [task("b1")]), task("after")),
        "tasks[0]",
        "must be immediately followed by a JOIN",
    ),
    (
        "FORK_JOIN_DYNAMIC last in a branch",
        workflow(
            switch(
                "s",
                decisionCases={
                    "a": [task("dyn", "FORK_JOIN_DYNAMIC", inputParameters={"forkTaskInputs": []})]
                },
            )
        ),
        "tasks[0].decisionCases.a[0]",
        "must be immediately followed by a JOIN",
    ),
    (
        "JOIN on a task outside the fork",
        workflow(task("a"), fork("f", [task("b1")]), join("j", "a")),
        "tasks[2].joinOn[0]",
        "joinOn 'a' is not a task of the preceding FORK_JOIN 'f'",
    ),
    (
        "JOIN without a fork",
        workflow(task("a"), join("j", "a")),
        "tasks[1]",
        "must immediately follow",
    ),
    (
        "FORK_JOIN_DYNAMIC without its parameters",
        workflow(
            task("d", "FORK_JOIN_DYNAMIC", dynamicForkTasksInputParamName="inputs"),
            join("j"),
        ),
        "tasks[0].dynamicForkTasksParam",
        "dynamicForkTasksParam field is required",
    ),
    # --- SUB_WORKFLOW -------------------------------------------------------------------------
    (
        "SUB_WORKFLOW without subWorkflowParam",
        workflow(task("s", "SUB_WORKFLOW")),
        "tasks[0].subWorkflowParam",
        "subWorkflowParam field is required",
    ),
    (
        "SUB_WORKFLOW without name or definition",
        workflow(task("s", "SUB_WORKFLOW", subWorkflowParam={"version": 1})),
        "tasks[0].subWorkflowParam.name",
        "needs a name or a workflowDefinition",
    ),
    (
        "SUB_WORKFLOW definition given as plain text",
        workflow(task("s", "SUB_WORKFLOW", subWorkflowParam={"workflowDefinition": "child"})),
        "tasks[0].subWorkflowParam.workflowDefinition",
        "not a valid DSL string",
    ),
    (
        "SUB_WORKFLOW inline definition with a broken task",
        workflow(
            task(
                "s",
                "SUB_WORKFLOW",
                subWorkflowParam={
                    "workflowDefinition": workflow(task("c", "TERMINATE"), name="child")
                },
            )
        ),
        "tasks[0].subWorkflowParam.workflowDefinition.tasks[0].inputParameters.terminationStatus",
        "terminationStatus",
    ),
    (
        "SUB_WORKFLOW inline definition that does not parse",
        workflow(
            task(
                "s",
                "SUB_WORKFLOW",
                subWorkflowParam={
                    "workflowDefinition": {"name": "child", "tasks": [{"name": "x"}]}
                },
            )
        ),
        "tasks[0].subWorkflowParam.workflowDefinition.tasks[0].taskReferenceName",
        "field required",
    ),
    (
        "SUB_WORKFLOW name expression with an unknown reference",
        workflow(task("s", "SUB_WORKFLOW", subWorkflowParam={"name": "${who.output.name}"})),
        "tasks[0].subWorkflowParam.name",
        "unknown reference 'who'",
    ),
    # --- INLINE / LAMBDA / JSON_JQ_TRANSFORM -------------------------------------------------
    (
        "INLINE without expression",
        workflow(task("i", "INLINE", inputParameters={"evaluatorType": "javascript"})),
        "tasks[0].inputParameters.expression",
        "inputParameters.expression field is required",
    ),
    (
        "INLINE javascript that does not compile (evaluator defaulted)",
        workflow(task("i", "INLINE", inputParameters={"expression": "(function(){ return 1;"})),
        "tasks[0].inputParameters.expression",
        "Expression is not well formatted",
    ),
    (
        "INLINE with an unknown evaluator",
        workflow(task("i", "INLINE", inputParameters={"evaluatorType": "lua", "expression": "1"})),
        "tasks[0].inputParameters.evaluatorType",
        "must be one of javascript, graaljs, value-param",
    ),
    (
        "LAMBDA without scriptExpression",
        workflow(task("l", "LAMBDA", inputParameters={"a": 1})),
        "tasks[0].inputParameters.scriptExpression",
        "scriptExpression field is required",
    ),
    (
        "LAMBDA body that does not compile",
        workflow(task("l", "LAMBDA", inputParameters={"scriptExpression": "return {a: ;"})),
        "tasks[0].inputParameters.scriptExpression",
        "Expression is not well formatted",
    ),
    (
        "JSON_JQ_TRANSFORM without queryExpression",
        workflow(task("q", "JSON_JQ_TRANSFORM", inputParameters={"a": 1})),
        "tasks[0].inputParameters.queryExpression",
        "queryExpression field is required",
    ),
    (
        "JSON_JQ_TRANSFORM with bad jq",
        workflow(task("q", "JSON_JQ_TRANSFORM", inputParameters={"queryExpression": ".a | {"})),
        "tasks[0].inputParameters.queryExpression",
        "not a valid jq expression",
    ),
    # --- TERMINATE / WAIT ------------------------------------------------------------------
    (
        "TERMINATE with an unknown status",
        workflow(task("t", "TERMINATE", inputParameters={"terminationStatus": "DONE"})),
        "tasks[0].inputParameters.terminationStatus",
        "set to COMPLETED, FAILED or TERMINATED",
    ),
    (
        "optional TERMINATE",
        workflow(
            task("t", "TERMINATE", optional=True, inputParameters={"terminationStatus": "FAILED"})
        ),
        "tasks[0].optional",
        "terminate task cannot be optional",
    ),
    (
        "WAIT with duration and until",
        workflow(task("w", "WAIT", inputParameters={"duration": "1s", "until": "2030-01-01"})),
        "tasks[0].inputParameters",
        "Both 'duration' and 'until' specified",
    ),
    (
        "WAIT with a duration that does not parse",
        workflow(task("w", "WAIT", inputParameters={"duration": "soon"})),
        "tasks[0].inputParameters.duration",
        "Unable to parse duration: ",
    ),
    (
        "WAIT with an until that does not parse",
        workflow(task("w", "WAIT", inputParameters={"until": "next tuesday"})),
        "tasks[0].inputParameters.until",
        "Unable to parse until: ",
    ),
    # --- HTTP / EVENT / DYNAMIC / KAFKA_PUBLISH -------------------------------------------
    (
        "HTTP without a request",
        workflow(task("h", "HTTP", inputParameters={"body": {}})),
        "tasks[0].inputParameters.http_request",
        "inputParameters.http_request or inputParameters.uri field is required",
    ),
    (
        "HTTP request without a method",
        workflow(task("h", "HTTP", inputParameters={"http_request": {"uri": "http://x"}})),
        "tasks[0].inputParameters.http_request.method",
        "method is required",
    ),
    (
        "HTTP top-level uri without a method",
        workflow(task("h", "HTTP", inputParameters={"uri": "http://x"})),
        "tasks[0].inputParameters.method",
        "method is required",
    ),
    ("EVENT without sink", workflow(task("e", "EVENT")), "tasks[0].sink", "sink field is required"),
    (
        "EVENT sink expression with an unknown reference",
        workflow(task("e", "EVENT", sink="conductor:${nowhere.output.queue}")),
        "tasks[0].sink",
        "unknown reference 'nowhere'",
    ),
    (
        "EVENT sink on an external event bus",
        workflow(task("e", "EVENT", sink="sqs:orders")),
        "tasks[0].sink",
        "sink 'sqs:orders' publishes to the sqs event bus",
    ),
    (
        "EVENT sink with an expression on an external event bus",
        workflow(task("e", "EVENT", sink="kafka:${workflow.input.topic}")),
        "tasks[0].sink",
        "kafka event bus",
    ),
    (
        "DYNAMIC without dynamicTaskNameParam",
        workflow(task("d", "DYNAMIC", inputParameters={"taskToExecute": "x"})),
        "tasks[0].dynamicTaskNameParam",
        "dynamicTaskNameParam field is required",
    ),
    (
        "KAFKA_PUBLISH without kafka_request",
        workflow(task("k", "KAFKA_PUBLISH")),
        "tasks[0].inputParameters.kafka_request",
        "inputParameters.kafka_request field is required",
    ),
]


@pytest.mark.parametrize(
    ("data", "path", "fragment"),
    [pytest.param(data, path, fragment, id=name) for name, data, path, fragment in CASES],
)
def test_malformed_definition_yields_one_problem(
    data: dict[str, Any], path: str, fragment: str
) -> None:
    problems = problems_of(data)

    assert [p.path for p in problems] == [path], problems
    assert fragment in problems[0].message


def test_there_are_many_distinct_cases() -> None:
    assert len({name for name, *_ in CASES}) == len(CASES) >= 25


def test_reports_every_problem_at_once() -> None:
    data = workflow(
        task("a", "simple"),
        task("a"),
        switch("s", decisionCases={}),
        task("w", "WAIT", inputParameters={"duration": "soon"}),
        schemaVersion=1,
    )

    problems = problems_of(data)

    assert [p.path for p in problems] == [
        "schemaVersion",
        "tasks[0].type",
        "tasks[1].taskReferenceName",
        "tasks[2].decisionCases",
        "tasks[3].inputParameters.duration",
    ]


def test_four_errors_give_four_problems() -> None:
    data = workflow(
        task("x__1"),
        task("e", "EVENT"),
        task("t", "TERMINATE", inputParameters={"terminationStatus": "NOPE"}),
        name="bad name!",
    )

    assert len(problems_of(data)) == 4


def test_invalid_value_is_the_offending_scalar() -> None:
    data = workflow(task("a", inputParameters={"x": {"y": "id=${ghost.output.id}"}}))

    (problem,) = problems_of(data)

    assert problem.path == "tasks[0].inputParameters.x.y"
    assert problem.invalid_value == "id=${ghost.output.id}"


def test_lambda_problem_shows_the_body_not_the_wrapper() -> None:
    data = workflow(task("l", "LAMBDA", inputParameters={"scriptExpression": "return (;"}))

    (problem,) = problems_of(data)

    assert problem.invalid_value == "return (;"


def test_join_may_name_any_task_nested_in_the_fork() -> None:
    inner = switch("s", decisionCases={"a": [task("deep")]})
    data = workflow(fork("f", [task("b1"), inner]), join("j", "b1", "deep"))

    assert problems_of(data) == []


def test_join_after_a_dynamic_fork_may_name_anything() -> None:
    dyn = task(
        "d", "FORK_JOIN_DYNAMIC", dynamicForkTasksParam="t", dynamicForkTasksInputParamName="i"
    )

    assert problems_of(workflow(dyn, join("j", "made_at_run_time"))) == []


def test_expressions_may_name_tasks_anywhere_in_the_tree() -> None:
    data = workflow(
        loop("l", task("body", inputParameters={"i": "${l.output.iteration}"})),
        task("after", inputParameters={"last": "${body.output}", "id": "${CPEWF_TASK_ID}"}),
        outputParameters={"x": "${after.output.x}", "escaped": "$${not.checked}"},
    )

    assert problems_of(data) == []


def test_http_request_may_come_from_the_registered_task_definition() -> None:
    data = workflow(task("h", "HTTP", inputParameters={}))
    template = TaskDef(name="h", input_template=HTTP_OK)

    assert problems_of(data, {"h": template}) == []
    assert [p.path for p in problems_of(data)] == ["tasks[0].inputParameters.http_request"]


def test_expressions_stand_in_for_literal_values() -> None:
    data = workflow(
        task("h", "HTTP", inputParameters={"http_request": "${workflow.input.request}"}),
        task(
            "h2",
            "HTTP",
            inputParameters={
                "http_request": {"uri": "${workflow.input.u}", "method": "${workflow.input.m}"}
            },
        ),
        task("w", "WAIT", inputParameters={"duration": "${workflow.input.wait}"}),
        task("q", "JSON_JQ_TRANSFORM", inputParameters={"queryExpression": "${workflow.input.jq}"}),
        task("t", "TERMINATE", inputParameters={"terminationStatus": "${workflow.input.s}"}),
        task("s", "SUB_WORKFLOW", subWorkflowParam={"workflowDefinition": "${workflow.input.def}"}),
        failureWorkflow="${workflow.input.onFailure}",
    )

    assert problems_of(data) == []


def test_validate_raises_with_every_problem() -> None:
    from legato.model.validation import parse_workflow_def

    definition = parse_workflow_def(
        workflow(task("e", "EVENT"), task("d", "DYNAMIC"), name="orders")
    )

    with pytest.raises(ValidationError) as caught:
        validate_workflow_def(definition)

    assert caught.value.message == "Validation failed for workflow definition orders"
    assert [p.path for p in caught.value.problems] == [
        "tasks[0].sink",
        "tasks[1].dynamicTaskNameParam",
    ]
