"""Live updates over server-sent events.

`LiveUpdates` is a `WorkflowService` listener: after each commit it wakes the streams watching
the workflows that changed. A stream then re-renders the watched page's regions from the
store and sends them as one `update` event. It also looks at the store every
`RECHECK_S` seconds, which catches changes this node's listeners never see (task claims by
pollers, commits on other nodes). Streams end after `MAX_STREAM_S` so a server can shut down
while pages are open; browsers reconnect on their own (`retry`) and get a fresh render.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator

import orjson

RECHECK_S = 2.0
MIN_INTERVAL_S = 0.25
MAX_STREAM_S = 10.0
RETRY_MS = 500


class LiveUpdates:
    def __init__(self) -> None:
        self._watchers: dict[str, set[asyncio.Event]] = {}

    def notify(self, workflow_ids: set[str]) -> None:
        """The WorkflowService listener (runs on the event loop, after a change)."""
        for workflow_id in workflow_ids:
            for event in self._watchers.get(workflow_id, ()):
                event.set()

    @contextlib.contextmanager
    def watch(self, workflow_id: str) -> Iterator[asyncio.Event]:
        event = asyncio.Event()
        watchers = self._watchers.setdefault(workflow_id, set())
        watchers.add(event)
        try:
            yield event
        finally:
            watchers.discard(event)
            if not watchers:
                self._watchers.pop(workflow_id, None)

    @property
    def watched(self) -> int:
        return sum(len(w) for w in self._watchers.values())


def sse(event: str, data: object, event_id: str | None = None) -> bytes:
    head = b"id: " + event_id.encode() + b"\n" if event_id is not None else b""
    return head + b"event: " + event.encode() + b"\ndata: " + orjson.dumps(data) + b"\n\n"


async def workflow_stream(
    live: LiveUpdates,
    workflow_id: str,
    snapshot: Callable[[], Awaitable[tuple[str, dict[str, object]] | None]],
    *,
    last_event_id: str | None = None,
    max_stream_s: float = MAX_STREAM_S,
    recheck_s: float = RECHECK_S,
) -> AsyncIterator[bytes]:
    """Events for one workflow: an `update` now, then one after each change.

    `snapshot()` returns (a version token, the payload) or None when the workflow is gone.
    The token is the event id: a payload is sent only when its token differs from the last
    one sent, on this stream or (through the browser's `Last-Event-ID`) the one before.
    """
    yield f"retry: {RETRY_MS}\n\n".encode()
    deadline = time.monotonic() + max_stream_s
    last_token = last_event_id
    with live.watch(workflow_id) as changed:
        while True:
            changed.clear()
            snap = await snapshot()
            if snap is None:
                yield sse("gone", {"workflowId": workflow_id})
                return
            token, payload = snap
            if token != last_token:
                last_token = token
                yield sse("update", payload, token)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), timeout=min(recheck_s, remaining))
            await asyncio.sleep(MIN_INTERVAL_S)  # coalesce bursts of commits
