"""Which touches belong to the screen the citizen sees (UI-free; the app feeds it).

A double tap must not act twice: the first tap changes the screen, and the second,
landing a moment later on whatever the new screen has under the finger, would choose or
send something the citizen never saw. So a touch counts only when it began on the
screen that is showing, and not within :data:`SETTLE_S` of that screen appearing.
"""
from __future__ import annotations

import logging
from collections.abc import Callable

log = logging.getLogger(__name__)

#: After a new screen appears, touches are ignored this long: the rest of a double or
#: triple tap aimed at the screen before.
SETTLE_S = 0.4
#: How long the review is shown before "Send" takes a tap: the citizen sees what is sent.
REVIEW_READ_S = 1.5
#: Clock readings this close count as equal (sums of float seconds are not exact).
_EPSILON_S = 1e-6


class TapGuard:
    """Screen changes in, per-touch verdicts out, on the kiosk's monotonic clock.

    :meth:`screen_shown` is called on every change of what the citizen sees (a new
    screen, an overlay closed); :meth:`touch_began` gives a touch a token, or None when
    it is to be ignored; :meth:`owns` says whether a touch's later moves and lift still
    belong to the screen showing now.
    """

    def __init__(self, monotonic: Callable[[], float], *, settle_s: float = SETTLE_S):
        self._monotonic = monotonic
        self.settle_s = settle_s
        self._screen = 0
        self._shown_at: float | None = None  # None: the first screen, nothing came before it

    def screen_shown(self) -> None:
        """What the citizen sees changed: touches begun before it are void from now on,
        and so are new ones for the next :attr:`settle_s`."""
        self._screen += 1
        self._shown_at = self._monotonic()

    def shown_for(self) -> float:
        """Seconds since the current screen appeared (infinite for the first screen)."""
        if self._shown_at is None:
            return float("inf")
        return max(0.0, self._monotonic() - self._shown_at)

    def settle_left(self) -> float:
        """Seconds until a new touch counts again (0 when it counts now)."""
        left = self.settle_s - self.shown_for()
        return left if left > _EPSILON_S else 0.0

    def touch_began(self) -> int | None:
        """A finger came down now: its token, or None when it is to be ignored."""
        if self.settle_left() > 0:
            log.debug("touch ignored: %.2f s after a screen change", self.shown_for())
            return None
        return self._screen

    def owns(self, token: int | None) -> bool:
        """Whether a touch with ``token`` began on the screen showing now."""
        return token is not None and token == self._screen

    def has_been_shown(self, seconds: float) -> bool:
        """Whether the current screen has been in view at least ``seconds``."""
        return self.shown_for() >= seconds - _EPSILON_S
