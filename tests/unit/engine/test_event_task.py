"""EVENT tasks publish inside the decision; event handlers' variable updates."""

from __future__ import annotations

from typing import Any

from legato.engine.facts import UpdateVariables
from legato.model import TaskStatus, WorkflowStatus

from .harness import T0, Harness, definition, simple


def event(ref: str = "notify", **fields: Any) -> dict[str, Any]:
    return {"name": ref, "taskReferenceName": ref, "type": "EVENT", **fields}


def test_event_task_completes_and_publishes_its_output_in_the_same_decision() -> None:
    h = Harness(
        definition(
            [
                event(sink="conductor:shipping", inputParameters={"order": "${workflow.input.id}"}),
                simple("next", inputParameters={"queue": "${notify.output.event_produced}"}),
            ]
        ),
        input={"id": 42},
        correlation_id="c-1",
        task_to_domain={"*": "east"},
    )
    d = h.start()
    task = h.task("notify")
    assert task.status == TaskStatus.COMPLETED and task.task_type == "EVENT"
    assert task.input_data == {"order": 42, "sink": "conductor:shipping", "asyncComplete": False}
    assert task.output_data == {
        "order": 42,
        "sink": "conductor:shipping",
        "asyncComplete": False,
        "workflowInstanceId": "wf1",
        "workflowType": "wf",
        "workflowVersion": 1,
        "correlationId": "c-1",
        "taskToDomain": {"*": "east"},
        "event_produced": "conductor:wf:shipping",
    }
    [message] = d.events
    assert message.message_id == task.task_id
    assert message.queue_name == "conductor:wf:shipping"
    assert message.payload == task.output_data
    assert message.created_time == T0
    assert h.task("next").input_data == {"queue": "conductor:wf:shipping"}
    assert not d.enqueue or [e.task_id for e in d.enqueue] == [h.task("next").task_id]


def test_bare_conductor_sink_publishes_to_the_task_reference_queue() -> None:
    h = Harness(definition([event("ping", sink="conductor")]))
    d = h.start()
    assert [m.queue_name for m in d.events] == ["conductor:wf:ping"]
    assert h.status == WorkflowStatus.COMPLETED


def test_sink_expressions_are_resolved() -> None:
    h = Harness(
        definition([event(sink="conductor:${workflow.input.queue}")]), input={"queue": "q7"}
    )
    d = h.start()
    assert [m.queue_name for m in d.events] == ["conductor:wf:q7"]
    assert h.task("notify").input_data["sink"] == "conductor:q7"


def test_async_complete_event_task_waits_in_progress_until_updated() -> None:
    h = Harness(definition([event(sink="conductor", asyncComplete=True), simple("after")]))
    d = h.start()
    assert h.statuses() == {"notify": "IN_PROGRESS"}
    assert len(d.events) == 1 and not d.enqueue
    assert h.task("notify").output_data["asyncComplete"] is True
    h.complete("notify", done=True)
    assert h.statuses() == {"notify": "COMPLETED", "after": "SCHEDULED"}
    assert h.task("notify").output_data == {"done": True}


def test_a_sink_resolving_to_an_external_bus_fails_the_task_without_publishing() -> None:
    h = Harness(definition([event(sink="${workflow.input.sink}")]), input={"sink": "sqs:orders"})
    d = h.start()
    task = h.task("notify")
    assert task.status == TaskStatus.FAILED
    assert task.reason_for_incompletion is not None
    assert "sqs event bus" in task.reason_for_incompletion
    assert d.events == []
    assert h.status == WorkflowStatus.FAILED


def test_a_missing_sink_fails_the_task() -> None:
    h = Harness(definition([event(sink="${workflow.input.nothing}")]))
    d = h.start()
    assert h.task("notify").reason_for_incompletion == "No sink specified in task"
    assert d.events == []


def test_each_loop_iteration_publishes_its_own_message() -> None:
    loop = {
        "name": "loop",
        "taskReferenceName": "loop",
        "type": "DO_WHILE",
        "loopCondition": "$.loop['iteration'] < 2",
        "loopOver": [event("tick", sink="conductor:ticks")],
    }
    h = Harness(definition([loop]))
    h.start()
    published = [m for d in h.decisions for m in d.events]
    assert [m.queue_name for m in published] == ["conductor:wf:ticks"] * 2
    assert len({m.message_id for m in published}) == 2
    assert h.status == WorkflowStatus.COMPLETED


def test_update_variables_merges_and_appends() -> None:
    h = Harness(definition([simple("a")]), variables={"seen": ["x"], "n": 1})
    h.start()
    d = h.apply(UpdateVariables({"seen": "y", "n": 2, "new": True}, append_array=True))
    assert h.wf.variables == {"seen": ["x", "y"], "n": 2, "new": True}
    assert d.workflow_changed and d.ignored is None
    h.apply(UpdateVariables({"seen": ["z"]}))
    assert h.wf.variables["seen"] == ["z"]


def test_update_variables_past_the_size_limit_changes_nothing() -> None:
    h = Harness(definition([simple("a")]))
    h.start()
    d = h.apply(UpdateVariables({"big": "x" * 300_000}))
    assert d.ignored is not None and "permissible limit" in d.ignored
    assert h.wf.variables == {}
