"""The task types Legato runs, and how each is handled. Adding a type: one module + one line."""

from __future__ import annotations

from legato.tasks import (
    do_while,
    dynamic,
    event,
    fork_join,
    http,
    scripts,
    simple_sync,
    start_workflow,
    sub_workflow,
    switch,
    terminate,
    variables,
    worker,
)
from legato.tasks.base import Handler

SYSTEM_HANDLERS: dict[str, Handler] = {
    "SWITCH": switch.SWITCH,
    "DECISION": switch.SWITCH,
    "FORK_JOIN": fork_join.FORK,
    "FORK": fork_join.FORK,
    "JOIN": fork_join.JOIN,
    "EXCLUSIVE_JOIN": fork_join.EXCLUSIVE_JOIN,
    "FORK_JOIN_DYNAMIC": dynamic.FORK_JOIN_DYNAMIC,
    "DYNAMIC": dynamic.DYNAMIC,
    "START_WORKFLOW": start_workflow.HANDLER,
    "DO_WHILE": do_while.HANDLER,
    "SUB_WORKFLOW": sub_workflow.HANDLER,
    "INLINE": scripts.INLINE,
    "LAMBDA": scripts.LAMBDA,
    "JSON_JQ_TRANSFORM": scripts.JSON_JQ_TRANSFORM,
    "SET_VARIABLE": variables.HANDLER,
    "TERMINATE": terminate.HANDLER,
    "WAIT": simple_sync.WAIT,
    "HUMAN": simple_sync.HUMAN,
    "NOOP": simple_sync.NOOP,
    "HTTP": http.HANDLER,
    "EVENT": event.HANDLER,
}

WORKER_TYPES = frozenset({"SIMPLE", "USER_DEFINED"})

# Conductor types this build does not run yet: registration rejects definitions using them.
UNSUPPORTED_TYPES = frozenset(
    {
        "KAFKA_PUBLISH",
    }
)


def handler_for(task_type: str) -> Handler:
    return SYSTEM_HANDLERS.get(task_type, worker.HANDLER)


def is_worker_type(task_type: str) -> bool:
    return task_type not in SYSTEM_HANDLERS
