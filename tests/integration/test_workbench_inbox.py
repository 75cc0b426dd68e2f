"""The workbench's inbox over real HTTP on a real central: filters alone and combined, the
agency officer's limit whatever the filters say, keyset pages with filters and both
orders, full-text search (never the reporter's name or phone; hostile queries), working-day
deadlines with the kabupaten's calendar file, overdue marks, ``python -m central
overdue``, and the c0005 migration's back-fill; search and deadlines on PostgreSQL too."""
from __future__ import annotations

import dataclasses
import datetime as dt
import html
import json
import re
import urllib.parse

import pytest
import requests
from sqlalchemy import create_engine, text

from kiosk.kernel.clock import LOCAL_TZ
from kiosk.kernel.i18n import long_date
from kiosk.kernel.tracking_id import format_tracking_id, new_tracking_id
from kiosk.kernel.workdays import NATIONAL, WorkCalendar
from tests.support import servers
from tests.support.central import alembic, central_cli, query, report, send
from tests.support.workbench import CSP, add_officer, log_in

SECRET_NAME, SECRET_PHONE = "Wulandari Rahasia", "081399990000"
HOSTILE_TITLE = "<script>alert('judul')</script> Lampu jalan"
_ROW_ID = re.compile(r'class="tid" href="[^"]+">([^<]+)</a>')


def _today() -> dt.date:
    return dt.datetime.now(LOCAL_TZ).date()


@dataclasses.dataclass
class World:
    base: str
    url: str
    calendar: WorkCalendar
    calendar_file: str
    admin: requests.Session
    agency: requests.Session  # DINKES
    viewer: requests.Session
    ids: dict[str, str]  # name -> Tracking ID


def _move(url: str, tid: str, *steps: tuple[str, ...]) -> None:
    for action, *extra in steps:
        result = central_cli(url, "report", tid, action, "--actor", "Admin Rina", *extra)
        assert result.returncode == 0, result.stderr


def _age(url: str, tid: str, days: int) -> None:
    """Make a report as if it had arrived (and moved) ``days`` days earlier; the central
    recomputes its deadline from the moved start when it starts again."""
    engine = create_engine(url)
    shift = dt.timedelta(days=days)
    with engine.begin() as conn:
        for table, column in (("reports", "received_at"), ("report_events", "at")):
            rows = conn.execute(text(f"SELECT rowid, {column} FROM {table} WHERE tracking_id = :t"), {"t": tid}).all()
            for rowid, at in rows:
                moved = dt.datetime.fromisoformat(str(at)) - shift
                conn.execute(text(f"UPDATE {table} SET {column} = :a WHERE rowid = :r"),
                             {"a": moved.strftime("%Y-%m-%d %H:%M:%S.%f"), "r": rowid})
        start = conn.execute(text("SELECT due_from FROM reports WHERE tracking_id = :t"), {"t": tid}).scalar()
        conn.execute(text("UPDATE reports SET due_from = :f, due_on = NULL WHERE tracking_id = :t"),
                     {"f": (dt.date.fromisoformat(str(start)) - shift).isoformat(), "t": tid})
    engine.dispose()


def _first_working_day_after(calendar: WorkCalendar, day: dt.date) -> dt.date:
    return calendar.add_working_days(day, 1)


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> World:
    """Reports of every kind, from two kiosks, in three kecamatan; one anonymous with a
    name and phone; one arrived 30 days ago (overdue), one 10 days ago; the kabupaten's
    calendar file takes a working day off inside the old report's wait."""
    folder = tmp_path_factory.mktemp("inbox")
    url = f"sqlite:///{folder / 'central.sqlite3'}"
    reports = {
        "dinkes": report(title="Obat habis di puskesmas", description="Stok obat kosong sejak minggu lalu.",
                         anonymous=True, reporter_name=SECRET_NAME, reporter_phone=SECRET_PHONE,
                         kecamatan_code="LAHEI"),
        "disdik": report(tracking_id=new_tracking_id("MT02"), title="Sekolah rusak", description="Atap kelas bocor.",
                         kind="aspirasi",
                         category_code="PENDIDIKAN", agency_code="DISDIK", kecamatan_code="MONTALLAT",
                         confidential=True, location_text="SDN 3 Montallat"),
        "info": report(title="Jadwal vaksinasi", description="Kapan jadwal imunisasi anak?",
                       kind="permintaan_informasi", agency_code="DINKES", kecamatan_code="TEWEH_TENGAH"),
        "hostile": report(title=HOSTILE_TITLE, description='"\'><svg onload=alert(2)>', kecamatan_code="LAHEI",
                          reporter_name="<u>Nama</u>"),
        "old": report(title="Jembatan putus", description="Jembatan gantung putus, warga memutar jauh.",
                      category_code="JALAN_JEMBATAN", kecamatan_code="TEWEH_TENGAH", location_text="Desa Lemo"),
        "older": report(title="Air keruh", description="Air PDAM keruh dan berbau.", category_code="AIR_BERSIH",
                        kecamatan_code="TEWEH_TENGAH"),
    }
    with servers.running_central(url) as base:
        token = central_cli(url, "kiosk", "add", "MT01", "--location", "Mal Pelayanan Publik Muara Teweh").stdout.strip()
        other = central_cli(url, "kiosk", "add", "MT02", "--location", "Kantor Camat Montallat").stdout.strip()
        send(base, token, *(b for k, b in reports.items() if k != "disdik"))
        send(base, other, reports["disdik"])
    ids = {name: body["tracking_id"] for name, body in reports.items()}
    _move(url, ids["dinkes"], ("verify",), ("forward", "--agency", "DINKES"))
    _move(url, ids["disdik"], ("verify",), ("forward", "--agency", "DISDIK"))
    _move(url, ids["older"], ("verify",), ("forward", "--agency", "PDAM"), ("start",))
    _age(url, ids["old"], 30)
    _age(url, ids["older"], 20)
    # The kabupaten's day off: the first working day of the old report's wait.
    old_start = (dt.datetime.now(LOCAL_TZ) - dt.timedelta(days=30)).date()
    day_off = _first_working_day_after(NATIONAL, old_start)
    calendar_file = folder / "kalender.txt"
    calendar_file.write_text(f"# Hari jadi kabupaten\n{day_off.isoformat()}\n", encoding="utf-8")
    calendar = WorkCalendar.from_file(calendar_file)
    with servers.running_central(url, env={"CENTRAL_HOLIDAYS_FILE": str(calendar_file)}) as base:
        admin_secret = add_officer(url, "admin-rina", "admin", totp=True)
        add_officer(url, "dinkes-budi", "agency", "DINKES")
        add_officer(url, "bupati-viewer", "viewer")
        yield World(base, url, calendar, str(calendar_file), log_in(base, "admin-rina", admin_secret), log_in(base, "dinkes-budi"),
                    log_in(base, "bupati-viewer"), ids)


def _inbox(browser: requests.Session, base: str, **params) -> requests.Response:
    answer = browser.get(f"{base}/workbench/", params=params, allow_redirects=False, timeout=30)
    assert answer.status_code == 200, (params, answer.status_code)
    assert answer.headers["Content-Security-Policy"] == CSP
    return answer


def _shown(answer: requests.Response) -> list[str]:
    """The Tracking IDs of the inbox's rows, in order."""
    return [m.group(1) for m in _ROW_ID.finditer(answer.text)]


def _names(world: World, *names: str) -> set[str]:
    return {format_tracking_id(world.ids[n]) for n in names}


# -- filters ---------------------------------------------------------------------------------
FILTERS = [
    ({"status": "forwarded"}, {"dinkes", "disdik"}),
    ({"kind": "aspirasi"}, {"disdik"}),
    ({"kind": "permintaan_informasi"}, {"info"}),
    ({"category": "JALAN_JEMBATAN"}, {"old"}),
    ({"agency": "DINKES"}, {"dinkes", "info"}),
    ({"kecamatan": "TEWEH_TENGAH"}, {"info", "old", "older"}),
    ({"kiosk": "MT02"}, {"disdik"}),
    ({"kiosk": "mt02"}, {"disdik"}),
    ({"anonymous": "yes"}, {"dinkes"}),
    ({"confidential": "yes"}, {"disdik"}),
    ({"overdue": "1"}, {"old", "older"}),
    ({"kecamatan": "TEWEH_TENGAH", "overdue": "1", "category": "AIR_BERSIH"}, {"older"}),
    ({"kecamatan": "LAHEI", "anonymous": "no"}, {"hostile"}),
    ({"status": "received", "kecamatan": "TEWEH_TENGAH"}, {"info", "old"}),
    ({"q": "jembatan", "kecamatan": "TEWEH_TENGAH"}, {"old"}),
    ({"q": "obat", "agency": "DISDIK"}, set()),
    ({"status": "bogus", "kind": "<b>", "from": "kemarin", "anonymous": "mungkin", "sort": "'; DROP"},
     {"dinkes", "disdik", "info", "hostile", "old", "older"}),  # nonsense is ignored, never an error
]


@pytest.mark.parametrize("params,expected", FILTERS, ids=[json.dumps(p)[:60] for p, _ in FILTERS])
def test_each_filter_alone_and_combined_shows_exactly_its_reports(world, params, expected):
    for sort in ("newest", "deadline"):
        shown = _shown(_inbox(world.admin, world.base, **{"sort": sort, **params}))
        assert set(shown) == _names(world, *expected) and len(shown) == len(set(shown)), (params, sort)


def test_dates_received_count_the_kabupatens_days_both_included(world):
    today = _today()
    twenty_days_ago = (today - dt.timedelta(days=20)).isoformat()
    assert set(_shown(_inbox(world.viewer, world.base, to=twenty_days_ago))) == _names(world, "old", "older")
    assert set(_shown(_inbox(world.viewer, world.base, **{"from": twenty_days_ago, "to": twenty_days_ago}))) == \
        _names(world, "older")
    assert set(_shown(_inbox(world.viewer, world.base, **{"from": today.isoformat()}))) == \
        _names(world, "dinkes", "disdik", "info", "hostile")


def test_counts_per_status_follow_the_filters(world):
    page = _inbox(world.admin, world.base, kecamatan="TEWEH_TENGAH", status="received").text
    assert 'Diterima <span class="count">2</span>' in page and 'Sedang ditangani <span class="count">1</span>' in page
    assert 'Semua <span class="count">3</span>' in page
    # The status tabs keep the other filters.
    assert "kecamatan=TEWEH_TENGAH" in page.split('aria-label="Saring menurut status"')[1].split("</nav>")[0]


def test_an_agency_officer_sees_only_their_agency_whatever_the_filters_say(world):
    mine = _names(world, "dinkes")
    for params in ({}, {"agency": "DISDIK"}, {"status": "received"}, {"kiosk": "MT02"}, {"q": "sekolah"},
                   {"confidential": "yes"}, {"overdue": "1"}, {"sort": "deadline"}, {"agency": "DISDIK", "q": "rusak"}):
        shown = set(_shown(_inbox(world.agency, world.base, **params)))
        assert shown <= mine, params
        page = _inbox(world.agency, world.base, **params).text
        assert "Sekolah rusak" not in page and "Jembatan" not in page and "Jadwal vaksinasi" not in page
    assert set(_shown(_inbox(world.agency, world.base, agency="DISDIK"))) == mine  # their agency, not the field's
    assert 'name="agency"' not in _inbox(world.agency, world.base).text  # no agency choice to make


# -- search ----------------------------------------------------------------------------------
SEARCHES = [
    ("jembatan", {"old"}), ("JEMBATAN gantung", {"old"}), ("jemb", {"old"}),  # case, several words, prefix
    ("lemo", {"old"}),  # the place
    ("bocor", {"disdik"}),  # the description of a confidential report: officers handle it
    ("obat kosong", {"dinkes"}), ("obat sekolah", set()),  # every word must occur
    ("lampu", {"hostile"}), ("script", {"hostile"}),
]


@pytest.mark.parametrize("words,expected", SEARCHES)
def test_search_finds_title_description_and_place(world, words, expected):
    assert set(_shown(_inbox(world.admin, world.base, q=words))) == _names(world, *expected)


def test_searching_a_reporters_name_or_phone_finds_nothing_for_anyone(world):
    for browser in (world.admin, world.agency, world.viewer):
        for words in (SECRET_NAME, "Wulandari", SECRET_PHONE, "0813999", "Siti Aminah", "081234567890", "Nama"):
            answer = _inbox(browser, world.base, q=words)
            assert _shown(answer) == [], words
            for secret in (SECRET_PHONE, "Wulandari"):  # only what was typed comes back
                assert secret in words or secret not in answer.text
    assert "Wulandari" not in str(query(world.url, "SELECT document FROM report_search"))


HOSTILE_QUERIES = ['"', "'", '"unclosed', "*", "jalan*", "NEAR(obat kosong)", "obat AND", "OR", "NOT obat", "^obat",
                   "title:obat", "(obat", "obat)", "-obat", "a:* & !b | c", "' OR 1=1 --", "%_%", "\\", "{}[]",
                   "<script>alert(1)</script>", "<b>obat</b>", "obat\x00\x1b[31m", "\u202eobat", "x" * 5000,
                   " ".join(["obat"] * 50), "😀 obat", "obat; DROP TABLE reports"]


def test_hostile_search_strings_never_fail_and_come_back_escaped(world):
    for words in HOSTILE_QUERIES:
        for browser in (world.admin, world.agency):
            answer = _inbox(browser, world.base, q=words)
            page = answer.text
            assert "<script" not in page.lower() and "<b>obat" not in page, words
            for raw in ("\x00", "\x1b", "\u202e"):
                assert raw not in page
            value = re.search(r'id="f-q" name="q" type="search" value="([^"]*)"', page).group(1)
            assert len(html.unescape(value)) <= 200 and "<" not in value and '"' not in value
    for words in ('"obat kosong"', "obat)", "(obat* kosong"):  # the words still count
        assert set(_shown(_inbox(world.admin, world.base, q=words))) == _names(world, "dinkes"), words
    assert query(world.url, "SELECT count(*) FROM reports") == [(6,)]


# -- deadlines and overdue -------------------------------------------------------------------
def _row(page: str, tid: str) -> str:
    return page.split(f">{format_tracking_id(tid)}</a>")[1].split("</tr>")[0]


def test_deadlines_count_working_days_of_the_kabupatens_calendar_and_overdue_is_written(world):
    """GIVEN a report that arrived 30 days ago, a day off in the kabupaten's file inside its
    wait WHEN an officer opens the inbox THEN its due date is 3 working days of that calendar
    after arrival, and the row says in words how many working days it is late."""
    today = _today()
    page = _inbox(world.admin, world.base).text
    arrived = today - dt.timedelta(days=30)
    due = world.calendar.add_working_days(arrived, 3)
    assert due == NATIONAL.add_working_days(arrived, 4)  # the file's day off moved it by one working day
    late = world.calendar.working_days_between(due, today)
    row = _row(page, world.ids["old"])
    assert due.isoformat() in row and f"Terlambat {late} hari kerja" in row and 'class="late"' in row
    fresh = _row(page, world.ids["info"])
    assert world.calendar.add_working_days(today, 3).isoformat() in fresh and "Terlambat" not in fresh
    forwarded = _row(page, world.ids["dinkes"])
    assert world.calendar.add_working_days(today, 5).isoformat() in forwarded
    # In progress keeps the agency's 5 days from the forwarding, 20 days ago.
    in_progress = _row(page, world.ids["older"])
    assert world.calendar.add_working_days(today - dt.timedelta(days=20), 5).isoformat() in in_progress
    assert "Terlambat</span> 2 laporan di sini sudah lewat tenggat" in page
    english = _inbox(world.admin, world.base, lang="en").text
    assert f"Overdue by {late} working days" in _row(english, world.ids["old"])


def test_sort_by_deadline_puts_the_most_overdue_first(world):
    shown = _shown(_inbox(world.viewer, world.base, sort="deadline"))
    assert shown[:2] == [format_tracking_id(world.ids["old"]), format_tracking_id(world.ids["older"])]
    assert len(shown) == 6


def test_the_public_page_expects_the_date_of_the_same_calendar(world):
    """The citizen reads the same date the officer's inbox shows (no weekend only count)."""
    page = requests.get(f"{world.base}/status/{world.ids['old']}?lang=id", timeout=30).text
    due = world.calendar.add_working_days(_today() - dt.timedelta(days=30), 3)
    assert long_date(due, "id") in page


def test_overdue_cli_lists_only_what_monitoring_needs_and_exits_1(world):
    result = central_cli(world.url, "--holidays-file", world.calendar_file, "overdue", "--json")
    assert result.returncode == 1, result.stderr
    data = json.loads(result.stdout)
    assert data["today"] == _today().isoformat() and data["overdue"] == 2
    old = data["reports"][0]
    assert set(old) == {"tracking_id", "status", "agency_code", "due_on", "working_days_late"}
    assert old["tracking_id"] == world.ids["old"] and old["status"] == "received" and old["agency_code"] is None
    due = world.calendar.add_working_days(_today() - dt.timedelta(days=30), 3)
    assert old["due_on"] == due.isoformat()
    assert old["working_days_late"] == world.calendar.working_days_between(due, _today())
    assert [r["tracking_id"] for r in data["reports"]] == [world.ids["old"], world.ids["older"]]
    table = central_cli(world.url, "overdue")
    assert table.returncode == 1 and format_tracking_id(world.ids["old"]) in table.stdout
    assert "2 reports overdue" in table.stdout
    for output in (result.stdout + result.stderr, table.stdout + table.stderr):
        for secret in ("Jembatan", "Air keruh", "Siti Aminah", "081234567890", SECRET_NAME, "Lemo"):
            assert secret not in output
    earlier = central_cli(world.url, "overdue", "--today", (_today() - dt.timedelta(days=40)).isoformat())
    assert earlier.returncode == 0 and "no report is overdue" in earlier.stdout


def test_a_wrong_calendar_file_stops_the_start_with_its_line(tmp_path):
    bad = tmp_path / "kalender.txt"
    bad.write_text("2026-11-23\n23/11/2026\n", encoding="utf-8")
    url = f"sqlite:///{tmp_path / 'central.sqlite3'}"
    for args in (("--holidays-file", str(bad), "serve", "--port", str(servers.free_port())),
                 ("serve", "--holidays-file", str(bad)), ("overdue", "--holidays-file", str(bad))):
        result = central_cli(url, *args)
        assert result.returncode == 2 and "line 2" in result.stderr, (args, result.stderr)
    missing = central_cli(url, "--holidays-file", str(tmp_path / "nope.txt"), "overdue")
    assert missing.returncode == 2 and "nope.txt" in missing.stderr
    assert central_cli(url, "overdue").returncode == 0  # an empty central: nothing overdue


# -- pages -----------------------------------------------------------------------------------
def test_keyset_pages_keep_the_filters_and_the_order(world):
    """GIVEN 120 matching reports among others WHEN an officer follows "next" with a search,
    a kiosk filter and each order THEN every matching report once, in order, none other."""
    token = central_cli(world.url, "kiosk", "add", "MT03", "--location", "Pasar").stdout.strip()
    batch = [report(title=f"Banjir {n:03d}", tracking_id=new_tracking_id("MT03"), kecamatan_code="LAHEI")
             for n in range(120)]
    noise = [report(title=f"Banjir lain {n}", tracking_id=new_tracking_id("MT04")) for n in range(5)]
    send(world.base, token, *batch)
    send(world.base, central_cli(world.url, "kiosk", "add", "MT04", "--location", "x").stdout.strip(), *noise)
    for sort in ("newest", "deadline"):
        seen, pages = [], 0
        params = {"q": "banjir", "kiosk": "MT03", "sort": sort}
        while params is not None:
            answer = _inbox(world.viewer, world.base, **params)
            seen += _shown(answer)
            pages += 1
            nxt = re.search(r'<p class="more"><a href="([^"]+)"', answer.text)
            params = None
            if nxt:
                link = html.unescape(nxt.group(1))
                assert "kiosk=MT03" in link and "q=banjir" in link and (sort == "newest" or "sort=deadline" in link)
                params = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(link).query))
        expected = [format_tracking_id(b["tracking_id"]) for b in reversed(batch)]
        assert pages == 3 and len(seen) == len(set(seen)) == 120, sort
        if sort == "newest":
            assert seen == expected
        else:  # all due the same day: then by Tracking ID
            assert seen == sorted(expected, key=lambda t: t.replace("-", ""))
    counts = _inbox(world.viewer, world.base, q="banjir", kiosk="MT03").text
    assert 'Diterima <span class="count">120</span>' in counts


# -- PostgreSQL ------------------------------------------------------------------------------
def test_search_filters_and_deadlines_on_postgresql(postgres_url):
    """The same words find the same reports; deadlines and overdue the same."""
    url = servers.fresh_database(postgres_url, "inbox")
    with servers.running_central(url) as base:
        token = central_cli(url, "kiosk", "add", "MT01", "--location", "Mal").stdout.strip()
        bodies = [report(title="Jembatan putus", location_text="Desa Lemo", kecamatan_code="TEWEH_TENGAH"),
                  report(title="Obat habis", anonymous=True, reporter_name=SECRET_NAME, reporter_phone=SECRET_PHONE),
                  report(title=HOSTILE_TITLE, description="Jalanan gelap")]
        send(base, token, *bodies)
        _move(url, bodies[1]["tracking_id"], ("verify",), ("forward", "--agency", "DINKES"))
        secret = add_officer(url, "admin-pg", "admin", totp=True)
        add_officer(url, "dinkes-pg", "agency", "DINKES")
        admin, agency = log_in(base, "admin-pg", secret), log_in(base, "dinkes-pg")
        ids = [format_tracking_id(b["tracking_id"]) for b in bodies]
        for words, expected in (("jembatan", {ids[0]}), ("LEMO", {ids[0]}), ("jalan", {ids[2]}), ("obat", {ids[1]}),
                                ("jem putus", {ids[0]}), (SECRET_NAME, set()), (SECRET_PHONE, set())):
            assert set(_shown(_inbox(admin, base, q=words))) == expected, words
        for words in HOSTILE_QUERIES:
            _inbox(admin, base, q=words)
        assert set(_shown(_inbox(agency, base, q="jembatan"))) == set()
        assert set(_shown(_inbox(agency, base, q="obat"))) == {ids[1]}
        assert set(_shown(_inbox(admin, base, kecamatan="TEWEH_TENGAH", sort="deadline"))) == {ids[0]}
        page = _inbox(admin, base).text
        assert NATIONAL.add_working_days(_today(), 3).isoformat() in _row(page, bodies[0]["tracking_id"])
        assert NATIONAL.add_working_days(_today(), 5).isoformat() in _row(page, bodies[1]["tracking_id"])
    future = (_today() + dt.timedelta(days=60)).isoformat()
    result = central_cli(url, "overdue", "--json", "--today", future)
    assert result.returncode == 1 and json.loads(result.stdout)["overdue"] == 3


# -- the migration ---------------------------------------------------------------------------
@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_the_migration_back_fills_kecamatan_deadlines_and_search(backend, tmp_path, request):
    """GIVEN reports stored before c0005 (received, forwarded, answered, closed) WHEN the
    central starts THEN each has its kecamatan, its deadline from the right event, and is
    found by search, never by its reporter's name."""
    url = (f"sqlite:///{tmp_path / 'central.sqlite3'}" if backend == "sqlite"
           else servers.fresh_database(request.getfixturevalue("postgres_url"), "backfill"))
    alembic(url, "c0004")
    arrived = dt.datetime(2026, 3, 16, 18, 0, tzinfo=dt.timezone.utc)  # 01:00 WIB, Tuesday 17 March (before Idul Fitri)
    forwarded = dt.datetime(2026, 3, 27, 2, 0, tzinfo=dt.timezone.utc)
    answered = dt.datetime(2026, 4, 6, 2, 0, tzinfo=dt.timezone.utc)
    lives = {"R": ["received"], "F": ["received", "verified", "forwarded"],
             "A": ["received", "verified", "forwarded", "in_progress", "answered"], "C": ["received", "closed"]}
    when = {"received": arrived, "verified": arrived + dt.timedelta(days=1), "forwarded": forwarded,
            "in_progress": forwarded + dt.timedelta(days=1), "answered": answered, "closed": answered}
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO kiosks VALUES ('MT01', 'x', 'd', :t, NULL)"), {"t": arrived})
        for n, (key, steps) in enumerate(lives.items()):
            tid = f"MT01{key}{n:09d}"
            body = report(tracking_id=tid, title=f"Jalan {key} berlubang", kecamatan_code="LAHEI",
                          reporter_name=SECRET_NAME)
            conn.execute(text(
                "INSERT INTO reports (tracking_id, kiosk_code, body, body_sha256, kind, category_code, agency_code, "
                "confidential, anonymous, status, received_at) VALUES (:t, 'MT01', :b, 'x', 'pengaduan', 'KESEHATAN', "
                ":a, false, true, :s, :r)"),
                {"t": tid, "b": json.dumps(body), "a": "DPUPR" if len(steps) > 2 else None, "s": steps[-1], "r": arrived})
            for status in steps:
                conn.execute(text("INSERT INTO report_events (tracking_id, status, at, actor, note, kind) "
                                  "VALUES (:t, :s, :a, 'x', '', 'status')"), {"t": tid, "s": status, "a": when[status]})
            conn.execute(text("INSERT INTO report_events (tracking_id, status, at, actor, note, kind) "
                              "VALUES (:t, :s, :a, 'x', 'catatan', 'note')"),
                         {"t": tid, "s": steps[-1], "a": answered + dt.timedelta(days=20)})  # a note starts no wait
    engine.dispose()
    from central.db import Database, migrate
    from central import inbox
    from central.accounts import SignedIn

    db = Database(url)
    try:
        migrate(db.engine)
        rows = {r[0][4]: r[1:] for r in query(url, "SELECT tracking_id, kecamatan_code, due_from, due_on FROM reports")}
        assert {k: (v[0], str(v[2]) if v[2] else None) for k, v in rows.items()} == {
            "R": ("LAHEI", "2026-03-27"),  # 3 working days after 17 March: after Nyepi and Idul Fitri's leave
            "F": ("LAHEI", NATIONAL.add_working_days(dt.date(2026, 3, 27), 5).isoformat()),
            "A": ("LAHEI", NATIONAL.add_working_days(dt.date(2026, 4, 6), 10).isoformat()),
            "C": ("LAHEI", None)}
        admin = SignedIn("a", "admin", None, "c", "ok")
        found = inbox.inbox(db, admin, inbox.Filters.from_query({"q": "berlubang", "sort": "deadline"}))
        assert [r.tracking_id[4] for r in found.rows] == ["R", "F", "A", "C"]
        assert inbox.inbox(db, admin, inbox.Filters.from_query({"q": "Wulandari"})).rows == []
        assert inbox.inbox(db, admin, inbox.Filters.from_query({"kecamatan": "LAHEI"})).counts["answered"] == 1
        # Dates received are the kabupaten's days: 01:00 WIB is on the 17th, not the 16th (UTC).
        assert len(inbox.inbox(db, admin, inbox.Filters.from_query({"from": "2026-03-17", "to": "2026-03-17"})).rows) == 4
        assert inbox.inbox(db, admin, inbox.Filters.from_query({"to": "2026-03-16"})).rows == []
    finally:
        db.close()
