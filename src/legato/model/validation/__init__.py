"""Registration-time validation of workflow and task definitions.

Two stages, each reporting every problem it finds (never only the first):

* parsing (`parse_workflow_def`, `parse_task_def`, `parse_task_defs`) turns raw JSON into the
  pydantic models and translates pydantic's errors into `FieldProblem`s with Conductor-style
  camelCase paths (``tasks[2].taskReferenceName``);
* semantic checks (`workflow_def_problems`, `task_def_problems`) apply Conductor's rules
  (``WorkflowTaskTypeConstraint``, ``TaskReferenceNameUniqueConstraint``, ``TaskTimeoutConstraint``,
  ``ValidNameConstraint``, ``ConstraintParamUtil``) plus a few Legato adds where a definition could
  only fail at run time (JOIN placement, nested DO_WHILE, script syntax).

The checks live in submodules, by concept: `parsing` (raw JSON to models), `task_defs`,
`workflows` (the walk over a workflow definition), `operators` and `system_tasks` (the rules per
task type), and `common` (field paths and value tests the others share).

Expression checks come from `legato.expr`, imported lazily.
"""

from __future__ import annotations

from legato.model.validation.parsing import parse_task_def, parse_task_defs, parse_workflow_def
from legato.model.validation.parsing import pydantic_problems as pydantic_problems
from legato.model.validation.task_defs import task_def_problems, validate_task_def
from legato.model.validation.workflows import (
    KNOWN_TASK_TYPES,
    validate_workflow_def,
    workflow_def_problems,
)

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
