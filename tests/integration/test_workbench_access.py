"""The officers' workbench over real HTTP on a real central: who may open what, CSRF,
sessions that end for real, two-step login, an anonymous reporter's identity, hostile
citizen text, the Content-Security-Policy, keyset pages and the language switch."""
from __future__ import annotations

import dataclasses
import datetime as dt
import json

import pyotp
import pytest
import requests

from kiosk.kernel.tracking_id import format_tracking_id, new_tracking_id
from tests.support.central import central_cli, query, report, running_central, send
from tests.support.workbench import (CSP, PASSWORD, add_officer, csrf_of, enrol, log_in, page_csrf, password_step,
                                     totp_step)

SECRET_NAME, SECRET_PHONE = "Wulandari Rahasia", "081399990000"
STORED = "%Y-%m-%d %H:%M:%S.%f"  # how SQLAlchemy keeps a time in SQLite


@dataclasses.dataclass
class World:
    base: str
    url: str
    token: str
    admin: requests.Session
    agency: requests.Session  # DINKES
    viewer: requests.Session
    dinkes: str  # anonymous, forwarded to DINKES
    disdik: str  # forwarded to DISDIK
    received: str  # the citizen chose DINKES; not forwarded yet
    hostile: str
    control: str  # a stored body with control characters (an older row, another channel)


def _move(url: str, tid: str, *steps: tuple[str, ...]) -> None:
    for action, *extra in steps:
        result = central_cli(url, "report", tid, action, "--actor", "Admin Rina", *extra)
        assert result.returncode == 0, result.stderr


HOSTILE_TITLE = "<script>alert('judul')</script><b>tebal</b>"
HOSTILE_DESCRIPTION = 'Baris satu\n<img src=x onerror="alert(1)">\n"\'><svg onload=alert(2)>'


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> World:
    url = f"sqlite:///{tmp_path_factory.mktemp('workbench') / 'central.sqlite3'}"
    with running_central(url) as base:
        token = central_cli(url, "kiosk", "add", "MT01", "--location", "Mal Pelayanan Publik Muara Teweh").stdout.strip()
        admin_secret = add_officer(url, "admin-rina", "admin", totp=True)
        add_officer(url, "dinkes-budi", "agency", "DINKES")
        add_officer(url, "bupati-viewer", "viewer")
        dinkes = report(anonymous=True, reporter_name=SECRET_NAME, reporter_phone=SECRET_PHONE, title="Obat habis")
        disdik = report(title="Sekolah rusak", agency_code="DISDIK")
        received = report(title="Belum diverifikasi", agency_code="DINKES")
        hostile = report(title=HOSTILE_TITLE, description=HOSTILE_DESCRIPTION, location_text="<i>pasar</i> & 'toko'",
                         reporter_name="<u>Nama</u>")
        control = report(title="Teks kendali")
        send(base, token, dinkes, disdik, received, hostile, control)
        _move(url, dinkes["tracking_id"], ("verify",), ("forward", "--agency", "DINKES"))
        _move(url, disdik["tracking_id"], ("verify",), ("forward", "--agency", "DISDIK"))
        _move(url, hostile["tracking_id"], ("verify", "--note", "<script>catatan()</script>"))
        stored = dict(control, title="Judul\x1b[31m merah\x00\u202etxt.exe", description="a\x07b\x9bc")
        from sqlalchemy import create_engine, text

        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text("UPDATE reports SET body = :b WHERE tracking_id = :t"),
                         {"b": json.dumps(stored), "t": control["tracking_id"]})
        engine.dispose()
        yield World(base, url, token, log_in(base, "admin-rina", admin_secret), log_in(base, "dinkes-budi"),
                    log_in(base, "bupati-viewer"), dinkes["tracking_id"], disdik["tracking_id"],
                    received["tracking_id"], hostile["tracking_id"], control["tracking_id"])


def _get(browser: requests.Session, base: str, path: str) -> requests.Response:
    answer = browser.get(f"{base}{path}", allow_redirects=False, timeout=30)
    _assert_page_headers(answer)
    return answer


def _post(browser: requests.Session, base: str, path: str, **data) -> requests.Response:
    answer = browser.post(f"{base}{path}", data=data, allow_redirects=False, timeout=30)
    _assert_page_headers(answer)
    return answer


def _assert_page_headers(answer: requests.Response) -> None:
    if answer.headers.get("Content-Type", "").startswith("text/html") or answer.status_code == 303:
        assert answer.headers["Content-Security-Policy"] == CSP, answer.url
        assert answer.headers["Cache-Control"] == "no-store"
        assert answer.headers["X-Content-Type-Options"] == "nosniff"


# -- who may open what -----------------------------------------------------------------------
def test_an_anonymous_visitor_is_sent_to_the_login_page_from_every_route(world):
    visitor = requests.Session()
    tid = world.dinkes
    for method, path in (("get", "/workbench/"), ("get", f"/workbench/reports/{tid}"), ("get", "/workbench/password"),
                         ("get", "/workbench/login/totp"), ("post", f"/workbench/reports/{tid}/identity"),
                         ("post", "/workbench/password"), ("post", "/workbench/logout"), ("post", "/workbench/login/totp"),
                         ("get", "/workbench/?status=received"), ("get", f"/workbench/reports/{tid}/identity"),
                         ("get", "/workbench/kiosks")):
        answer = _get(visitor, world.base, path) if method == "get" else _post(visitor, world.base, path, csrf="x")
        assert answer.status_code == 303 and answer.headers["Location"] == "/workbench/login", (method, path)
    login = _get(visitor, world.base, "/workbench/login")
    assert login.status_code == 200 and "Masuk" in login.text
    css = visitor.get(f"{world.base}/workbench/static/workbench.css", timeout=30)
    assert css.status_code == 200 and css.headers["Content-Type"].startswith("text/css")


def test_each_role_sees_the_inbox_it_should(world):
    everything = {world.dinkes, world.disdik, world.received, world.hostile, world.control}
    for browser in (world.admin, world.viewer):
        inbox = _get(browser, world.base, "/workbench/")
        assert inbox.status_code == 200
        assert all(format_tracking_id(t) in inbox.text for t in everything)
    mine = _get(world.agency, world.base, "/workbench/")
    assert mine.status_code == 200 and format_tracking_id(world.dinkes) in mine.text
    for other in everything - {world.dinkes}:
        assert format_tracking_id(other) not in mine.text and other not in mine.text
    assert "Sekolah rusak" not in mine.text and "Belum diverifikasi" not in mine.text


def test_an_agency_officer_gets_404_for_any_report_not_with_their_agency(world):
    """GIVEN a DINKES officer WHEN they open DISDIK's report, a report the citizen meant for
    DINKES that is not forwarded yet, an unknown and a malformed ID THEN the same 404 page,
    which says nothing of whether the report exists."""
    answers = [_get(world.agency, world.base, f"/workbench/reports/{tid}")
               for tid in (world.disdik, world.received, new_tracking_id("MT01"), "MT01-00000-00000")]
    assert [a.status_code for a in answers] == [404] * 4
    assert len({a.text.replace(a.url, "") for a in answers}) == 1  # the very same page
    assert "Sekolah rusak" not in answers[0].text
    assert _get(world.agency, world.base, f"/workbench/reports/{world.dinkes}").status_code == 200
    identity = _post(world.agency, world.base, f"/workbench/reports/{world.disdik}/identity",
                     csrf=page_csrf(world.base, world.agency))
    assert identity.status_code == 404


def test_admin_and_viewer_open_every_report_and_every_page(world):
    for browser in (world.admin, world.viewer, world.agency):
        assert _get(browser, world.base, "/workbench/password").status_code == 200
        assert _get(browser, world.base, "/workbench/login").status_code == 303  # already signed in
    for browser in (world.admin, world.viewer):
        for tid in (world.dinkes, world.disdik, world.received, world.hostile, world.control):
            page = _get(browser, world.base, f"/workbench/reports/{format_tracking_id(tid)}")
            assert page.status_code == 200, tid


# -- CSRF and sessions -----------------------------------------------------------------------
def test_a_post_without_the_right_csrf_token_is_refused(world, tmp_path):
    before = query(world.url, "SELECT count(*) FROM audit_log WHERE event = 'identity_viewed'")
    for data in ({}, {"csrf": ""}, {"csrf": "not-the-token"}):
        for path in (f"/workbench/reports/{world.dinkes}/identity", "/workbench/logout", "/workbench/password"):
            answer = _post(world.admin, world.base, path, **data, old=PASSWORD, new="x" * 20, repeat="x" * 20)
            assert answer.status_code == 403, (path, data)
            assert SECRET_NAME not in answer.text
    assert query(world.url, "SELECT count(*) FROM audit_log WHERE event = 'identity_viewed'") == before
    assert _get(world.admin, world.base, "/workbench/").status_code == 200  # not logged out
    # The login form: the field must match the double-submit cookie.
    fresh = requests.Session()
    page = fresh.get(f"{world.base}/workbench/login", timeout=30)
    for data in ({"name": "bupati-viewer", "password": PASSWORD},
                 {"name": "bupati-viewer", "password": PASSWORD, "csrf": csrf_of(page.text) + "x"}):
        assert _post(fresh, world.base, "/workbench/login", **data).status_code == 403
    stranger = requests.Session()  # the right field, but not the cookie it came with
    assert _post(stranger, world.base, "/workbench/login", csrf=csrf_of(page.text), name="bupati-viewer",
                 password=PASSWORD).status_code == 403
    assert "wb_session" not in fresh.cookies and "wb_session" not in stranger.cookies


def test_the_session_cookie_is_httponly_strict_and_dead_after_logout(world):
    add_officer(world.url, "viewer-copied", "viewer")
    browser, answer = password_step(world.base, "viewer-copied")
    cookie = answer.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/workbench" in cookie
    assert "Secure" not in cookie  # plain http on 127.0.0.1 (docs/ARCHITECTURE.md: sessions)
    stolen = browser.cookies["wb_session"]
    token_rows = query(world.url, "SELECT token_sha256 FROM workbench_sessions WHERE officer_name = 'viewer-copied'")
    assert stolen not in str(token_rows)  # only a digest is stored
    thief = requests.Session()
    thief.cookies.set("wb_session", stolen, path="/workbench")
    assert _get(thief, world.base, "/workbench/").status_code == 200
    assert _post(browser, world.base, "/workbench/logout", csrf=page_csrf(world.base, browser)).status_code == 303
    for who in (browser, thief):
        who.cookies.set("wb_session", stolen, path="/workbench")
        assert _get(who, world.base, "/workbench/").headers.get("Location") == "/workbench/login"
    events = query(world.url, "SELECT event FROM audit_log WHERE officer_name = 'viewer-copied' ORDER BY id")
    assert events == [("login_ok",), ("logout",)]


def test_sessions_expire_when_idle_and_after_twelve_hours(world):
    """The times are the database's: a session last used 2 minutes ago is kept (and its
    use recorded), one idle for 31 minutes or begun 13 hours ago is over."""
    from sqlalchemy import create_engine, text

    from central.service import token_digest

    add_officer(world.url, "viewer-time", "viewer")
    browsers = [log_in(world.base, "viewer-time") for _ in range(3)]
    engine = create_engine(world.url)

    def shift(browser, column: str, minutes: int) -> None:
        with engine.begin() as conn:
            conn.execute(text(f"UPDATE workbench_sessions SET {column} = :t WHERE token_sha256 = :d"),
                         {"t": (dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=minutes)).strftime(STORED),
                          "d": token_digest(browser.cookies["wb_session"])})
    shift(browsers[0], "last_seen_at", 2)
    shift(browsers[1], "last_seen_at", 31)
    shift(browsers[2], "created_at", 13 * 60)
    engine.dispose()
    assert [_get(b, world.base, "/workbench/").status_code for b in browsers] == [200, 303, 303]
    assert _get(browsers[0], world.base, "/workbench/").status_code == 200
    seen = query(world.url, "SELECT last_seen_at FROM workbench_sessions WHERE token_sha256 = :d",
                 d=token_digest(browsers[0].cookies["wb_session"]))[0][0]
    assert seen > (dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=1)).strftime(STORED)


def test_an_admin_needs_totp_and_a_code_works_once(world):
    """GIVEN an admin without TOTP WHEN the password is right THEN only the enrolment page
    opens (tests/integration/test_workbench_officers.py follows it); once enrolled, the
    password alone gives no inbox, a wrong code is refused, the right one signs in, and the
    same code cannot sign in again."""
    add_officer(world.url, "admin-baru", "admin")
    browser, answer = password_step(world.base, "admin-baru")
    assert answer.status_code == 303 and answer.headers["Location"] == "/workbench/login/enrol"
    assert _get(browser, world.base, "/workbench/").headers["Location"] == "/workbench/login"  # no inbox yet
    secret = enrol(world.url, "admin-baru")
    browser, answer = password_step(world.base, "admin-baru")
    assert answer.status_code == 303 and answer.headers["Location"] == "/workbench/login/totp"
    assert _get(browser, world.base, "/workbench/").headers["Location"] == "/workbench/login"  # half signed in
    code = pyotp.TOTP(secret).now()
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    refused = totp_step(world.base, browser, wrong)
    assert refused.status_code == 401 and "Kode ini salah" in refused.text
    assert totp_step(world.base, browser, code).status_code == 303
    assert _get(browser, world.base, "/workbench/").status_code == 200
    again, answer = password_step(world.base, "admin-baru")
    assert totp_step(world.base, again, code).status_code == 401  # replayed
    # Optional for other roles, but required once enrolled.
    add_officer(world.url, "viewer-totp", "viewer", totp=True)
    _, answer = password_step(world.base, "viewer-totp")
    assert answer.headers["Location"] == "/workbench/login/totp"


def test_password_change_needs_the_old_one_twice_the_new_and_ends_other_sessions(world):
    add_officer(world.url, "viewer-pw", "viewer")
    first, other = log_in(world.base, "viewer-pw"), log_in(world.base, "viewer-pw")
    csrf = page_csrf(world.base, first)
    new = "kata sandi baru yang panjang"
    cases = [({"old": "salah sekali tentu", "new": new, "repeat": new}, "Kata sandi sekarang salah"),
             ({"old": PASSWORD, "new": new, "repeat": new + "x"}, "tidak sama"),
             ({"old": PASSWORD, "new": "pendek", "repeat": "pendek"}, "paling sedikit 12")]
    for data, words in cases:
        answer = _post(first, world.base, "/workbench/password", csrf=csrf, **data)
        assert answer.status_code == 400 and words in answer.text, words
    done = _post(first, world.base, "/workbench/password", csrf=csrf, old=PASSWORD, new=new, repeat=new)
    assert done.status_code == 200 and "sudah diganti" in done.text
    assert _get(first, world.base, "/workbench/").status_code == 200
    assert _get(other, world.base, "/workbench/").status_code == 303
    assert password_step(world.base, "viewer-pw")[1].status_code == 401
    log_in(world.base, "viewer-pw", password=new)
    assert ("password_changed",) in query(world.url, "SELECT event FROM audit_log WHERE officer_name = 'viewer-pw'")


# -- an anonymous reporter's identity --------------------------------------------------------
def test_an_anonymous_identity_never_reaches_agency_or_viewer(world):
    for browser in (world.agency, world.viewer):
        pages = [_get(browser, world.base, "/workbench/"), _get(browser, world.base, f"/workbench/reports/{world.dinkes}"),
                 _post(browser, world.base, f"/workbench/reports/{world.dinkes}/identity",
                       csrf=page_csrf(world.base, browser))]
        assert [p.status_code for p in pages] == [200, 200, 403]
        for page in pages:
            for secret in (SECRET_NAME, SECRET_PHONE, "Wulandari", "99990000"):
                assert secret.encode() not in page.content
        assert "Tampilkan identitas" not in pages[1].text and "Pelapor anonim" in pages[1].text


def test_an_admin_sees_the_identity_only_after_asking_and_it_is_audited(world):
    page = _get(world.admin, world.base, f"/workbench/reports/{world.dinkes}")
    assert SECRET_NAME.encode() not in page.content and SECRET_PHONE.encode() not in page.content
    assert "[disembunyikan]" in page.text and "Tampilkan identitas" in page.text
    shown = _post(world.admin, world.base, f"/workbench/reports/{world.dinkes}/identity", csrf=csrf_of(page.text))
    assert shown.status_code == 200 and SECRET_NAME in shown.text and SECRET_PHONE in shown.text
    rows = query(world.url, "SELECT officer_name, tracking_id, at FROM audit_log WHERE event = 'identity_viewed'")
    assert [(r[0], r[1]) for r in rows] == [("admin-rina", world.dinkes)] and rows[0][2]
    again = _get(world.admin, world.base, f"/workbench/reports/{world.dinkes}")
    assert SECRET_NAME not in again.text  # once: the next visit hides it again


# -- hostile text ----------------------------------------------------------------------------
def test_hostile_citizen_text_is_escaped_on_the_inbox_and_the_report(world):
    inbox = _get(world.admin, world.base, "/workbench/")
    report_page = _get(world.admin, world.base, f"/workbench/reports/{world.hostile}")
    control_page = _get(world.admin, world.base, f"/workbench/reports/{world.control}")
    for page in (inbox, report_page, control_page):
        html = page.text
        assert "<script" not in html.lower() and "<svg" not in html and "<img" not in html and "<b>tebal" not in html
        assert "<u>Nama" not in html and "<i>pasar" not in html
        for raw in ("\x1b", "\x00", "\x07", "\x9b", "\u202e"):
            assert raw not in html
    assert "&lt;script&gt;alert(&#39;judul&#39;)&lt;/script&gt;" in inbox.text
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in report_page.text
    assert "&lt;script&gt;catatan()&lt;/script&gt;" in report_page.text  # the officer's note too
    assert "&lt;u&gt;Nama&lt;/u&gt;" in report_page.text
    assert "Judul\ufffd[31m merah\ufffd\ufffdtxt.exe" in control_page.text


def test_every_html_answer_carries_the_policy(world):
    """The wrappers above check each answer; here the pages not yet seen: errors and the
    language switch."""
    for browser, path in ((world.admin, "/workbench/reports/MT01-00000-00000"), (requests.Session(), "/workbench/login?lang=en"),
                          (world.viewer, f"/workbench/?status=closed&after=garbage")):
        answer = _get(browser, world.base, path)
        assert answer.headers["Content-Type"].startswith("text/html")
        assert "<style" not in answer.text and "style=" not in answer.text and "<script" not in answer.text


# -- pages and language ----------------------------------------------------------------------
def test_the_inbox_pages_by_keyset_newest_first_and_filters_by_status(world):
    batch = [report(title=f"Antrean {n:03d}") for n in range(120)]
    send(world.base, world.token, *batch)
    seen: list[str] = []
    path = "/workbench/?status=received"
    while path:
        page = _get(world.viewer, world.base, path)
        found = [line.split(">")[1].split("<")[0] for line in page.text.split('class="tid" href')[1:]]
        seen.extend(found)
        if len(seen) == 50:  # a new report arriving between pages shifts nothing
            send(world.base, world.token, report(title="Datang di tengah"))
        nxt = page.text.split('<p class="more"><a href="')
        path = nxt[1].split('"')[0].replace("&amp;", "&") if len(nxt) > 1 else None
    ids = [format_tracking_id(b["tracking_id"]) for b in reversed(batch)]
    assert seen[:120] == ids  # newest first, none twice, none skipped
    assert len(seen) == len(set(seen)) == 120 + 2  # and the two older received ones
    counts = _get(world.viewer, world.base, "/workbench/").text
    assert 'status=received" aria-current' not in counts
    assert "Diterima <span class=\"count\">123</span>" in counts


def test_the_language_switch_is_remembered(world):
    browser = requests.Session()
    assert "Masuk" in _get(browser, world.base, "/workbench/login").text
    english = _get(browser, world.base, "/workbench/login?lang=en")
    assert "Log in" in english.text and 'href="?lang=id"' in english.text and "Bahasa Indonesia" in english.text
    assert "Log in" in _get(browser, world.base, "/workbench/login").text  # the cookie
    assert "Masuk" in _get(browser, world.base, "/workbench/login?lang=id").text
