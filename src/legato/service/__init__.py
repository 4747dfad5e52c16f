"""Use cases: the only place where workflow and task state changes are committed."""

from legato.service.clock import Clock, FakeClock, SystemClock
from legato.service.container import Services

__all__ = ["Clock", "FakeClock", "Services", "SystemClock"]
