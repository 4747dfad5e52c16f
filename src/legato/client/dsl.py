"""Workflow definitions as code: a small fluent builder over Conductor's operators.

    from legato.client import dsl

    flow = (
        dsl.workflow("checkout", version=1)
        .then(validate := dsl.task(validate_order, input={"order": dsl.input("order")}))
        .then(dsl.switch("route", value=validate.output("size"),
                         cases={"big": [dsl.human("approval")]}))
        .then(dsl.task(charge, input={"total": validate.output("total")}))
        .output(receipt=dsl.ref("charge").output("receipt"))
    )
    client.register(flow)          # its task definitions, then the workflow definition

Operators are functions returning `Step`s; a worker task is referenced by its function
(anything with a `name`), so the task name in the definition is the one the worker polls.
`to_json()` is Conductor's JSON with every default spelled out, exactly what the server
answers for it, so a definition round-trips unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Protocol, Self

from legato.errors import FieldProblem, ValidationError

__all__ = [
    "Step",
    "TaskDef",
    "WorkflowBuilder",
    "do_while",
    "dynamic",
    "event",
    "fork",
    "http",
    "human",
    "inline",
    "input",
    "jq",
    "noop",
    "ref",
    "set_variable",
    "sub_workflow",
    "switch",
    "task",
    "terminate",
    "variable",
    "wait",
    "workflow",
]


class Named(Protocol):
    """A worker task (or anything) that knows its task type name."""

    @property
    def name(self) -> str: ...


# --------------------------------------------------------------------------- task definitions
@dataclass(frozen=True, slots=True)
class TaskDef:
    """Conductor's TaskDef options for a worker task (`@worker_task(..., task_def=TaskDef(...))`);
    the name comes from the worker. Defaults are the server's."""

    retry_count: int = 3
    retry_logic: str = "FIXED"  # FIXED, LINEAR_BACKOFF, EXPONENTIAL_BACKOFF
    retry_delay_seconds: int = 60
    backoff_scale_factor: int = 1
    max_retry_delay_seconds: int = 0
    response_timeout_seconds: int = 3600
    timeout_seconds: int = 0
    timeout_policy: str = "TIME_OUT_WF"  # RETRY, TIME_OUT_WF, ALERT_ONLY
    poll_timeout_seconds: int | None = None
    total_timeout_seconds: int = 0
    concurrent_exec_limit: int | None = None
    rate_limit_per_frequency: int | None = None
    rate_limit_frequency_in_seconds: int | None = None
    description: str | None = None
    owner_email: str | None = None
    input_keys: tuple[str, ...] = ()
    output_keys: tuple[str, ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self, name: str) -> dict[str, Any]:
        out: dict[str, Any] = {"name": name}
        for attr in self.__slots__:
            if attr == "extra":
                continue
            value = getattr(self, attr)
            if value is None:
                continue
            out[_camel(attr)] = list(value) if isinstance(value, tuple) else value
        out.update(self.extra)
        return out


def _camel(snake: str) -> str:
    head, *rest = snake.split("_")
    return head + "".join(part.title() for part in rest)


# --------------------------------------------------------------------------- expressions
def input(path: str) -> str:
    """`${workflow.input.<path>}`"""
    return f"${{workflow.input.{path}}}"


def variable(path: str) -> str:
    """`${workflow.variables.<path>}`"""
    return f"${{workflow.variables.{path}}}"


@dataclass(frozen=True, slots=True)
class _Ref:
    name: str

    def output(self, path: str | None = None) -> str:
        return f"${{{self.name}.output.{path}}}" if path else f"${{{self.name}.output}}"

    def input(self, path: str | None = None) -> str:
        return f"${{{self.name}.input.{path}}}" if path else f"${{{self.name}.input}}"


def ref(name: str) -> _Ref:
    """Expressions on a task by reference name: `ref("charge").output("receipt")`."""
    return _Ref(name)


# --------------------------------------------------------------------------- steps
_TASK_DEFAULTS: dict[str, Any] = {
    "inputParameters": {},
    "optional": False,
    "startDelay": 0,
    "asyncComplete": False,
    "decisionCases": {},
    "defaultCase": [],
    "forkTasks": [],
    "joinOn": [],
    "defaultExclusiveJoinTask": [],
    "permissive": False,
    "loopOver": [],
}


@dataclass(frozen=True, slots=True)
class Step:
    """One operator of a definition: one WorkflowTask (two for a fork: FORK_JOIN and JOIN)."""

    ref: str
    type: str
    name: str
    fields: Mapping[str, Any] = field(default_factory=dict)
    cases: tuple[tuple[str, tuple[Step, ...]], ...] = ()  # SWITCH
    default: tuple[Step, ...] = ()  # SWITCH
    branches: tuple[tuple[Step, ...], ...] = ()  # FORK_JOIN
    body: tuple[Step, ...] = ()  # DO_WHILE
    worker: Any = None  # the worker task a SIMPLE step was built from
    join: Mapping[str, Any] | None = None  # the JOIN that follows a fork

    def output(self, path: str | None = None) -> str:
        """An expression on this step's output (the JOIN's, for a fork)."""
        target = self.join["taskReferenceName"] if self.join else self.ref
        return _Ref(target).output(path)

    def input(self, path: str | None = None) -> str:
        return _Ref(self.ref).input(path)

    def to_json(self) -> list[dict[str, Any]]:
        """The WorkflowTask JSON of this step (a list: a fork is followed by its JOIN)."""
        out: dict[str, Any] = {
            "name": self.name,
            "taskReferenceName": self.ref,
            "type": self.type,
            **_TASK_DEFAULTS,
        }
        out.update(self.fields)
        if self.cases:
            out["decisionCases"] = {case: _tasks_json(steps) for case, steps in self.cases}
        if self.default:
            out["defaultCase"] = _tasks_json(self.default)
        if self.branches:
            out["forkTasks"] = [_tasks_json(branch) for branch in self.branches]
        if self.body:
            out["loopOver"] = _tasks_json(self.body)
        tasks = [out]
        if self.join is not None:
            tasks.append(dict(self.join))
        return tasks

    def walk(self) -> Iterator[Step]:
        """This step, then every step nested in it, depth first."""
        yield self
        nested = [*(s for _case, steps in self.cases for s in steps), *self.default]
        nested += [s for branch in self.branches for s in branch]
        nested += self.body
        for step in nested:
            yield from step.walk()


def _tasks_json(steps: Iterable[Step]) -> list[dict[str, Any]]:
    return [t for step in steps for t in step.to_json()]


def _name_of(target: str | Named) -> str:
    if isinstance(target, str):
        return target
    name = getattr(target, "name", None)
    if not isinstance(name, str) or not name:
        raise TypeError(f"expected a task name or a worker task, not {target!r}")
    return name


def _params(input: Mapping[str, Any] | None) -> dict[str, Any]:
    return dict(input or {})


def _options(
    *, optional: bool = False, start_delay: int = 0, retry_count: int | None = None,
    description: str | None = None,
) -> dict[str, Any]:  # fmt: skip
    out: dict[str, Any] = {}
    if optional:
        out["optional"] = True
    if start_delay:
        out["startDelay"] = start_delay
    if retry_count is not None:
        out["retryCount"] = retry_count
    if description is not None:
        out["description"] = description
    return out


# --------------------------------------------------------------------------- operators
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
    name = _name_of(target)
    fields = {"inputParameters": _params(input)}
    fields.update(
        _options(
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
        params = {**_params(input), "switchCaseValue": value}
        fields = {
            "inputParameters": params,
            "evaluatorType": "value-param",
            "expression": "switchCaseValue",
        }
    else:
        fields = {
            "inputParameters": _params(input),
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
        **_TASK_DEFAULTS,
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
    fields: dict[str, Any] = {"inputParameters": _params(input), "loopCondition": condition}
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
    param: dict[str, Any] = {"name": _name_of(workflow)}
    if version is None and not isinstance(workflow, str):
        version = getattr(workflow, "version", None)
    if version is not None:
        param["version"] = version
    fields = {"inputParameters": _params(input), "subWorkflowParam": param}
    fields.update(_options(optional=optional))
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
    return Step(ref, "HUMAN", ref, {"inputParameters": _params(input)})


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
    fields.update(_options(optional=optional))
    return Step(ref, "HTTP", ref, fields)


def inline(ref: str, script: str, *, input: Mapping[str, Any] | None = None) -> Step:
    """INLINE JavaScript over `input` (as `$.name`); its value is `output.result`."""
    params = {**_params(input), "evaluatorType": "graaljs", "expression": script}
    return Step(ref, "INLINE", ref, {"inputParameters": params})


def jq(ref: str, query: str, *, input: Mapping[str, Any] | None = None) -> Step:
    """JSON_JQ_TRANSFORM: `query` over `input`; the value is `output.result`."""
    params = {**_params(input), "queryExpression": query}
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
    return Step(ref, "EVENT", ref, {"inputParameters": _params(input), "sink": sink})


def dynamic(ref: str, task_name: str, *, input: Mapping[str, Any] | None = None) -> Step:
    """DYNAMIC: a worker task whose type is the value of `task_name` (an expression)."""
    params = {**_params(input), "taskToExecute": task_name}
    return Step(
        ref, "DYNAMIC", ref, {"inputParameters": params, "dynamicTaskNameParam": "taskToExecute"}
    )


# --------------------------------------------------------------------------- the workflow
class WorkflowBuilder:
    """A workflow definition under construction; `then` appends steps and returns the builder."""

    def __init__(
        self,
        name: str,
        version: int = 1,
        *,
        description: str | None = None,
        owner_email: str | None = None,
        input_parameters: Iterable[str] = (),
        timeout_seconds: int = 0,
        timeout_policy: str = "ALERT_ONLY",
        failure_workflow: str | None = None,
        restartable: bool = True,
        variables: Mapping[str, Any] | None = None,
    ) -> None:
        self.name = name
        self.version = version
        self.description = description
        self.owner_email = owner_email
        self.input_parameters = list(input_parameters)
        self.timeout_seconds = timeout_seconds
        self.timeout_policy = timeout_policy
        self.failure_workflow = failure_workflow
        self.restartable = restartable
        self.variables = dict(variables or {})
        self.steps: list[Step] = []
        self.output_parameters: dict[str, Any] = {}

    def then(self, *steps: Step) -> Self:
        self.steps.extend(steps)
        return self

    def output(self, **parameters: Any) -> Self:
        """The workflow's `outputParameters` (expressions over its tasks)."""
        self.output_parameters.update(parameters)
        return self

    def walk(self) -> Iterator[Step]:
        for step in self.steps:
            yield from step.walk()

    def task_defs(self) -> list[dict[str, Any]]:
        """TaskDef JSON of each worker task used here that declares a `task_def`."""
        out: dict[str, dict[str, Any]] = {}
        for step in self.walk():
            spec = getattr(step.worker, "task_def", None)
            if spec is not None and step.name not in out:
                out[step.name] = (
                    spec.to_json(step.name)
                    if isinstance(spec, TaskDef)
                    else {"name": step.name, **spec}
                )
        return list(out.values())

    def to_json(self) -> dict[str, Any]:
        """The WorkflowDef JSON; `ValidationError` if two tasks share a reference name."""
        self._check_refs()
        out: dict[str, Any] = {"name": self.name}
        if self.description is not None:
            out["description"] = self.description
        out.update(
            {
                "version": self.version,
                "tasks": _tasks_json(self.steps),
                "inputParameters": self.input_parameters,
                "outputParameters": self.output_parameters,
                "schemaVersion": 2,
                "restartable": self.restartable,
                "workflowStatusListenerEnabled": False,
                "timeoutPolicy": self.timeout_policy,
                "timeoutSeconds": self.timeout_seconds,
                "variables": self.variables,
                "inputTemplate": {},
            }
        )
        if self.failure_workflow is not None:
            out["failureWorkflow"] = self.failure_workflow
        if self.owner_email is not None:
            out["ownerEmail"] = self.owner_email
        return out

    def _check_refs(self) -> None:
        seen: set[str] = set()
        problems = []
        for step in self.walk():
            refs = [step.ref] + ([step.join["taskReferenceName"]] if step.join else [])
            for r in refs:
                if r in seen:
                    problems.append(
                        FieldProblem("taskReferenceName", f"used by more than one task: {r}", r)
                    )
                seen.add(r)
        if problems:
            raise ValidationError(
                f"workflow {self.name}: task reference names must be unique "
                "(pass ref= to tell two uses of one worker apart)",
                problems,
            )


def workflow(name: str, version: int = 1, **options: Any) -> WorkflowBuilder:
    """Start building a workflow definition (options: see `WorkflowBuilder`)."""
    return WorkflowBuilder(name, version, **options)
