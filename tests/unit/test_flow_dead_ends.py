"""Issue 12, "dead ends and lost drafts", in the UI-free flow and session: a kecamatan a
citizen does not know, leaving a draft, the language mid-way, a fixed phone number, the
idle warning's subject and the date calendar."""
from __future__ import annotations

import datetime as dt

import pytest

from kiosk.core import reference
from kiosk.core.domain import Draft, ReportKind
from kiosk.core.flow import CALENDAR_MONTHS, FilingFlow, Step
from kiosk.core.reports import ReportService
from kiosk.core.review import review_rows
from kiosk.core.session import CitizenSession
from kiosk.kernel.wire import ReportIn

TODAY = dt.date(2026, 11, 23)  # a Monday
WIB = dt.timezone(dt.timedelta(hours=7))


def make_flow(language: str = "id") -> FilingFlow:
    return FilingFlow(today=lambda: TODAY, language=language)


def make_session(clock) -> CitizenSession:
    return CitizenSession(monotonic=clock.monotonic, idle_after=90.0, warn_for=30.0, receipt_timeout_s=20.0,
                          default_language="id")


# -- 1. "Tidak tahu" and "Di luar Barito Utara" -------------------------------------------
@pytest.mark.parametrize("code", [reference.KECAMATAN_UNKNOWN, reference.KECAMATAN_OUTSIDE])
def test_a_citizen_who_does_not_know_the_kecamatan_can_send(store, code):
    """GIVEN the seeded reference data WHEN the citizen answers "Don't know" or "Outside
    Barito Utara" THEN both are offered in both languages, the step lets them on, the
    report is kept with that code, the review names the answer, and the code is valid
    on the wire to the central."""
    reference.load_seed_if_empty(store)
    labels = {lang: {c.code: c.label for c in reference.kecamatan_choices(store, lang)} for lang in ("id", "en")}
    assert labels["id"][reference.KECAMATAN_UNKNOWN] == "Tidak tahu"
    assert labels["en"][reference.KECAMATAN_UNKNOWN] == "Don't know"
    assert labels["id"][reference.KECAMATAN_OUTSIDE] == "Di luar Barito Utara"
    assert labels["en"][reference.KECAMATAN_OUTSIDE] == "Outside Barito Utara"
    assert list(labels["id"])[-2:] == [reference.KECAMATAN_UNKNOWN, reference.KECAMATAN_OUTSIDE]

    flow = make_flow()
    flow.step = Step.WHEN_WHERE
    flow.choose_kecamatan(code)
    assert flow.next() and flow.step is Step.IDENTITY

    draft = Draft(kind=ReportKind.PENGADUAN, category_code=reference.categories(store, "id")[0].code,
                  title="Jalan rusak", description="Jalan di depan sekolah rusak berat.", incident_date=TODAY,
                  kecamatan_code=code)
    service = ReportService(store, kiosk_code="MT01", clock=lambda: dt.datetime(2026, 11, 23, 10, 0, tzinfo=WIB))
    saved = service.submit(draft)
    assert service.find(saved.tracking_id) is not None
    where = next(r for r in review_rows(draft, store, "en") if r.step is Step.WHEN_WHERE)
    assert labels["en"][code] in where.value
    assert ReportIn.model_fields["kecamatan_code"].metadata  # a bounded code field ...
    assert len(code) <= 64 and code.isascii()  # ... that these codes fit


# -- 2. leaving a draft asks first --------------------------------------------------------
def test_only_a_draft_with_something_entered_asks_before_leaving(clock):
    session = make_session(clock)
    session.start_filing(lambda: TODAY)
    assert not session.must_confirm_leaving  # nothing entered: Back just leaves
    session.set_language("en")
    assert not session.must_confirm_leaving  # a language is not an answer
    session.flow.set_text("reporter_name", "B")
    assert session.must_confirm_leaving
    session.flow.set_text("reporter_name", "")
    session.flow.set_date(TODAY - dt.timedelta(days=3))
    assert session.must_confirm_leaving


def test_leaving_the_report_keeps_the_citizens_language_until_the_session_ends(clock):
    """GIVEN an English citizen with a draft WHEN they leave it THEN the draft is gone but
    Welcome stays English and the idle watch runs; when the session ends, Indonesian."""
    session = make_session(clock)
    session.set_language("en")
    session.start_filing(lambda: TODAY).choose_kind(ReportKind.ASPIRASI)
    session.leave_filing()
    assert session.flow is None and not session.can_resume
    assert session.language == "en" and session.watched
    session.end()
    assert session.language == "id"


# -- 3. the language mid-way ------------------------------------------------------------------
def test_language_switched_mid_way_is_the_reports_language(clock):
    session = make_session(clock)
    flow = session.start_filing(lambda: TODAY)
    flow.choose_kind(ReportKind.PENGADUAN)
    flow.set_text("title", "Antrean panjang")
    session.set_language("en")
    assert flow.draft.language == "en" and flow.draft.title == "Antrean panjang" and flow.step is Step.CATEGORY


# -- 4. the phone message goes once the number is right ----------------------------------------
def test_phone_message_stays_while_wrong_and_goes_when_right():
    flow = make_flow()
    flow.step = Step.IDENTITY
    flow.set_text("reporter_phone", "08x")
    flow.set_flag("anonymous", False)
    flow.set_flag("confidential", False)
    assert not flow.next() and flow.error_for("reporter_phone") is not None
    flow.set_text("reporter_phone", "0812")  # still too short
    assert flow.error_for("reporter_phone") is not None
    flow.set_text("reporter_phone", "0812 3456 7890")
    assert flow.error_for("reporter_phone") is None and not flow.errors


# -- 5. what the idle warning says goes away ---------------------------------------------------
def test_idle_warning_subject(clock):
    session = make_session(clock)
    session.start_visit()
    assert session.warning_subject() == "screen"  # a status check: nothing is erased
    session.start_filing(lambda: TODAY)
    assert session.warning_subject() == "report"
    session.submitted()
    assert session.warning_subject() == "saved"


# -- 6. the date calendar ------------------------------------------------------------------------
def test_calendar_three_weeks_ago_is_one_tap_and_the_future_is_out():
    flow = make_flow()
    weeks = flow.calendar_weeks()
    days = [d for week in weeks for d in week if d is not None]
    assert [d.date.day for d in days] == list(range(1, 31)) and all(len(w) == 7 for w in weeks)
    assert weeks[0][:6] == [None] * 6 and weeks[0][6].date == dt.date(2026, 11, 1)  # 1 Nov 2026 is a Sunday
    assert [d.date for d in days if d.chosen] == [TODAY]
    assert all(d.selectable is (d.date <= TODAY) for d in days)

    assert flow.choose_day(TODAY - dt.timedelta(days=21)) == []
    assert flow.draft.incident_date == dt.date(2026, 11, 2)
    assert flow.choose_day(TODAY + dt.timedelta(days=1))  # refused, date kept
    assert flow.draft.incident_date == dt.date(2026, 11, 2)


def test_calendar_turns_through_the_last_three_months_only():
    flow = make_flow()
    assert not flow.can_turn_calendar(1) and not flow.turn_calendar(1)  # no future month
    for _ in range(CALENDAR_MONTHS - 1):
        assert flow.turn_calendar(-1)
    assert flow.calendar_month == dt.date(2026, 9, 1)
    assert not flow.turn_calendar(-1)
    flow.choose_day(dt.date(2026, 9, 30))
    assert flow.draft.incident_date == dt.date(2026, 9, 30) and flow.calendar_month == dt.date(2026, 9, 1)
    flow.set_date(TODAY)  # "Today" shows this month again
    assert flow.calendar_month == dt.date(2026, 11, 1)
