"""`LocalTaskTransport`: the worker protocol straight into the services of this process."""

from __future__ import annotations

from typing import Any

import orjson
import pydantic

from legato.client.call import dumps
from legato.client.errors import error_for_status
from legato.errors import LegatoError, ValidationError
from legato.model import TaskResult
from legato.model.validation import pydantic_problems
from legato.service import Services
from legato.service.tasks import MAX_POLL_TIMEOUT_MS

__all__ = ["LocalTaskTransport", "parse_model"]


def parse_model(model: type[pydantic.BaseModel], data: Any, what: str) -> Any:
    """`model` from Conductor JSON, or `ValidationError` as the API would answer."""
    try:
        return model.model_validate(data)
    except pydantic.ValidationError as exc:
        problems = pydantic_problems(exc, model)
        shown = "; ".join(f"{p.path}: {p.message}" for p in problems[:3])
        raise ValidationError(f"Invalid {what}: {shown}", problems) from exc


class LocalTaskTransport:
    """Polls and reports through `Services`, with the engine's errors translated to the
    client's exceptions (what a `Worker` expects from any transport). Tasks and results are
    copied through JSON, as they would be over HTTP."""

    def __init__(self, services: Services) -> None:
        self.services = services

    async def poll(
        self,
        task_type: str,
        *,
        worker_id: str,
        domain: str | None,
        count: int,
        timeout_ms: int,
    ) -> list[dict[str, Any]]:
        try:
            tasks = await self.services.tasks.poll(
                task_type,
                worker_id=worker_id,
                domain=domain,
                count=count,
                timeout_ms=min(timeout_ms, MAX_POLL_TIMEOUT_MS),
            )
        except LegatoError as exc:
            raise _translated(exc) from exc
        # A copy, as over HTTP: the worker must not share objects with the engine's state.
        copied: list[dict[str, Any]] = orjson.loads(orjson.dumps([t.to_json() for t in tasks]))
        return copied

    async def update(self, result: dict[str, Any]) -> str | None:
        data = orjson.loads(dumps(result))  # TypeError for output with no JSON form, as over HTTP
        try:
            parsed = parse_model(TaskResult, data, "task result")
            _task, ignored = await self.services.tasks.update(parsed)
        except LegatoError as exc:
            raise _translated(exc) from exc
        return ignored

    async def close(self) -> None:
        return None


def _translated(exc: LegatoError) -> Exception:
    problems = exc.problems if isinstance(exc, ValidationError) else None
    return error_for_status(exc.http_status, exc.message, problems)
