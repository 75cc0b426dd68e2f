"""The kabupaten's own days on top of Indonesia's: the file format, the merge with the
national calendar, the wire form the central sends, and the kiosk store that keeps them."""
from __future__ import annotations

import datetime as dt

import pytest

from kiosk.core import reference
from kiosk.kernel.workdays import NATIONAL, CalendarDay, CalendarFileError, WorkCalendar, parse_days
from tests.support.reports import migrated_from

D = dt.date


def test_the_file_gives_days_off_days_worked_and_their_names():
    days = parse_days("# Kalender Kabupaten Barito Utara 2026\n"
                      "2026-11-23  # Hari Jadi Kabupaten Barito Utara\n\n"
                      "-2026-03-20 # cuti bersama dikerjakan\n"
                      "2026-12-28\n")
    assert days == [CalendarDay(D(2026, 3, 20), True, "cuti bersama dikerjakan"),
                    CalendarDay(D(2026, 11, 23), False, "Hari Jadi Kabupaten Barito Utara"),
                    CalendarDay(D(2026, 12, 28), False, "")]


def test_a_name_keeps_no_control_characters_and_no_more_than_200_characters():
    [day] = parse_days("2026-11-23 # Hari\x1b[31mJadi\x00 " + "x" * 300 + "\n")
    assert "\x1b" not in day.name and "\x00" not in day.name and day.name.startswith("Hari [31mJadi")
    assert len(day.name) == 200


@pytest.mark.parametrize(("text", "message"), [
    ("2026-11-23\n2026-02-30\n", "kalender.txt: line 2: expected YYYY-MM-DD or -YYYY-MM-DD"),
    ("2026-11-23\n\n23/11/2026 # Hari Jadi\n", "line 3"),
    ("2026-11-23 Hari Jadi\n", "line 1"),  # a name without its "#"
    ("2026-11-23\n-2026-11-23\n", "line 2: 2026-11-23 is already on line 1"),
])
def test_a_wrong_line_is_named(text, message):
    with pytest.raises(CalendarFileError, match=message):
        parse_days(text, "kalender.txt")


def test_the_merge_adds_days_off_and_gives_back_days_worked():
    """A kabupaten's day off on a plain Monday is not worked; its day worked is, even on
    national collective leave or a Saturday; a day off that is already a national holiday
    or a weekend changes nothing."""
    local = WorkCalendar.from_days([
        CalendarDay(D(2026, 11, 23), False, "Hari Jadi"),   # Monday
        CalendarDay(D(2026, 3, 20), True, "dikerjakan"),     # collective leave (Idul Fitri)
        CalendarDay(D(2026, 11, 28), True, "Sabtu kerja"),   # Saturday
        CalendarDay(D(2026, 3, 19), False, "Nyepi"),         # already a national holiday
        CalendarDay(D(2026, 11, 22), False, "Minggu"),       # already a Sunday
    ])
    assert NATIONAL.is_working_day(D(2026, 11, 23)) and not local.is_working_day(D(2026, 11, 23))
    assert not NATIONAL.is_working_day(D(2026, 3, 20)) and local.is_working_day(D(2026, 3, 20))
    assert local.is_working_day(D(2026, 11, 28))
    assert not local.is_working_day(D(2026, 3, 19)) and not local.is_working_day(D(2026, 11, 22))
    # Friday 20 Nov + 3 working days: Mon 23 is off, Tue 24, Wed 25, Thu 26.
    assert NATIONAL.add_working_days(D(2026, 11, 20), 3) == D(2026, 11, 25)
    assert local.add_working_days(D(2026, 11, 20), 3) == D(2026, 11, 26)
    # Tue 17 March: Wed 18, Thu 19 (Nyepi) off; Fri 20 worked here, Mon 23, Tue 24 leave; Wed 25.
    assert NATIONAL.add_working_days(D(2026, 3, 17), 3) == D(2026, 3, 27)
    assert local.add_working_days(D(2026, 3, 17), 3) == D(2026, 3, 26)
    assert WorkCalendar.from_days([]) == NATIONAL != local


def test_the_wire_form_round_trips_and_refuses_what_is_not_a_day():
    day = CalendarDay(D(2026, 11, 23), False, "Hari Jadi")
    assert day.to_wire() == {"date": "2026-11-23", "working": False, "name": "Hari Jadi"}
    assert CalendarDay.from_wire(day.to_wire()) == day
    for bad in ({"date": "2026-11-31"}, {"date": 20261123}, {"date": "2026-11-23", "working": "no"},
                ["2026-11-23"], {"date": "2026-11-23", "name": None}):
        with pytest.raises(CalendarFileError):
            CalendarDay.from_wire(bad)


# -- the kiosk's store (tests/conftest.py: a seeded one) --------------------------------------
def _central_data(store, days: list[dict] | None) -> dict:
    import json

    data = json.loads(reference.SEED_FILE.read_text(encoding="utf-8"))
    if days is not None:
        data["calendar_days"] = days
    return data


def test_a_kiosk_counts_national_days_until_the_central_sends_its_own(store):
    assert reference.work_calendar(store) is NATIONAL  # the seed carries none
    reference.replace_reference_data(store, _central_data(store, [
        {"date": "2026-11-23", "working": False, "name": "Hari Jadi"}, {"date": "2026-03-20", "working": True}]))
    local = reference.work_calendar(store)
    assert local == WorkCalendar([D(2026, 11, 23)], [D(2026, 3, 20)])
    assert local.add_working_days(D(2026, 11, 20), 3) == D(2026, 11, 26)
    reference.replace_reference_data(store, _central_data(store, None))  # a central without the field
    assert reference.work_calendar(store) is NATIONAL


@pytest.mark.parametrize("days", [
    "2026-11-23", [{"date": "23/11/2026"}],
    [{"date": "2026-11-23"}, {"date": "2026-11-23", "working": True}],
])
def test_bad_calendar_days_from_a_central_change_nothing(store, days):
    reference.replace_reference_data(store, _central_data(store, [{"date": "2026-11-23", "name": "Hari Jadi"}]))
    before = reference.version(store)
    with pytest.raises(reference.ReferenceDataError, match="calendar_days"):
        reference.replace_reference_data(store, {**_central_data(store, days), "version": "new"})
    assert reference.version(store) == before
    assert reference.work_calendar(store) == WorkCalendar([D(2026, 11, 23)])


def test_migration_0006_makes_a_kiosk_fetch_the_reference_data_again(tmp_path):
    """A kiosk that stored the central's data before 0006 ignored the days in it: its ETag
    is forgotten, so the next refresh is a full answer, not "not modified"."""
    def fetched_before(old) -> None:
        with old.engine.begin() as conn:
            conn.exec_driver_sql("INSERT INTO meta (key, value) VALUES ('reference_etag', '\"2026-11-23.2\"')")

    with migrated_from(tmp_path, "0003", fetched_before) as (store, _):  # 0006 and every migration after it
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT value FROM meta WHERE key = 'reference_etag'").all() == []
            assert conn.exec_driver_sql("SELECT count(*) FROM calendar_days").scalar() == 0
        assert reference.work_calendar(store) is NATIONAL
