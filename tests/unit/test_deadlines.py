"""A report's current deadline as the inbox and ``central overdue`` read it: LAPOR!'s 3, 5
and 10 working days, counted on Indonesia's calendar with the kabupaten's own days, from
the step that started the wait."""
from __future__ import annotations

import datetime as dt

import pytest

from central import deadlines
from central.models import Report
from kiosk.kernel.workdays import NATIONAL, WorkCalendar

WIB = dt.timezone(dt.timedelta(hours=7))
D = dt.date


def _at(day: dt.date, hour: int = 10) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), WIB).astimezone(dt.timezone.utc)


def _arrived(day: dt.date, hour: int = 10, calendar: WorkCalendar = NATIONAL) -> Report:
    report = Report(tracking_id="MT010000000000", status="received", received_at=_at(day, hour))
    deadlines.follow(report, None, report.received_at, calendar)
    return report


def _move(report: Report, status: str, day: dt.date, calendar: WorkCalendar = NATIONAL) -> Report:
    before, report.status = report.status, status
    deadlines.follow(report, before, _at(day), calendar)
    return report


def test_a_report_received_before_idul_fitri_2026_is_due_after_the_collective_leave():
    """GIVEN a report that arrives on Tuesday 17 March 2026 (Nyepi on the 19th, Idul Fitri on
    the 21st-22nd, collective leave on the 18th, 20th, 23rd and 24th) THEN verification is
    due on Friday 27 March, not Friday 20 March; it is overdue from Monday 30 March, one
    working day late then."""
    report = _arrived(D(2026, 3, 17))
    assert (report.due_from, report.due_on) == (D(2026, 3, 17), D(2026, 3, 27))
    assert not deadlines.is_overdue(report.due_on, D(2026, 3, 27))
    assert deadlines.is_overdue(report.due_on, D(2026, 3, 28))
    assert deadlines.days_late(report.due_on, D(2026, 3, 28), NATIONAL) == 0  # a Saturday: no working day lost yet
    assert deadlines.days_late(report.due_on, D(2026, 3, 30), NATIONAL) == 1
    assert deadlines.days_late(report.due_on, D(2026, 4, 2), NATIONAL) == 4


def test_the_local_date_counts_not_utc():
    """01:00 WIB on 17 March is still 16 March in UTC: the wait starts on the 17th."""
    assert _arrived(D(2026, 3, 17), hour=1).due_on == D(2026, 3, 27)


def test_each_step_starts_its_own_wait():
    report = _arrived(D(2026, 3, 17))
    assert _move(report, "verified", D(2026, 3, 25)).due_on == D(2026, 3, 27)  # still from arrival
    assert _move(report, "forwarded", D(2026, 3, 26)).due_on == D(2026, 4, 2)  # 5 working days
    assert _move(report, "in_progress", D(2026, 3, 31)).due_on == D(2026, 4, 2)  # the agency's wait goes on
    assert _move(report, "rerouted", D(2026, 4, 1)).due_on == NATIONAL.add_working_days(D(2026, 4, 1), 5)
    assert _move(report, "answered", D(2026, 4, 6)).due_on == NATIONAL.add_working_days(D(2026, 4, 6), 10)
    assert _move(report, "closed", D(2026, 4, 20)).due_on is None and report.due_from is None


@pytest.mark.parametrize("status", ["postponed", "rejected", "archived", "closed"])
def test_no_deadline_while_nothing_is_due(status):
    report = _move(_arrived(D(2026, 3, 17)), status, D(2026, 3, 18))
    assert report.due_on is None and not deadlines.is_overdue(report.due_on, D(2027, 1, 1))


def test_a_start_after_a_postponement_counts_from_the_start():
    report = _move(_move(_arrived(D(2026, 11, 2)), "postponed", D(2026, 11, 3)), "in_progress", D(2026, 11, 16))
    assert report.due_on == D(2026, 11, 23)


def test_the_kabupatens_own_day_off_moves_the_deadline(tmp_path):
    path = tmp_path / "kalender.txt"
    path.write_text("2026-11-23  # hari jadi\n", encoding="utf-8")
    local = WorkCalendar.from_file(path)
    assert _arrived(D(2026, 11, 20)).due_on == D(2026, 11, 25)
    assert _arrived(D(2026, 11, 20), calendar=local).due_on == D(2026, 11, 26)
