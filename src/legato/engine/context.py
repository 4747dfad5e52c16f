"""What the decider may consult besides the execution: definitions, scripts, ids, randomness."""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from legato.expr.javascript import ScriptEngine
from legato.model import TaskDef, WorkflowDef


def _new_id() -> str:
    return str(uuid.uuid4())


@dataclass(slots=True)
class EngineContext:
    """Read-only lookups for the decider. Lookups must not do I/O: the service preloads them."""

    task_def: Callable[[str], TaskDef | None]
    workflow_def: Callable[[str, int | None], WorkflowDef | None]
    scripts: ScriptEngine
    new_id: Callable[[], str] = field(default=_new_id)
    random: Callable[[], float] = field(default=random.random)
    # When a worker last polled (task type, domain) on this node, epoch ms; for domain fallback.
    last_poll: Callable[[str, str | None], int | None] = field(default=lambda _t, _d: None)
    max_variables_bytes: int = 256 * 1024
