"""The leadership's recap and its CSV export, on a known set of reports built through the
central's own intake, lifecycle and feedback functions at chosen moments of November 2026
(a month without a public holiday): counts, percentiles and late shares checked against
figures computed by hand, the same on SQLite and PostgreSQL; then over real HTTP on a
real central: who may open it, both languages, the CSV (no identity, formula-safe, BOM,
file name), the admin's audited export with identity, and CSRF."""
from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import uuid

import pytest
import requests

from central import feedback, lifecycle, recap, service
from central.db import Database, migrate
from kiosk.kernel.clock import LOCAL_TZ
from kiosk.kernel.tracking_id import format_tracking_id, new_tracking_id
from kiosk.kernel.wire import FeedbackIn
from tests.support import servers
from tests.support.central import report
from tests.support.workbench import CSP, add_officer, csrf_of, log_in

SECRET_NAME, SECRET_PHONE = "Wulandari Rahasia", "081399990000"
OPEN_NAME, OPEN_PHONE = "Budi Terbuka", "+6281211112222"
FORMULA_TITLE = "=HYPERLINK(\"http://evil.example\",\"klik\")"
CONFIDENTIAL_TITLE = "Pungli di kantor desa"
PERIOD = {"from": "2026-11-01", "to": "2026-11-30"}
TODAY = dt.date(2026, 12, 2)


def wib(day: int, hour: int, minute: int = 0, month: int = 11) -> dt.datetime:
    """A moment of 2026 in the kabupaten's time, as the central stores it (UTC)."""
    return dt.datetime(2026, month, day, hour, minute, tzinfo=LOCAL_TZ).astimezone(dt.timezone.utc)


@dataclasses.dataclass
class Known:
    url: str
    ids: dict[str, str]


def _build(url: str) -> Known:
    """GIVEN the reports below, received in WIB at the times named, moved at the times named:

    A  Mon 2 Nov 09:00, verified 11:00, forwarded (DINKES) Tue 09:00, started, answered Fri 6
       09:00, closed 20 Nov; rated 2 then 4 (its rating: 4)
    B  Mon 2 Nov 10:00, verified Wed 4 10:00, forwarded (DINKES) Thu 5 10:00, answered Fri 13
       10:00 (a day late), closed 20 Nov; rated 5; an objection after the close
    C  Fri 6 Nov 16:00, verified Wed 11 16:00 (on its due day), forwarded (DISDIK) Thu 12 16:00
       (late)
    D  Tue 10 Nov 08:00, verified 09:00
    E  Tue 10 Nov 12:00, anonymous with a name and phone, a formula as its title
    F  Wed 11 Nov 09:00, rejected 10:00; confidential, not anonymous: a name and phone
    H  Mon 30 Nov 23:30 (still November in WIB), rejected 23:45
    G  Sat 31 Oct 23:30 and I  Tue 1 Dec 00:30: outside the period
    """
    db = Database(url)
    try:
        migrate(db.engine)
        service.add_kiosk(db, "MT01", "Mal Pelayanan Publik Muara Teweh")
        service.add_kiosk(db, "MT02", "Kantor Camat Montallat")
        bodies = {
            "A": report(category_code="KESEHATAN", kecamatan_code="LAHEI"),
            "B": report(kind="aspirasi", category_code="KESEHATAN", kecamatan_code="TEWEH_TENGAH"),
            "C": report(tracking_id=new_tracking_id("MT02"), category_code="PENDIDIKAN", kecamatan_code="MONTALLAT"),
            "D": report(kecamatan_code="LAHEI"),
            "E": report(title=FORMULA_TITLE, anonymous=True, reporter_name=SECRET_NAME, reporter_phone=SECRET_PHONE,
                        kecamatan_code="LAHEI"),
            "F": report(kind="permintaan_informasi", title=CONFIDENTIAL_TITLE, confidential=True,
                        reporter_name=OPEN_NAME, reporter_phone=OPEN_PHONE, kecamatan_code="MONTALLAT"),
            "H": report(kecamatan_code="LAHEI"),
            "G": report(kecamatan_code="LAHEI"),
            "I": report(kecamatan_code="LAHEI"),
        }
        arrivals = {"A": wib(2, 9), "B": wib(2, 10), "C": wib(6, 16), "D": wib(10, 8), "E": wib(10, 12),
                    "F": wib(11, 9), "H": wib(30, 23, 30), "G": wib(31, 23, 30, month=10), "I": wib(1, 0, 30, month=12)}
        for name, body in bodies.items():
            kiosk = body["tracking_id"][:4]
            assert service.take_report(db, kiosk, body, now=arrivals[name]).outcome == "created"
        ids = {name: body["tracking_id"] for name, body in bodies.items()}

        def move(name: str, action: str, at: dt.datetime, **extra) -> None:
            lifecycle.apply(db, ids[name], action, actor="Admin Rina", now=at, **extra)

        move("A", "verify", wib(2, 11))
        move("A", "forward", wib(3, 9), agency="DINKES")
        move("A", "start", wib(4, 9))
        move("A", "answer", wib(6, 9), reply="Sudah ditangani.")
        move("A", "close", wib(20, 9))
        move("B", "verify", wib(4, 10))
        move("B", "forward", wib(5, 10), agency="DINKES")
        move("B", "answer", wib(13, 10), reply="Sudah dijawab.")
        move("B", "close", wib(20, 9))
        move("C", "verify", wib(11, 16))
        move("C", "forward", wib(12, 16), agency="DISDIK")
        move("D", "verify", wib(10, 9))
        move("F", "reject", wib(11, 10), reply="Bukan pengaduan.")
        move("H", "reject", wib(30, 23, 45), reply="Ganda.")
        for name, kind, score, at in (("A", "rating", 2, wib(21, 9)), ("A", "rating", 4, wib(22, 9)),
                                      ("B", "rating", 5, wib(23, 9)), ("B", "objection", None, wib(24, 9))):
            item = FeedbackIn(key=uuid.uuid4().hex, kind=kind, tracking_id=ids[name], score=score,
                              text="Belum beres." if kind == "objection" else "", filed_at=at)
            assert feedback.take(db, item, kiosk_code="MT01", now=at) == "created"
    finally:
        db.close()
    return Known(url, ids)


@pytest.fixture(scope="module")
def sqlite_known(tmp_path_factory) -> Known:
    return _build(f"sqlite:///{tmp_path_factory.mktemp('recap') / 'central.sqlite3'}")


@pytest.fixture(scope="module")
def postgresql_known(postgres_url) -> Known:
    return _build(servers.fresh_database(postgres_url, "recap"))


def _figures(known: Known) -> recap.Recap:
    db = Database(known.url)
    try:
        return recap.recap(db, recap.Period(dt.date(2026, 11, 1), dt.date(2026, 11, 30)), today=TODAY)
    finally:
        db.close()


def _timing(figures: recap.Recap, name: str) -> recap.Timing:
    return next(t for t in figures.timings if t.name == name)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_the_figures_of_a_known_month(backend, request):
    """THEN the counts, the times (by hand below) and satisfaction are as built, on both databases."""
    figures = _figures(request.getfixturevalue(f"{backend}_known"))
    assert figures.total == 7  # A B C D E F H; not G (31 Oct WIB) nor I (1 Dec WIB)
    assert dict(figures.counts["status"]) == {"closed": 2, "forwarded": 1, "verified": 1, "received": 1,
                                              "rejected": 2}
    assert dict(figures.counts["agency"]) == {"DINKES": 2, "DISDIK": 1, None: 4}
    assert dict(figures.counts["kind"]) == {"pengaduan": 5, "aspirasi": 1, "permintaan_informasi": 1}
    assert dict(figures.counts["kecamatan"]) == {"LAHEI": 4, "TEWEH_TENGAH": 1, "MONTALLAT": 2}
    assert dict(figures.counts["category"]) == {"KESEHATAN": 6, "PENDIDIKAN": 1}
    assert dict(figures.counts["channel"]) == {"kiosk": 7}
    assert figures.counts["status"][0][1] == 2  # the largest first
    assert figures.overdue == 3  # C (agency's 5 days), D and E (3 days from arrival) on 2 December
    # Verify, from arrival: A 2 h (0 working days), B 48 h (2), C 120 h (3: due that day), D 1 h (0).
    # Sorted hours 1, 2, 48, 120: median (2+48)/2 = 25; p90 at rank 0.9*3 = 2.7: 48 + 0.7*72 = 98.4.
    verify = _timing(figures, "verify")
    assert (verify.count, verify.late, verify.deadline_days) == (4, 0, 3)
    assert verify.median_hours == pytest.approx(25) and verify.p90_hours == pytest.approx(98.4)
    assert verify.median_days == pytest.approx(1) and verify.p90_days == pytest.approx(2.7)
    # Forward, from arrival: A 24 h (1), B 72 h (3), C 144 h (4: due Wed 11, taken Thu 12, late).
    forward = _timing(figures, "forward")
    assert (forward.count, forward.late) == (3, 1)
    assert forward.median_hours == pytest.approx(72) and forward.p90_hours == pytest.approx(129.6)
    assert forward.median_days == pytest.approx(3) and forward.p90_days == pytest.approx(3.8)
    # Answer, from arrival: A 96 h (4), B 264 h (9): median 180, p90 96 + 0.9*168 = 247.2.
    answer = _timing(figures, "answer")
    assert (answer.count, answer.late, answer.deadline_days) == (2, 0, None)
    assert answer.median_hours == pytest.approx(180) and answer.p90_hours == pytest.approx(247.2)
    assert answer.median_days == pytest.approx(6.5) and answer.p90_days == pytest.approx(8.5)
    # The agency, forwarding to answer: A 72 h (3), B 192 h (6: due Thu 12, answered Fri 13, late).
    agency = _timing(figures, "agency")
    assert (agency.count, agency.late, agency.deadline_days) == (2, 1, 5)
    assert agency.median_hours == pytest.approx(132) and agency.p90_hours == pytest.approx(180)
    assert agency.median_days == pytest.approx(4.5) and agency.p90_days == pytest.approx(5.7)
    # Satisfaction: each report's latest rating (A: 4, not 2; B: 5).
    assert figures.satisfaction == recap.Satisfaction(2, 4.5, {1: 0, 2: 0, 3: 0, 4: 1, 5: 1})
    assert figures.objected == 1


def test_both_databases_give_the_same_recap(sqlite_known, postgresql_known):
    a, b = _figures(sqlite_known), _figures(postgresql_known)
    assert a.counts == b.counts and a.timings == b.timings and a.satisfaction == b.satisfaction
    assert (a.total, a.overdue, a.objected) == (b.total, b.overdue, b.objected)


def test_percentile_interpolates_as_postgresql_does(postgresql_known):
    """``recap.percentile`` against PostgreSQL's own percentile_cont on the same values."""
    from sqlalchemy import create_engine, text

    values = [3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0, 5.0, 3.0, 5.0]
    engine = create_engine(postgresql_known.url)
    try:
        with engine.connect() as conn:
            for p in (0.0, 0.1, 0.5, 0.9, 1.0):
                expected = conn.execute(text(
                    "SELECT percentile_cont(:p) WITHIN GROUP (ORDER BY v) FROM unnest(CAST(:vs AS float8[])) AS v"),
                    {"p": p, "vs": values}).scalar()
                assert recap.percentile(sorted(values), p) == pytest.approx(expected), p
    finally:
        engine.dispose()
    assert recap.percentile([], 0.5) is None and recap.percentile([7.0], 0.9) == 7.0


# -- over HTTP -------------------------------------------------------------------------------
@dataclasses.dataclass
class Served:
    base: str
    known: Known
    admin: requests.Session
    viewer: requests.Session
    agency: requests.Session


@pytest.fixture(scope="module")
def served(sqlite_known) -> Served:
    url = sqlite_known.url
    with servers.running_central(url) as base:
        secret = add_officer(url, "admin-rina", "admin", totp=True)
        add_officer(url, "bupati-viewer", "viewer")
        add_officer(url, "dinkes-budi", "agency", "DINKES")
        yield Served(base, sqlite_known, log_in(base, "admin-rina", secret), log_in(base, "bupati-viewer"),
                     log_in(base, "dinkes-budi"))


def _audit(url: str, event: str) -> list[tuple]:
    from tests.support.central import query

    return query(url, "SELECT officer_name, event FROM audit_log WHERE event = :e", e=event)


def _rows(answer: requests.Response) -> list[list[str]]:
    assert answer.content.startswith(b"\xef\xbb\xbf")  # the BOM: Excel reads UTF-8
    return list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"), newline="")))


def test_who_may_open_the_recap(served):
    base = served.base
    for method, path in (("get", "/workbench/recap"), ("get", "/workbench/recap.csv"), ("post", "/workbench/recap.csv")):
        answer = getattr(requests, method)(base + path, allow_redirects=False, timeout=30)
        assert answer.status_code == 303 and answer.headers["Location"].endswith("/workbench/login"), path
    refused = served.agency.get(f"{base}/workbench/recap", params=PERIOD, timeout=30)
    assert refused.status_code == 403 and "Rekap hanya untuk pimpinan dan administrator." in refused.text
    assert served.agency.get(f"{base}/workbench/recap.csv", params=PERIOD, timeout=30).status_code == 403
    inbox = served.agency.get(f"{base}/workbench/", timeout=30).text
    assert "/workbench/recap" not in inbox  # no link to a page they may not open
    for browser in (served.viewer, served.admin):
        answer = browser.get(f"{base}/workbench/recap", params=PERIOD, timeout=30)
        assert answer.status_code == 200 and answer.headers["Content-Security-Policy"] == CSP
        assert 'href="/workbench/recap"' in answer.text


def test_the_page_in_both_languages(served):
    page = served.viewer.get(f"{served.base}/workbench/recap", params={**PERIOD, "lang": "id"}, timeout=30).text
    assert "<h1>Rekap</h1>" in page and "laporan diterima" in page
    assert '<span class="big">7</span>' in page  # A B C D E F H
    assert '<span class="big">42,9 %</span>' in page  # 3 of 7 overdue now, in Indonesian numbers
    assert '<span class="big">4,5</span>' in page  # satisfaction: (4 + 5) / 2
    assert "Kedatangan sampai verifikasi" in page and "1,0 hari kerja" in page and "25,0 jam" in page
    assert 'class="w-30"' in page  # closed: 2 of 7 = 28.6 %, drawn as 30 %
    assert "Dinas Kesehatan" in page and "Lahei" in page
    assert SECRET_NAME not in page and SECRET_PHONE not in page and "Export with identity" not in page
    assert "Ekspor dengan identitas" not in page  # a viewer has no such button
    english = served.viewer.get(f"{served.base}/workbench/recap", params={**PERIOD, "lang": "en"}, timeout=30).text
    assert "<h1>Recap</h1>" in english and "Arrival to verification" in english and "25.0 hours" in english
    assert "42.9 %" in english and "Forwarding to answer (the agency)" in english
    admin = served.admin.get(f"{served.base}/workbench/recap", params=PERIOD, timeout=30).text
    assert "Ekspor dengan identitas" in admin or "Export with identity" in admin


def test_the_csv_has_no_identity_and_no_formula(served):
    answer = served.viewer.get(f"{served.base}/workbench/recap.csv", params={**PERIOD, "title": "1", "lang": "id"},
                               timeout=30)
    assert answer.status_code == 200 and answer.headers["Content-Type"].startswith("text/csv")
    assert answer.headers["Content-Disposition"] == 'attachment; filename="rekap-lapor-2026-11-01_2026-11-30.csv"'
    for secret in (SECRET_NAME, SECRET_PHONE, OPEN_NAME, OPEN_PHONE, "Siti Aminah", "081234567890"):
        assert secret.encode() not in answer.content, secret
    rows = _rows(answer)
    header, body = rows[0], rows[1:]
    assert header[:3] == ["Nomor laporan", "Diterima (WIB)", "Diverifikasi (WIB)"] and header[-1] == "Judul"
    ids = served.known.ids
    assert [r[0] for r in body] == [format_tracking_id(ids[n]) for n in "ABCDEFH"]  # oldest first
    a = dict(zip(header, body[0]))
    assert a["Diterima (WIB)"] == "2026-11-02 09:00" and a["Dijawab (WIB)"] == "2026-11-06 09:00"
    assert a["Status laporan"] == "Selesai" and a["Kepuasan (1-5)"] == "4" and a["Terlambat"] == "Tidak"
    c = dict(zip(header, body[2]))
    assert c["Terlambat"] == "Ya" and c["Tenggat"] == "2026-11-19" and c["Kios"] == "MT02"
    e = dict(zip(header, body[4]))
    assert e["Judul"] == "'" + FORMULA_TITLE  # a spreadsheet shows it, never runs it
    assert all(not cell.startswith(("=", "+", "-", "@")) for row in body for cell in row)
    assert CONFIDENTIAL_TITLE.encode() not in answer.content  # a confidential report's title stays inside
    without = served.viewer.get(f"{served.base}/workbench/recap.csv", params=PERIOD, timeout=30)
    assert FORMULA_TITLE.split("(")[0].encode() not in without.content  # titles only when asked
    assert ("bupati-viewer", "recap_exported") in _audit(served.known.url, "recap_exported")


def test_the_admin_exports_identity_audited_and_only_the_admin(served):
    base, url = served.base, served.known.url
    page = served.admin.get(f"{base}/workbench/recap", params=PERIOD, timeout=30).text
    form = {"csrf": csrf_of(page), **PERIOD}
    for wrong in ({k: v for k, v in form.items() if k != "csrf"}, {**form, "csrf": "x" * 43}):
        refused = served.admin.post(f"{base}/workbench/recap.csv", data=wrong, timeout=30)
        assert refused.status_code == 403 and not refused.content.startswith(b"\xef\xbb\xbf")
    assert _audit(url, "recap_exported_identity") == []
    for other in (served.viewer, served.agency):
        token = csrf_of(other.get(f"{base}/workbench/", timeout=30).text)
        refused = other.post(f"{base}/workbench/recap.csv", data={**form, "csrf": token}, timeout=30)
        assert refused.status_code == 403 and OPEN_NAME.encode() not in refused.content
    assert _audit(url, "recap_exported_identity") == []
    answer = served.admin.post(f"{base}/workbench/recap.csv", data=form, timeout=30)
    assert answer.status_code == 200
    assert answer.headers["Content-Disposition"] == \
        'attachment; filename="rekap-lapor-identitas-2026-11-01_2026-11-30.csv"'
    assert SECRET_NAME.encode() not in answer.content and SECRET_PHONE.encode() not in answer.content
    rows = _rows(answer)
    f = dict(zip(rows[0], rows[6]))
    assert f["Nama pelapor"] == OPEN_NAME and f["Telepon pelapor"] == "'" + OPEN_PHONE  # '+62...: not a formula
    e = dict(zip(rows[0], rows[5]))
    assert e["Nama pelapor"] == "" and e["Telepon pelapor"] == ""  # anonymous: never
    assert _audit(url, "recap_exported_identity") == [("admin-rina", "recap_exported_identity")]
