"""A citizen asks for staff ("Minta bantuan petugas"), without a UI.

A call starts when the citizen taps the button (on any screen) and ends when staff end it
on the kiosk ("Petugas sudah datang") or when the citizen's session ends. While it lasts,
every heartbeat carries how long ago it was made (a number only: never who asked or why),
and the central's fleet view shows the kiosk as asking for help. A call, and its end,
ask for a heartbeat at once (``on_change``); the heartbeat task says whether the central
took it (:meth:`HelpCall.delivered`, :meth:`HelpCall.not_delivered`), so the screen never
says staff were notified when nothing reached them.

Thread-safe: the UI thread calls and ends, the sync thread reads and reports deliveries.
"""
from __future__ import annotations

import dataclasses
import enum
import logging
import threading
from typing import Callable

log = logging.getLogger(__name__)


class Notice(enum.Enum):
    """What the citizen may be told about the call (their screen's words follow it)."""

    LOCAL = "local"  # no central configured: the call is the screen itself; ask at the counter
    SENDING = "sending"  # a heartbeat carrying the call is on its way
    SENT = "sent"  # the central took it: the hall's staff see it on the fleet view
    NOT_SENT = "not_sent"  # the central could not be reached: ask at the counter


@dataclasses.dataclass(frozen=True)
class Seen:
    """The call as one heartbeat carries it: which change of the call (``change``) and its
    age in seconds (None: no call)."""

    change: int
    age_s: float | None


class HelpCall:
    """The kiosk's one help call. ``monotonic``: the kiosk's clock; ``central``: whether a
    central is configured (without one the call is local only); ``on_change``: asks the
    sync worker for a heartbeat now (called outside the lock, on the caller's thread)."""

    def __init__(self, monotonic: Callable[[], float], *, central: bool = False,
                 on_change: Callable[[], None] | None = None):
        self._monotonic = monotonic
        self.central = central
        self.on_change = on_change
        self._lock = threading.Lock()
        self._started_at: float | None = None
        self._change = 0  # counts calls and ends: a delivery counts only for the state it carried
        self._notice: Notice | None = None

    # -- what the screen and the heartbeat read --------------------------------------------
    @property
    def active(self) -> bool:
        with self._lock:
            return self._started_at is not None

    @property
    def notice(self) -> Notice | None:
        """What the citizen may be told (None: no call)."""
        with self._lock:
            return self._notice

    def age_s(self) -> float | None:
        """Seconds since the call (None: no call)."""
        with self._lock:
            return self._age()

    def seen(self) -> Seen:
        """The call as a heartbeat gathered now carries it."""
        with self._lock:
            return Seen(self._change, self._age())

    def _age(self) -> float | None:
        if self._started_at is None:
            return None
        return round(max(0.0, self._monotonic() - self._started_at), 1)

    # -- the citizen and the staff ---------------------------------------------------------
    def call(self) -> bool:
        """The citizen asks for staff: True when this starts a call. A call under way keeps
        its time; it is sent again only when the central had not taken it."""
        with self._lock:
            started = self._started_at is None
            if started:
                self._started_at = self._monotonic()
            elif self._notice is not Notice.NOT_SENT:
                return False
            self._change += 1
            self._notice = notice = Notice.SENDING if self.central else Notice.LOCAL
        log.info("help call %s (%s)", "started" if started else "sent again", notice.value)
        self._changed()
        return started

    def end(self, why: str) -> bool:
        """Staff have arrived, or the session ended (``why``, for the log): True when a call
        was under way; the central hears of the end at once."""
        with self._lock:
            if self._started_at is None:
                return False
            age = self._age()
            self._started_at, self._notice = None, None
            self._change += 1
        log.info("help call ended after %.0f s: %s", age, why)
        self._changed()
        return True

    def _changed(self) -> None:
        if self.central and self.on_change is not None:
            self.on_change()

    # -- what the heartbeat says of its delivery ---------------------------------------------
    def delivered(self, seen: Seen) -> None:
        """A heartbeat carrying ``seen`` reached the central."""
        with self._lock:
            if seen.change == self._change and self._started_at is not None and seen.age_s is not None:
                self._notice = Notice.SENT

    def not_delivered(self, seen: Seen) -> None:
        """A heartbeat carrying ``seen`` did not reach the central (offline, refused)."""
        with self._lock:
            if seen.change == self._change and self._started_at is not None and self._notice is Notice.SENDING:
                self._notice = Notice.NOT_SENT
