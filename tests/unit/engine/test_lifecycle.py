"""Retries, timeouts, optional and permissive tasks, failure workflows, WAIT, HUMAN, scripts."""

from __future__ import annotations

from typing import Any

import pytest

from legato.model import RetryLogic, TaskDef, TaskStatus, TaskTimeoutPolicy, WorkflowStatus

from .harness import T0, Harness, definition, simple


def retrying(logic: RetryLogic, **more: object) -> Harness:
    td = TaskDef(name="a", retry_count=3, retry_logic=logic, retry_delay_seconds=10, **more)
    return Harness(
        definition([simple("a", inputParameters={"n": "${workflow.input.n}"})]),
        input={"n": 1},
        task_defs=[td],
    )


def test_failed_task_is_retried_as_a_new_instance_after_the_delay() -> None:
    h = retrying(RetryLogic.FIXED)
    h.start()
    first = h.task("a")
    d = h.fail("a", "flaky")
    assert first.retried and first.status == TaskStatus.FAILED
    second = h.task("a")
    assert second.task_id != first.task_id
    assert (second.retry_count, second.retried_task_id) == (1, first.task_id)
    assert second.status == TaskStatus.SCHEDULED
    assert second.input_data == {"n": 1}
    assert [(e.task_id, e.visible_at) for e in d.enqueue] == [(second.task_id, h.now + 10_000)]
    assert h.status == WorkflowStatus.RUNNING


@pytest.mark.parametrize(
    ("logic", "factor", "delays"),
    [
        (RetryLogic.FIXED, 1, [10, 10, 10]),
        (RetryLogic.LINEAR_BACKOFF, 2, [20, 40, 60]),
        (RetryLogic.EXPONENTIAL_BACKOFF, 1, [10, 20, 40]),
    ],
)
def test_retry_delays_follow_retry_logic(logic: RetryLogic, factor: int, delays: list[int]) -> None:
    h = retrying(logic, backoff_scale_factor=factor)
    h.start()
    seen = []
    for _ in range(3):
        d = h.fail("a")
        seen.append((d.enqueue[0].visible_at - h.now) // 1000)
    assert seen == delays


def test_max_retry_delay_caps_backoff() -> None:
    h = retrying(RetryLogic.EXPONENTIAL_BACKOFF, max_retry_delay_seconds=15)
    h.start()
    delays = [(h.fail("a").enqueue[0].visible_at - h.now) // 1000 for _ in range(3)]
    assert delays == [10, 15, 15]


def test_exhausted_retries_fail_the_workflow_with_conductor_reason() -> None:
    h = retrying(RetryLogic.FIXED)
    h.start()
    for _ in range(4):
        h.fail("a", "nope")
    assert h.status == WorkflowStatus.FAILED
    last = h.task("a")
    assert last.retry_count == 3
    assert h.wf.reason_for_incompletion == (
        f"Task {last.task_id} failed with status: FAILED and reason: 'nope'"
    )
    assert h.wf.failed_reference_task_names == ["a"]
    assert len(h.wf.tasks) == 4


def test_terminal_error_is_not_retried() -> None:
    h = retrying(RetryLogic.FIXED)
    h.start()
    h.fail("a", "fatal", status="FAILED_WITH_TERMINAL_ERROR")
    assert h.status == WorkflowStatus.FAILED
    assert len(h.wf.tasks) == 1


def test_workflow_task_retry_count_overrides_task_def() -> None:
    td = TaskDef(name="a", retry_count=5)
    h = Harness(definition([simple("a", retryCount=0)]), task_defs=[td])
    h.start()
    h.fail("a")
    assert h.status == WorkflowStatus.FAILED


def test_unregistered_simple_task_gets_conductor_adhoc_defaults() -> None:
    h = Harness(definition([simple("a")]))
    h.start()
    assert h.task("a").response_timeout_seconds == 3600
    d = h.fail("a")
    assert d.enqueue[0].visible_at == h.now + 60_000  # 3 retries, 60 s apart


def test_optional_task_failure_completes_with_errors_and_continues() -> None:
    h = Harness(definition([simple("a", optional=True, retryCount=0), simple("b")]))
    h.start()
    h.fail("a")
    assert h.task("a").status == TaskStatus.COMPLETED_WITH_ERRORS
    h.complete("b")
    assert h.status == WorkflowStatus.COMPLETED


def test_permissive_failure_lets_the_rest_run_then_fails_the_workflow() -> None:
    h = Harness(definition([simple("a", permissive=True, retryCount=0), simple("b")]))
    h.start()
    h.fail("a", "soft")
    assert h.refs() == ["a", "b"]
    h.complete("b")
    assert h.status == WorkflowStatus.FAILED
    assert "soft" in (h.wf.reason_for_incompletion or "")


def test_response_timeout_times_out_and_retries() -> None:
    td = TaskDef(name="a", retry_count=1, retry_delay_seconds=0, response_timeout_seconds=30)
    h = Harness(definition([simple("a")]), task_defs=[td])
    h.start()
    h.poll("a")
    d = h.apply(__import__("legato.engine.facts", fromlist=["Tick"]).Tick())
    assert h.wf.next_wake_at == T0 + 30_000
    assert h.advance(29).new_tasks == []
    d = h.advance(1)
    first = h.wf.tasks[0]
    assert first.status == TaskStatus.TIMED_OUT and first.retried
    assert "responseTimeout" in (first.reason_for_incompletion or "")
    assert [t.task_id for t in d.new_tasks] == [h.task("a").task_id]
    h.poll("a")
    h.advance(30)
    assert h.status == WorkflowStatus.TIMED_OUT


def test_heartbeat_extends_the_response_timeout() -> None:
    td = TaskDef(name="a", retry_count=0, response_timeout_seconds=30)
    h = Harness(definition([simple("a")]), task_defs=[td])
    h.start()
    h.poll("a")
    h.now += 20_000
    h.report("a", "IN_PROGRESS", None, extend_lease=True)
    h.advance(20)
    assert h.task("a").status == TaskStatus.IN_PROGRESS
    h.advance(11)
    assert h.task("a").status == TaskStatus.TIMED_OUT


def test_poll_timeout_applies_timeout_policy() -> None:
    td = TaskDef(
        name="a",
        retry_count=0,
        poll_timeout_seconds=10,
        timeout_policy=TaskTimeoutPolicy.TIME_OUT_WF,
    )
    h = Harness(definition([simple("a")]), task_defs=[td])
    h.start()
    assert h.wf.next_wake_at == T0 + 10_000
    h.advance(10)
    assert h.task("a").status == TaskStatus.TIMED_OUT
    assert h.status == WorkflowStatus.TIMED_OUT


def test_task_timeout_retry_policy_retries() -> None:
    td = TaskDef(
        name="a",
        retry_count=1,
        retry_delay_seconds=0,
        timeout_seconds=60,
        response_timeout_seconds=60,
        timeout_policy=TaskTimeoutPolicy.RETRY,
    )
    h = Harness(definition([simple("a")]), task_defs=[td])
    h.start()
    h.poll("a")
    h.advance(61)
    assert h.wf.tasks[0].status == TaskStatus.TIMED_OUT
    assert h.task("a").status == TaskStatus.SCHEDULED


def test_task_timeout_alert_only_keeps_running() -> None:
    td = TaskDef(
        name="a",
        timeout_seconds=10,
        response_timeout_seconds=10,
        timeout_policy=TaskTimeoutPolicy.ALERT_ONLY,
    )
    h = Harness(definition([simple("a")]), task_defs=[td])
    h.start()
    h.poll("a")
    h.now += 5_000
    h.report("a", "IN_PROGRESS", None, extend_lease=True)
    h.advance(6)
    assert h.task("a").status == TaskStatus.IN_PROGRESS


def test_workflow_timeout_with_time_out_wf() -> None:
    h = Harness(definition([simple("a")], timeoutSeconds=100, timeoutPolicy="TIME_OUT_WF"))
    h.start()
    assert h.wf.next_wake_at == T0 + 100_000
    h.advance(100)
    assert h.status == WorkflowStatus.TIMED_OUT
    assert "Workflow timed out" in (h.wf.reason_for_incompletion or "")
    assert h.task("a").status == TaskStatus.CANCELED


def test_failure_workflow_gets_failed_execution_details() -> None:
    handler = definition([simple("n")]).model_copy(update={"name": "cleanup"})
    h = Harness(
        definition([simple("a", retryCount=0)], failureWorkflow="cleanup"),
        input={"order": 1},
        workflow_defs=[handler],
    )
    h.start()
    failed = h.task("a")
    d = h.fail("a", "card declined")
    [start] = d.start_workflows
    assert start.input["order"] == 1
    assert start.input["failureTaskId"] == failed.task_id
    assert "card declined" in start.input["reason"]
    assert start.input["failedWorkflow"]["status"] == "FAILED"


def test_wait_for_duration_completes_at_deadline() -> None:
    d = definition(
        [
            {
                "name": "w",
                "taskReferenceName": "w",
                "type": "WAIT",
                "inputParameters": {"duration": "1h"},
            },
            simple("b"),
        ]
    )
    h = Harness(d)
    h.start()
    assert h.task("w").status == TaskStatus.IN_PROGRESS
    assert h.wf.next_wake_at == T0 + 3_600_000
    h.advance(3599)
    assert h.task("w").status == TaskStatus.IN_PROGRESS
    h.advance(1)
    assert h.task("w").status == TaskStatus.COMPLETED
    assert h.refs() == ["w", "b"]


def test_wait_without_deadline_is_completed_externally() -> None:
    d = definition([{"name": "w", "taskReferenceName": "w", "type": "WAIT"}])
    h = Harness(d)
    h.start()
    assert h.wf.next_wake_at is None
    h.complete("w", approved=True)
    assert h.status == WorkflowStatus.COMPLETED
    assert h.wf.output == {"approved": True}


def test_wait_with_both_inputs_fails_terminally() -> None:
    d = definition(
        [
            {
                "name": "w",
                "taskReferenceName": "w",
                "type": "WAIT",
                "inputParameters": {"duration": "1s", "until": "2030-01-01"},
            }
        ]
    )
    h = Harness(d)
    h.start()
    assert h.task("w").status == TaskStatus.FAILED_WITH_TERMINAL_ERROR


def test_wait_until_date() -> None:
    d = definition(
        [
            {
                "name": "w",
                "taskReferenceName": "w",
                "type": "WAIT",
                "inputParameters": {"until": "2023-11-14 22:20 UTC"},
            }
        ]
    )
    h = Harness(d)
    h.start()
    assert h.task("w").status == TaskStatus.IN_PROGRESS
    assert h.wf.next_wake_at == 1_700_000_400_000


def test_human_waits_for_an_update() -> None:
    h = Harness(definition([{"name": "h", "taskReferenceName": "h", "type": "HUMAN"}]))
    h.start()
    assert h.task("h").status == TaskStatus.IN_PROGRESS
    h.complete("h", ok=1)
    assert h.status == WorkflowStatus.COMPLETED


def test_inline_javascript_result() -> None:
    d = definition(
        [
            {
                "name": "i",
                "taskReferenceName": "i",
                "type": "INLINE",
                "inputParameters": {
                    "evaluatorType": "javascript",
                    "a": 2,
                    "b": "${workflow.input.b}",
                    "expression": "(function(){ return {sum: $.a + $.b, list: [1, 2]}; })()",
                },
            }
        ]
    )
    h = Harness(d, input={"b": 3})
    h.start()
    assert h.task("i").output_data == {"result": {"sum": 5, "list": [1, 2]}}
    assert h.status == WorkflowStatus.COMPLETED


def test_inline_runaway_script_fails_its_task() -> None:
    d = definition(
        [
            {
                "name": "i",
                "taskReferenceName": "i",
                "type": "INLINE",
                "inputParameters": {"expression": "while(true){}"},
            }
        ]
    )
    h = Harness(d)
    h.start()
    i = h.task("i")
    assert i.status == TaskStatus.FAILED
    assert "time limit" in (i.reason_for_incompletion or "")
    assert h.status == WorkflowStatus.FAILED


def test_jq_transform() -> None:
    d = definition(
        [
            {
                "name": "j",
                "taskReferenceName": "j",
                "type": "JSON_JQ_TRANSFORM",
                "inputParameters": {"xs": [1, 2, 3], "queryExpression": ".xs | map(. * 2)"},
            }
        ]
    )
    h = Harness(d)
    h.start()
    assert h.task("j").output_data == {"result": [2, 4, 6], "resultList": [[2, 4, 6]]}


def test_jq_error_fails_task_with_error_output() -> None:
    d = definition(
        [
            {
                "name": "j",
                "taskReferenceName": "j",
                "type": "JSON_JQ_TRANSFORM",
                "inputParameters": {"queryExpression": '.a | error("bad")'},
            }
        ]
    )
    h = Harness(d)
    h.start()
    assert h.task("j").status == TaskStatus.FAILED
    assert "error" in h.task("j").output_data


def test_set_variable_then_read_it() -> None:
    d = definition(
        [
            {
                "name": "s",
                "taskReferenceName": "s",
                "type": "SET_VARIABLE",
                "inputParameters": {"count": "${workflow.input.n}"},
            },
            simple("a", inputParameters={"c": "${workflow.variables.count}"}),
        ]
    )
    h = Harness(d, input={"n": 4})
    h.start()
    assert h.wf.variables == {"count": 4}
    assert h.task("a").input_data == {"c": 4}


def test_set_variable_over_limit_fails_terminally() -> None:
    d = definition(
        [
            {
                "name": "s",
                "taskReferenceName": "s",
                "type": "SET_VARIABLE",
                "inputParameters": {"big": "x" * 300_000},
            }
        ]
    )
    h = Harness(d)
    h.start()
    assert h.task("s").status == TaskStatus.FAILED_WITH_TERMINAL_ERROR
    assert h.wf.variables == {}


def test_noop_completes() -> None:
    h = Harness(definition([{"name": "n", "taskReferenceName": "n", "type": "NOOP"}]))
    h.start()
    assert h.status == WorkflowStatus.COMPLETED


def test_http_task_is_queued_for_the_runner() -> None:
    h = Harness(
        definition(
            [
                {
                    "name": "h",
                    "taskReferenceName": "h",
                    "type": "HTTP",
                    "inputParameters": {"http_request": {"uri": "http://x", "method": "GET"}},
                }
            ]
        )
    )
    d = h.start()
    assert d.enqueue[0].queue_name == "HTTP"
    assert h.task("h").task_type == "HTTP"
    # The runner's lease: default connection and read timeouts (3 s each) plus 30 s.
    assert h.task("h").response_timeout_seconds == 36


def http_task(**request: Any) -> dict[str, Any]:
    return {
        "name": "h",
        "taskReferenceName": "h",
        "type": "HTTP",
        "inputParameters": {"http_request": {"uri": "http://x", "method": "GET", **request}},
    }


def test_an_http_task_whose_runner_stopped_is_offered_again() -> None:
    h = Harness(definition([http_task(connectionTimeOut=2000, readTimeOut=10_000)]))
    h.start()
    task_id = h.task("h").task_id
    assert h.task("h").response_timeout_seconds == 42  # 2 s + 10 s + 30 s
    h.poll("h", worker="legato-http@node-a")
    h.apply(__import__("legato.engine.facts", fromlist=["Tick"]).Tick())
    assert h.wf.next_wake_at == h.now + 42_000
    assert h.advance(41).enqueue == []
    d = h.advance(1)  # node-a died with the call in flight: the lease ran out
    task = h.task("h")
    assert task.task_id == task_id and task.status == TaskStatus.SCHEDULED
    assert [(e.task_id, e.queue_name) for e in d.enqueue] == [(task_id, "HTTP")]
    assert "legato-http@node-a" in d.logs[0].log and "offered again" in d.logs[0].log
    assert h.status == WorkflowStatus.RUNNING
    h.poll("h", worker="legato-http@node-b")
    h.complete("h")
    assert h.status == WorkflowStatus.COMPLETED


def test_an_http_task_with_a_defined_response_timeout_times_out_as_conductor_does() -> None:
    td = TaskDef(name="h", retry_count=0, response_timeout_seconds=20)
    h = Harness(definition([http_task()]), task_defs=[td])
    h.start()
    assert h.task("h").response_timeout_seconds == 20
    h.poll("h")
    h.advance(20)
    assert h.task("h").status == TaskStatus.TIMED_OUT
    assert h.status == WorkflowStatus.TIMED_OUT


def test_worker_retry_after_overrides_the_retry_delay() -> None:
    h = retrying(RetryLogic.FIXED)
    h.start()
    d = h.report("a", "FAILED", {}, retry_after_seconds=3)
    assert d.enqueue[0].visible_at == h.now + 3000
    assert h.task("a").retry_count == 1
