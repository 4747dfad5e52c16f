"""Semantic checks of workflow definitions. `workflow_def_problems` walks every task, nested
ones included, with one `_Check`: the rules all tasks share (names, unique reference names,
known types, FORK/JOIN placement, nested DO_WHILE, input templates), then the task type's own
rule from `_RULES` (defined in `operators` and `system_tasks`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from legato.errors import FieldProblem, ValidationError
from legato.model.definitions import TaskDef, TaskType, WorkflowDef, WorkflowTask
from legato.model.validation.common import _join, _value_at
from legato.model.validation.operators import (
    _decision,
    _do_while,
    _dynamic,
    _fork_join,
    _fork_join_dynamic,
    _sub_workflow,
    _switch,
    _terminate,
    _wait,
)
from legato.model.validation.system_tasks import (
    _event,
    _http,
    _inline,
    _json_jq,
    _lambda,
    _required_input,
)
from legato.model.validation.task_defs import INVALID_NAME_MESSAGE, NAME_PATTERN, task_def_problems

# Every type a definition may use: Conductor's TaskType names. FORK only appears in executions.
KNOWN_TASK_TYPES = frozenset(t.value for t in TaskType if t is not TaskType.FORK)
_FAILURE_WORKFLOW_EXPR = re.compile(r"^\$\{workflow\.input\.[^.\s{}\[\]]+\}$")
_FORKS = (TaskType.FORK_JOIN.value, TaskType.FORK_JOIN_DYNAMIC.value)


def validate_workflow_def(
    definition: WorkflowDef, task_defs: Mapping[str, TaskDef] | None = None
) -> None:
    """Raise `ValidationError` carrying every problem of `definition`, if it has any."""
    problems = workflow_def_problems(definition, task_defs)
    if problems:
        raise ValidationError(
            f"Validation failed for workflow definition {definition.name}", problems
        )


def workflow_def_problems(
    definition: WorkflowDef,
    task_defs: Mapping[str, TaskDef] | None = None,
    prefix: str = "",
) -> list[FieldProblem]:
    """Every semantic problem of `definition`, in definition order.

    `task_defs` are the registered task definitions by name; they can supply inputs through
    their `inputTemplate` (``http_request``, ``kafka_request``, ``queryExpression``).
    """
    refs = frozenset(t.task_reference_name for t in definition.walk() if t.task_reference_name)
    check = _Check(definition, task_defs or {}, refs, prefix)
    check.workflow()
    return check.problems


@dataclass
class _Check:
    definition: WorkflowDef
    task_defs: Mapping[str, TaskDef]
    refs: frozenset[str]
    prefix: str
    problems: list[FieldProblem] = field(default_factory=list)
    first_use: dict[str, str] = field(default_factory=dict)

    def add(self, path: str, message: str, value: object = None) -> None:
        self.problems.append(FieldProblem(_join(self.prefix, path), message, value))

    def templates(self, path: str, value: Any) -> None:
        from legato.expr.params import template_problems

        for where, message in template_problems(value, self.refs):
            self.add(_join(path, where), message, _value_at(value, where))

    # -- the definition ---------------------------------------------------------------------

    def workflow(self) -> None:
        wf = self.definition
        if not wf.name or not wf.name.strip():
            self.add("name", "WorkflowDef name cannot be null or empty", wf.name)
        elif not NAME_PATTERN.match(wf.name):
            self.add("name", f"Invalid name '{wf.name}'. {INVALID_NAME_MESSAGE}", wf.name)
        if wf.schema_version != 2:
            self.add(
                "schemaVersion", "workflowDef schemaVersion: 2 is only supported", wf.schema_version
            )
        if wf.timeout_seconds < 0:
            self.add("timeoutSeconds", "must be greater than or equal to 0", wf.timeout_seconds)
        failure = wf.failure_workflow
        if failure and "${" in failure and not _FAILURE_WORKFLOW_EXPR.match(failure):
            self.add(
                "failureWorkflow",
                "failureWorkflow expression must have the form ${workflow.input.<key>}",
                failure,
            )
        if not wf.tasks:
            self.add("tasks", "WorkflowTask list cannot be empty")
        self.task_list(wf.tasks, "tasks", loop=None)
        if wf.output_parameters:
            self.templates("outputParameters", wf.output_parameters)

    def task_list(self, tasks: list[WorkflowTask], path: str, loop: str | None) -> None:
        for index, task in enumerate(tasks):
            here = f"{path}[{index}]"
            self.task(task, here, loop)
            before = tasks[index - 1] if index > 0 else None
            after = tasks[index + 1] if index + 1 < len(tasks) else None
            if task.type in _FORKS and (after is None or after.type != TaskType.JOIN):
                self.add(
                    here,
                    f"{task.type} '{task.task_reference_name}' must be immediately followed "
                    "by a JOIN task",
                )
            if task.type == TaskType.JOIN:
                self.join(task, here, before)

    def task(self, task: WorkflowTask, path: str, loop: str | None) -> None:
        ref = task.task_reference_name
        if not task.name or not task.name.strip():
            self.add(f"{path}.name", "WorkflowTask name cannot be empty or null", task.name)
        if not ref or not ref.strip():
            self.add(
                f"{path}.taskReferenceName",
                "WorkflowTask taskReferenceName cannot be empty or null",
                ref,
            )
        else:
            if "__" in ref:
                self.add(
                    f"{path}.taskReferenceName",
                    f"taskReferenceName '{ref}' must not contain '__' "
                    "(reserved for loop iteration suffixes)",
                    ref,
                )
            if ref in self.first_use:
                self.add(
                    f"{path}.taskReferenceName",
                    f"taskReferenceName: {ref} should be unique across tasks for a given "
                    f"workflowDefinition: {self.definition.name} "
                    f"(already used at {self.first_use[ref]})",
                    ref,
                )
            else:
                self.first_use[ref] = _join(self.prefix, path)

        if task.type not in KNOWN_TASK_TYPES:
            hint = "; FORK is an execution type, use FORK_JOIN" if task.type == "FORK" else ""
            self.add(f"{path}.type", f"unknown task type '{task.type}'{hint}", task.type)
        else:
            rule = _RULES.get(task.type)
            if rule is not None:
                rule(self, task, path)
        if task.type == TaskType.DO_WHILE and loop is not None:
            self.add(
                f"{path}.type",
                f"nested DO_WHILE is not supported (inside DO_WHILE at {loop})",
                task.type,
            )
        if task.input_parameters:
            self.templates(f"{path}.inputParameters", task.input_parameters)
        if task.task_definition is not None:
            self.problems.extend(
                task_def_problems(
                    task.task_definition, _join(self.prefix, f"{path}.taskDefinition")
                )
            )

        inner_loop = _join(self.prefix, path) if task.type == TaskType.DO_WHILE else loop
        for case, branch in task.decision_cases.items():
            self.task_list(branch, f"{path}.decisionCases.{case}", inner_loop)
        self.task_list(task.default_case, f"{path}.defaultCase", inner_loop)
        for number, branch in enumerate(task.fork_tasks):
            self.task_list(branch, f"{path}.forkTasks[{number}]", inner_loop)
        self.task_list(task.loop_over, f"{path}.loopOver", inner_loop)

    def join(self, task: WorkflowTask, path: str, before: WorkflowTask | None) -> None:
        if before is None or before.type not in _FORKS:
            self.add(
                path,
                f"JOIN '{task.task_reference_name}' must immediately follow a FORK_JOIN or "
                "FORK_JOIN_DYNAMIC task",
            )
            return
        if before.type == TaskType.FORK_JOIN_DYNAMIC:
            return  # the branches are only known at run time
        inside = {t.task_reference_name for b in before.fork_tasks for t in _walk(b)}
        for number, joined in enumerate(task.join_on):
            if joined not in inside:
                self.add(
                    f"{path}.joinOn[{number}]",
                    f"joinOn '{joined}' is not a task of the preceding FORK_JOIN "
                    f"'{before.task_reference_name}'",
                    joined,
                )

    # -- helpers for the per-type rules -------------------------------------------------------

    def required(self, task: WorkflowTask, path: str, what: str) -> None:
        self.add(
            f"{path}.{what}",
            f"{what} field is required for taskType: {task.type} taskName: {task.name}",
        )

    def script(self, path: str, source: str, shown: str | None = None) -> None:
        from legato.expr.javascript import syntax_error

        error = syntax_error(source)
        if error is not None:
            self.add(path, f"Expression is not well formatted: {error}", shown or source)

    def task_def_for(self, task: WorkflowTask) -> TaskDef | None:
        return task.task_definition or self.task_defs.get(task.name)

    def from_template(self, task: WorkflowTask, key: str) -> bool:
        task_def = self.task_def_for(task)
        return task_def is not None and key in task_def.input_template


def _walk(tasks: Iterable[WorkflowTask]) -> Iterable[WorkflowTask]:
    for task in tasks:
        yield task
        for branch in task.children():
            yield from _walk(branch)


# ---------------------------------------------------------------------------------------------
# Per-type rules (Conductor's WorkflowTaskTypeConstraint, plus run-time failures caught early)
# ---------------------------------------------------------------------------------------------


_RULES: dict[str, Callable[[_Check, WorkflowTask, str], None]] = {
    TaskType.SWITCH: _switch,
    TaskType.DECISION: _decision,
    TaskType.DO_WHILE: _do_while,
    TaskType.FORK_JOIN: _fork_join,
    TaskType.FORK_JOIN_DYNAMIC: _fork_join_dynamic,
    TaskType.SUB_WORKFLOW: _sub_workflow,
    TaskType.EVENT: _event,
    TaskType.DYNAMIC: _dynamic,
    TaskType.HTTP: _http,
    TaskType.KAFKA_PUBLISH: _required_input("kafka_request"),
    TaskType.JSON_JQ_TRANSFORM: _json_jq,
    TaskType.INLINE: _inline,
    TaskType.LAMBDA: _lambda,
    TaskType.TERMINATE: _terminate,
    TaskType.WAIT: _wait,
}
