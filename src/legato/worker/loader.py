"""Find the worker tasks a module declares, for `legato worker MODULE[:ATTRIBUTE]`.

A module declares its workers explicitly: a list named by ATTRIBUTE, else its `workers`
attribute, else every `WorkerTask` defined at its top level (in definition order). Importing
the module registers nothing anywhere; this only reads its namespace.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import Any

from legato.worker.task import WorkerTask

__all__ = ["WorkerLoadError", "load_workers"]


class WorkerLoadError(Exception):
    """The module or attribute does not exist or declares no worker tasks."""


def load_workers(spec: str) -> list[WorkerTask[..., Any]]:
    module_name, _, attribute = spec.partition(":")
    if not module_name:
        raise WorkerLoadError(f"no module in {spec!r} (expected MODULE or MODULE:ATTRIBUTE)")
    cwd = str(Path.cwd())
    if cwd not in sys.path:
        sys.path.insert(0, cwd)  # like `python -m`: modules next to where you run it
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and module_name.startswith(exc.name):
            raise WorkerLoadError(f"no module named {module_name!r}") from exc
        raise
    if attribute:
        if not hasattr(module, attribute):
            raise WorkerLoadError(f"module {module_name!r} has no attribute {attribute!r}")
        found = _as_list(getattr(module, attribute), f"{module_name}:{attribute}")
    elif hasattr(module, "workers"):
        found = _as_list(module.workers, f"{module_name}.workers")
    else:
        found = [v for v in vars(module).values() if isinstance(v, WorkerTask)]
    if not found:
        raise WorkerLoadError(f"module {module_name!r} declares no worker tasks")
    return found


def _as_list(value: Any, where: str) -> list[WorkerTask[..., Any]]:
    items = [value] if isinstance(value, WorkerTask) else value
    try:
        out = list(items)
    except TypeError:
        raise WorkerLoadError(f"{where} is not a list of worker tasks") from None
    bad = [repr(v) for v in out if not isinstance(v, WorkerTask)]
    if bad:
        raise WorkerLoadError(f"{where} holds things that are not worker tasks: {', '.join(bad)}")
    return out
