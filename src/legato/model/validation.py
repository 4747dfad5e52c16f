"""Registration-time validation of workflow and task definitions.

Two stages, each reporting every problem it finds (never only the first):

* parsing (`parse_workflow_def`, `parse_task_def`, `parse_task_defs`) turns raw JSON into the
  pydantic models and translates pydantic's errors into `FieldProblem`s with Conductor-style
  camelCase paths (``tasks[2].taskReferenceName``);
* semantic checks (`workflow_def_problems`, `task_def_problems`) apply Conductor's rules
  (``WorkflowTaskTypeConstraint``, ``TaskReferenceNameUniqueConstraint``, ``TaskTimeoutConstraint``,
  ``ValidNameConstraint``, ``ConstraintParamUtil``) plus a few Legato adds where a definition could
  only fail at run time (JOIN placement, nested DO_WHILE, script syntax).

Expression checks come from `legato.expr`, imported lazily.
"""

from __future__ import annotations

import re
import types
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Union, get_args, get_origin

import pydantic
from pydantic import BaseModel, TypeAdapter

from legato.errors import FieldProblem, ValidationError
from legato.model.definitions import TaskDef, TaskType, WorkflowDef, WorkflowTask

__all__ = [
    "KNOWN_TASK_TYPES",
    "parse_task_def",
    "parse_task_defs",
    "parse_workflow_def",
    "task_def_problems",
    "validate_task_def",
    "validate_workflow_def",
    "workflow_def_problems",
]

NAME_PATTERN = re.compile(r"^[A-Za-z0-9_<>{}#\s-]+$")
INVALID_NAME_MESSAGE = (
    "Allowed characters are alphanumeric, underscores, spaces, hyphens, "
    "and special characters like <, >, {, }, #"
)
# Every type a definition may use: Conductor's TaskType names. FORK only appears in executions.
KNOWN_TASK_TYPES = frozenset(t.value for t in TaskType if t is not TaskType.FORK)
SWITCH_EVALUATORS = ("value-param", "javascript", "graaljs")
JS_EVALUATORS = ("javascript", "graaljs")
INLINE_EVALUATORS = ("javascript", "graaljs", "value-param")
TERMINATION_STATUSES = ("COMPLETED", "FAILED", "TERMINATED")
IDEMPOTENCY_STRATEGIES = ("FAIL", "RETURN_EXISTING", "FAIL_ON_RUNNING")
_FAILURE_WORKFLOW_EXPR = re.compile(r"^\$\{workflow\.input\.[^.\s{}\[\]]+\}$")
_FORKS = (TaskType.FORK_JOIN.value, TaskType.FORK_JOIN_DYNAMIC.value)
_TASK_DEFS_ADAPTER: TypeAdapter[list[TaskDef]] = TypeAdapter(list[TaskDef])


# ---------------------------------------------------------------------------------------------
# Parsing: raw JSON -> models, pydantic errors -> FieldProblems
# ---------------------------------------------------------------------------------------------


def parse_workflow_def(data: Any) -> WorkflowDef:
    """A `WorkflowDef` from parsed JSON; `ValidationError` listing every malformed field."""
    if isinstance(data, WorkflowDef):
        return data
    _require_object(data, "workflow definition")
    try:
        return WorkflowDef.model_validate(data)
    except pydantic.ValidationError as exc:
        raise ValidationError(
            _failed_message("workflow definition", data.get("name")),
            pydantic_problems(exc, WorkflowDef),
        ) from exc


def parse_task_def(data: Any) -> TaskDef:
    """A `TaskDef` from parsed JSON; `ValidationError` listing every malformed field."""
    if isinstance(data, TaskDef):
        return data
    _require_object(data, "task definition")
    try:
        return TaskDef.model_validate(data)
    except pydantic.ValidationError as exc:
        raise ValidationError(
            _failed_message("task definition", data.get("name")),
            pydantic_problems(exc, TaskDef),
        ) from exc


def parse_task_defs(data: Any) -> list[TaskDef]:
    """A list of `TaskDef`s from a JSON array (the body of ``POST /api/metadata/taskdefs``)."""
    if not isinstance(data, list):
        raise ValidationError(
            f"Task definitions must be a JSON array, not {_json_kind(data)}",
            [FieldProblem("", "must be an array of task definitions", _scalar_or_none(data))],
        )
    try:
        return _TASK_DEFS_ADAPTER.validate_python(data)
    except pydantic.ValidationError as exc:
        raise ValidationError(
            "Validation failed for task definitions", pydantic_problems(exc, list[TaskDef])
        ) from exc


def pydantic_problems(
    exc: pydantic.ValidationError, root: Any, prefix: str = ""
) -> list[FieldProblem]:
    """Translate pydantic's errors (validated against type `root`) into `FieldProblem`s."""
    problems: list[FieldProblem] = []
    seen: set[str] = set()
    for err in exc.errors():
        path, union = _path_of(root, err["loc"])
        full = _join(prefix, path)
        if full in seen:  # one problem per field (a union reports once per member)
            continue
        seen.add(full)
        problems.append(FieldProblem(full, _message_of(err, union), _scalar_or_none(err["input"])))
    return problems


def _require_object(data: Any, what: str) -> None:
    if not isinstance(data, dict):
        raise ValidationError(
            f"A {what} must be a JSON object, not {_json_kind(data)}",
            [FieldProblem("", "must be a JSON object", _scalar_or_none(data))],
        )


def _failed_message(what: str, name: Any) -> str:
    if isinstance(name, str) and name:
        return f"Validation failed for {what} {name}"
    return f"Validation failed for {what}"


def _path_of(root: Any, loc: tuple[int | str, ...]) -> tuple[str, tuple[Any, ...] | None]:
    """Conductor path of a pydantic `loc`, and the union members when the loc ends in one."""
    path = ""
    tp: Any = root
    union: tuple[Any, ...] | None = None
    for item in loc:
        union = None
        tp = _strip_none(tp)
        if isinstance(tp, tuple):  # a real union: `item` is the tag of the failing member
            union, tp = tp, Any
            continue
        origin = get_origin(tp)
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            name, tp = _field_of(tp, str(item))
            path = _join(path, name)
        elif origin is list and isinstance(item, int):
            path += f"[{item}]"
            tp = (get_args(tp) or (Any,))[0]
        elif origin is dict:
            path = _join(path, str(item))
            tp = (get_args(tp) or (Any, Any))[-1]
        else:
            path = path + f"[{item}]" if isinstance(item, int) else _join(path, str(item))
            tp = Any
    return path, union


def _strip_none(tp: Any) -> Any:
    """`X | None` -> X; a union of several non-None types -> a tuple of them."""
    if get_origin(tp) in (Union, types.UnionType):
        members = tuple(a for a in get_args(tp) if a is not type(None))
        return members[0] if len(members) == 1 else members
    return tp


def _field_of(model: type[BaseModel], key: str) -> tuple[str, Any]:
    for name, info in model.model_fields.items():
        if key in (name, info.alias):
            return info.alias or name, info.annotation
    return key, Any


_TYPE_NOUNS: dict[str, str] = {
    "string_type": "a string",
    "int_type": "an integer",
    "int_parsing": "an integer",
    "int_from_float": "an integer",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "a boolean",
    "bool_parsing": "a boolean",
    "dict_type": "an object",
    "model_type": "an object",
    "model_attributes_type": "an object",
    "list_type": "an array",
}
_BOUNDS = {
    "greater_than_equal": ("greater than or equal to", "ge"),
    "greater_than": ("greater than", "gt"),
    "less_than_equal": ("less than or equal to", "le"),
    "less_than": ("less than", "lt"),
}


def _message_of(err: Any, union: tuple[Any, ...] | None) -> str:
    kind = err["type"]
    ctx = err.get("ctx") or {}
    if kind == "missing":
        return "field required"
    if union is not None and kind in _TYPE_NOUNS:
        message = "must be " + " or ".join(dict.fromkeys(_type_noun(m) for m in union))
    elif kind in _TYPE_NOUNS:
        message = f"must be {_TYPE_NOUNS[kind]}"
    elif kind in _BOUNDS:
        words, key = _BOUNDS[kind]
        message = f"must be {words} {ctx.get(key)}"
    elif kind in ("enum", "literal_error"):
        message = "must be one of " + str(ctx.get("expected", "")).replace("'", "")
    else:
        text = str(err.get("msg", "is invalid"))
        message = text[:1].lower() + text[1:]
    if err.get("input", ...) is None:
        message += ", not null"
    return message


def _type_noun(tp: Any) -> str:
    tp = get_origin(tp) or tp
    if isinstance(tp, type) and issubclass(tp, BaseModel | dict):
        return "an object"
    return {str: "a string", int: "an integer", float: "a number", bool: "a boolean"}.get(
        tp, "an array" if tp is list else "a valid value"
    )


def _json_kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object" if isinstance(value, dict) else type(value).__name__


def _scalar_or_none(value: Any) -> object:
    return value if isinstance(value, str | int | float | bool) else None


# ---------------------------------------------------------------------------------------------
# Task definitions
# ---------------------------------------------------------------------------------------------


def task_def_problems(task_def: TaskDef, prefix: str = "") -> list[FieldProblem]:
    """Every semantic problem of a task definition (paths relative to `prefix`)."""
    out: list[FieldProblem] = []
    name = task_def.name

    def add(field_name: str, message: str, value: object = None) -> None:
        out.append(FieldProblem(_join(prefix, field_name), message, value))

    if not name or not name.strip():
        add("name", "TaskDef name cannot be null or empty", name)
    elif not NAME_PATTERN.match(name):
        add("name", f"Invalid name '{name}'. {INVALID_NAME_MESSAGE}", name)
    response, timeout = task_def.response_timeout_seconds, task_def.timeout_seconds
    if response < 1:
        add(
            "responseTimeoutSeconds",
            f"TaskDef responseTimeoutSeconds: {response} should be minimum 1 second",
            response,
        )
    elif timeout > 0 and response > timeout:
        add(
            "responseTimeoutSeconds",
            f"TaskDef: {name} responseTimeoutSeconds: {response} "
            f"must be less than timeoutSeconds: {timeout}",
            response,
        )
    total = task_def.total_timeout_seconds
    if timeout > 0 and total > 0 and timeout > total:
        add(
            "totalTimeoutSeconds",
            f"TaskDef: {name} timeoutSeconds: {timeout} "
            f"must be less than or equal to totalTimeoutSeconds: {total}",
            total,
        )
    per, window = task_def.rate_limit_per_frequency, task_def.rate_limit_frequency_in_seconds
    if (per is None) != (window is None):
        missing = "rateLimitFrequencyInSeconds" if window is None else "rateLimitPerFrequency"
        add(
            missing,
            "rateLimitPerFrequency and rateLimitFrequencyInSeconds must be given together",
        )
    elif per and not window:
        add(
            "rateLimitFrequencyInSeconds",
            "rateLimitFrequencyInSeconds must be at least 1 when rateLimitPerFrequency is set",
            window,
        )
    return out


def validate_task_def(task_def: TaskDef) -> None:
    """Raise `ValidationError` carrying every problem of `task_def`, if it has any."""
    problems = task_def_problems(task_def)
    if problems:
        raise ValidationError(f"Validation failed for task definition {task_def.name}", problems)


# ---------------------------------------------------------------------------------------------
# Workflow definitions
# ---------------------------------------------------------------------------------------------


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


def _is_expression(value: Any) -> bool:
    return isinstance(value, str) and "${" in value


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


# ---------------------------------------------------------------------------------------------
# Per-type rules (Conductor's WorkflowTaskTypeConstraint, plus run-time failures caught early)
# ---------------------------------------------------------------------------------------------


def _switch(c: _Check, task: WorkflowTask, path: str) -> None:
    evaluator = task.evaluator_type
    if _blank(evaluator):
        c.required(task, path, "evaluatorType")
    elif evaluator not in SWITCH_EVALUATORS:
        c.add(
            f"{path}.evaluatorType",
            f"evaluatorType must be one of {', '.join(SWITCH_EVALUATORS)}",
            evaluator,
        )
    if _blank(task.expression):
        c.required(task, path, "expression")
    elif evaluator in JS_EVALUATORS and task.expression is not None:
        c.script(f"{path}.expression", task.expression)
    _needs_cases(c, task, path)


def _decision(c: _Check, task: WorkflowTask, path: str) -> None:
    if _blank(task.case_value_param) and _blank(task.case_expression):
        c.add(
            f"{path}.caseValueParam",
            f"caseValueParam or caseExpression field is required for taskType: DECISION "
            f"taskName: {task.name}",
        )
    elif task.case_expression is not None and task.case_expression.strip():
        c.script(f"{path}.caseExpression", task.case_expression)
    _needs_cases(c, task, path)


def _needs_cases(c: _Check, task: WorkflowTask, path: str) -> None:
    if not task.decision_cases:
        c.add(
            f"{path}.decisionCases",
            f"decisionCases should have at least one case for taskType: {task.type} "
            f"taskName: {task.name}",
        )


def _do_while(c: _Check, task: WorkflowTask, path: str) -> None:
    if task.loop_condition is not None and task.loop_condition.strip():
        c.script(f"{path}.loopCondition", task.loop_condition)
    elif _blank(task.items):
        c.add(
            f"{path}.loopCondition",
            f"loopCondition (or items) field is required for taskType: DO_WHILE "
            f"taskName: {task.name}",
        )
    if task.items is not None and not _blank(task.items):
        if _is_expression(task.items):
            c.templates(f"{path}.items", task.items)
        else:
            c.add(
                f"{path}.items", "items must be a ${...} expression resolving to a list", task.items
            )
    if not task.loop_over:
        c.required(task, path, "loopOver")


def _fork_join(c: _Check, task: WorkflowTask, path: str) -> None:
    if not task.fork_tasks:
        c.add(
            f"{path}.forkTasks",
            f"forkTasks should have at least one task for taskType: FORK_JOIN taskName: {task.name}",
        )
    for number, branch in enumerate(task.fork_tasks):
        if not branch:
            c.add(f"{path}.forkTasks[{number}]", "a fork branch must contain at least one task")


def _fork_join_dynamic(c: _Check, task: WorkflowTask, path: str) -> None:
    if "forkTaskInputs" in task.input_parameters:
        return
    legacy = task.dynamic_fork_join_tasks_param
    tasks_param = task.dynamic_fork_tasks_param
    input_param = task.dynamic_fork_tasks_input_param_name
    if legacy is not None and (tasks_param is not None or input_param is not None):
        c.add(
            f"{path}.dynamicForkJoinTasksParam",
            "dynamicForkJoinTasksParam or the combination of dynamicForkTasksParam and "
            f"dynamicForkTasksInputParamName can be used for taskType: FORK_JOIN_DYNAMIC "
            f"taskName: {task.name}, not both",
            legacy,
        )
    elif legacy is None:
        if _blank(tasks_param):
            c.required(task, path, "dynamicForkTasksParam")
        if _blank(input_param):
            c.required(task, path, "dynamicForkTasksInputParamName")


def _sub_workflow(c: _Check, task: WorkflowTask, path: str) -> None:
    params = task.sub_workflow_param
    if params is None:
        c.required(task, path, "subWorkflowParam")
        return
    where = f"{path}.subWorkflowParam"
    inline = params.workflow_definition
    if isinstance(inline, str):
        if not (inline.startswith("${") and inline.endswith("}")):
            c.add(
                f"{where}.workflowDefinition",
                "workflowDefinition is a string, but not a valid DSL string (a ${...} expression)",
                inline,
            )
        else:
            c.templates(f"{where}.workflowDefinition", inline)
    elif isinstance(inline, dict):
        _inline_workflow(c, inline, f"{where}.workflowDefinition")
    elif _blank(params.name):
        c.add(f"{where}.name", "subWorkflowParam needs a name or a workflowDefinition")
    for key, value in (("name", params.name), ("idempotencyKey", params.idempotency_key)):
        if _is_expression(value):
            c.templates(f"{where}.{key}", value)
    if isinstance(params.priority, str):
        c.templates(f"{where}.priority", params.priority)
    elif isinstance(params.priority, int) and not 0 <= params.priority <= 99:
        c.add(f"{where}.priority", "priority must be between 0 and 99", params.priority)
    strategy = params.idempotency_strategy
    if strategy is not None and strategy not in IDEMPOTENCY_STRATEGIES:
        c.add(
            f"{where}.idempotencyStrategy",
            f"idempotencyStrategy must be one of {', '.join(IDEMPOTENCY_STRATEGIES)}",
            strategy,
        )


def _inline_workflow(c: _Check, data: dict[str, Any], path: str) -> None:
    prefix = _join(c.prefix, path)
    try:
        inline = WorkflowDef.model_validate(data)
    except pydantic.ValidationError as exc:
        c.problems.extend(pydantic_problems(exc, WorkflowDef, prefix))
        return
    c.problems.extend(workflow_def_problems(inline, c.task_defs, prefix))


def _event(c: _Check, task: WorkflowTask, path: str) -> None:
    from legato.events.sinks import literal_sink_problem

    if _blank(task.sink):
        c.required(task, path, "sink")
        return
    assert task.sink is not None
    if _is_expression(task.sink):
        c.templates(f"{path}.sink", task.sink)
    problem = literal_sink_problem(task.sink)
    if problem is not None:
        c.add(f"{path}.sink", problem, task.sink)


def _dynamic(c: _Check, task: WorkflowTask, path: str) -> None:
    if _blank(task.dynamic_task_name_param):
        c.required(task, path, "dynamicTaskNameParam")


def _http(c: _Check, task: WorkflowTask, path: str) -> None:
    inputs = task.input_parameters
    where = f"{path}.inputParameters"
    if "http_request" in inputs:
        request = inputs["http_request"]
        if isinstance(request, dict):
            _uri_and_method(c, request, f"{where}.http_request")
        elif not _is_expression(request):
            c.add(
                f"{where}.http_request",
                "http_request must be an object or a ${...} expression",
                _scalar_or_none(request),
            )
    elif c.from_template(task, "http_request"):
        return
    elif "uri" in inputs or "method" in inputs:
        task_def = c.task_def_for(task)
        merged = {**(task_def.input_template if task_def else {}), **inputs}
        _uri_and_method(c, merged, where)
    else:
        c.add(
            f"{where}.http_request",
            "inputParameters.http_request or inputParameters.uri field is required for "
            f"taskType: HTTP taskName: {task.name}",
        )


def _uri_and_method(c: _Check, request: Mapping[str, Any], where: str) -> None:
    for key in ("uri", "method"):
        value = request.get(key)
        if _blank(value):
            c.add(f"{where}.{key}", f"{key} is required in an HTTP request")
        elif not isinstance(value, str):
            c.add(f"{where}.{key}", f"{key} must be a string", _scalar_or_none(value))


def _required_input(key: str) -> Callable[[_Check, WorkflowTask, str], None]:
    def rule(c: _Check, task: WorkflowTask, path: str) -> None:
        if key not in task.input_parameters and not c.from_template(task, key):
            c.add(
                f"{path}.inputParameters.{key}",
                f"inputParameters.{key} field is required for taskType: {task.type} "
                f"taskName: {task.name}",
            )

    return rule


def _json_jq(c: _Check, task: WorkflowTask, path: str) -> None:
    _required_input("queryExpression")(c, task, path)
    query = task.input_parameters.get("queryExpression")
    where = f"{path}.inputParameters.queryExpression"
    if "queryExpression" not in task.input_parameters or _is_expression(query):
        return
    if not isinstance(query, str) or not query.strip():
        c.add(where, "queryExpression must be a non-empty jq expression", _scalar_or_none(query))
        return
    from legato.expr.jq import jq_syntax_error

    error = jq_syntax_error(query)
    if error is not None:
        first_line = error.strip().splitlines()[0] if error.strip() else error
        c.add(where, f"queryExpression is not a valid jq expression: {first_line}", query)


def _inline(c: _Check, task: WorkflowTask, path: str) -> None:
    inputs = task.input_parameters
    where = f"{path}.inputParameters"
    evaluator = inputs.get("evaluatorType")
    if (
        evaluator is not None
        and evaluator not in INLINE_EVALUATORS
        and not _is_expression(evaluator)
    ):
        c.add(
            f"{where}.evaluatorType",
            f"evaluatorType must be one of {', '.join(INLINE_EVALUATORS)}",
            _scalar_or_none(evaluator),
        )
    expression = inputs.get("expression")
    if _blank(expression):
        c.add(
            f"{where}.expression",
            f"inputParameters.expression field is required for taskType: INLINE "
            f"taskName: {task.name}",
        )
    elif not isinstance(expression, str):
        c.add(f"{where}.expression", "expression must be a string", _scalar_or_none(expression))
    elif (evaluator is None or evaluator in JS_EVALUATORS) and "${" not in expression:
        c.script(f"{where}.expression", expression)


def _lambda(c: _Check, task: WorkflowTask, path: str) -> None:
    body = task.input_parameters.get("scriptExpression")
    where = f"{path}.inputParameters.scriptExpression"
    if _blank(body):
        c.add(
            where,
            f"inputParameters.scriptExpression field is required for taskType: LAMBDA "
            f"taskName: {task.name}",
        )
    elif not isinstance(body, str):
        c.add(where, "scriptExpression must be a string", _scalar_or_none(body))
    elif "${" not in body:
        c.script(where, "function scriptFun(){" + body + "\n} scriptFun();", body)


def _terminate(c: _Check, task: WorkflowTask, path: str) -> None:
    if task.optional:
        c.add(f"{path}.optional", f"terminate task cannot be optional, taskName: {task.name}", True)
    status = task.input_parameters.get("terminationStatus")
    if status not in TERMINATION_STATUSES and not _is_expression(status):
        c.add(
            f"{path}.inputParameters.terminationStatus",
            "terminate task must have a terminationStatus parameter set to COMPLETED, FAILED "
            f"or TERMINATED, taskName: {task.name}",
            _scalar_or_none(status),
        )


def _wait(c: _Check, task: WorkflowTask, path: str) -> None:
    from legato.expr.durations import parse_duration, parse_until

    inputs = task.input_parameters
    where = f"{path}.inputParameters"
    given = {k: inputs[k] for k in ("duration", "until") if not _blank(inputs.get(k))}
    if len(given) == 2:
        c.add(where, "Both 'duration' and 'until' specified. Please provide only one input")
    parsers: dict[str, Callable[[str], int]] = {"duration": parse_duration, "until": parse_until}
    for key, value in given.items():
        if isinstance(value, dict | list):
            c.add(f"{where}.{key}", f"{key} must be a string")
        elif not _is_expression(value):
            try:
                parsers[key](str(value))
            except ValueError as exc:
                c.add(f"{where}.{key}", f"Unable to parse {key}: {exc}", value)


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


# ---------------------------------------------------------------------------------------------
# Paths
# ---------------------------------------------------------------------------------------------


def _join(prefix: str, path: str) -> str:
    """`prefix` + `path` with a dot unless `path` is empty or starts with an index."""
    if not prefix:
        return path
    if not path:
        return prefix
    return prefix + path if path.startswith("[") else f"{prefix}.{path}"


def _value_at(value: Any, where: str) -> object:
    """The scalar at `where` (``a.b[0]['c-d']``, as `template_problems` writes it) in `value`."""
    current = value
    for quoted, index, key in re.findall(r"\['((?:[^'\\]|\\.)*)'\]|\[(\d+)\]|([^.\[\]]+)", where):
        if index:
            if not isinstance(current, list) or int(index) >= len(current):
                return None
            current = current[int(index)]
        elif isinstance(current, dict):
            current = current.get(key or re.sub(r"\\(.)", r"\1", quoted))
        else:
            return None
    return _scalar_or_none(current)
