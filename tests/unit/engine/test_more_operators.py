"""Operators in combination, and the less common forms."""

from __future__ import annotations

from legato.engine.facts import TaskUpdate
from legato.model import TaskStatus, WorkflowStatus

from .harness import Harness, definition, simple


def test_sub_workflow_with_inline_definition() -> None:
    inline = {"name": "inline_child", "version": 3, "tasks": [simple("ic")]}
    d = definition(
        [
            {
                "name": "sub",
                "taskReferenceName": "sub",
                "type": "SUB_WORKFLOW",
                "subWorkflowParam": {"workflowDefinition": inline},
            }
        ]
    )
    h = Harness(d)
    dec = h.start()
    [start] = dec.start_workflows
    assert (start.definition.name, start.definition.version) == ("inline_child", 3)
    sub = h.task("sub")
    assert sub.input_data["subWorkflowName"] == "inline_child"
    assert sub.input_data["subWorkflowDefinition"] == inline


def test_sub_workflow_id_is_deterministic() -> None:
    child = definition([simple("c")]).model_copy(update={"name": "child"})
    d = definition(
        [
            {
                "name": "sub",
                "taskReferenceName": "sub",
                "type": "SUB_WORKFLOW",
                "subWorkflowParam": {"name": "child"},
            }
        ]
    )
    first, second = Harness(d, workflow_defs=[child]), Harness(d, workflow_defs=[child])
    first.start()
    second.start()
    assert first.task("sub").sub_workflow_id == second.task("sub").sub_workflow_id


def test_lambda_wraps_its_body_as_a_function() -> None:
    d = definition(
        [
            {
                "name": "l",
                "taskReferenceName": "l",
                "type": "LAMBDA",
                "inputParameters": {"n": 4, "scriptExpression": "return {sq: $.n * $.n};"},
            }
        ]
    )
    h = Harness(d)
    h.start()
    assert h.task("l").output_data == {"result": {"sq": 16}}


def test_decision_case_expression() -> None:
    d = definition(
        [
            {
                "name": "d",
                "taskReferenceName": "d",
                "type": "DECISION",
                "caseExpression": "$.amount > 100 ? 'large' : 'small'",
                "inputParameters": {"amount": "${workflow.input.amount}"},
                "decisionCases": {"large": [simple("review")], "small": [simple("auto")]},
            }
        ]
    )
    h = Harness(d, input={"amount": 500})
    h.start()
    assert h.refs() == ["d", "review"]


def test_http_async_complete_stays_in_progress_until_updated() -> None:
    d = definition(
        [
            {
                "name": "h",
                "taskReferenceName": "h",
                "type": "HTTP",
                "asyncComplete": True,
                "inputParameters": {"http_request": {"uri": "http://x", "method": "POST"}},
            }
        ]
    )
    h = Harness(d)
    h.start()
    task = h.poll("h", worker="legato-http")
    h.apply(TaskUpdate(task_id=task.task_id, status=TaskStatus.IN_PROGRESS, output_data={"r": 1}))
    assert task.status == TaskStatus.IN_PROGRESS
    assert h.decisions[-1].enqueue == []
    h.complete("h", done=True)
    assert h.status == WorkflowStatus.COMPLETED


def test_switch_inside_a_loop_runs_each_iteration() -> None:
    d = definition(
        [
            {
                "name": "loop",
                "taskReferenceName": "loop",
                "type": "DO_WHILE",
                "loopCondition": "$.loop['iteration'] < 2",
                "loopOver": [
                    {
                        "name": "sw",
                        "taskReferenceName": "sw",
                        "type": "SWITCH",
                        "evaluatorType": "javascript",
                        "expression": "$.i == 1 ? 'first' : 'later'",
                        "inputParameters": {"i": "${loop.output.iteration}"},
                        "decisionCases": {"first": [simple("one")], "later": [simple("two")]},
                    },
                    simple("tail"),
                ],
            }
        ]
    )
    h = Harness(d)
    h.start()
    assert h.refs() == ["loop", "sw__1", "one__1"]
    h.complete("one__1")
    h.complete("tail__1")
    assert h.refs()[-2:] == ["sw__2", "two__2"]
    h.complete("two__2")
    h.complete("tail__2")
    assert h.task("loop").status == TaskStatus.COMPLETED
    assert h.status == WorkflowStatus.COMPLETED


def test_fork_inside_a_loop_joins_on_the_iteration() -> None:
    d = definition(
        [
            {
                "name": "loop",
                "taskReferenceName": "loop",
                "type": "DO_WHILE",
                "loopCondition": "$.loop['iteration'] < 2",
                "loopOver": [
                    {
                        "name": "f",
                        "taskReferenceName": "f",
                        "type": "FORK_JOIN",
                        "forkTasks": [[simple("x")], [simple("y")]],
                    },
                    {"name": "j", "taskReferenceName": "j", "type": "JOIN", "joinOn": ["x", "y"]},
                ],
            }
        ]
    )
    h = Harness(d)
    h.start()
    h.complete("x__1", v=1)
    h.complete("y__1", v=2)
    assert h.task("j__1").status == TaskStatus.COMPLETED
    assert h.task("j__1").output_data == {"x": {"v": 1}, "y": {"v": 2}}
    h.complete("x__2")
    assert h.task("j__2").status == TaskStatus.IN_PROGRESS
    h.complete("y__2")
    assert h.status == WorkflowStatus.COMPLETED


def test_keep_last_n_drops_older_iteration_outputs() -> None:
    d = definition(
        [
            {
                "name": "loop",
                "taskReferenceName": "loop",
                "type": "DO_WHILE",
                "inputParameters": {"keepLastN": 2},
                "loopCondition": "$.loop['iteration'] < 4",
                "loopOver": [simple("s")],
            }
        ]
    )
    h = Harness(d)
    h.start()
    for i in range(1, 5):
        h.complete(f"s__{i}", i=i)
    out = h.task("loop").output_data
    assert "1" not in out and "2" not in out and out["4"] == {"s": {"i": 4}}


def test_loop_condition_error_fails_terminally() -> None:
    d = definition(
        [
            {
                "name": "loop",
                "taskReferenceName": "loop",
                "type": "DO_WHILE",
                "loopCondition": "$.nope.deeper > 1",
                "loopOver": [simple("s")],
            }
        ]
    )
    h = Harness(d)
    h.start()
    h.complete("s__1")
    assert h.task("loop").status == TaskStatus.FAILED_WITH_TERMINAL_ERROR
    assert h.status == WorkflowStatus.FAILED


def test_expressions_see_the_latest_attempt_and_iteration() -> None:
    d = definition(
        [
            {
                "name": "loop",
                "taskReferenceName": "loop",
                "type": "DO_WHILE",
                "loopCondition": "$.loop['iteration'] < 2",
                "loopOver": [simple("s")],
            },
            simple("after", inputParameters={"last": "${s.output.i}"}),
        ]
    )
    h = Harness(d)
    h.start()
    h.complete("s__1", i=1)
    h.complete("s__2", i=2)
    assert h.task("after").input_data == {"last": 2}


def test_inline_sub_workflow_expressions_belong_to_the_child() -> None:
    inline = {
        "name": "inline_child",
        "tasks": [simple("ic")],
        "outputParameters": {"r": "${ic.output.r}"},
    }
    d = definition(
        [
            {
                "name": "sub",
                "taskReferenceName": "sub",
                "type": "SUB_WORKFLOW",
                "subWorkflowParam": {"workflowDefinition": inline},
            }
        ]
    )
    h = Harness(d)
    [start] = h.start().start_workflows
    assert start.definition.output_parameters == {"r": "${ic.output.r}"}
