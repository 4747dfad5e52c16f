"""`WorkflowBuilder`: the workflow definition, built step by step."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Self

from legato.client.dsl.steps import Step, tasks_json
from legato.client.dsl.task_def import TaskDef
from legato.errors import FieldProblem, ValidationError


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
                "tasks": tasks_json(self.steps),
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
