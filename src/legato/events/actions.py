"""What an event handler does with a message, decided without I/O.

- `condition_holds`: the handler's condition against the payload (`$` = payload, inline JSON
  strings expanded), Conductor's truthiness (`true`, or a number > 0);
- `start_request`, `task_update`, `termination`, `variables_update`: an action's parameters
  resolved with `${...}` against the payload (after `expandInlineJSON`, when the action asks),
  shaped as Conductor's `SimpleActionProcessor` shapes them.

The processor (`events.processor`) carries the results to the services.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from legato.events.model import Action, EventHandler, TaskDetails
from legato.expr.javascript import ScriptEngine, truthy
from legato.expr.params import resolve
from legato.model import StartWorkflowRequest

MESSAGE_ID_KEY = "conductor.event.messageId"
EVENT_NAME_KEY = "conductor.event.name"


# --- payloads -------------------------------------------------------------------------------
def expand_inline_json(value: Any) -> Any:
    """A copy of `value` with every string that holds a JSON object or array parsed (strings
    that look like JSON but do not parse stay as they are)."""
    if isinstance(value, dict):
        return {key: expand_inline_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [expand_inline_json(item) for item in value]
    if isinstance(value, str):
        text = value.strip()
        if text.startswith(("{", "[")):
            try:
                return expand_inline_json(orjson.loads(text))
            except orjson.JSONDecodeError:
                return value
    return value


def _context(payload: Any) -> dict[str, Any]:
    """The document `${...}` paths read: the payload itself (a non-object payload is `$`)."""
    return payload if isinstance(payload, dict) else {"$": payload}


def _resolved(action: Action, payload: Any, params: Any) -> Any:
    data = expand_inline_json(payload) if action.expand_inline_json else payload
    return resolve(params, _context(data))


# --- conditions -----------------------------------------------------------------------------
def condition_holds(handler: EventHandler, payload: Any, scripts: ScriptEngine) -> bool:
    """Whether the handler applies to this payload. Raises `ScriptError` when a JavaScript
    condition fails (call it off the event loop: the script may run for a while)."""
    condition = handler.condition
    if not condition or not condition.strip():
        return True
    expanded = expand_inline_json(payload)
    if handler.evaluator_type == "value-param":
        value = expanded.get(condition) if isinstance(expanded, dict) else None
        return truthy(value)
    return truthy(scripts.evaluate(condition, _context(expanded)))


# --- actions --------------------------------------------------------------------------------
def start_request(
    action: Action, payload: Any, event: str, message_id: str
) -> StartWorkflowRequest:
    """start_workflow: the request, its input resolved against the payload plus the message's
    id and event name (`conductor.event.messageId`, `conductor.event.name`)."""
    params = action.start_workflow
    assert params is not None and params.name
    resolved = _resolved(
        action,
        payload,
        {"name": params.name, "correlationId": params.correlation_id, "input": params.input},
    )
    workflow_input = resolved["input"] if isinstance(resolved["input"], dict) else {}
    workflow_input[MESSAGE_ID_KEY] = message_id
    workflow_input[EVENT_NAME_KEY] = event
    correlation_id = resolved["correlationId"]
    return StartWorkflowRequest(
        name=str(resolved["name"]),
        version=params.version,
        correlation_id=None if correlation_id is None else str(correlation_id),
        input=workflow_input,
        task_to_domain=dict(params.task_to_domain or {}),
    )


@dataclass(frozen=True, slots=True)
class TaskUpdate:
    """complete_task / fail_task, resolved: which task, and the output it gets."""

    workflow_id: str | None
    task_ref_name: str | None
    task_id: str | None
    output: dict[str, Any]
    reason: str | None


def task_update(
    action: Action, details: TaskDetails, payload: Any, event: str, message_id: str
) -> TaskUpdate:
    """The task's output is the resolved `output` map plus the resolved `workflowId`,
    `taskRefName` and `taskId` (those given) and the message's id and event name."""
    fields: dict[str, Any] = {}
    for key, value in (
        ("workflowId", details.workflow_id),
        ("taskRefName", details.task_ref_name),
        ("taskId", details.task_id),
    ):
        if value is not None:
            fields[key] = value
    resolved = _resolved(
        action,
        payload,
        {"fields": fields, "output": details.output, "reason": details.reason_for_incompletion},
    )
    ids = resolved["fields"]
    output = {**ids, **(resolved["output"] if isinstance(resolved["output"], dict) else {})}
    output[MESSAGE_ID_KEY] = message_id
    output[EVENT_NAME_KEY] = event
    reason = resolved["reason"]
    return TaskUpdate(
        workflow_id=_text(ids.get("workflowId")),
        task_ref_name=_text(ids.get("taskRefName")),
        task_id=_text(ids.get("taskId")),
        output=output,
        reason=None if reason is None else str(reason),
    )


def termination(action: Action, payload: Any) -> tuple[str | None, str | None]:
    """terminate_workflow: (workflow id, reason), resolved."""
    params = action.terminate_workflow
    assert params is not None
    resolved = _resolved(
        action, payload, {"id": params.workflow_id, "reason": params.termination_reason}
    )
    reason = resolved["reason"]
    return _text(resolved["id"]), None if reason is None else str(reason)


def variables_update(action: Action, payload: Any) -> tuple[str | None, dict[str, Any], bool]:
    """update_workflow_variables: (workflow id, variables, appendArray), resolved."""
    params = action.update_workflow_variables
    assert params is not None
    resolved = _resolved(action, payload, {"id": params.workflow_id, "vars": params.variables})
    variables = resolved["vars"] if isinstance(resolved["vars"], dict) else {}
    return _text(resolved["id"]), variables, bool(params.append_array)


def _text(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return value if isinstance(value, str) else str(value)
