"""The kabupaten's own calendar days, kept by the central and carried to the kiosks: one
calendar behind the officers' deadlines and the citizen's expected dates (real central on
127.0.0.1, real kiosk store and sync worker, real HTTP; the migration on PostgreSQL too)."""
from __future__ import annotations

import datetime as dt
import threading

import requests

from central import deadlines, service
from central.db import Database, migrate
from kiosk.core.domain import Draft, ReportKind
from kiosk.core.status_lookup import look_up
from kiosk.kernel.clock import LOCAL_TZ
from kiosk.kernel.i18n import long_date
from kiosk.kernel.tracking_id import format_tracking_id
from kiosk.kernel.workdays import NATIONAL, CalendarDay, WorkCalendar
from tests.support.central import central_cli, report
from tests.support.clock import FakeClock
from tests.support.reports import kiosk_env
from tests.support.servers import fresh_database
from tests.support.workbench import add_officer, log_in


def _today() -> dt.date:
    return dt.datetime.now(LOCAL_TZ).date()


def _inbox_due(base: str, browser: requests.Session, tracking_id: str) -> str:
    """The inbox row of the report, as the officer reads it."""
    page = browser.get(f"{base}/workbench/", timeout=30)
    assert page.status_code == 200
    return page.text.split(f">{format_tracking_id(tracking_id)}</a>")[1].split("</tr>")[0]


def test_a_kabupaten_day_moves_the_officers_deadline_and_the_kiosks_expected_date(central, token, tmp_path):
    """GIVEN a report filed at a kiosk and delivered today, verification due in 3 working
    days WHEN the kabupaten's day off inside that wait is imported on the central THEN the
    officer's inbox shows the later due date at once, and once the kiosk's reference data
    is refreshed the citizen's status screen expects the same date; before that, the kiosk
    still counts Indonesia's days only."""
    base, url, _ = central
    clock = FakeClock(dt.datetime.now(dt.timezone.utc).replace(microsecond=0))
    env = kiosk_env(tmp_path / "data", clock, base, token)
    try:
        saved = env.reports.submit(Draft(
            kind=ReportKind.PENGADUAN, category_code="KESEHATAN", title="Antrean puskesmas",
            description="Antrean di puskesmas sangat panjang.", incident_date=env.today(),
            kecamatan_code="LAHEI", reporter_name="Siti Aminah", reporter_phone="081234567890"))
        assert env.sync.run_once().sent == 1
        tid = saved.tracking_id
        today = _today()
        national = NATIONAL.add_working_days(today, 3)
        day_off = NATIONAL.add_working_days(today, 1)  # a working day inside the wait
        kabupaten = WorkCalendar.from_days([CalendarDay(day_off)]).add_working_days(today, 3)
        assert kabupaten > national

        add_officer(url, "kalender-viewer", "viewer")
        officer = log_in(base, "kalender-viewer")
        assert national.isoformat() in _inbox_due(base, officer, tid)
        assert long_date(national, "id") in look_up(tid, env=env, language="id").text

        calendar_file = tmp_path / "kalender.txt"
        calendar_file.write_text(f"# Kalender Kabupaten Barito Utara\n{day_off.isoformat()}  # Hari Jadi Kabupaten\n",
                                 encoding="utf-8")
        imported = central_cli(url, "holidays", "import", str(calendar_file))
        assert imported.returncode == 0, imported.stderr
        assert "1 days of its own (1 days off, 0 days worked); due dates of 1 reports moved" in imported.stdout
        listed = central_cli(url, "holidays", "list", "--year", str(day_off.year))
        assert f"{day_off.isoformat()}  day off     Hari Jadi Kabupaten" in listed.stdout

        row = _inbox_due(base, officer, tid)
        assert kabupaten.isoformat() in row and national.isoformat() not in row
        assert long_date(national, "id") in look_up(tid, env=env, language="id").text  # not refreshed yet

        assert env.sync.tasks.run_now("reference")
        for language in ("id", "en"):
            shown = look_up(tid, env=env, language=language).text
            assert long_date(kabupaten, language) in shown and long_date(national, language) not in shown
    finally:
        env.close()


def test_the_reference_answer_carries_the_days_and_a_new_etag_with_them(tmp_path):
    """Older kiosks read only the keys they know; the days come as ``calendar_days`` and
    change the ETag, so every kiosk fetches them once; without days the ETag is the version's."""
    from tests.support.central import auth, running_central

    url = f"sqlite:///{tmp_path / 'central.sqlite3'}"
    calendar_file = tmp_path / "kalender.txt"
    calendar_file.write_text("2026-11-23 # Hari Jadi\n-2026-03-20 # dikerjakan\n", encoding="utf-8")
    with running_central(url) as base:
        kiosk_token = central_cli(url, "kiosk", "add", "MT01", "--location", "Muara Teweh").stdout.strip()
        before = requests.get(f"{base}/api/v1/reference", headers=auth(kiosk_token), timeout=30)
        assert "calendar_days" not in before.json() and before.headers["ETag"] == f'"{before.json()["version"]}"'
        assert central_cli(url, "holidays", "import", str(calendar_file)).returncode == 0
        after = requests.get(f"{base}/api/v1/reference", headers={**auth(kiosk_token), "If-None-Match": before.headers["ETag"]},
                             timeout=30)
        assert after.status_code == 200 and after.headers["ETag"] != before.headers["ETag"]
        body = after.json()
        assert body["calendar_days"] == [{"date": "2026-03-20", "working": True, "name": "dikerjakan"},
                                         {"date": "2026-11-23", "working": False, "name": "Hari Jadi"}]
        assert {k: body[k] for k in before.json()} == before.json()  # what older kiosks read is unchanged
        again = requests.get(f"{base}/api/v1/reference", headers={**auth(kiosk_token), "If-None-Match": after.headers["ETag"]},
                             timeout=30)
        assert again.status_code == 304


def test_a_bad_file_says_which_line_and_changes_nothing(tmp_path):
    url = f"sqlite:///{tmp_path / 'central.sqlite3'}"
    good = tmp_path / "kalender.txt"
    good.write_text("2026-11-23 # Hari Jadi Kabupaten Barito Utara\n", encoding="utf-8")
    assert central_cli(url, "holidays", "import", str(good)).returncode == 0
    for text, said in (("2026-12-28\n28/12/2026 # Natal\n", "line 2: expected YYYY-MM-DD or -YYYY-MM-DD"),
                       ("2026-12-28\n\n2026-12-28 # lagi\n", "line 3: 2026-12-28 is already on line 1")):
        bad = tmp_path / "baru.txt"
        bad.write_text(text, encoding="utf-8")
        result = central_cli(url, "holidays", "import", str(bad))
        assert result.returncode == 2 and f"{bad}: {said}" in result.stderr, result.stderr
        assert result.stderr.rstrip().endswith("; nothing was changed")
    missing = central_cli(url, "holidays", "import", str(tmp_path / "tidak-ada.txt"))
    assert missing.returncode == 2 and "tidak-ada.txt" in missing.stderr
    listed = central_cli(url, "holidays", "list")
    assert listed.stdout.splitlines() == ["2026-11-23  day off     Hari Jadi Kabupaten Barito Utara",
                                          "1 days of the kabupaten's own, on top of Indonesia's holidays and "
                                          "collective leave"]
    assert "no days of the kabupaten's own in 2025" in central_cli(url, "holidays", "list", "--year", "2025").stdout


def test_the_old_holidays_file_is_imported_with_a_warning(tmp_path):
    """``--holidays-file`` keeps working for the transition: the file goes into the database
    (so kiosks get it too), and the command says to import it once instead."""
    url = f"sqlite:///{tmp_path / 'central.sqlite3'}"
    old = tmp_path / "kalender.txt"
    old.write_text("2026-11-23\n", encoding="utf-8")
    result = central_cli(url, "--holidays-file", str(old), "overdue")
    assert result.returncode == 0 and "deprecated" in result.stderr and "holidays import FILE" in result.stderr
    assert central_cli(url, "holidays", "list").stdout.startswith("2026-11-23  day off")


def test_a_running_central_takes_another_process_s_import_and_moves_what_it_set_meanwhile(tmp_path):
    """GIVEN a service process that read its calendar, and a report it takes after another
    process imported a day off WHEN its calendar is read again (its refresh interval over)
    THEN it counts with the day, and the due date it set with the old one is moved."""
    url = f"sqlite:///{tmp_path / 'central.sqlite3'}"
    serving, importing = Database(url), Database(url)
    try:
        migrate(serving.engine)
        serving.calendar_refresh_s = 3600.0
        assert serving.calendar == NATIONAL
        central_token = service.add_kiosk(serving, "MT01", "Muara Teweh")
        assert central_token
        arrived = dt.datetime.now(dt.timezone.utc)
        today = deadlines.local_date(arrived)
        day_off = NATIONAL.add_working_days(today, 1)
        assert deadlines.replace_days(importing, [CalendarDay(day_off, False, "Hari Jadi")]) == 0
        body = report(kecamatan_code="LAHEI")
        service.take_report(serving, "MT01", body, now=arrived)  # still the old calendar
        stale = NATIONAL.add_working_days(today, 3)
        due = lambda: deadlines.overdue(serving, NATIONAL, stale + dt.timedelta(days=30))[0].due_on  # noqa: E731
        assert due() == stale
        serving.calendar_refresh_s = 0.0
        assert serving.calendar == WorkCalendar([day_off])
        for thread in threading.enumerate():
            if thread.name == "follow-calendar":
                thread.join(timeout=30)
        assert due() == WorkCalendar([day_off]).add_working_days(today, 3) != stale
    finally:
        serving.close()
        importing.close()


def _head() -> str:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from central.db import MIGRATIONS

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(config).get_current_head()


def test_the_migration_and_the_days_on_postgresql(postgres_url, tmp_path):
    url = fresh_database(postgres_url, "calendar")
    calendar_file = tmp_path / "kalender.txt"
    calendar_file.write_text("2026-11-23 # Hari Jadi\n-2026-03-20 # dikerjakan\n2027-11-23 # Hari Jadi\n",
                             encoding="utf-8")
    result = central_cli(url, "holidays", "import", str(calendar_file))
    assert result.returncode == 0, result.stderr
    db = Database(url)
    try:
        with db.engine.connect() as conn:
            migrated = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
        assert migrated == _head() and migrated >= "c0010"  # the CLI migrated it, the days' table included
        assert deadlines.stored_days(db, 2026) == [CalendarDay(dt.date(2026, 3, 20), True, "dikerjakan"),
                                                   CalendarDay(dt.date(2026, 11, 23), False, "Hari Jadi")]
        assert db.calendar == WorkCalendar([dt.date(2026, 11, 23), dt.date(2027, 11, 23)], [dt.date(2026, 3, 20)])
        # Replacing twice with the same days (workers starting together) changes nothing.
        assert deadlines.replace_days(db, deadlines.stored_days(db)) == 0
        assert len(deadlines.stored_days(db)) == 3
    finally:
        db.close()
