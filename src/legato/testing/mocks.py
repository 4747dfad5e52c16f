"""Mocked task outcomes for `WorkflowEnvironment`: what a task "returns" without a worker.

`mocks` maps a task reference name (or, failing that, a task type) to its outcome:

- a mapping: the task completes with it as output;
- a `TaskError`: the task fails (retried by its TaskDef unless `non_retryable`);
- `InProgress(...)`: the task asks to be called back later;
- `NO_ANSWER`: the task is taken and never answered, so its response timeout fires;
- a callable: called with the task's input, returns (or raises) one of the above;
- a list of these: one per execution of that task in a workflow (attempts, loop iterations,
  callbacks), the last one repeating.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from legato.worker.context import TaskContext
from legato.worker.task import WorkerTask

__all__ = ["NO_ANSWER", "Mocks"]


class _NoAnswer:
    def __repr__(self) -> str:
        return "NO_ANSWER"


NO_ANSWER: Any = _NoAnswer()


class Mocks:
    def __init__(self, mocks: Mapping[str, Any] | None) -> None:
        self._by_key: dict[str, list[Any]] = {}
        for key, value in (mocks or {}).items():
            if isinstance(value, Sequence) and not isinstance(value, str | bytes):
                outcomes = list(value)
                if not outcomes:
                    raise ValueError(f"mock {key!r}: an empty list of outcomes")
            else:
                outcomes = [value]
            self._by_key[key] = outcomes

    def find(self, ref: str, base_ref: str, task_type: str) -> list[Any] | None:
        for key in (ref, base_ref, task_type):
            if key in self._by_key:
                return self._by_key[key]
        return None

    @staticmethod
    def pick(outcomes: list[Any], execution: int) -> Any:
        return outcomes[min(execution, len(outcomes) - 1)]


def mock_worker(task_type: str, outcome: Any) -> WorkerTask[..., Any]:
    """A worker task whose function produces `outcome`, so mocks go through the same code
    (and produce the same TaskResults) as real worker functions."""

    def produce(context: TaskContext) -> Any:
        value = outcome(dict(context.input)) if callable(outcome) else outcome
        if isinstance(value, BaseException):
            raise value
        return value

    async def fn(context: TaskContext) -> Any:
        return produce(context)

    return WorkerTask(fn, task_type, heartbeat=False)
