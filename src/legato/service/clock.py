"""Time, behind an object so tests can drive it."""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    def now_ms(self) -> int: ...


class SystemClock:
    def now_ms(self) -> int:
        return time.time_ns() // 1_000_000


class FakeClock:
    """A clock that only moves when told to."""

    def __init__(self, start_ms: int = 1_700_000_000_000) -> None:
        self.current = start_ms

    def now_ms(self) -> int:
        return self.current

    def advance(self, seconds: float) -> None:
        self.current += int(seconds * 1000)
