"""The citizen's session (flow, language, idle watch, receipt timeout), with no UI."""
from __future__ import annotations

import datetime as dt

from kiosk.core.domain import ReportKind
from kiosk.core.flow import Step
from kiosk.core.session import CitizenSession, SessionEvent

TODAY = dt.date(2026, 11, 23)
IDLE_AFTER, WARN_FOR, RECEIPT_S = 90.0, 30.0, 20.0


def make_session(clock, language="id") -> CitizenSession:
    return CitizenSession(monotonic=clock.monotonic, idle_after=IDLE_AFTER, warn_for=WARN_FOR,
                          receipt_timeout_s=RECEIPT_S, default_language=language)


def test_welcome_is_never_idle(clock):
    session = make_session(clock)
    clock.advance(IDLE_AFTER * 10)
    assert session.poll() is SessionEvent.NOTHING and not session.watched


def test_idle_citizen_is_warned_then_forgotten(clock):
    """GIVEN a citizen halfway through a report WHEN nobody touches the kiosk THEN after
    the idle time a warning counts down; a touch keeps the draft; when the warning runs
    out the session ends with nothing left of the report."""
    session = make_session(clock)
    flow = session.start_filing(lambda: TODAY)
    flow.choose_kind(ReportKind.PENGADUAN)
    assert session.watched and session.flow is flow and session.can_resume

    clock.advance(IDLE_AFTER + 1)
    assert session.poll() is SessionEvent.WARN
    assert session.seconds_left() == WARN_FOR - 1
    session.touch()  # "Continue"
    assert session.poll() is SessionEvent.NOTHING and session.flow.step is Step.CATEGORY

    clock.advance(IDLE_AFTER + WARN_FOR)
    assert session.poll() is SessionEvent.END
    session.end()
    assert session.flow is None and not session.can_resume and not session.watched
    assert session.poll() is SessionEvent.NOTHING


def test_language_switch_mid_way_keeps_the_draft_and_the_next_citizen_gets_the_default(clock):
    session = make_session(clock, language="id")
    session.set_language("en")
    flow = session.start_filing(lambda: TODAY)
    assert flow.draft.language == "en"
    flow.choose_kind(ReportKind.ASPIRASI)
    session.set_language("id")
    session.set_language("en")
    assert session.flow is flow and flow.draft.kind is ReportKind.ASPIRASI
    session.end()
    assert session.language == "id"

    session.set_default_language("en")  # the admin screen's choice
    session.end()
    assert session.language == "en"
    assert session.start_filing(lambda: TODAY).draft.language == "en"


def test_printed_receipt_stays_up_for_its_timeout_then_warns_like_every_screen(clock):
    """GIVEN a printed receipt WHEN nobody touches it for the receipt timeout THEN the idle
    warning counts down (never ending the session without it); a touch starts it again."""
    session = make_session(clock)
    session.start_filing(lambda: TODAY)
    session.submitted()
    session.receipt_printed(True)
    assert session.watched
    clock.advance(RECEIPT_S - 1)
    assert session.poll() is SessionEvent.NOTHING
    clock.advance(1)
    assert session.poll() is SessionEvent.WARN and session.seconds_left() == WARN_FOR
    session.touch()
    clock.advance(RECEIPT_S - 1)
    assert session.poll() is SessionEvent.NOTHING
    clock.advance(1 + WARN_FOR)
    assert session.poll() is SessionEvent.END
    session.end()
    clock.advance(RECEIPT_S * 2)
    assert session.poll() is SessionEvent.NOTHING and session.receipt is None  # the receipt went with the session


def test_status_check_is_watched_and_the_apology_does_not_restart_the_count(clock):
    session = make_session(clock)
    session.start_visit()
    assert session.watched and session.flow is None and not session.can_resume
    clock.advance(IDLE_AFTER - 1)
    session.keep_watching()  # an apology screen shown while watched
    clock.advance(2)
    assert session.poll() is SessionEvent.WARN
