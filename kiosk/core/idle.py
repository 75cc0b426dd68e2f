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
    """Tracks the last touch; :meth:`poll` says whether to warn or reset.

    ``idle_after`` is the configured quiet time before the warning; a stretch of the
    session may set its own (:meth:`arm`, :meth:`wait_for`: the receipt screen), the
    warning and its countdown stay the same.
    """

    def __init__(self, clock: Callable[[], float], *, idle_after: float, warn_for: float):
        if warn_for < 20:
            raise ValueError("the idle warning must give at least 20 seconds (WCAG 2.2.1)")
        self._clock = clock
        self.default_idle_after = self.idle_after = idle_after
        self.warn_for = warn_for
        self._last = clock()
        self.armed = False
        #: Speech mode's patience: the quiet time and the countdown are this many times longer.
        self.patience = 1.0

    def arm(self, *, idle_after: float | None = None) -> None:
        """Start watching (a citizen session began), counting from now; ``idle_after``
        for this stretch, the configured one when not given."""
        self.armed = True
        self.idle_after = self.default_idle_after if idle_after is None else idle_after
        self._last = self._clock()

    def wait_for(self, idle_after: float) -> None:
        """Warn after ``idle_after`` seconds without a touch from now on, still counting
        from the last touch; already quieter than that, the warning starts now, with its
        whole countdown."""
        self.idle_after = idle_after
        self._last = max(self._last, self._clock() - idle_after * self.patience)

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
        if idle < self.idle_after * self.patience:
            return IdleState.ACTIVE
        if idle < (self.idle_after + self.warn_for) * self.patience:
            return IdleState.WARNING
        return IdleState.EXPIRED

    def seconds_left(self) -> int:
        """Whole seconds left on the warning countdown (rounded up)."""
        left = (self.idle_after + self.warn_for) * self.patience - (self._clock() - self._last)
        return max(0, math.ceil(left))
