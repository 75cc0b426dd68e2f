"""The receipt that did not print, and when to ask the printer again, with no UI."""
from __future__ import annotations

import datetime as dt

from kiosk.core.printer_watch import (
    FAILED_RECEIPT_CHECK_EVERY_S,
    PrinterWatch,
    PrintState,
)
from kiosk.core.session import UNPRINTED_RECEIPT_HOLD_S, CitizenSession, SessionEvent

TODAY = dt.date(2026, 11, 23)
IDLE_AFTER, WARN_FOR, RECEIPT_S = 60.0, 30.0, 45.0


def make_session(clock) -> CitizenSession:
    session = CitizenSession(monotonic=clock.monotonic, idle_after=IDLE_AFTER, warn_for=WARN_FOR,
                             receipt_timeout_s=RECEIPT_S, default_language="id")
    session.start_filing(lambda: TODAY)
    return session


def test_unprinted_receipt_outlasts_every_timeout_until_written_down(clock):
    """GIVEN a receipt the printer could not print WHEN nobody touches the kiosk THEN the
    number stays past the receipt, idle and warning times together; only after ten quiet
    minutes does the warning count down, and the session never ends without it."""
    session = make_session(clock)
    receipt = session.submitted()
    clock.advance(3)  # the printer takes its time, then fails
    session.receipt_printed(False)
    assert receipt.state is PrintState.FAILED and receipt.must_write_down

    clock.advance(RECEIPT_S + IDLE_AFTER + WARN_FOR + 1)
    assert session.poll() is SessionEvent.NOTHING
    clock.advance(UNPRINTED_RECEIPT_HOLD_S - (RECEIPT_S + IDLE_AFTER + WARN_FOR + 1))
    assert session.poll() is SessionEvent.WARN and session.seconds_left() == WARN_FOR
    session.touch()  # still looking for a pen
    clock.advance(UNPRINTED_RECEIPT_HOLD_S - 1)
    assert session.poll() is SessionEvent.NOTHING
    clock.advance(1 + WARN_FOR)
    assert session.poll() is SessionEvent.END


def test_receipt_being_printed_is_never_ended_before_the_printer_answers(clock):
    """A slow printer: the outcome decides, so a failure is never lost to the timeout."""
    session = make_session(clock)
    session.submitted()
    clock.advance(RECEIPT_S + WARN_FOR + 1)
    assert session.poll() is SessionEvent.NOTHING
    session.receipt_printed(True)  # quieter than the receipt timeout already: warn now, in full
    assert session.poll() is SessionEvent.WARN and session.seconds_left() == WARN_FOR


def test_print_again_once_the_printer_is_back_then_the_usual_timeout(clock):
    """GIVEN a failed receipt THEN the printer is asked every few seconds, one question at a
    time; once it answers ready the citizen may print again, once however often they tap;
    a printed copy ends the long wait."""
    session = make_session(clock)
    receipt = session.submitted()
    session.receipt_printed(False)
    assert not receipt.should_ask()  # it just failed: not at once
    clock.advance(FAILED_RECEIPT_CHECK_EVERY_S)
    assert receipt.should_ask()
    assert not receipt.should_ask()  # the question is out
    receipt.printer_answered(False)
    assert not receipt.can_print_again and not session.print_again()
    clock.advance(FAILED_RECEIPT_CHECK_EVERY_S)
    assert receipt.should_ask()
    receipt.printer_answered(True)
    assert receipt.can_print_again

    assert session.print_again()
    assert not session.print_again()  # a second tap prints nothing more
    assert receipt.state is PrintState.PRINTING and receipt.must_write_down  # no paper in hand yet
    assert not receipt.should_ask()
    session.receipt_printed(True)
    assert receipt.state is PrintState.PRINTED and not receipt.must_write_down and receipt.failed_once
    clock.advance(RECEIPT_S)
    assert session.poll() is SessionEvent.WARN


def test_receipt_printed_after_the_session_ended_changes_nothing(clock):
    session = make_session(clock)
    session.submitted()
    session.end()
    session.receipt_printed(False)
    assert session.receipt is None and not session.watched and not session.print_again()


def test_printer_watch_asks_at_once_then_every_interval_and_again_on_request(clock):
    watch = PrinterWatch(clock.monotonic, every_s=60)
    assert watch.ready is None and watch.start()
    assert watch.answered(False) and watch.ready is False
    assert not watch.start()
    clock.advance(59)
    assert not watch.start()
    clock.advance(1)
    assert watch.start()
    assert not watch.answered(False)  # the same answer: nothing changed
    watch.ask_soon()  # Welcome shown again
    assert watch.start() and watch.answered(True)
