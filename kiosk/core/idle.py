"""Idle reset as a UI-free state machine driven by an injected monotonic clock.

After ``idle_after`` seconds without a touch the kiosk warns (WCAG 2.2.1: at least 20
seconds to continue); when the warning runs out the session ends and the next citizen
sees the Welcome screen with nothing of the previous one.
"""
from __future__ import annotations

import enum
import math
from typing import Callable


class IdleState(enum.Enum):
    ACTIVE = "active"
    WARNING = "warning"
    EXPIRED = "expired"


class IdleMonitor:
    """Tracks the last touch; :meth:`poll` says whether to warn or reset."""

    def __init__(self, clock: Callable[[], float], *, idle_after: float, warn_for: float):
        if warn_for < 20:
            raise ValueError("the idle warning must give at least 20 seconds (WCAG 2.2.1)")
        self._clock = clock
        self.idle_after = idle_after
        self.warn_for = warn_for
        self._last = clock()
        self.armed = False

    def arm(self) -> None:
        """Start watching (a citizen session began)."""
        self.armed = True
        self._last = self._clock()

    def disarm(self) -> None:
        """Stop watching (back on Welcome: nothing to protect)."""
        self.armed = False

    def touch(self) -> None:
        """Any touch or key press: the citizen is still here."""
        self._last = self._clock()

    def poll(self) -> IdleState:
        if not self.armed:
            return IdleState.ACTIVE
        idle = self._clock() - self._last
        if idle < self.idle_after:
            return IdleState.ACTIVE
        if idle < self.idle_after + self.warn_for:
            return IdleState.WARNING
        return IdleState.EXPIRED

    def seconds_left(self) -> int:
        """Whole seconds left on the warning countdown (rounded up)."""
        left = self.idle_after + self.warn_for - (self._clock() - self._last)
        return max(0, math.ceil(left))
