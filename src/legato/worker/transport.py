"""How a worker reaches the engine: poll tasks, report results. Over HTTP (`HttpTaskTransport`)
or, in `legato.embedded` and `legato.testing`, in process."""

from __future__ import annotations

from typing import Any, Protocol

from legato.client.async_client import AsyncClient
from legato.client.tasks import poll_call, update_call

__all__ = ["HttpTaskTransport", "TaskTransport"]

# How much longer than its long-poll a poll request may take before it counts as lost.
POLL_SLACK_SECONDS = 10.0


class TaskTransport(Protocol):
    async def poll(
        self,
        task_type: str,
        *,
        worker_id: str,
        domain: str | None,
        count: int,
        timeout_ms: int,
    ) -> list[dict[str, Any]]:
        """Claim up to `count` tasks (Conductor Task JSON), waiting up to `timeout_ms`."""

    async def update(self, result: dict[str, Any]) -> str | None:
        """Apply a TaskResult; the reason it was ignored, or None when applied."""

    async def close(self) -> None: ...


class HttpTaskTransport:
    """The Conductor task API over an `AsyncClient` (batch poll, `POST /api/tasks`)."""

    def __init__(self, client: AsyncClient, *, owns_client: bool = False) -> None:
        self.client = client
        self.owns_client = owns_client

    async def poll(
        self,
        task_type: str,
        *,
        worker_id: str,
        domain: str | None,
        count: int,
        timeout_ms: int,
    ) -> list[dict[str, Any]]:
        call = poll_call(
            task_type, worker_id=worker_id, domain=domain, count=count, timeout_ms=timeout_ms
        )
        return await self.client.send(call, timeout=timeout_ms / 1000 + POLL_SLACK_SECONDS)

    async def update(self, result: dict[str, Any]) -> str | None:
        return await self.client.send(update_call(result))

    async def close(self) -> None:
        if self.owns_client:
            await self.client.aclose()
