"""What a task type module provides to the decider."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from legato.engine.decider import Run
    from legato.model import Task, WorkflowTask

# schedule(run, workflow_task, iteration, retry_of, delay_ms): create the task(s) for a definition
# task; a sync type also runs it here and leaves it terminal.
Schedule = Callable[["Run", "WorkflowTask", int, "Task | None", int], None]
# successors(run, task): schedule what follows a successful task (default: the next task).
Successors = Callable[["Run", "Task"], None]
# evaluate(run, task): re-examine a waiting task (JOIN); True when it changed.
Evaluate = Callable[["Run", "Task"], bool]


@dataclass(frozen=True, slots=True)
class Handler:
    schedule: Schedule
    # Handed out through a queue, to workers (SIMPLE) or to in-server runners (HTTP).
    queued: bool = False
    # Run by an in-server runner whose hold is a lease: a response timeout the task definition
    # does not ask for means the runner stopped, and the task is queued again (timeouts.py).
    runner_lease: bool = False
    successors: Successors | None = None
    evaluate: Evaluate | None = None
