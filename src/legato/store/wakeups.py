"""In-process wake-ups for long pollers: one signal per queue name, on the event loop.

A backend calls `notify(queue, n)` after a commit that made `n` entries visible on `queue`; up to
`n` waiters wake (not every waiter: one entry needs one claimer). A notification that finds no
waiter is remembered, so a poller that claimed nothing just before the commit and starts waiting
just after it still returns at once instead of sleeping through its timeout. Entries that become
visible later wake pollers when they do, through a loop timer (`notify_at`).

Not thread-safe: call from the loop only. Backends that notify from other processes (PostgreSQL
LISTEN/NOTIFY) feed the same object from their listener task.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections import deque
from dataclasses import dataclass, field

# Later wake-ups than this are not scheduled: pollers re-poll long before.
_HORIZON_S = 60.0
# Timer wake-ups are grouped into buckets this long, so a burst of delayed entries sets a few
# timers, not one each.
_BUCKET_MS = 50


@dataclass(slots=True)
class _Signal:
    waiters: deque[asyncio.Future[None]] = field(default_factory=deque)
    pending: bool = False
    timers: dict[int, asyncio.TimerHandle] = field(default_factory=dict)


class QueueWakeups:
    def __init__(self) -> None:
        self._signals: dict[str, _Signal] = {}

    def notify(self, queue_name: str, count: int = 1) -> None:
        """Wake up to `count` waiters on `queue_name` (or the next one to come)."""
        signal = self._signal(queue_name)
        woken = 0
        while signal.waiters and woken < count:
            waiter = signal.waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                woken += 1
        if woken < count:
            signal.pending = True

    def notify_at(self, queue_name: str, visible_at: int, now_ms: int | None = None) -> None:
        """Wake a waiter on `queue_name` when epoch ms `visible_at` comes (now if past)."""
        now_ms = int(time.time() * 1000) if now_ms is None else now_ms
        delay_ms = visible_at - now_ms
        if delay_ms <= 0:
            self.notify(queue_name)
            return
        if delay_ms > _HORIZON_S * 1000:
            return
        bucket = math.ceil(visible_at / _BUCKET_MS)
        signal = self._signal(queue_name)
        if bucket in signal.timers:
            return
        loop = asyncio.get_running_loop()
        signal.timers[bucket] = loop.call_later(
            (bucket * _BUCKET_MS - now_ms) / 1000, self._fire, queue_name, bucket
        )

    def notify_all(self) -> None:
        """Wake every waiter on every queue (after notifications may have been missed)."""
        for queue_name, signal in list(self._signals.items()):
            if signal.waiters:
                self.notify(queue_name, len(signal.waiters))

    async def wait(self, queue_name: str, timeout_s: float) -> None:
        """Return when notified, or after `timeout_s`."""
        signal = self._signal(queue_name)
        if signal.pending:
            signal.pending = False
            return
        if timeout_s <= 0:
            return
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[bool | None] = loop.create_future()
        signal.waiters.append(waiter)  # type: ignore[arg-type]
        # Not asyncio.wait_for: on Python 3.11 it can swallow a cancellation that arrives just
        # as the wait ends, which would hang a shutdown. A timer resolves the waiter instead.
        timer = loop.call_later(timeout_s, _time_out, waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled() and waiter.result() is None:
                self.notify(queue_name)  # we were woken but will not claim: pass it on
            raise
        finally:
            timer.cancel()
            if not waiter.done():
                waiter.cancel()
            with contextlib.suppress(ValueError):  # notify() took it already
                signal.waiters.remove(waiter)  # type: ignore[arg-type]

    def close(self) -> None:
        """Cancel timers and release every waiter."""
        for signal in self._signals.values():
            for handle in signal.timers.values():
                handle.cancel()
            signal.timers.clear()
            while signal.waiters:
                waiter = signal.waiters.popleft()
                if not waiter.done():
                    waiter.set_result(None)

    def _fire(self, queue_name: str, bucket: int) -> None:
        self._signal(queue_name).timers.pop(bucket, None)
        self.notify(queue_name)

    def _signal(self, queue_name: str) -> _Signal:
        signal = self._signals.get(queue_name)
        if signal is None:
            signal = self._signals[queue_name] = _Signal()
        return signal


def _time_out(waiter: asyncio.Future[bool | None]) -> None:
    if not waiter.done():
        waiter.set_result(False)  # False: timed out; notify() sets None
