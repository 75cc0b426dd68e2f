"""Per-client token buckets for status lookups (guessing Tracking IDs must stay impractical).

In memory, per worker process: with N workers a client gets at most N times the rate,
which the numbers in docs/TRACKING_ID.md already allow for. Old buckets are dropped so
memory stays bounded.
"""
from __future__ import annotations

import threading
import time
from typing import Callable


class RateLimiter:
    def __init__(self, *, per_minute: float, burst: int, clock: Callable[[], float] = time.monotonic,
                 max_clients: int = 100_000):
        self.rate, self.burst, self.clock, self.max_clients = per_minute / 60.0, burst, clock, max_clients
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, client: str) -> float:
        """0 when allowed; otherwise the seconds until the next lookup is allowed."""
        now = self.clock()
        with self._lock:
            tokens, since = self._buckets.get(client, (float(self.burst), now))
            tokens = min(self.burst, tokens + (now - since) * self.rate)
            if tokens >= 1:
                self._buckets[client] = (tokens - 1, now)
                allowed = 0.0
            else:
                self._buckets[client] = (tokens, now)
                allowed = (1 - tokens) / self.rate
            if len(self._buckets) > self.max_clients:
                full = [c for c, (t, s) in self._buckets.items() if t + (now - s) * self.rate >= self.burst]
                for c in full:
                    del self._buckets[c]
        return allowed
