"""What the screens know about the printer, without a UI: when to ask it how it is, and
where the citizen's receipt stands.

The questions themselves run on the printer's thread (``KioskEnv.printer_status_async``);
these classes only say when one is due (on the kiosk's monotonic clock, so tests move
time by hand) and remember the answers.
"""
from __future__ import annotations

import enum
from typing import Callable

#: How often Welcome asks whether the printer can print (it also asks on every return).
WELCOME_CHECK_EVERY_S = 60.0
#: How often the receipt screen asks, while a citizen's receipt could not be printed.
FAILED_RECEIPT_CHECK_EVERY_S = 3.0


class PrinterWatch:
    """When to ask the printer next, and what it said last (``ready``: None until asked).

    One question at a time: :meth:`start` says whether to send one now and marks it as
    sent; :meth:`answered` takes its answer and sets the next one ``every_s`` later.
    """

    def __init__(self, monotonic: Callable[[], float], *, every_s: float):
        self._monotonic = monotonic
        self.every_s = every_s
        self.ready: bool | None = None
        self._next_at: float | None = None  # None: due now
        self._asking = False

    def start(self) -> bool:
        """Whether a question is due now; if so it counts as sent (no second one meanwhile)."""
        if self._asking or (self._next_at is not None and self._monotonic() < self._next_at):
            return False
        self._asking = True
        return True

    @property
    def asking(self) -> bool:
        """A question has been sent and not yet answered."""
        return self._asking

    def answered(self, ready: bool) -> bool:
        """The printer's answer; returns whether it differs from the last one."""
        changed = ready is not self.ready
        self.ready, self._asking = ready, False
        self._next_at = self._monotonic() + self.every_s
        return changed

    def ask_soon(self) -> None:
        """The next check is due at once (Welcome shown again)."""
        self._next_at = None

    def later(self) -> None:
        """The next check is due ``every_s`` from now (nothing to ask right away)."""
        self._next_at = self._monotonic() + self.every_s


class PrintState(enum.Enum):
    PRINTING = "printing"
    PRINTED = "printed"
    FAILED = "failed"


class ReceiptPrinting:
    """The citizen's receipt, from the first attempt to a printed one (or none).

    After a failure the number on screen is the citizen's only record
    (:attr:`must_write_down`) until a print succeeds; meanwhile :attr:`watch` says when to
    ask the printer again, and once it answers ready the citizen may print again, once per
    tap (:meth:`print_again`).
    """

    def __init__(self, monotonic: Callable[[], float], *, check_every_s: float = FAILED_RECEIPT_CHECK_EVERY_S):
        self.state = PrintState.PRINTING
        self.must_write_down = False
        self.failed_once = False  # the screen keeps the place of "print again" from then on
        self.watch = PrinterWatch(monotonic, every_s=check_every_s)

    def printed(self, ok: bool) -> None:
        """The printer's outcome for the latest attempt."""
        self.state = PrintState.PRINTED if ok else PrintState.FAILED
        self.must_write_down = not ok
        if not ok:
            self.failed_once = True
            self.watch.ready = False  # it just failed: ask again in a few seconds, not at once
            self.watch.later()

    def should_ask(self) -> bool:
        """Whether to ask the printer now: only while the receipt is not printed."""
        return self.state is PrintState.FAILED and self.watch.start()

    def printer_answered(self, ready: bool) -> None:
        self.watch.answered(ready)

    @property
    def can_print_again(self) -> bool:
        """The receipt failed and the printer says it can print now."""
        return self.state is PrintState.FAILED and bool(self.watch.ready)

    def print_again(self) -> bool:
        """The citizen taps "print again": whether to send the receipt now (not twice)."""
        if not self.can_print_again:
            return False
        self.state = PrintState.PRINTING
        return True
