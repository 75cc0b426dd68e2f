"""Working days as LAPOR!'s deadlines count them: weekends, Indonesia's public holidays and
the government's collective leave are not worked; a kabupaten adds its own days."""
from __future__ import annotations

import datetime as dt

import pytest

from kiosk.kernel import timeline as timeline_mod
from kiosk.kernel.wire import StatusOut
from kiosk.kernel.workdays import NATIONAL, CalendarFileError, WorkCalendar

D = dt.date


def test_a_plain_week_skips_only_the_weekend():
    friday = D(2026, 11, 20)
    assert NATIONAL.add_working_days(friday, 3) == D(2026, 11, 25)
    assert NATIONAL.add_working_days(friday, 5) == D(2026, 11, 27)
    assert NATIONAL.working_days_between(friday, D(2026, 11, 27)) == 5


def test_idul_fitri_2026_with_its_collective_leave_is_not_worked():
    # 18 March: collective leave (Nyepi), 19: Nyepi, 20: collective leave, 21-22: Idul
    # Fitri on the weekend, 23-24: collective leave. A report arriving on Tuesday 17 March
    # is due for verification on Friday 27 March, not Friday 20 March.
    assert [NATIONAL.is_working_day(D(2026, 3, d)) for d in range(16, 28)] == [
        True, True, False, False, False, False, False, False, False, True, True, True]
    assert NATIONAL.add_working_days(D(2026, 3, 17), 3) == D(2026, 3, 27)


@pytest.mark.parametrize("day", [D(2026, 8, 17), D(2026, 12, 24), D(2026, 12, 25), D(2027, 1, 1), D(2026, 6, 1)])
def test_national_days_and_collective_leave_are_off(day):
    assert not NATIONAL.is_working_day(day)


def test_a_kabupaten_file_adds_days_off_and_days_worked(tmp_path):
    path = tmp_path / "kalender.txt"
    path.write_text("# Hari jadi Kabupaten Barito Utara\n2026-11-23\n\n-2026-12-24  # dikerjakan\n", encoding="utf-8")
    local = WorkCalendar.from_file(path)
    assert not local.is_working_day(D(2026, 11, 23))
    assert local.is_working_day(D(2026, 12, 24))
    assert local.add_working_days(D(2026, 11, 20), 3) == D(2026, 11, 26)


@pytest.mark.parametrize("line", ["2026-13-01", "23/11/2026", "besok"])
def test_a_wrong_line_in_the_file_is_named_not_ignored(tmp_path, line):
    path = tmp_path / "kalender.txt"
    path.write_text(f"2026-11-23\n{line}\n", encoding="utf-8")
    with pytest.raises(CalendarFileError, match="line 2"):
        WorkCalendar.from_file(path)


def test_the_timeline_expects_the_verification_after_the_holidays():
    """The kiosk's status screen and the public page both say this date."""
    arrived = dt.datetime(2026, 3, 17, 3, 0, tzinfo=dt.timezone.utc)  # 10:00 WIB
    status = StatusOut.model_validate({
        "tracking_id": "LPR-MT01-0000-0000", "status": "received", "kind": "pengaduan", "confidential": False,
        "category_code": "LAINNYA", "agency_code": None, "received_at": arrived,
        "events": [{"status": "received", "at": arrived}],
    })
    _lines, next_text = timeline_mod.timeline(status, "en", {})
    assert "March 27, 2026" in next_text
    _lines, next_text = timeline_mod.timeline(status, "id", {})
    assert "27 Maret 2026" in next_text


def test_the_kept_national_days_are_the_holidays_package_s():
    """The table the kiosk reads (kiosk.kernel.national_days) says what the ``holidays``
    package says, year by year: after an upgrade of the package brings a new decree, this
    fails until ``python -m kiosk.kernel.workdays`` writes the table again."""
    from kiosk.kernel import national_days, workdays

    assert sorted(national_days.DAYS) == list(workdays.TABLE_YEARS)
    for year in workdays.TABLE_YEARS:
        kept = {D.fromisoformat(day) for day in national_days.DAYS[year]}
        assert kept == workdays.national_days_from_package(year), \
            f"{year}: the table differs from the holidays package: run python -m kiosk.kernel.workdays"


def test_a_year_past_the_table_is_asked_of_the_holidays_package():
    from kiosk.kernel import workdays

    year = workdays.TABLE_YEARS[-1] + 10
    assert not NATIONAL.is_working_day(D(year, 8, 17))  # Independence Day, a weekday or not
    off = [day for day in workdays.national_days_from_package(year) if day.weekday() < 5]
    assert off and all(not NATIONAL.is_working_day(day) for day in off)


def test_working_days_are_counted_without_loading_the_holidays_package():
    """The package loads all 250 countries it knows (17 MiB) to find Indonesia's days: a
    kiosk counting this year's working days must not carry that."""
    import subprocess
    import sys

    code = ("import datetime as dt, sys\n"
            "from kiosk.kernel.workdays import NATIONAL\n"
            "assert NATIONAL.add_working_days(dt.date(2026, 3, 17), 3) == dt.date(2026, 3, 27)\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'holidays'))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
