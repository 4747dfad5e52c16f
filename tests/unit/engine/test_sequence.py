"""Sequences, inputs, outputs, worker updates."""

from __future__ import annotations

from legato.model import TaskDef, TaskStatus, WorkflowStatus

from .harness import T0, Harness, definition, simple


def two_steps() -> Harness:
    d = definition(
        [
            simple(
                "a", inputParameters={"x": "${workflow.input.x}", "msg": "hi ${workflow.input.x}"}
            ),
            simple("b", inputParameters={"fromA": "${a.output.y}"}),
        ],
        outputParameters={"result": "${b.output.z}"},
    )
    return Harness(d, input={"x": 7})


def test_start_schedules_first_task_with_resolved_input_and_queue_entry() -> None:
    h = two_steps()
    d = h.start()
    assert h.refs() == ["a"]
    a = h.task("a")
    assert a.status == TaskStatus.SCHEDULED
    assert a.input_data == {"x": 7, "msg": "hi 7"}
    assert a.task_type == "a" and a.seq == 1 and a.scheduled_time == T0
    assert [(e.task_id, e.queue_name, e.visible_at) for e in d.enqueue] == [(a.task_id, "a", T0)]
    assert h.status == WorkflowStatus.RUNNING


def test_completing_tasks_in_order_completes_workflow_with_output_parameters() -> None:
    h = two_steps()
    h.start()
    d = h.complete("a", y=3)
    assert h.refs() == ["a", "b"]
    assert h.task("b").input_data == {"fromA": 3}
    assert h.task("a").task_id in d.updated_tasks
    assert d.dequeue == [h.task("a").task_id]
    h.complete("b", z="done")
    assert h.status == WorkflowStatus.COMPLETED
    assert h.wf.output == {"result": "done"}
    assert h.wf.end_time == h.now


def test_without_output_parameters_the_last_task_output_is_the_workflow_output() -> None:
    h = Harness(definition([simple("a"), simple("b")]))
    h.start()
    h.complete("a", y=1)
    h.complete("b", z=2)
    assert h.wf.output == {"z": 2}


def test_update_replaces_output_and_records_worker_and_logs() -> None:
    h = two_steps()
    h.start()
    d = h.report("a", "COMPLETED", {"y": 1}, worker_id="w9", logs=("one", "two"))
    a = h.task("a")
    assert a.output_data == {"y": 1} and a.worker_id == "w9"
    assert [entry.log for entry in d.logs] == ["one", "two"]


def test_update_for_a_task_that_already_ended_changes_nothing() -> None:
    h = two_steps()
    h.start()
    h.complete("a", y=1)
    a = h.task("a")
    before = (a.output_data, a.status, len(h.wf.tasks))
    d = h.apply(
        __import__("legato.engine.facts", fromlist=["TaskUpdate"]).TaskUpdate(
            task_id=a.task_id, status=TaskStatus.FAILED, output_data={"y": 99}
        )
    )
    assert d.ignored and "already COMPLETED" in d.ignored
    assert d.empty and not d.workflow_changed
    assert (a.output_data, a.status, len(h.wf.tasks)) == before


def test_in_progress_update_offers_the_task_again_after_callback() -> None:
    h = two_steps()
    h.start()
    h.poll("a")
    d = h.report("a", "IN_PROGRESS", {"partial": 1}, callback_after_seconds=30)
    a = h.task("a")
    assert a.status == TaskStatus.SCHEDULED
    assert a.output_data == {"partial": 1}
    assert [(e.task_id, e.visible_at) for e in d.enqueue] == [(a.task_id, h.now + 30_000)]


def test_task_def_input_template_fills_missing_inputs() -> None:
    td = TaskDef(name="a", input_template={"region": "eu", "x": "default"})
    d = definition([simple("a", inputParameters={"x": "${workflow.input.missing}"})])
    h = Harness(d, task_defs=[td])
    h.start()
    assert h.task("a").input_data == {"region": "eu", "x": "default"}


def test_start_delay_delays_the_queue_entry() -> None:
    h = Harness(definition([simple("a", startDelay=5)]))
    d = h.start()
    assert d.enqueue[0].visible_at == T0 + 5000


def test_task_to_domain_routes_to_domain_queue() -> None:
    h = Harness(definition([simple("a")]), task_to_domain={"*": "blue"})
    d = h.start()
    assert d.enqueue[0].queue_name == "blue:a"
    assert h.task("a").domain == "blue"


def test_terminate_cancels_pending_tasks_and_keeps_reason() -> None:
    h = two_steps()
    h.start()
    d = h.terminate("operator said so")
    assert h.status == WorkflowStatus.TERMINATED
    assert h.wf.reason_for_incompletion == "operator said so"
    assert h.task("a").status == TaskStatus.CANCELED
    assert d.dequeue == [h.task("a").task_id]
    assert d.start_workflows == []  # no failure workflow on an operator's terminate
