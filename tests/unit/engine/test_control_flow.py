"""SWITCH, DECISION, FORK/JOIN, DO_WHILE, SUB_WORKFLOW, TERMINATE."""

from __future__ import annotations

from legato.model import TaskStatus, WorkflowDef, WorkflowStatus

from .harness import Harness, definition, simple


def switch_def(evaluator: str = "value-param", expression: str = "kind") -> WorkflowDef:
    return definition(
        [
            {
                "name": "route",
                "taskReferenceName": "route",
                "type": "SWITCH",
                "evaluatorType": evaluator,
                "expression": expression,
                "inputParameters": {"kind": "${workflow.input.kind}"},
                "decisionCases": {"big": [simple("approve")], "true": [simple("yes")]},
                "defaultCase": [simple("auto")],
            },
            simple("ship"),
        ]
    )


def test_switch_value_param_takes_matching_branch_then_continues_after_switch() -> None:
    h = Harness(switch_def(), input={"kind": "big"})
    h.start()
    route = h.task("route")
    assert route.status == TaskStatus.COMPLETED
    assert route.output_data == {"evaluationResult": ["big"], "selectedCase": "big"}
    assert h.refs() == ["route", "approve"]
    h.complete("approve")
    assert h.refs() == ["route", "approve", "ship"]
    h.complete("ship")
    assert h.status == WorkflowStatus.COMPLETED


def test_switch_without_match_takes_default_case() -> None:
    h = Harness(switch_def(), input={"kind": "small"})
    h.start()
    assert h.refs() == ["route", "auto"]


def test_switch_javascript_result_is_matched_as_string() -> None:
    h = Harness(switch_def("javascript", "$.kind == 'x'"), input={"kind": "x"})
    h.start()
    assert h.task("route").output_data["selectedCase"] == "true"
    assert h.refs() == ["route", "yes"]


def test_switch_null_case_is_the_string_null() -> None:
    h = Harness(switch_def(), input={})
    h.start()
    assert h.task("route").output_data["selectedCase"] == "null"
    assert h.refs() == ["route", "auto"]


def test_switch_script_error_fails_the_task_and_the_workflow() -> None:
    h = Harness(switch_def("javascript", "nope.x"), input={"kind": "x"})
    h.start()
    assert h.task("route").status == TaskStatus.FAILED
    assert "nope" in (h.task("route").reason_for_incompletion or "")
    assert h.status == WorkflowStatus.FAILED


def test_decision_case_value_param() -> None:
    d = definition(
        [
            {
                "name": "d",
                "taskReferenceName": "d",
                "type": "DECISION",
                "caseValueParam": "k",
                "inputParameters": {"k": "${workflow.input.k}"},
                "decisionCases": {"1": [simple("one")]},
            }
        ]
    )
    h = Harness(d, input={"k": 1})
    h.start()
    assert h.task("d").output_data == {"caseOutput": ["1"]}
    assert h.refs() == ["d", "one"]


def fork_def() -> WorkflowDef:
    return definition(
        [
            {
                "name": "fork",
                "taskReferenceName": "fork",
                "type": "FORK_JOIN",
                "forkTasks": [[simple("a1"), simple("a2")], [simple("b1")]],
            },
            {"name": "join", "taskReferenceName": "join", "type": "JOIN", "joinOn": ["a2", "b1"]},
            simple("after", inputParameters={"j": "${join.output}"}),
        ]
    )


def test_fork_schedules_branch_heads_and_join_waits_for_all() -> None:
    h = Harness(fork_def())
    h.start()
    assert h.statuses() == {
        "fork": "COMPLETED",
        "a1": "SCHEDULED",
        "b1": "SCHEDULED",
        "join": "IN_PROGRESS",
    }
    h.complete("b1", b=1)
    assert h.task("join").status == TaskStatus.IN_PROGRESS
    h.complete("a1", a=1)
    assert h.task("join").status == TaskStatus.IN_PROGRESS
    h.complete("a2", a=2)
    assert h.task("join").status == TaskStatus.COMPLETED
    assert h.task("join").output_data == {"a2": {"a": 2}, "b1": {"b": 1}}
    assert h.task("after").input_data == {"j": {"a2": {"a": 2}, "b1": {"b": 1}}}


def test_optional_branch_failure_makes_join_completed_with_errors() -> None:
    d = fork_def()
    d.tasks[0].fork_tasks[1][0].optional = True
    d.tasks[0].fork_tasks[1][0].retry_count = 0
    h = Harness(d)
    h.start()
    h.fail("b1")
    assert h.task("b1").status == TaskStatus.COMPLETED_WITH_ERRORS
    h.complete("a1")
    h.complete("a2")
    assert h.task("join").status == TaskStatus.COMPLETED_WITH_ERRORS
    h.complete("after")
    assert h.status == WorkflowStatus.COMPLETED


def loop_def(**loop: object) -> WorkflowDef:
    return definition(
        [
            {
                "name": "loop",
                "taskReferenceName": "loop",
                "type": "DO_WHILE",
                "inputParameters": {"max": "${workflow.input.max}"},
                "loopCondition": "$.loop['iteration'] < $.max",
                "loopOver": [simple("step", inputParameters={"i": "${loop.output.iteration}"})],
                **loop,
            },
            simple("after"),
        ]
    )


def test_do_while_runs_body_until_condition_false_with_iteration_refs() -> None:
    h = Harness(loop_def(), input={"max": 3})
    h.start()
    assert h.refs() == ["loop", "step__1"]
    assert h.task("step__1").input_data == {"i": 1}
    h.complete("step__1", n=1)
    h.complete("step__2", n=2)
    h.complete("step__3", n=3)
    loop = h.task("loop")
    assert loop.status == TaskStatus.COMPLETED
    assert loop.output_data["iteration"] == 3
    assert loop.output_data["1"] == {"step": {"n": 1}}
    assert loop.output_data["3"] == {"step": {"n": 3}}
    assert h.refs()[-1] == "after"
    assert h.task("step__2").iteration == 2


def test_do_while_over_items() -> None:
    d = loop_def(items="${workflow.input.things}", loopCondition=None)
    d.tasks[0].loop_over[0].input_parameters = {"item": "${loop.output.loopItem}"}
    h = Harness(d, input={"things": ["a", "b"]})
    h.start()
    assert h.task("step__1").input_data == {"item": "a"}
    h.complete("step__1")
    assert h.task("step__2").input_data == {"item": "b"}
    h.complete("step__2")
    assert h.task("loop").status == TaskStatus.COMPLETED
    assert h.refs()[-1] == "after"


def test_do_while_over_empty_items_completes_at_once() -> None:
    d = loop_def(items="${workflow.input.things}", loopCondition=None)
    h = Harness(d, input={"things": []})
    h.start()
    assert h.task("loop").output_data == {"iteration": 0}
    assert h.refs() == ["loop", "after"]


def test_do_while_body_failure_fails_loop_and_workflow() -> None:
    d = loop_def()
    d.tasks[0].loop_over[0].retry_count = 0
    h = Harness(d, input={"max": 3})
    h.start()
    h.fail("step__1")
    assert h.task("loop").status == TaskStatus.FAILED
    assert h.status == WorkflowStatus.FAILED


def test_sub_workflow_starts_child_and_finishes_with_its_output() -> None:
    child = definition([simple("c")])
    child = child.model_copy(update={"name": "child"})
    d = definition(
        [
            {
                "name": "sub",
                "taskReferenceName": "sub",
                "type": "SUB_WORKFLOW",
                "subWorkflowParam": {"name": "child", "version": 1},
                "inputParameters": {"p": "${workflow.input.p}"},
            }
        ]
    )
    h = Harness(d, input={"p": 5}, workflow_defs=[child], correlation_id="corr")
    dec = h.start()
    sub = h.task("sub")
    assert sub.status == TaskStatus.IN_PROGRESS
    [start] = dec.start_workflows
    assert start.workflow_id == sub.sub_workflow_id
    assert start.input == {"p": 5}
    assert start.parent_workflow_id == "wf1" and start.parent_workflow_task_id == sub.task_id
    assert start.correlation_id == "corr"
    h.child_finished("sub", WorkflowStatus.COMPLETED, {"r": 1})
    assert sub.status == TaskStatus.COMPLETED
    assert sub.output_data == {"r": 1, "subWorkflowId": start.workflow_id}
    assert h.status == WorkflowStatus.COMPLETED


def test_sub_workflow_child_failure_fails_parent() -> None:
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
    h = Harness(d, workflow_defs=[child])
    h.start()
    h.child_finished("sub", WorkflowStatus.FAILED, {})
    assert h.task("sub").status == TaskStatus.FAILED
    assert h.status == WorkflowStatus.FAILED


def test_sub_workflow_unknown_definition_fails_task() -> None:
    d = definition(
        [
            {
                "name": "sub",
                "taskReferenceName": "sub",
                "type": "SUB_WORKFLOW",
                "subWorkflowParam": {"name": "nope"},
            }
        ]
    )
    h = Harness(d)
    dec = h.start()
    assert dec.start_workflows == []
    assert "nope" in (h.task("sub").reason_for_incompletion or "")
    assert h.status == WorkflowStatus.FAILED


def test_terminating_parent_terminates_running_child() -> None:
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
    h = Harness(d, workflow_defs=[child])
    h.start()
    dec = h.terminate("bye")
    assert dec.terminate_workflows == [
        (
            h.task("sub").sub_workflow_id,
            "Parent workflow has been terminated with status TERMINATED",
        )
    ]


def test_child_end_notifies_parent() -> None:
    d = definition([simple("c")])
    h = Harness(d, parent_workflow_id="p1", parent_workflow_task_id="pt1")
    h.start()
    dec = h.complete("c", v=1)
    assert dec.parent_notice is not None
    assert (dec.parent_notice.parent_workflow_id, dec.parent_notice.status) == (
        "p1",
        WorkflowStatus.COMPLETED,
    )
    assert dec.parent_notice.output == {"v": 1}


def terminate_def(status: str, **more: object) -> WorkflowDef:
    return definition(
        [
            {
                "name": "t",
                "taskReferenceName": "t",
                "type": "TERMINATE",
                "inputParameters": {
                    "terminationStatus": status,
                    "terminationReason": "done early",
                    "workflowOutput": {"why": "${workflow.input.why}"},
                },
            },
            simple("never"),
        ],
        outputParameters={"ignored": True},
        **more,
    )


def test_terminate_task_completes_workflow_with_its_output() -> None:
    h = Harness(terminate_def("COMPLETED"), input={"why": "x"})
    h.start()
    assert h.status == WorkflowStatus.COMPLETED
    assert h.wf.output == {"why": "x"}
    assert "never" not in h.refs()


def test_terminate_task_failed_starts_failure_workflow() -> None:
    handler = definition([simple("notify")]).model_copy(update={"name": "on_fail"})
    h = Harness(
        terminate_def("FAILED", failureWorkflow="on_fail"),
        input={"why": "x"},
        workflow_defs=[handler],
    )
    dec = h.start()
    assert h.status == WorkflowStatus.FAILED
    assert h.wf.reason_for_incompletion == "done early"
    [start] = dec.start_workflows
    assert start.definition.name == "on_fail"
    assert start.input["workflowId"] == "wf1"
    assert start.input["failureStatus"] == "FAILED"
    assert start.input["why"] == "x"
    assert start.input["failedWorkflow"]["workflowId"] == "wf1"
    assert h.wf.output["conductor.failure_workflow"] == start.workflow_id
