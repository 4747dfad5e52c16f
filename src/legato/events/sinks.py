"""EVENT task sinks and event handler event strings: `<provider>:<queue URI>`.

Pure functions, shared by registration-time validation (model/validation), the EVENT task
(tasks/event) and event handler validation. Only Conductor's built-in `conductor` provider is
served in this version; the external buses are recognised so that they can be refused with a
clear message instead of failing at run time.
"""

from __future__ import annotations

CONDUCTOR = "conductor"
# Conductor's external event buses (SQS, AMQP, NATS, NATS streaming, JetStream, Kafka).
EXTERNAL_PROVIDERS = frozenset(
    {"sqs", "amqp", "amqp_queue", "amqp_exchange", "nats", "nats_stream", "jsm", "kafka"}
)
ONLY_CONDUCTOR = "only the built-in conductor queue is available in this version"


class SinkError(ValueError):
    """A sink or event string this version cannot serve; the message says why."""


def provider_of(text: str) -> str:
    """The provider part of `<provider>:<queue URI>` (all of `text` when it has no colon)."""
    return text.split(":", 1)[0]


def queue_for_sink(sink: str, workflow_name: str, ref: str) -> str:
    """The event key an EVENT task publishes to, as Conductor's `Event.getQueue` names it:
    `conductor` -> `conductor:<workflowName>:<taskRefName>`,
    `conductor:<name>` -> `conductor:<workflowName>:<name>`."""
    if sink == CONDUCTOR:
        return f"{CONDUCTOR}:{workflow_name}:{ref}"
    if sink.startswith(f"{CONDUCTOR}:") and len(sink) > len(CONDUCTOR) + 1:
        return f"{CONDUCTOR}:{workflow_name}:{sink[len(CONDUCTOR) + 1 :]}"
    raise SinkError(sink_problem(sink) or f"Invalid / Unsupported sink specified: {sink}")


def sink_problem(sink: str) -> str | None:
    """Why a (resolved, or literal) sink cannot be published to; None when it can."""
    if sink == CONDUCTOR or (sink.startswith(f"{CONDUCTOR}:") and len(sink) > len(CONDUCTOR) + 1):
        return None
    provider = provider_of(sink)
    if provider in EXTERNAL_PROVIDERS:
        return (
            f"sink '{sink}' publishes to the {provider} event bus, which this version does not"
            f" support: {ONLY_CONDUCTOR} (sink 'conductor' or 'conductor:<queue>')"
        )
    if provider == CONDUCTOR:
        return f"sink '{sink}' names no queue: use 'conductor' or 'conductor:<queue>'"
    return (
        f"sink '{sink}' has no known event provider: use 'conductor' or 'conductor:<queue>'"
        f" ({ONLY_CONDUCTOR})"
    )


def literal_sink_problem(sink: str) -> str | None:
    """Registration-time check of a sink that may contain `${...}` expressions: what can be
    known before run time (its provider, when written literally)."""
    if "${" not in sink:
        return sink_problem(sink)
    head = sink.split("${", 1)[0]
    if ":" not in head:
        return None  # the provider itself comes from an expression
    provider = provider_of(head)
    if provider == CONDUCTOR:
        return None
    return sink_problem(f"{provider}:{sink.split(':', 1)[1]}")


def event_problem(event: str) -> str | None:
    """Why an event handler's `event` string cannot be listened to; None when it can."""
    provider, _, uri = event.partition(":")
    if provider != CONDUCTOR:
        return f"event '{event}': {ONLY_CONDUCTOR} (events 'conductor:<workflowName>:<queue>')"
    workflow_name, sep, queue = uri.partition(":")
    if not workflow_name or not sep or not queue:
        return (
            f"event '{event}' never fires: the built-in queue's events are"
            " 'conductor:<workflowName>:<queue>'"
        )
    return None
