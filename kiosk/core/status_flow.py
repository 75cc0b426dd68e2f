"""Checking a report's status at the kiosk, as a UI-free state machine.

The status screen shows :class:`StatusLookup`'s state and forwards taps, as the filing
screens do with :class:`kiosk.core.flow.FilingFlow`: what is typed on the keypad, why a
number is refused, the slow-down after repeated wrong numbers (so the kiosk is no
guessing machine for other people's reports), the answer, whether this kiosk may print a
copy of the receipt, and the lines of a printed status slip. The lookup itself may wait
on the network: :meth:`StatusLookup.check` hands out a :class:`LookupTicket`, the caller
runs :func:`kiosk.core.status_lookup.look_up` off the UI thread and brings the answer
back with :meth:`StatusLookup.answered`.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import math
from typing import Callable

from kiosk.core.flow import Message
from kiosk.core.receipt import ReceiptContent
from kiosk.core.status_lookup import StatusAnswer
from kiosk.kernel.i18n import N_
from kiosk.kernel.tracking_id import TrackingIdError, parse_tracking_id

log = logging.getLogger(__name__)

#: Symbols the keypad takes: a Tracking ID has 14, a little slack for a mistyped one.
MAX_SYMBOLS = 16
#: Wrong numbers allowed before the kiosk starts making people wait ...
WRONG_BEFORE_SLOWDOWN = 3
#: ... 2 s, then 4, 8 ... seconds, never more than this.
MAX_WAIT_S = 60

#: Why a typed number is not a Tracking ID (by :class:`TrackingIdError` code).
INVALID = {
    "empty": N_("Type the number printed on your receipt."),
    "length": N_("A report number has 14 letters and numbers, for example MT01-14D2P-F2DBX."),
    "symbol": N_("This number contains a character that report numbers do not use."),
}
MISTYPED = N_("This number is not right: a letter or number is probably mistyped. Please check it against your receipt.")
SLOWED = N_("Please wait {seconds} seconds before trying again.")
CHECKING = N_("Checking...")
CANNOT_CHECK = N_("The status cannot be checked right now. Please try again later.")

#: What the screen shows for each answer kind: a central or a local answer are both "found".
_SHOWN_KIND = {"found": "found", "local": "found", "unknown": "unknown", "offline_unknown": "offline_unknown"}


def _say(msgid: str, **params: object) -> Message:
    return Message(msgid, tuple(sorted(params.items())))


def invalid_message(code: str) -> Message:
    """What to say about a number refused with :class:`TrackingIdError` ``code``."""
    return _say(INVALID.get(code, MISTYPED))


@dataclasses.dataclass(frozen=True, eq=False)
class LookupTicket:
    """One lookup under way; an answer for a ticket that is no longer current (typed on
    since, or the session ended) is dropped. Compared by identity."""

    tracking_id: str


class StatusLookup:
    """One citizen's status checks. ``monotonic`` is the kiosk's clock (a test's under test).

    ``kind`` is what the screen colours by: "" (nothing yet), "invalid", "checking",
    "found", "unknown" or "offline_unknown". ``print_state`` follows a copy or slip being
    printed: "", "printing", "printed" or "failed".
    """

    def __init__(self, *, monotonic: Callable[[], float]):
        self._monotonic = monotonic
        self.typed = ""
        self.kind = ""
        self.message: Message | None = None  # a sentence of ours, rendered in the citizen's language
        self.answer: StatusAnswer | None = None  # the lookup's answer, already in that language
        self.print_state = ""
        self.tracking_id: str | None = None  # the canonical ID last checked
        self._ticket: LookupTicket | None = None
        self._wrong = 0
        self._blocked_until = 0.0

    # -- what is shown ------------------------------------------------------------------
    def result(self, gettext: Callable[[str], str]) -> str:
        """The sentence under the keypad."""
        if self.message is not None:
            return self.message.render(gettext)
        return self.answer.text if self.answer is not None else ""

    @property
    def found(self) -> bool:
        return self.kind == "found"

    @property
    def own_report(self) -> bool:
        """Issued by this kiosk: staff may print a copy of its receipt here."""
        return self.answer is not None and self.answer.own

    # -- the keypad -----------------------------------------------------------------------
    def press(self, symbol: str) -> None:
        if len(self.typed.replace("-", "")) < MAX_SYMBOLS:
            self.typed += symbol
        self._forget_result()

    def backspace(self) -> None:
        self.typed = self.typed[:-1]
        self._forget_result()

    def clear(self) -> None:
        """Start a new number; any lookup still under way is forgotten."""
        self.typed = ""
        self._forget_result()
        self.tracking_id = self._ticket = None

    def reset(self) -> None:
        """The session ended: forget the number, and the next citizen starts unslowed."""
        self.clear()
        self._wrong, self._blocked_until = 0, 0.0

    def _forget_result(self) -> None:
        # A lookup under way still lands (as it always has); clear() is what drops it.
        self.kind, self.message, self.answer, self.print_state = "", None, None, ""

    # -- checking -------------------------------------------------------------------------
    def seconds_to_wait(self) -> int:
        """Whole seconds before the next check is allowed (0: now)."""
        return max(0, math.ceil(self._blocked_until - self._monotonic()))

    def check(self, typed: str | None = None) -> LookupTicket | None:
        """Check what is typed (or ``typed``, read from a receipt). Returns the lookup to
        run, or None with :attr:`message` saying why not (slowed down, or not a number)."""
        if typed is not None:
            self.typed = typed
        wait = self.seconds_to_wait()
        if wait > 0:  # repeated wrong numbers: guessing gets slower
            self.kind, self.message = "invalid", _say(SLOWED, seconds=wait)
            return None
        try:
            tracking_id = parse_tracking_id(self.typed)
        except TrackingIdError as exc:
            self.kind, self.message = "invalid", invalid_message(exc.code)
            self._wrong_number()
            return None
        self.kind, self.message, self.answer = "checking", _say(CHECKING), None
        self.tracking_id = tracking_id
        self._ticket = LookupTicket(tracking_id)
        return self._ticket

    def answered(self, ticket: LookupTicket, answer: StatusAnswer) -> bool:
        """The lookup's answer; False (and nothing changes) when ``ticket`` is stale."""
        if ticket is not self._ticket:
            return False
        self._ticket = None
        self.answer, self.message = answer, None
        self.kind = _SHOWN_KIND.get(answer.kind, answer.kind)
        if answer.kind == "unknown":
            self._wrong_number()
        elif self.found:
            self._wrong = 0
        return True

    def retell(self, answer: StatusAnswer) -> bool:
        """The citizen switched language: ``answer`` is the answer shown, told again in
        the new language from the facts its lookup gathered (nobody is asked again). The
        number typed, the kind of answer, the print state and the slow-down stay. False
        (nothing changes) when no answer is shown or ``answer`` is about another number."""
        if self.answer is None or answer.facts is None or answer.facts.tracking_id != self.tracking_id:
            return False
        self.answer = answer
        return True

    def failed(self, ticket: LookupTicket) -> bool:
        """The lookup could not run (a bug, or the kiosk too busy): say so, count nothing."""
        if ticket is not self._ticket:
            return False
        self._ticket = None
        self.answer, self.kind, self.message = None, "offline_unknown", _say(CANNOT_CHECK)
        return True

    def _wrong_number(self) -> None:
        """From the third wrong number on, wait 2, 4, 8 ... up to 60 seconds before the next."""
        self._wrong += 1
        if self._wrong >= WRONG_BEFORE_SLOWDOWN:
            wait = min(MAX_WAIT_S, 2 ** (self._wrong - WRONG_BEFORE_SLOWDOWN + 1))
            self._blocked_until = self._monotonic() + wait

    # -- printing -------------------------------------------------------------------------
    def slip_lines(self) -> tuple[str, ...]:
        """What a printed status slip says under the report number: the answer's status
        lines (or the whole answer when it has none)."""
        if self.answer is None:
            return ()
        return tuple(line for line in self.answer.lines if line.strip()) or (self.answer.text,)

    def status_slip(self, *, institution: str, kiosk_location: str, now: dt.datetime, language: str) -> ReceiptContent | None:
        """The slip for "Print this status" (any report found, not only this kiosk's), or
        None when nothing was found. ``now`` is the time printed on it."""
        if not self.found or self.tracking_id is None:
            return None
        return ReceiptContent(
            tracking_id=self.tracking_id, created_at=now.astimezone(dt.timezone.utc), institution=institution,
            kiosk_location=kiosk_location, kind_label="", category_label="", title="", confidential=True,
            language=language, status_lines=self.slip_lines(),
        )

    def printing(self) -> str | None:
        """A copy or a slip is being printed; returns the Tracking ID it is for."""
        self.print_state = "printing"
        return self.tracking_id

    def printed(self, tracking_id: str, ok: bool) -> bool:
        """The printer's outcome; dropped when the citizen has moved on to another number."""
        if tracking_id != self.tracking_id:
            return False
        self.print_state = "printed" if ok else "failed"
        return True
