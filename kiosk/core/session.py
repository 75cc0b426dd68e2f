"""One citizen at the kiosk, from the first tap to Welcome again, without a UI.

The Kivy app forwards to :class:`CitizenSession` and shows what it says: a session starts
(a new :class:`kiosk.core.flow.FilingFlow`, or a status check or the admin screen), the idle
watch warns and then ends it (on the receipt screen too, after ``receipt_timeout_s``, or
much later while the number on screen is the citizen's only record), and ending it
forgets the citizen: the draft goes and the default language comes back.
"""
from __future__ import annotations

import datetime as dt
import enum
import logging
from typing import Callable

from kiosk.core.flow import FilingFlow, Step
from kiosk.core.idle import IdleMonitor, IdleState
from kiosk.core.printer_watch import ReceiptPrinting

log = logging.getLogger(__name__)

#: Quiet time before the idle warning while the receipt is not printed (being printed,
#: or failed and not yet printed again): the number on screen is then the citizen's only
#: record, and finding a pen, or asking the counter for one, takes minutes. Ten minutes
#: without a single touch means they have gone; the screen should not then keep their
#: number (and, through a status check, their report's title) up for the next citizen.
UNPRINTED_RECEIPT_HOLD_S = 600.0


class SessionEvent(enum.Enum):
    """What :meth:`CitizenSession.poll` asks the UI to do now."""

    NOTHING = "nothing"
    WARN = "warn"  # nobody touched the screen for a while: show the countdown
    END = "end"  # the idle warning ran out (the receipt screen's too)


class CitizenSession:
    """The session's owner: the filing flow, the language, the idle watch and the receipt.

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
        #: The saved report's receipt, from :meth:`submitted` to the session's end.
        self.receipt: ReceiptPrinting | None = None
        self._hold_s = max(UNPRINTED_RECEIPT_HOLD_S, receipt_timeout_s, idle_after)

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
        """Switch language for this citizen, on any screen (the draft, and what was typed,
        stay; the report goes in the language chosen last)."""
        self.language = language
        if self.flow is not None and self.flow.step is not Step.DONE:
            self.flow.set_language(language)

    def set_default_language(self, language: str) -> None:
        """The language the next citizens start in."""
        self.default_language = language

    # -- going on -----------------------------------------------------------------------
    def touch(self) -> None:
        """Any touch or key press: the citizen is still here."""
        self.idle.touch()

    def submitted(self) -> ReceiptPrinting:
        """The report is saved and its receipt is being printed. Until the printer says
        it printed, the number on screen may become the citizen's only record: the idle
        watch waits :data:`UNPRINTED_RECEIPT_HOLD_S` before warning."""
        self.receipt = ReceiptPrinting(self._monotonic)
        self.idle.arm(idle_after=self._hold_s)
        return self.receipt

    def receipt_printed(self, ok: bool) -> None:
        """The printer's outcome. Printed: the screen warns after ``receipt_timeout_s``
        without a touch (counted from the last one), like every screen, and a touch
        keeps it. Not printed: the citizen is told to write the number down, and the
        long wait starts again from now."""
        if self.receipt is None:
            return  # the session ended while the printer worked
        self.receipt.printed(ok)
        if ok:
            self.idle.wait_for(self.receipt_timeout_s)
        else:
            self.idle.arm(idle_after=self._hold_s)

    def print_again(self) -> bool:
        """The citizen taps "print again" on the receipt screen: whether to send it now."""
        return self.receipt is not None and self.receipt.print_again()

    def poll(self) -> SessionEvent:
        """What the UI should do now (called a few times a second)."""
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

    @property
    def must_confirm_leaving(self) -> bool:
        """Leaving the report now would throw away something the citizen entered."""
        return self.can_resume and self.flow.has_answers

    def leave_filing(self) -> None:
        """The citizen leaves the report (Back on the first question, confirmed if anything
        was entered): the draft goes, but they are still here, so their language stays and
        the idle watch keeps running until the session ends."""
        self.flow = None
        self.keep_watching()

    def warning_subject(self) -> str:
        """What the idle warning says goes away: ``"report"`` (an unsaved draft is erased),
        ``"saved"`` (the receipt: the report is kept) or ``"screen"`` (nothing of theirs
        is lost: only the screen closes, e.g. a status check)."""
        if self.receipt is not None:
            return "saved"
        return "report" if self.can_resume else "screen"

    # -- ending -------------------------------------------------------------------------
    def end(self) -> None:
        """Forget the citizen: the draft, the receipt; back to the default language."""
        self.idle.disarm()
        self.receipt = None
        self.flow = None
        self.language = self.default_language
