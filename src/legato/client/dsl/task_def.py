"""`TaskDef`: a worker task's task definition options, declared with the worker."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


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
