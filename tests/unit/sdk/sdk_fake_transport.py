"""An in-memory task server for worker runtime tests: queues per task type, recorded results."""

from __future__ import annotations

import asyncio
import collections
import itertools
from collections.abc import Callable, Iterator
from typing import Any

import orjson

from legato.client.call import dumps
from legato.client.errors import TransportError

_ids = itertools.count(1)


def new_task(task_type: str, **fields: Any) -> dict[str, Any]:
    n = next(_ids)
    return {
        "taskId": f"{task_type}-{n}",
        "workflowInstanceId": f"wf-{n}",
        "taskType": task_type,
        "referenceTaskName": task_type,
        "status": "IN_PROGRESS",
        "inputData": {},
        "retryCount": 0,
        "responseTimeoutSeconds": 3600,
        **fields,
    }


class FakeTransport:
    """Queues of task JSON per type; `results` every TaskResult in arrival order.

    `down` makes every call fail as if the server were unreachable; `fail_updates` fails that
    many updates first; `source` generates tasks on demand (for long runs).
    """

    def __init__(self) -> None:
        self.queues: dict[str, collections.deque[dict[str, Any]]] = collections.defaultdict(
            collections.deque
        )
        self.results: list[dict[str, Any]] = []
        self.keep_results = True
        self.updates = 0
        self.polls: list[tuple[str, int]] = []
        self.down = False
        self.fail_updates = 0
        self.poll_delay = 0.0
        self.source: Iterator[dict[str, Any]] | None = None
        self.on_update: Callable[[dict[str, Any]], None] | None = None
        self._arrived = asyncio.Event()

    def put(self, task_type: str, count: int = 1, **fields: Any) -> list[dict[str, Any]]:
        tasks = [new_task(task_type, **fields) for _ in range(count)]
        self.queues[task_type].extend(tasks)
        self._arrived.set()
        return tasks

    async def poll(
        self, task_type: str, *, worker_id: str, domain: str | None, count: int, timeout_ms: int
    ) -> list[dict[str, Any]]:
        if self.down:
            await asyncio.sleep(0.001)
            raise TransportError("connection refused (fake)")
        self.polls.append((task_type, count))
        if self.poll_delay:
            await asyncio.sleep(self.poll_delay)
        if self.source is not None:
            return [t for _, t in zip(range(count), self.source, strict=False)]
        queue = self.queues[task_type]
        if not queue:
            self._arrived.clear()
            try:
                async with asyncio.timeout(timeout_ms / 1000):
                    await self._arrived.wait()
            except TimeoutError:
                return []
        return [queue.popleft() for _ in range(min(count, len(queue)))]

    async def update(self, result: dict[str, Any]) -> str | None:
        if self.down:
            raise TransportError("connection refused (fake)")
        if self.fail_updates > 0:
            self.fail_updates -= 1
            raise TransportError("connection reset (fake)")
        parsed = orjson.loads(dumps(result))  # as on the wire: TypeError if not JSON
        self.updates += 1
        if self.keep_results:
            self.results.append(parsed)
        if self.on_update is not None:
            self.on_update(parsed)
        return None

    async def close(self) -> None:
        return None

    def statuses(self, task_type: str | None = None) -> list[str]:
        return [
            r["status"]
            for r in self.results
            if not r.get("extendLease") and (task_type is None or r["taskId"].startswith(task_type))
        ]
