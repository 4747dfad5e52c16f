"""Operator facts on the pure decider: pause, resume, retry, skip, upgrade, callbacks."""

from __future__ import annotations

from typing import Any

import pytest

from legato.engine import operations
from legato.engine.facts import (
    ChildRevived,
    Pause,
    ResetCallbacks,
    Resume,
    Retry,
    SkipTask,
    Terminate,
    Upgrade,
)
from legato.model import TaskStatus, WorkflowStatus

from .harness import Harness, definition, simple


def once(ref: str, **fields: Any) -> dict[str, Any]:
    """A worker task that fails the workflow at its first failure."""
    return simple(ref, retryCount=0, **fields)


def fork(*branches: list[dict[str, Any]], join_on: list[str]) -> list[dict[str, Any]]:
    return [
        {"name": "fork", "taskReferenceName": "fork", "type": "FORK_JOIN", "forkTasks": branches},
        {"name": "join", "taskReferenceName": "join", "type": "JOIN", "joinOn": join_on},
    ]


def loop(body: list[dict[str, Any]], condition: str = "$.loop['iteration'] < 3") -> dict[str, Any]:
    return {
        "name": "loop",
        "taskReferenceName": "loop",
        "type": "DO_WHILE",
        "loopCondition": condition,
        "loopOver": body,
    }


# ---------------------------------------------------------------------------- pause, resume
def test_pause_holds_back_what_follows_and_resume_schedules_it() -> None:
    h = Harness(definition([simple("a"), simple("b")]))
    h.start()
    h.apply(Pause())
    assert h.status == WorkflowStatus.PAUSED
    h.complete("a")  # a running task may still finish ...
    assert h.refs() == ["a"]  # ... but nothing new is scheduled
    assert h.wf.next_wake_at is None
    h.now += 5_000
    d = h.apply(Resume())
    assert h.status == WorkflowStatus.RUNNING
    assert h.wf.last_retried_time == h.now
    assert h.refs() == ["a", "b"]
    assert [e.task_id for e in d.enqueue] == [h.task("b").task_id]


def test_pause_and_resume_are_ignored_when_they_do_not_apply() -> None:
    h = Harness(definition([simple("a")]))
    h.start()
    assert h.apply(Resume()).ignored
    h.apply(Pause())
    assert h.apply(Pause()).ignored
    assert h.status == WorkflowStatus.PAUSED


def test_timeouts_wait_while_paused() -> None:
    h = Harness(
        definition([simple("a", taskDefinition={"name": "a", "responseTimeoutSeconds": 5})])
    )
    h.start()
    h.poll("a")
    first = h.task("a")
    h.apply(Pause())
    h.advance(60)
    assert first.status == TaskStatus.IN_PROGRESS  # not checked while paused
    h.apply(Resume())  # checked again at once: the worker has been silent too long
    assert first.status == TaskStatus.TIMED_OUT and first.retried
    assert h.task("a").status == TaskStatus.SCHEDULED


# ---------------------------------------------------------------------------- retry
def test_retry_adds_a_new_attempt_and_keeps_the_failed_one() -> None:
    h = Harness(definition([simple("a"), once("b", inputParameters={"x": "${a.output.x}"})]))
    h.start()
    h.complete("a", x=1)
    failed = h.task("b")
    h.fail("b", "no")
    assert h.status == WorkflowStatus.FAILED
    assert [t.task_id for t in operations.retriable_tasks(h.wf)] == [failed.task_id]
    h.now += 1000
    d = h.apply(Retry())
    assert h.status == WorkflowStatus.RUNNING
    assert h.wf.reason_for_incompletion is None and h.wf.last_retried_time == h.now
    again = h.task("b")
    assert again.task_id != failed.task_id
    assert (again.retried_task_id, again.retry_count, again.status) == (
        failed.task_id,
        1,
        TaskStatus.SCHEDULED,
    )
    assert again.input_data == {"x": 1}
    assert failed.retried and failed.status == TaskStatus.FAILED
    assert [e.task_id for e in d.enqueue] == [again.task_id]
    assert h.refs() == ["a", "b", "b"]
    h.complete("b")
    assert h.status == WorkflowStatus.COMPLETED


def test_retry_after_terminate_runs_the_canceled_tasks_again() -> None:
    h = Harness(definition([simple("a"), simple("b")]))
    h.start()
    h.terminate("oops")
    assert h.task("a").status == TaskStatus.CANCELED
    h.apply(Retry())
    assert h.statuses() == {"a": "SCHEDULED"}
    h.complete("a")
    h.complete("b")
    assert h.status == WorkflowStatus.COMPLETED


def test_retry_in_a_fork_retries_the_failed_branch_and_the_join_waits_again() -> None:
    h = Harness(definition([*fork([once("a1")], [simple("b1")], join_on=["a1", "b1"])]))
    h.start()
    join = h.task("join")
    h.fail("a1")
    assert h.status == WorkflowStatus.FAILED
    assert h.task("b1").status == TaskStatus.CANCELED
    h.apply(Retry())
    assert h.task("join") is join and join.status == TaskStatus.IN_PROGRESS
    assert join.retry_count == 1
    assert h.statuses() == {
        "fork": "COMPLETED",
        "a1": "SCHEDULED",
        "b1": "SCHEDULED",
        "join": "IN_PROGRESS",
    }
    h.complete("a1", a=1)
    h.complete("b1", b=2)
    assert join.status == TaskStatus.COMPLETED
    assert h.status == WorkflowStatus.COMPLETED


def test_retry_in_a_loop_continues_from_the_failed_iteration() -> None:
    h = Harness(definition([loop([once("step")]), simple("after")]))
    h.start()
    h.complete("step__1")
    h.fail("step__2")
    assert h.task("loop").status == TaskStatus.FAILED
    h.apply(Retry())
    assert h.task("loop").status == TaskStatus.IN_PROGRESS
    assert h.task("loop").iteration == 2
    assert h.task("step__2").retry_count == 1
    h.complete("step__2")
    h.complete("step__3")
    assert h.task("loop").status == TaskStatus.COMPLETED
    h.complete("after")
    assert h.status == WorkflowStatus.COMPLETED


def test_retry_of_a_loop_that_failed_its_condition_checks_it_again() -> None:
    h = Harness(definition([loop([simple("step")], condition="$.loop.nope.x")]))
    h.start()
    h.complete("step__1")
    assert h.task("loop").status == TaskStatus.FAILED_WITH_TERMINAL_ERROR
    h.apply(Retry())  # the condition still fails: the loop fails again, nothing else runs
    assert h.task("loop").status == TaskStatus.FAILED_WITH_TERMINAL_ERROR
    assert h.status == WorkflowStatus.FAILED
    assert h.refs() == ["loop", "step__1"]


def test_retry_of_a_timed_out_workflow_restarts_its_clock() -> None:
    h = Harness(definition([simple("a")], timeoutSeconds=10, timeoutPolicy="TIME_OUT_WF"))
    h.start()
    h.advance(11)
    assert h.status == WorkflowStatus.TIMED_OUT
    h.apply(Retry())
    assert h.status == WorkflowStatus.RUNNING
    assert h.wf.next_wake_at == h.now + 10_000
    h.advance(5)
    assert h.status == WorkflowStatus.RUNNING


def test_nothing_to_retry_in_a_completed_workflow() -> None:
    h = Harness(definition([simple("a")]))
    h.start()
    h.complete("a")
    assert operations.retriable_tasks(h.wf) == []
    assert h.apply(Retry()).ignored
    assert h.status == WorkflowStatus.COMPLETED


def test_retry_of_a_running_workflow_is_ignored() -> None:
    h = Harness(definition([simple("a")]))
    h.start()
    assert h.apply(Retry()).ignored


def test_retrying_a_child_revives_its_parent() -> None:
    h = Harness(definition([once("a")]), parent_workflow_id="p1", parent_workflow_task_id="pt1")
    h.start()
    h.fail("a")
    d = h.apply(Retry())
    assert d.revive_parent is not None
    assert (d.revive_parent.parent_workflow_id, d.revive_parent.parent_task_id) == ("p1", "pt1")
    assert (d.revive_parent.child_id, d.revive_parent.operation) == ("wf1", "retried")


def sub_def() -> list[dict[str, Any]]:
    return [
        simple("before"),
        *fork(
            [
                {
                    "name": "sub",
                    "taskReferenceName": "sub",
                    "type": "SUB_WORKFLOW",
                    "subWorkflowParam": {"name": "child", "version": 1},
                }
            ],
            [simple("side")],
            join_on=["sub", "side"],
        ),
        simple("after"),
    ]


def test_a_revived_child_brings_its_ended_parent_back() -> None:
    child = definition([simple("c")]).model_copy(update={"name": "child"})
    h = Harness(
        definition(sub_def()),
        workflow_defs=[child],
        parent_workflow_id="gp",
        parent_workflow_task_id="gpt",
    )
    h.start()
    h.complete("before")
    sub = h.task("sub")
    h.child_finished("sub", WorkflowStatus.FAILED, {})
    assert h.status == WorkflowStatus.FAILED
    assert h.task("side").status == TaskStatus.CANCELED
    assert h.wf.failed_reference_task_names == ["sub"]
    d = h.apply(ChildRevived(sub.task_id, sub.sub_workflow_id or "", "retried"))
    assert h.status == WorkflowStatus.RUNNING
    assert h.wf.failed_reference_task_names == []
    assert h.task("sub") is sub and sub.status == TaskStatus.IN_PROGRESS
    assert h.task("side").status == TaskStatus.SCHEDULED  # canceled by the failure: again
    assert h.task("join").status == TaskStatus.IN_PROGRESS
    assert [log.log for log in d.logs] == [f"Sub workflow {sub.sub_workflow_id} retried."]
    assert d.revive_parent is not None and d.revive_parent.parent_workflow_id == "gp"
    h.child_finished("sub", WorkflowStatus.COMPLETED, {"v": 1})
    h.complete("side")
    h.complete("after")
    assert h.status == WorkflowStatus.COMPLETED


def test_child_revived_is_ignored_for_a_superseded_attempt() -> None:
    child = definition([simple("c")]).model_copy(update={"name": "child"})
    h = Harness(definition(sub_def()), workflow_defs=[child])
    h.start()
    h.complete("before")
    sub = h.task("sub")
    d = h.apply(ChildRevived(sub.task_id, "another-child", "retried"))
    assert d.ignored and sub.status == TaskStatus.IN_PROGRESS


# ---------------------------------------------------------------------------- skip
def test_skipped_task_is_passed_over_with_its_output() -> None:
    d = definition(
        [simple("a"), simple("b"), simple("c", inputParameters={"x": "${b.output.x}"})],
        outputParameters={"x": "${b.output.x}"},
    )
    h = Harness(d)
    h.start()
    h.apply(SkipTask("b", {"in": 1}, {"x": 42}))
    marker = h.task("b")
    assert marker.status == TaskStatus.SKIPPED and marker.executed
    assert (marker.input_data, marker.output_data) == ({"in": 1}, {"x": 42})
    assert h.task("a").status == TaskStatus.SCHEDULED  # a still runs; c waits for it
    h.complete("a")
    assert h.task("c").input_data == {"x": 42}
    h.complete("c")
    assert h.status == WorkflowStatus.COMPLETED
    assert h.wf.output == {"x": 42}


def test_skipping_the_last_tasks_completes_the_workflow_after_the_current_one() -> None:
    h = Harness(definition([simple("a"), simple("b"), simple("c")]))
    h.start()
    h.apply(SkipTask("b"))
    h.apply(SkipTask("c"))
    h.complete("a")
    assert h.status == WorkflowStatus.COMPLETED
    assert h.statuses() == {"a": "COMPLETED", "b": "SKIPPED", "c": "SKIPPED"}


def test_skipping_the_end_of_a_branch_lets_the_join_go_on() -> None:
    h = Harness(
        definition([*fork([simple("a1"), simple("a2")], [simple("b1")], join_on=["a2", "b1"])])
    )
    h.start()
    h.apply(SkipTask("a2", {}, {"s": 1}))
    h.complete("a1")
    h.complete("b1")
    assert h.task("join").status == TaskStatus.COMPLETED
    assert h.task("join").output_data == {"a2": {"s": 1}}


@pytest.mark.parametrize(
    ("ref", "status", "words"),
    [
        ("a", 409, "scheduled already"),
        ("nope", 404, "No task nope"),
        ("join", 400, "fork and its join"),
        ("step", 400, "DO_WHILE"),
    ],
)
def test_skip_refusals(ref: str, status: int, words: str) -> None:
    h = Harness(
        definition([simple("a"), loop([simple("step")]), *fork([simple("x")], join_on=["x"])])
    )
    h.start()
    refusal = operations.skip_refusal(h.wf, ref)
    assert refusal is not None and refusal[0] == status and words in refusal[1]
    assert h.apply(SkipTask(ref)).ignored


def test_skip_refused_unless_running() -> None:
    h = Harness(definition([simple("a"), simple("b")]))
    h.start()
    h.apply(Pause())
    refusal = operations.skip_refusal(h.wf, "b")
    assert refusal is not None and refusal[0] == 409


# ---------------------------------------------------------------------------- upgrade
def test_upgrade_continues_under_the_new_version_skipping_what_it_passed() -> None:
    v1 = definition([simple("a"), simple("b")])
    v2 = definition([simple("x"), simple("a"), simple("y"), simple("b"), simple("c")], version=2)
    h = Harness(v1)
    h.start()
    h.complete("a")
    assert operations.upgrade_refusal(h.wf, v2) is None
    d = h.apply(Upgrade(v2, {"extra": 1}, {"x": {"o": 1}}))
    assert d.definition_changed and h.wf.workflow_version == 2
    assert h.wf.input == {"extra": 1}
    assert h.statuses() == {"a": "COMPLETED", "b": "SCHEDULED", "x": "SKIPPED", "y": "SKIPPED"}
    assert h.task("x").output_data == {"o": 1}
    h.complete("b")
    assert h.refs()[-1] == "c"
    h.complete("c")
    assert h.status == WorkflowStatus.COMPLETED


def test_upgrade_refused_when_a_running_task_is_not_in_the_new_version() -> None:
    h = Harness(definition([simple("a")]))
    h.start()
    refusal = operations.upgrade_refusal(h.wf, definition([simple("z")], version=2))
    assert refusal is not None and "a" in refusal


# ---------------------------------------------------------------------------- callbacks, terminate
def test_reset_callbacks_makes_a_delayed_task_pollable_now() -> None:
    h = Harness(definition([simple("a")]))
    h.start()
    h.report("a", "IN_PROGRESS", {}, callback_after_seconds=300)
    task = h.task("a")
    assert task.status == TaskStatus.SCHEDULED and task.callback_after_seconds == 300
    d = h.apply(ResetCallbacks())
    assert task.callback_after_seconds == 0
    assert [(e.task_id, e.visible_at) for e in d.enqueue] == [(task.task_id, h.now)]


def test_terminate_can_trigger_the_failure_workflow() -> None:
    handler = definition([simple("n")]).model_copy(update={"name": "cleanup"})
    h = Harness(definition([simple("a")], failureWorkflow="cleanup"), workflow_defs=[handler])
    h.start()
    d = h.apply(Terminate("stop", trigger_failure_workflow=True))
    assert h.status == WorkflowStatus.TERMINATED
    [start] = d.start_workflows
    assert start.definition.name == "cleanup" and start.input["reason"] == "stop"
