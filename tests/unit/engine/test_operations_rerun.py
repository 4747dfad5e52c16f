"""Restart and rerun on the pure decider: the run that ended is archived, then runs again."""

from __future__ import annotations

from typing import Any

from legato.engine.facts import ChildRevived, Rerun, Restart
from legato.model import TaskStatus, WorkflowStatus

from .harness import Harness, definition, simple
from .test_operations import fork, loop, once


def finished(h: Harness, *refs: str) -> None:
    for ref in refs:
        h.complete(ref, done=ref)


# ---------------------------------------------------------------------------- restart
def test_restart_archives_the_run_and_starts_again_under_the_same_id() -> None:
    h = Harness(definition([simple("a"), once("b")], variables={"v": 0}), input={"n": 1})
    h.start()
    h.complete("a", x=1)
    h.fail("b", "broken")
    h.wf.variables["v"] = 9
    old = [t.task_id for t in h.wf.tasks]
    h.now += 60_000
    d = h.apply(Restart())
    assert h.status == WorkflowStatus.RUNNING
    assert h.wf.workflow_id == "wf1" and h.wf.input == {"n": 1}
    assert (h.wf.create_time, h.wf.end_time, h.wf.output) == (h.now, 0, {})
    assert h.wf.reason_for_incompletion is None and h.wf.failed_reference_task_names == []
    assert h.wf.variables == {"v": 0}
    assert sorted(d.removed_tasks) == sorted(old)
    assert h.refs() == ["a"] and h.task("a").seq == 1 and h.task("a").task_id not in old
    [archived] = d.archived_runs
    assert archived.run == 1 and h.wf.archived_runs == 1
    assert archived.doc["status"] == "FAILED" and archived.doc["workflowId"] == "wf1"
    assert [t["taskId"] for t in archived.doc["tasks"]] == old
    assert archived.doc["tasks"][0]["outputData"] == {"x": 1}
    assert "workflowDefinition" not in archived.doc
    h.complete("a")
    h.complete("b")
    assert h.status == WorkflowStatus.COMPLETED


def test_restart_with_a_new_definition() -> None:
    h = Harness(definition([simple("a")]))
    h.start()
    h.complete("a")
    d = h.apply(Restart(definition([simple("z"), simple("a")], version=2)))
    assert d.definition_changed and h.wf.workflow_version == 2
    assert h.refs() == ["z"]
    h.complete("z")
    assert h.refs() == ["z", "a"]


def test_restart_of_a_running_workflow_is_ignored() -> None:
    h = Harness(definition([simple("a")]))
    h.start()
    assert h.apply(Restart()).ignored
    assert h.refs() == ["a"]


def test_restarting_a_child_revives_its_parent() -> None:
    h = Harness(definition([once("a")]), parent_workflow_id="p", parent_workflow_task_id="pt")
    h.start()
    h.fail("a")
    d = h.apply(Restart())
    assert d.revive_parent is not None and d.revive_parent.operation == "restarted"


def test_each_restart_archives_one_more_run() -> None:
    h = Harness(definition([simple("a")]))
    h.start()
    runs = []
    for _ in range(3):
        h.complete("a")
        runs += [r.run for r in h.apply(Restart()).archived_runs]
    assert runs == [1, 2, 3] and h.wf.archived_runs == 3


# ---------------------------------------------------------------------------- rerun
def test_rerun_from_the_start_with_new_input_and_correlation_id() -> None:
    h = Harness(definition([simple("a", inputParameters={"n": "${workflow.input.n}"})]))
    h.start()
    h.complete("a")
    created = h.wf.create_time
    d = h.apply(Rerun(workflow_input={"n": 2}, correlation_id="c2"))
    assert (h.wf.input, h.wf.correlation_id, h.wf.create_time) == ({"n": 2}, "c2", created)
    assert h.task("a").input_data == {"n": 2} and len(h.wf.tasks) == 1
    assert len(d.archived_runs) == 1 and len(d.removed_tasks) == 1


def test_rerun_from_a_task_keeps_what_came_before_and_redoes_the_rest() -> None:
    h = Harness(
        definition([simple("a"), simple("b", inputParameters={"x": "${a.output.x}"}), simple("c")])
    )
    h.start()
    h.complete("a", x=1)
    b = h.task("b")
    h.complete("b")
    h.complete("c")
    a = h.task("a")
    d = h.apply(Rerun(task_id=b.task_id, task_input={"x": "new"}))
    assert h.status == WorkflowStatus.RUNNING
    assert h.task("a") is a and a.status == TaskStatus.COMPLETED
    assert h.refs() == ["a", "b"]
    again = h.task("b")
    assert again.task_id != b.task_id and again.seq == 2
    assert again.input_data == {"x": "new"} and again.status == TaskStatus.SCHEDULED
    assert len(d.removed_tasks) == 2  # b and c
    assert [t["referenceTaskName"] for t in d.archived_runs[0].doc["tasks"]] == ["a", "b", "c"]
    h.complete("b")
    h.complete("c")
    assert h.status == WorkflowStatus.COMPLETED


def test_rerun_from_a_branch_task_brings_back_the_other_branch_and_the_join() -> None:
    h = Harness(
        definition(
            [
                *fork(
                    [simple("a1"), simple("a2")], [simple("b1"), simple("b2")], join_on=["a2", "b2"]
                ),
                simple("after"),
            ]
        )
    )
    h.start()
    a1 = h.task("a1")
    finished(h, "b1", "a1", "b2", "a2", "after")  # seq: fork a1 b1 join b2 a2 after
    assert h.status == WorkflowStatus.COMPLETED
    h.apply(Rerun(task_id=a1.task_id))
    # a1 and everything scheduled after it (the other branch and the join too) was dropped;
    # the fork schedules the other branch's head and the join again.
    assert h.status == WorkflowStatus.RUNNING
    assert h.statuses() == {
        "fork": "COMPLETED",
        "a1": "SCHEDULED",
        "b1": "SCHEDULED",
        "join": "IN_PROGRESS",
    }
    finished(h, "a1", "b1", "a2", "b2")
    assert h.task("join").status == TaskStatus.COMPLETED
    h.complete("after")
    assert h.status == WorkflowStatus.COMPLETED


def test_rerun_from_a_later_branch_task_keeps_the_finished_branch() -> None:
    h = Harness(
        definition([*fork([simple("a1")], [simple("b1"), simple("b2")], join_on=["a1", "b2"])])
    )
    h.start()
    finished(h, "a1", "b1", "b2")  # seq: fork a1 b1 join b2
    b2 = h.task("b2")
    a1 = h.task("a1")
    h.apply(Rerun(task_id=b2.task_id))
    assert h.task("a1") is a1 and a1.status == TaskStatus.COMPLETED
    join = h.task("join")
    assert join.status == TaskStatus.IN_PROGRESS  # the join waits again
    h.complete("b2")
    assert join.status == TaskStatus.COMPLETED
    assert h.status == WorkflowStatus.COMPLETED


def test_rerun_from_a_loop_iteration_rewinds_the_loop() -> None:
    h = Harness(definition([loop([simple("s1"), simple("s2")]), simple("after")]))
    h.start()
    finished(h, "s1__1", "s2__1", "s1__2", "s2__2", "s1__3", "s2__3", "after")
    assert h.status == WorkflowStatus.COMPLETED
    target = h.task("s2__2")
    h.apply(Rerun(task_id=target.task_id))
    lp = h.task("loop")
    assert lp.status == TaskStatus.IN_PROGRESS and lp.iteration == 2
    assert set(lp.output_data) == {"1", "iteration"}
    assert h.refs() == ["loop", "s1__1", "s2__1", "s1__2", "s2__2"]
    finished(h, "s2__2", "s1__3", "s2__3")
    assert lp.status == TaskStatus.COMPLETED and set(lp.output_data) >= {"1", "2", "3"}
    h.complete("after")
    assert h.status == WorkflowStatus.COMPLETED


def test_rerun_also_retries_what_failed_before_the_task() -> None:
    h = Harness(
        definition([*fork([once("a1")], [simple("b1"), simple("b2")], join_on=["a1", "b2"])])
    )
    h.start()
    h.complete("b1")  # seq: fork a1 b1 join b2
    b2 = h.task("b2")
    h.fail("a1")
    assert h.status == WorkflowStatus.FAILED
    h.apply(Rerun(task_id=b2.task_id))
    assert h.statuses()["a1"] == "SCHEDULED"  # a new attempt of the failed branch
    assert h.task("a1").retry_count == 1
    h.complete("a1")
    h.complete("b2")
    assert h.status == WorkflowStatus.COMPLETED


def test_rerun_of_an_unknown_task_is_ignored() -> None:
    h = Harness(definition([simple("a")]))
    h.start()
    h.complete("a")
    assert h.apply(Rerun(task_id="nope")).ignored
    assert h.status == WorkflowStatus.COMPLETED


def test_rerun_inside_a_child_sends_the_overrides_to_the_named_parent() -> None:
    h = Harness(definition([once("a")]), parent_workflow_id="p", parent_workflow_task_id="pt")
    h.start()
    h.fail("a")
    a = h.task("a")
    d = h.apply(Rerun(task_id=a.task_id, workflow_input={"n": 1}, overrides_for="p"))
    assert h.wf.input == {}  # not this workflow's
    revival = d.revive_parent
    assert revival is not None
    assert (revival.workflow_input, revival.overrides_for) == ({"n": 1}, "p")


def test_a_parent_applies_the_rerun_overrides_meant_for_it() -> None:
    sub: dict[str, Any] = {
        "name": "sub",
        "taskReferenceName": "sub",
        "type": "SUB_WORKFLOW",
        "subWorkflowParam": {"name": "child", "version": 1},
    }
    child = definition([simple("c")]).model_copy(update={"name": "child"})
    h = Harness(definition([sub]), workflow_defs=[child])
    h.start()
    task = h.task("sub")
    h.child_finished("sub", WorkflowStatus.FAILED, {})
    d = h.apply(
        ChildRevived(
            task.task_id,
            task.sub_workflow_id or "",
            "reran",
            workflow_input={"n": 5},
            correlation_id="c9",
            overrides_for="wf1",
        )
    )
    assert (h.wf.input, h.wf.correlation_id) == ({"n": 5}, "c9")
    assert d.revive_parent is None


def completed_parent() -> tuple[Harness, Any]:
    sub: dict[str, Any] = {
        "name": "sub",
        "taskReferenceName": "sub",
        "type": "SUB_WORKFLOW",
        "subWorkflowParam": {"name": "child", "version": 1},
    }
    child = definition([simple("c")]).model_copy(update={"name": "child"})
    h = Harness(definition([simple("a"), sub, simple("after")]), workflow_defs=[child])
    h.start()
    h.complete("a")
    task = h.task("sub")
    h.child_finished("sub", WorkflowStatus.COMPLETED, {"v": 1})
    h.complete("after")
    assert h.status == WorkflowStatus.COMPLETED
    return h, task


def test_a_child_run_again_reruns_its_completed_parent_from_the_sub_workflow_task() -> None:
    h, task = completed_parent()
    a = h.task("a")
    d = h.apply(ChildRevived(task.task_id, task.sub_workflow_id or "", "restarted"))
    assert h.status == WorkflowStatus.RUNNING
    assert len(d.archived_runs) == 1  # what followed the task is dropped: keep it readable
    assert [t.task_id for t in h.wf.tasks] == [a.task_id, task.task_id]
    assert task.status == TaskStatus.IN_PROGRESS and not task.executed
    h.child_finished("sub", WorkflowStatus.COMPLETED, {"v": 2})
    assert h.refs() == ["a", "sub", "after"]  # runs again on the new result
    h.complete("after")
    assert h.status == WorkflowStatus.COMPLETED


def test_a_running_parent_that_has_gone_on_is_left_alone() -> None:
    h, task = completed_parent()
    h.wf.status = WorkflowStatus.RUNNING  # (as if `after` were still running)
    d = h.apply(ChildRevived(task.task_id, task.sub_workflow_id or "", "restarted"))
    assert d.ignored and task.status == TaskStatus.COMPLETED
