"""Exponential backoff with jitter, for reconnecting to a server that went away."""

from __future__ import annotations

import random


class Backoff:
    """Delays of `first` seconds doubling up to `most`, each with +-20% jitter."""

    def __init__(self, first: float = 0.1, most: float = 10.0) -> None:
        self.first = first
        self.most = most
        self.failures = 0

    def next_delay(self) -> float:
        base: float = min(self.most, self.first * 2.0 ** min(self.failures, 30))
        self.failures += 1
        return base * random.uniform(0.8, 1.2)

    def reset(self) -> None:
        self.failures = 0
