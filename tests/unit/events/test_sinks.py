"""EVENT sinks and event handler event strings."""

from __future__ import annotations

import pytest

from legato.events.sinks import (
    SinkError,
    event_problem,
    literal_sink_problem,
    queue_for_sink,
    sink_problem,
)


@pytest.mark.parametrize(
    ("sink", "queue"),
    [
        ("conductor", "conductor:orders:notify"),
        ("conductor:shipping", "conductor:orders:shipping"),
        ("conductor:other_flow:q", "conductor:orders:other_flow:q"),
    ],
)
def test_conductor_sinks_name_a_queue_of_the_workflow(sink: str, queue: str) -> None:
    assert queue_for_sink(sink, "orders", "notify") == queue
    assert sink_problem(sink) is None


def test_a_bare_conductor_sink_in_a_loop_names_the_iteration_ref_like_conductor() -> None:
    assert queue_for_sink("conductor", "orders", "notify__2") == "conductor:orders:notify__2"


@pytest.mark.parametrize(
    "sink", ["sqs:q", "amqp_queue:q", "amqp_exchange:x", "nats:s", "nats_stream:s", "jsm:s"]
)
def test_external_buses_are_refused_naming_the_sink_and_the_bus(sink: str) -> None:
    problem = sink_problem(sink)
    assert problem is not None
    assert f"sink '{sink}'" in problem
    assert f"the {sink.split(':')[0]} event bus" in problem
    assert "only the built-in conductor queue" in problem
    with pytest.raises(SinkError, match="event bus"):
        queue_for_sink(sink, "wf", "ref")


@pytest.mark.parametrize("sink", ["conductor:", "conductorx", "myqueue", "foo:bar"])
def test_malformed_or_unknown_sinks_are_refused(sink: str) -> None:
    assert sink_problem(sink) is not None
    with pytest.raises(SinkError):
        queue_for_sink(sink, "wf", "ref")


@pytest.mark.parametrize(
    ("sink", "refused"),
    [
        ("conductor:${workflow.input.q}", False),
        ("${workflow.input.sink}", False),  # the provider itself comes at run time
        ("kafka:${workflow.input.topic}", True),
        ("sqs:queue", True),
        ("conductor", False),
    ],
)
def test_registration_checks_what_a_sink_with_expressions_shows(sink: str, refused: bool) -> None:
    assert (literal_sink_problem(sink) is not None) is refused


@pytest.mark.parametrize(
    ("event", "words"),
    [
        ("conductor:orders:shipping", None),
        ("sqs:orders", "only the built-in conductor queue is available in this version"),
        ("kafka:topic", "only the built-in conductor queue is available in this version"),
        ("conductor:orders", "never fires"),
        ("conductor", "never fires"),
        ("conductor::q", "never fires"),
    ],
)
def test_handlers_listen_only_to_workflow_queues_of_the_builtin_provider(
    event: str, words: str | None
) -> None:
    problem = event_problem(event)
    if words is None:
        assert problem is None
    else:
        assert problem is not None and words in problem
