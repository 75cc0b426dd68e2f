"""The inbox's marks and the report page's deadline over real HTTP on a real central, on
SQLite and on PostgreSQL: the reports an agency asked to re-route (admins only) and those a
citizen's objection took back to their agency, as tabs with their counts and as words on
the rows; both marks ending when the report moves on; the c0011 migration's back-fill; the
current step's due date in words on the report's page, and how late it is."""
from __future__ import annotations

import dataclasses
import datetime as dt
import re
import uuid

import pytest
import requests
from sqlalchemy import create_engine, inspect, text

from central.web import local_time
from kiosk.kernel.clock import LOCAL_TZ
from kiosk.kernel.workdays import NATIONAL
from tests.support import servers
from tests.support.central import assert_schema_matches_models, alembic, auth, central_cli, query, report, send
from tests.support.workbench import add_officer, get_page, log_in, page_csrf, post_form

_ROW_ID = re.compile(r'class="tid" href="/workbench/reports/([A-Z0-9]+)"')
HOSTILE = "<script>alert('alasan')</script>\x1b[31m ALASAN"
FORWARDED = (("verify",), ("forward", "--agency", "DINKES"))
ANSWERED = FORWARDED + (("start",), ("answer", "--reply", "Sudah kami tangani."))
#: The days and months as an Indonesian reader writes them (the page's "Jumat, 4 Desember 2026").
HARI = ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu")
BULAN = ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September", "Oktober",
         "November", "Desember")


def _indonesian(day: dt.date) -> str:
    return f"{HARI[day.weekday()]}, {day.day} {BULAN[day.month - 1]} {day.year}"


def _english(day: dt.date) -> str:
    return f"{day:%A}, {day.day} {day:%B %Y}"


@dataclasses.dataclass
class World:
    base: str
    url: str
    token: str
    browsers: dict[str, requests.Session]  # admin, dinkes, disdik, viewer

    def new(self, *steps: tuple[str, ...], **changes) -> str:
        body = report(**changes)
        send(self.base, self.token, body)
        for action, *extra in steps:
            result = central_cli(self.url, "report", body["tracking_id"], action, "--actor", "CLI", *extra)
            assert result.returncode == 0, result.stderr
        return body["tracking_id"]

    def inbox(self, who: str, **params) -> str:
        answer = get_page(self.browsers[who], self.base, "/workbench/", **params)
        assert answer.status_code == 200, answer.status_code
        return answer.text

    def post(self, who: str, path: str, **data) -> requests.Response:
        return post_form(self.browsers[who], self.base, path, csrf=page_csrf(self.base, self.browsers[who]), **data)

    def object(self, tid: str) -> None:
        """The citizen objects at a kiosk (its outbox's delivery)."""
        item = {"key": uuid.uuid4().hex, "kind": "objection", "tracking_id": tid, "text": "Belum ada perubahan.",
                "filed_at": dt.datetime.now(dt.timezone.utc).isoformat()}
        answer = requests.post(f"{self.base}/api/v1/feedback", json={"items": [item]}, headers=auth(self.token),
                               timeout=30)
        assert answer.status_code == 200 and answer.json()["results"][0]["outcome"] == "created", answer.text

    def stamp(self, tid: str, column: str) -> str:
        """The mark's moment as the page writes it."""
        [(at,)] = query(self.url, f"SELECT {column} FROM reports WHERE tracking_id = :t", t=tid)
        at = dt.datetime.fromisoformat(str(at)) if not isinstance(at, dt.datetime) else at
        return local_time(at if at.tzinfo else at.replace(tzinfo=dt.timezone.utc))


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def world(request, tmp_path_factory) -> World:
    url = (f"sqlite:///{tmp_path_factory.mktemp('marks') / 'central.sqlite3'}" if request.param == "sqlite"
           else servers.fresh_database(request.getfixturevalue("postgres_url"), "marks"))
    with servers.running_central(url) as base:
        token = central_cli(url, "kiosk", "add", "MT01", "--location", "Mal Pelayanan Publik Muara Teweh").stdout.strip()
        secret = add_officer(url, "Rina Admin", "admin", totp=True)
        add_officer(url, "Budi Dinkes", "agency", "DINKES")
        add_officer(url, "Sari Disdik", "agency", "DISDIK")
        add_officer(url, "Pak Bupati", "viewer")
        yield World(base, url, token, {"admin": log_in(base, "Rina Admin", secret), "dinkes": log_in(base, "Budi Dinkes"),
                                       "disdik": log_in(base, "Sari Disdik"), "viewer": log_in(base, "Pak Bupati")})


def _shown(page: str) -> set[str]:
    return set(_ROW_ID.findall(page))


def _row(page: str, tid: str) -> str:
    return page.split(f'href="/workbench/reports/{tid}"')[1].split("</tr>")[0]


def _tab(page: str, words: str) -> int | None:
    """The count a tab of the inbox shows, None when there is no such tab."""
    found = re.search(re.escape(words) + r' <span class="count">(\d+)</span></a>', page)
    return int(found.group(1)) if found else None


def test_admins_find_the_reports_an_agency_asked_to_reroute_and_the_agency_sees_no_change(world):
    """GIVEN three reports with DINKES WHEN its officer asks to re-route one (a hostile
    reason) THEN the admins' inbox has the tab "Minta dialihkan" with its count, the tab
    lists that report alone and its row says so with the time; the agency officer and the
    viewer get no such tab or mark (their addresses ignored); once an admin re-routes it,
    the mark and the count are gone."""
    before = _tab(world.inbox("admin"), "Minta dialihkan")
    asked, other, plain = world.new(*FORWARDED), world.new(*FORWARDED), world.new(*FORWARDED)
    for tid in (asked, other):
        done = world.post("dinkes", f"/workbench/reports/{tid}/reroute-request", status="forwarded", reason=HOSTILE)
        assert done.status_code == 303
    page = world.inbox("admin")
    assert _tab(page, "Minta dialihkan") == before + 2
    listed = world.inbox("admin", mark="reroute")
    assert {asked, other} <= _shown(listed) and plain not in _shown(listed)
    assert len(_shown(listed)) == before + 2 and 'aria-current="page">Minta dialihkan' in listed
    row = _row(listed, asked)
    assert "Minta dialihkan" in row and world.stamp(asked, "reroute_requested_at") in row
    assert "ALASAN" not in listed and "<script>alert" not in listed  # the reason stays on the report's page
    assert "Minta dialihkan" not in _row(page, plain)
    assert "Re-route requested" in _row(world.inbox("admin", mark="reroute", lang="en"), asked)
    # The status tabs keep counting the whole inbox; the search narrows the mark's count too.
    assert _tab(listed, "Diteruskan") == _tab(page, "Diteruskan")
    assert _tab(world.inbox("admin", kiosk="MT02", lang="id"), "Minta dialihkan") == 0
    for who in ("dinkes", "viewer"):
        theirs = world.inbox(who, mark="reroute", lang="id")
        assert "Minta dialihkan" not in theirs and {asked, other, plain} <= _shown(theirs), who
    # An admin decides: re-routed to DISDIK, the request is answered.
    moved = world.post("admin", f"/workbench/reports/{asked}/act", action="reroute", status="forwarded",
                       agency="DISDIK", note="Urusan sekolah")
    assert moved.status_code == 303
    after = world.inbox("admin", mark="reroute")
    assert asked not in _shown(after) and other in _shown(after) and _tab(after, "Minta dialihkan") == before + 1
    assert "Minta dialihkan" not in _row(world.inbox("admin"), asked)


def test_a_report_back_after_an_objection_is_marked_for_the_admins_and_its_agency(world):
    """GIVEN answered reports of DINKES and DISDIK WHEN each citizen objects THEN both are
    "Sedang ditangani" again and marked "Keberatan warga" with the objection's time; the
    admins' tab lists both, each agency's only its own; a new answer ends the mark."""
    base_admin = _tab(world.inbox("admin"), "Keberatan warga")
    base_dinkes = _tab(world.inbox("dinkes"), "Keberatan warga")
    base_disdik = _tab(world.inbox("admin", agency="DISDIK"), "Keberatan warga")
    dinkes, disdik = world.new(*ANSWERED), world.new(("verify",), ("forward", "--agency", "DISDIK"), ("start",),
                                                     ("answer", "--reply", "Sudah."))
    quiet = world.new(*ANSWERED)
    for tid in (dinkes, disdik):
        world.object(tid)
    page = world.inbox("admin", mark="objected")
    assert _tab(page, "Keberatan warga") == base_admin + 2 and {dinkes, disdik} <= _shown(page)
    assert quiet not in _shown(page)
    row = _row(page, dinkes)
    assert "Sedang ditangani" in row and "Keberatan warga" in row and world.stamp(dinkes, "objected_at") in row
    assert "Citizen objected" in _row(world.inbox("admin", mark="objected", lang="en"), dinkes)
    world.inbox("admin", lang="id")
    own = world.inbox("dinkes", mark="objected")
    assert _tab(own, "Keberatan warga") == base_dinkes + 1 and dinkes in _shown(own) and disdik not in _shown(own)
    assert "Keberatan warga" in _row(world.inbox("dinkes"), dinkes)
    assert disdik in _shown(world.inbox("disdik", mark="objected"))
    assert dinkes in _shown(world.inbox("viewer", mark="objected"))
    assert _tab(world.inbox("admin", agency="DISDIK"), "Keberatan warga") == base_disdik + 1
    # The agency answers again: no longer waiting after the objection.
    answered = world.post("dinkes", f"/workbench/reports/{dinkes}/act", action="answer", status="in_progress",
                          reply="Obat sudah datang.")
    assert answered.status_code == 303
    assert dinkes not in _shown(world.inbox("dinkes", mark="objected"))
    assert _tab(world.inbox("dinkes"), "Keberatan warga") == base_dinkes
    assert "Keberatan warga" not in _row(world.inbox("admin"), dinkes)


def _deadline(page: str) -> str:
    return page.split('<p class="deadline')[1].split("</p>")[0]


def test_the_report_page_says_what_is_due_when_and_how_late(world):
    """GIVEN a report just received, one forwarded, one answered and one whose deadline
    passed WHEN an officer opens each THEN the page names the step and its due day in
    words, with its working days, and the late one says by how many working days, in the
    danger style; a postponed report has no deadline."""
    today = dt.datetime.now(LOCAL_TZ).date()
    received, forwarded, answered = world.new(), world.new(*FORWARDED), world.new(*ANSWERED)
    due = NATIONAL.add_working_days(today, 3)
    page = get_page(world.browsers["admin"], world.base, f"/workbench/reports/{received}").text
    assert f"Batas verifikasi: {_indonesian(due)}" in _deadline(page) and "(3 hari kerja sejak" in _deadline(page)
    assert "Terlambat" not in _deadline(page)
    english = get_page(world.browsers["admin"], world.base, f"/workbench/reports/{received}", lang="en").text
    assert f"Verification due: {_english(due)}" in _deadline(english) and "(3 working days from" in _deadline(english)
    get_page(world.browsers["admin"], world.base, f"/workbench/reports/{received}", lang="id")
    page = get_page(world.browsers["dinkes"], world.base, f"/workbench/reports/{forwarded}").text
    assert f"Batas tindak lanjut instansi: {_indonesian(NATIONAL.add_working_days(today, 5))}" in _deadline(page)
    page = get_page(world.browsers["viewer"], world.base, f"/workbench/reports/{answered}").text
    assert f"Batas keberatan warga: {_indonesian(NATIONAL.add_working_days(today, 10))}" in _deadline(page)
    # Overdue: its wait began 20 days ago.
    start = today - dt.timedelta(days=20)
    late_due = NATIONAL.add_working_days(start, 3)
    engine = create_engine(world.url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE reports SET due_from = :f, due_on = :d WHERE tracking_id = :t"),
                     {"f": start, "d": late_due, "t": received})
    engine.dispose()
    page = get_page(world.browsers["admin"], world.base, f"/workbench/reports/{received}").text
    late = NATIONAL.working_days_between(late_due, today)
    assert late > 0 and 'class="deadline overdue"' in page
    assert f'<span class="late">Terlambat {late} hari kerja</span>' in _deadline(page)
    assert f"Batas verifikasi: {_indonesian(late_due)}" in _deadline(page)
    world.post("admin", f"/workbench/reports/{forwarded}/act", action="postpone", status="forwarded", note="")
    assert 'class="deadline' not in get_page(world.browsers["admin"], world.base, f"/workbench/reports/{forwarded}").text


# -- the migration ---------------------------------------------------------------------------
@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_c0011_marks_the_reports_waiting_before_it_and_matches_the_models(backend, tmp_path, request):
    """GIVEN reports stored before c0011: a request to re-route still waiting, one an admin
    answered by re-routing, an objection still waiting, one answered again WHEN the
    central migrates THEN only the waiting ones are marked (with their event's time), the
    inbox's tabs find them, and the schema is the models'; down and up again works."""

    from central import inbox
    from central.accounts import SignedIn
    from central.db import Database, migrate

    url = (f"sqlite:///{tmp_path / 'central.sqlite3'}" if backend == "sqlite"
           else servers.fresh_database(request.getfixturevalue("postgres_url"), "marks_mig"))
    alembic(url, "c0010")
    t0 = dt.datetime(2026, 11, 2, 2, 0, tzinfo=dt.timezone.utc)
    lives = {  # key: the events (kind, status), one hour apart
        "Q": [("status", "received"), ("status", "forwarded"), ("reroute_request", "forwarded")],
        "D": [("status", "received"), ("status", "forwarded"), ("reroute_request", "forwarded"), ("status", "rerouted")],
        "O": [("status", "received"), ("status", "answered"), ("status", "objected"), ("note", "in_progress")],
        "A": [("status", "received"), ("status", "answered"), ("status", "objected"), ("status", "answered")],
        "P": [("status", "received"), ("status", "forwarded")]}
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO kiosks VALUES ('MT01', 'x', 'd', :t, NULL)"), {"t": t0})
        for n, (key, events) in enumerate(lives.items()):
            tid = f"MT01{key}{n:09d}"
            status = "in_progress" if events[-1][1] in ("objected", "in_progress") else events[-1][1]
            conn.execute(text(
                "INSERT INTO reports (tracking_id, kiosk_code, body, body_sha256, kind, category_code, agency_code, "
                "confidential, anonymous, status, received_at) VALUES (:t, 'MT01', '{}', 'x', 'pengaduan', "
                "'KESEHATAN', 'DINKES', false, false, :s, :r)"), {"t": tid, "s": status, "r": t0})
            for hour, (kind, event) in enumerate(events):
                conn.execute(text("INSERT INTO report_events (tracking_id, status, at, actor, note, kind) "
                                  "VALUES (:t, :s, :a, 'x', '', :k)"),
                             {"t": tid, "s": event, "a": t0 + dt.timedelta(hours=hour), "k": kind})
    engine.dispose()
    db = Database(url)
    try:
        migrate(db.engine)
        marked = {r[0][4]: r[1:] for r in query(url, "SELECT tracking_id, reroute_requested_at, objected_at FROM reports")}
        def at(value):  # noqa: E306
            if value is None:
                return None
            value = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))
            return (value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)) - t0
        assert {k: (at(r), at(o)) for k, (r, o) in marked.items()} == {
            "Q": (dt.timedelta(hours=2), None), "D": (None, None), "O": (None, dt.timedelta(hours=2)),
            "A": (None, None), "P": (None, None)}
        admin = SignedIn("a", "admin", None, "c", "ok")
        agency = SignedIn("b", "agency", "DINKES", "c", "ok")
        page = inbox.inbox(db, admin, inbox.Filters.from_query({"mark": "reroute"}))
        assert [r.tracking_id[4] for r in page.rows] == ["Q"] and page.marks == {"reroute": 1, "objected": 1}
        page = inbox.inbox(db, agency, inbox.Filters.from_query({"mark": "reroute"}))
        assert page.marks == {"objected": 1} and len(page.rows) == 5  # no such tab: everything of theirs
        assert all(r.reroute_requested_at is None for r in page.rows)
        assert_schema_matches_models(db)
    finally:
        db.close()
    alembic(url, "c0010", "downgrade")
    engine = create_engine(url)
    assert not {"reroute_requested_at", "objected_at"} & {c["name"] for c in inspect(engine).get_columns("reports")}
    engine.dispose()
    alembic(url, "c0011")
    assert len(query(url, "SELECT tracking_id FROM reports WHERE objected_at IS NOT NULL")) == 1
