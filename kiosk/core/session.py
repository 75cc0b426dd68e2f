"""One citizen at the kiosk, from the first tap to Welcome again, without a UI.

The Kivy app forwards to :class:`CitizenSession` and shows what it says: a session starts
(a new :class:`kiosk.core.flow.FilingFlow`, or a status check or the admin screen), the idle
watch warns and then ends it, the receipt screen ends it after its timeout, and ending it
forgets the citizen: the draft goes and the default language comes back.
"""
from __future__ import annotations

import datetime as dt
import enum
import logging
from typing import Callable

from kiosk.core.flow import FilingFlow, Step
from kiosk.core.idle import IdleMonitor, IdleState

log = logging.getLogger(__name__)


class SessionEvent(enum.Enum):
    """What :meth:`CitizenSession.poll` asks the UI to do now."""

    NOTHING = "nothing"
    WARN = "warn"  # nobody touched the screen for a while: show the countdown
    END = "end"  # idle warning ran out, or the receipt has been shown long enough


class CitizenSession:
    """The session's owner: the filing flow, the language, the idle watch and the receipt's timeout.

    ``monotonic`` is the kiosk's clock (a test's under test); ``default_language`` is
    what each new citizen starts in (the admin screen may change it).
    """

    def __init__(self, *, monotonic: Callable[[], float], idle_after: float, warn_for: float,
                 receipt_timeout_s: float, default_language: str):
        self._monotonic = monotonic
        self.idle = IdleMonitor(monotonic, idle_after=idle_after, warn_for=warn_for)
        self.receipt_timeout_s = receipt_timeout_s
        self.default_language = self.language = default_language
        self.flow: FilingFlow | None = None
        self._receipt_deadline: float | None = None

    # -- where we are -------------------------------------------------------------------
    @property
    def watched(self) -> bool:
        """Someone is using the kiosk: the idle watch runs (and the screen keeps its full frame rate)."""
        return self.idle.armed

    @property
    def can_resume(self) -> bool:
        """A report is under way and not yet saved (the apology screen offers to go on)."""
        return self.flow is not None and self.flow.step is not Step.DONE

    # -- starting -----------------------------------------------------------------------
    def start_filing(self, today: Callable[[], dt.date]) -> FilingFlow:
        """A new report in the current language, with the idle watch armed."""
        self.flow = FilingFlow(today=today, language=self.language)
        self.idle.arm()
        return self.flow

    def start_visit(self) -> None:
        """A citizen checks a status, or a technician opens the admin screen: watch for idleness."""
        self.idle.arm()

    def keep_watching(self) -> None:
        """Make sure the idle watch runs, without restarting its count (the apology screen)."""
        if not self.idle.armed:
            self.idle.arm()

    def set_language(self, language: str) -> None:
        """Switch language for this citizen (the draft, and what was typed, stay)."""
        self.language = language

    def set_default_language(self, language: str) -> None:
        """The language the next citizens start in."""
        self.default_language = language

    # -- going on -----------------------------------------------------------------------
    def touch(self) -> None:
        """Any touch or key press: the citizen is still here."""
        self.idle.touch()

    def submitted(self) -> None:
        """The report is saved: nothing left to protect, the receipt stays up for its timeout."""
        self.idle.disarm()
        self._receipt_deadline = self._monotonic() + self.receipt_timeout_s

    def poll(self) -> SessionEvent:
        """What the UI should do now (called a few times a second)."""
        if self._receipt_deadline is not None and self._monotonic() >= self._receipt_deadline:
            return SessionEvent.END
        state = self.idle.poll()
        if state is IdleState.WARNING:
            return SessionEvent.WARN
        if state is IdleState.EXPIRED:
            log.info("idle timeout: session reset")
            return SessionEvent.END
        return SessionEvent.NOTHING

    def seconds_left(self) -> int:
        """Whole seconds left on the idle warning's countdown."""
        return self.idle.seconds_left()

    # -- ending -------------------------------------------------------------------------
    def end(self) -> None:
        """Forget the citizen: the draft, the receipt's timeout; back to the default language."""
        self.idle.disarm()
        self._receipt_deadline = None
        self.flow = None
        self.language = self.default_language
