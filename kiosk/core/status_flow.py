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
from kiosk.kernel.clock import LOCAL_TZ
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

#: The citizen's answer to an answer (``kiosk.core.feedback``): what the screen says.
OBJECTION_SAVED = N_("Your objection has been recorded and will be sent to the office responsible, "
                     "also if this kiosk is offline now.")
RATING_SAVED = N_("Thank you: your rating has been recorded and will be sent.")
FEEDBACK_CLOSED = N_("This report is closed: the 10 working days to object to the answer have passed. "
                     "For a problem that remains, file a new report or ask the staff at the counter.")
NOT_SAVED = N_("This could not be saved on this kiosk. Please ask the staff at the counter.")

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
        #: The answer to the answer: "" (nothing to offer), "open" (answered, within 10
        #: working days: "Masalah belum selesai" and the rating), "closed" (too late);
        #: ``feedback_state``: "", "objecting" (typing the text), "objection_sent", "rating_sent".
        self.feedback = ""
        self.feedback_state = ""
        self.feedback_message: Message | None = None
        self.objected = False  # an objection was kept for the answer shown (one per visit)
        self.rated: int | None = None  # the score last kept for the answer shown
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
        self.feedback, self.feedback_state, self.feedback_message = "", "", None
        self.objected, self.rated = False, None

    # -- the answer to the answer -----------------------------------------------------------
    def offer_feedback(self, today: dt.date, calendar=None) -> str:
        """Work out what the screen offers for the answer shown (``feedback``), as of the
        kabupaten's ``today``: "open" while the report is answered and the 10 working days
        since the answer run, "closed" once they are over or the report is closed. Offline,
        from the last status the central gave (``StatusFacts.known``). The days count in
        ``calendar``, else in the lookup's (``StatusFacts.calendar``: the kabupaten's own)."""
        from kiosk.core.feedback import window_open
        from kiosk.kernel.workdays import NATIONAL

        facts = self.answer.facts if self.answer is not None else None
        calendar = calendar or (facts.calendar if facts is not None else None)
        # Offline, the last status the central gave for this kiosk's own report stands in:
        # the objection waits in the outbox like a report does.
        remote = (facts.remote or facts.known) if facts is not None else None
        self.feedback = ""
        if self.found and remote is not None:
            answered = [e.at for e in remote.events if e.status == "answered"]
            if remote.status == "closed" and answered:
                self.feedback = "closed"
            elif remote.status == "answered" and answered:
                day = max(answered).astimezone(LOCAL_TZ).date()
                self.feedback = "open" if window_open(day, today, calendar or NATIONAL) else "closed"
        if self.feedback == "closed":
            self.feedback_message = _say(FEEDBACK_CLOSED)
        return self.feedback

    def begin_objection(self) -> bool:
        """"Masalah belum selesai" tapped: the text field opens (False: nothing to object to)."""
        if self.feedback != "open" or self.objected:
            return False
        self.feedback_state = "objecting"
        return True

    def cancel_objection(self) -> None:
        if self.feedback_state == "objecting":
            self.feedback_state = ""

    def send_objection(self, service, text: str) -> bool:
        """Keep the objection in the outbox (``service``: a ``FeedbackService``); the
        confirmation says so, online or not. False when nothing was kept."""
        if self.feedback != "open" or self.tracking_id is None or self.objected:
            return False
        self.objected = self._kept(lambda: service.object(self.tracking_id, text), "objection_sent", OBJECTION_SAVED)
        return self.objected

    def rate(self, service, score: int) -> bool:
        """Keep a rating from 1 to 5 (one tap; another tap later is a newer rating)."""
        if self.feedback != "open" or self.tracking_id is None:
            return False
        if not self._kept(lambda: service.rate(self.tracking_id, score), "rating_sent", RATING_SAVED):
            return False
        self.rated = score
        return True

    def _kept(self, file, state: str, said: str) -> bool:
        from kiosk.core.store.db import StoreError

        try:
            file()
        except StoreError as exc:
            log.error("feedback not saved: %s", type(exc).__name__)
            self.feedback_message = _say(NOT_SAVED)
            return False
        self.feedback_state, self.feedback_message = state, _say(said)
        return True

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
