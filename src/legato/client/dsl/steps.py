"""Steps (one operator each, as Conductor WorkflowTask JSON) and the expressions over them."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol


class Named(Protocol):
    """A worker task (or anything) that knows its task type name."""

    @property
    def name(self) -> str: ...


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


TASK_DEFAULTS: dict[str, Any] = {
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
            **TASK_DEFAULTS,
        }
        out.update(self.fields)
        if self.cases:
            out["decisionCases"] = {case: tasks_json(steps) for case, steps in self.cases}
        if self.default:
            out["defaultCase"] = tasks_json(self.default)
        if self.branches:
            out["forkTasks"] = [tasks_json(branch) for branch in self.branches]
        if self.body:
            out["loopOver"] = tasks_json(self.body)
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


def tasks_json(steps: Iterable[Step]) -> list[dict[str, Any]]:
    return [t for step in steps for t in step.to_json()]


def name_of(target: str | Named) -> str:
    if isinstance(target, str):
        return target
    name = getattr(target, "name", None)
    if not isinstance(name, str) or not name:
        raise TypeError(f"expected a task name or a worker task, not {target!r}")
    return name


def params_of(input: Mapping[str, Any] | None) -> dict[str, Any]:
    return dict(input or {})


def task_options(
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
