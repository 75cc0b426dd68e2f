"""A wall clock and a monotonic clock that tests move by hand."""
from __future__ import annotations

import datetime as dt


class FakeClock:
    """Wall clock and monotonic clock the test moves by hand."""

    def __init__(self, start: dt.datetime | None = None):
        self.wall = start or dt.datetime(2026, 11, 23, 3, 30, tzinfo=dt.timezone.utc)  # 10:30 WIB
        self.mono = 1000.0

    def now(self) -> dt.datetime:
        return self.wall

    def monotonic(self) -> float:
        return self.mono

    def advance(self, seconds: float) -> None:
        self.wall += dt.timedelta(seconds=seconds)
        self.mono += seconds
