"""The operators: one function per Conductor task type, each returning a `Step`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

from legato.client.dsl.steps import TASK_DEFAULTS, Named, Step, name_of, params_of, task_options
from legato.errors import FieldProblem, ValidationError


def task(
    target: str | Named,
    ref: str | None = None,
    *,
    input: Mapping[str, Any] | None = None,
    optional: bool = False,
    retry_count: int | None = None,
    start_delay: int = 0,
    description: str | None = None,
) -> Step:
    """A worker task (SIMPLE), by its worker function or task name; `ref` defaults to it."""
    name = name_of(target)
    fields = {"inputParameters": params_of(input)}
    fields.update(
        task_options(
            optional=optional,
            start_delay=start_delay,
            retry_count=retry_count,
            description=description,
        )
    )
    worker = None if isinstance(target, str) else target
    return Step(ref or name, "SIMPLE", name, fields, worker=worker)


def switch(
    ref: str,
    *,
    value: str | None = None,
    script: str | None = None,
    cases: Mapping[str, Sequence[Step]],
    default: Sequence[Step] = (),
    input: Mapping[str, Any] | None = None,
) -> Step:
    """SWITCH on `value` (an expression: the case whose key equals it runs) or on a JavaScript
    `script` evaluated over `input` (as `$.name`)."""
    if (value is None) == (script is None):
        raise ValidationError(
            f"switch {ref!r}: give exactly one of value= or script=",
            [FieldProblem(f"{ref}.expression", "give exactly one of value= or script=")],
        )
    fields: dict[str, Any]
    if value is not None:
        params = {**params_of(input), "switchCaseValue": value}
        fields = {
            "inputParameters": params,
            "evaluatorType": "value-param",
            "expression": "switchCaseValue",
        }
    else:
        fields = {
            "inputParameters": params_of(input),
            "evaluatorType": "graaljs",
            "expression": script,
        }
    return Step(
        ref,
        "SWITCH",
        ref,
        fields,
        cases=tuple((key, tuple(steps)) for key, steps in cases.items()),
        default=tuple(default),
    )


def fork(ref: str, branches: Sequence[Sequence[Step]], *, join_ref: str | None = None) -> Step:
    """FORK_JOIN running `branches` in parallel, followed by the JOIN that waits for the last
    step of each; `step.output(...)` reads the JOIN's output (by branch reference name)."""
    join_on = [branch[-1].ref for branch in branches if branch]
    join = {
        "name": join_ref or f"{ref}_join",
        "taskReferenceName": join_ref or f"{ref}_join",
        "type": "JOIN",
        **TASK_DEFAULTS,
        "joinOn": join_on,
    }
    return Step(ref, "FORK_JOIN", ref, {}, branches=tuple(tuple(b) for b in branches), join=join)


def do_while(
    ref: str,
    condition: str,
    body: Sequence[Step],
    *,
    input: Mapping[str, Any] | None = None,
    items: str | None = None,
) -> Step:
    """DO_WHILE: run `body` until the JavaScript `condition` is false (`$.ref['iteration']`,
    `$.name` for each `input` entry); with `items`, once per element of that list."""
    fields: dict[str, Any] = {"inputParameters": params_of(input), "loopCondition": condition}
    if items is not None:
        fields["items"] = items
    return Step(ref, "DO_WHILE", ref, fields, body=tuple(body))


def sub_workflow(
    ref: str,
    workflow: str | Named,
    version: int | None = None,
    *,
    input: Mapping[str, Any] | None = None,
    optional: bool = False,
) -> Step:
    """SUB_WORKFLOW: run another workflow (by name or builder) and wait for its end."""
    param: dict[str, Any] = {"name": name_of(workflow)}
    if version is None and not isinstance(workflow, str):
        version = getattr(workflow, "version", None)
    if version is not None:
        param["version"] = version
    fields = {"inputParameters": params_of(input), "subWorkflowParam": param}
    fields.update(task_options(optional=optional))
    return Step(ref, "SUB_WORKFLOW", ref, fields)


def duration_text(value: timedelta | int | str) -> str:
    """A WAIT duration: text as is, seconds or a timedelta as `1d 2h 3m 4s`."""
    if isinstance(value, str):
        return value
    seconds = int(value.total_seconds()) if isinstance(value, timedelta) else int(value)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [
        f"{n}{unit}" for n, unit in ((days, "d"), (hours, "h"), (minutes, "m"), (secs, "s")) if n
    ]
    return " ".join(parts) or "0s"


def wait(
    ref: str, *, duration: timedelta | int | str | None = None, until: str | None = None
) -> Step:
    """WAIT for a `duration` (`timedelta`, seconds, or text such as `"1 hour"`), until a
    moment (`"2026-01-31 18:00 UTC"`), or (neither) until a signal completes it."""
    params: dict[str, Any] = {}
    if duration is not None:
        params["duration"] = duration_text(duration)
    if until is not None:
        params["until"] = until
    return Step(ref, "WAIT", ref, {"inputParameters": params})


def human(ref: str, *, input: Mapping[str, Any] | None = None) -> Step:
    """HUMAN: waits until someone (or something) updates it by reference name."""
    return Step(ref, "HUMAN", ref, {"inputParameters": params_of(input)})


def http(
    ref: str,
    uri: str,
    *,
    method: str = "GET",
    body: Any = None,
    headers: Mapping[str, str] | None = None,
    accept: str = "application/json",
    content_type: str = "application/json",
    optional: bool = False,
) -> Step:
    """HTTP: the server calls `uri` and the task's output is the answer."""
    request: dict[str, Any] = {
        "uri": uri,
        "method": method,
        "accept": accept,
        "contentType": content_type,
    }
    if body is not None:
        request["body"] = body
    if headers:
        request["headers"] = dict(headers)
    fields: dict[str, Any] = {"inputParameters": {"http_request": request}}
    fields.update(task_options(optional=optional))
    return Step(ref, "HTTP", ref, fields)


def inline(ref: str, script: str, *, input: Mapping[str, Any] | None = None) -> Step:
    """INLINE JavaScript over `input` (as `$.name`); its value is `output.result`."""
    params = {**params_of(input), "evaluatorType": "graaljs", "expression": script}
    return Step(ref, "INLINE", ref, {"inputParameters": params})


def jq(ref: str, query: str, *, input: Mapping[str, Any] | None = None) -> Step:
    """JSON_JQ_TRANSFORM: `query` over `input`; the value is `output.result`."""
    params = {**params_of(input), "queryExpression": query}
    return Step(ref, "JSON_JQ_TRANSFORM", ref, {"inputParameters": params})


def set_variable(ref: str, variables: Mapping[str, Any]) -> Step:
    """SET_VARIABLE: set workflow variables (read them with `variable(name)`)."""
    return Step(ref, "SET_VARIABLE", ref, {"inputParameters": dict(variables)})


def terminate(
    ref: str,
    status: str = "COMPLETED",
    *,
    reason: str | None = None,
    output: Mapping[str, Any] | None = None,
) -> Step:
    """TERMINATE the workflow with `status` (COMPLETED, FAILED or TERMINATED)."""
    params: dict[str, Any] = {"terminationStatus": status}
    if reason is not None:
        params["terminationReason"] = reason
    if output is not None:
        params["workflowOutput"] = dict(output)
    return Step(ref, "TERMINATE", ref, {"inputParameters": params})


def noop(ref: str) -> Step:
    return Step(ref, "NOOP", ref, {})


def event(ref: str, sink: str, *, input: Mapping[str, Any] | None = None) -> Step:
    """EVENT: publish the task's input to `sink` (`conductor:<queue>`, ...)."""
    return Step(ref, "EVENT", ref, {"inputParameters": params_of(input), "sink": sink})


def dynamic(ref: str, task_name: str, *, input: Mapping[str, Any] | None = None) -> Step:
    """DYNAMIC: a worker task whose type is the value of `task_name` (an expression)."""
    params = {**params_of(input), "taskToExecute": task_name}
    return Step(
        ref, "DYNAMIC", ref, {"inputParameters": params, "dynamicTaskNameParam": "taskToExecute"}
    )
