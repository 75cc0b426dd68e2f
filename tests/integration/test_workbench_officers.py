"""Accounts from the admin's pages over real HTTP on a real central: add with a one-time
password, the first login's forced change, enrolling TOTP at login from a QR code served
by the central, disable (sessions and API token die at once; enabling brings the account
back, not the token), role, reset password, reset TOTP, unlock; a script's API token that
never becomes a workbench account; never the last admin; who may open the pages; every
change audited, an export with its period; TOTP secrets sealed at rest with the key file,
and a central without one says what to do."""
from __future__ import annotations

import dataclasses
import io
import re
import time
import urllib.parse

import pyotp
import pytest
import requests

from tests.support.central import central_cli, query, running_central, without_secret_key
from tests.support.workbench import PASSWORD, add_officer, csrf_of, log_in, officer_cli, password_step, totp_step
from tests.support.workbench import get_page as _get, post_form as _post

_ONE_TIME = re.compile(r'<p class="secret"[^>]*>([a-z0-9-]+)</p>')


@dataclasses.dataclass
class World:
    base: str
    url: str
    admin: requests.Session
    admin_secret: str


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> World:
    url = f"sqlite:///{tmp_path_factory.mktemp('officers') / 'central.sqlite3'}"
    with running_central(url) as base:
        secret = add_officer(url, "admin-rina", "admin", totp=True)
        yield World(base, url, log_in(base, "admin-rina", secret), secret)


def _csrf(world: World, browser: requests.Session | None = None) -> str:
    return csrf_of(_get(browser or world.admin, world.base, "/workbench/officers").text)


def _add(world: World, name: str, role: str, agency: str = "") -> str:
    """The admin adds an account on the page; returns the one-time password it shows."""
    answer = _post(world.admin, world.base, "/workbench/officers", csrf=_csrf(world), name=name, role=role,
                   agency=agency)
    assert answer.status_code == 200, answer.text[:500]
    assert "Akun sudah ditambahkan" in answer.text
    return _ONE_TIME.search(answer.text).group(1)


def _act(world: World, name: str, action: str, **extra) -> requests.Response:
    return _post(world.admin, world.base, "/workbench/officers/account", csrf=_csrf(world), name=name,
                 action=action, **extra)


def _audit(world: World, subject: str) -> list[tuple]:
    return query(world.url, "SELECT officer_name, event FROM audit_log WHERE subject = :s ORDER BY id", s=subject)


def _first_login(world: World, name: str, one_time: str, new: str = PASSWORD) -> requests.Session:
    """The first login of an officer without TOTP: the one-time password opens only the page
    that replaces it."""
    browser, answer = password_step(world.base, name, one_time)
    assert answer.status_code == 303 and answer.headers["Location"] == "/workbench/login/password"
    assert _get(browser, world.base, "/workbench/").headers["Location"] == "/workbench/login"  # not yet
    page = _get(browser, world.base, "/workbench/login/password")
    assert page.status_code == 200 and "Pilih kata sandi Anda" in page.text
    same = _post(browser, world.base, "/workbench/login/password", csrf=csrf_of(page.text), new=one_time + "-abc",
                 repeat=one_time + "-abcd")
    assert same.status_code == 400 and "tidak sama" in same.text
    answer = _post(browser, world.base, "/workbench/login/password", csrf=csrf_of(page.text), new=new, repeat=new)
    assert answer.status_code == 303 and answer.headers["Location"] == "/workbench/"
    assert _get(browser, world.base, "/workbench/").status_code == 200
    return browser


# -- adding an account -------------------------------------------------------------------------
def test_an_added_officer_gets_a_one_time_password_and_must_choose_their_own(world):
    one_time = _add(world, "dinkes-sari", "agency", "DINKES")
    assert len(one_time) >= 12
    listing = _get(world.admin, world.base, "/workbench/officers")
    assert "dinkes-sari" in listing.text and one_time not in listing.text  # shown once, never again
    assert "Aktif, kata sandi sekali pakai" in listing.text
    browser, answer = password_step(world.base, "dinkes-sari", one_time)
    page = _get(browser, world.base, "/workbench/login/password")
    refused = _post(browser, world.base, "/workbench/login/password", csrf=csrf_of(page.text), new=one_time,
                    repeat=one_time)
    assert refused.status_code == 400 and "bukan kata sandi sekali pakai" in refused.text
    _first_login(world, "dinkes-sari", one_time)
    assert password_step(world.base, "dinkes-sari", one_time)[1].status_code == 401  # the one-time one is gone
    assert log_in(world.base, "dinkes-sari")  # their own works, straight to the inbox
    assert _audit(world, "dinkes-sari") == [("admin-rina", "account_added")]
    row = query(world.url, "SELECT role, agency_code, must_change_password FROM officers WHERE name = 'dinkes-sari'")
    assert row == [("agency", "DINKES", 0)]
    listing = _get(world.admin, world.base, "/workbench/officers")
    assert "Belum pernah" not in listing.text.split("dinkes-sari", 1)[1].split("</tr>", 1)[0]  # a last login now


def test_a_wrong_account_form_says_why_and_adds_nothing(world):
    cases = [({"name": "x-agency", "role": "agency", "agency": ""}, "Petugas instansi harus memiliki instansi"),
             ({"name": "x-role", "role": "root", "agency": ""}, "Pilih peran"),
             ({"name": "admin-rina", "role": "viewer", "agency": ""}, "Nama ini sudah terdaftar"),
             ({"name": "", "role": "viewer", "agency": ""}, "Nama wajib diisi")]
    for data, words in cases:
        answer = _post(world.admin, world.base, "/workbench/officers", csrf=_csrf(world), **data)
        assert answer.status_code == 400 and words in answer.text, words
    assert query(world.url, "SELECT count(*) FROM officers WHERE name LIKE 'x-%'") == [(0,)]


# -- a new admin enrols TOTP at the first login --------------------------------------------------
def test_a_new_admin_enrols_from_the_qr_code_then_chooses_a_password(world):
    import zxingcpp
    from PIL import Image

    one_time = _add(world, "admin-budi", "admin")
    browser, answer = password_step(world.base, "admin-budi", one_time)
    assert answer.status_code == 303 and answer.headers["Location"] == "/workbench/login/enrol"
    page = _get(browser, world.base, "/workbench/login/enrol")
    assert page.status_code == 200 and "Atur verifikasi dua langkah" in page.text
    assert 'src="/workbench/login/enrol/qr.png"' in page.text  # an image of this service: CSP img-src 'self'
    shown = re.search(r'<span class="secret">([A-Z2-7 ]+)</span>', page.text).group(1).replace(" ", "")
    picture = _get(browser, world.base, "/workbench/login/enrol/qr.png")
    assert picture.headers["Content-Type"] == "image/png" and picture.headers["Cache-Control"] == "no-store"
    uri = zxingcpp.read_barcodes(Image.open(io.BytesIO(picture.content)))[0].text
    assert urllib.parse.parse_qs(urllib.parse.urlsplit(uri).query)["secret"] == [shown]
    assert "admin-budi" in urllib.parse.unquote(uri)
    assert _get(requests.Session(), world.base, "/workbench/login/enrol/qr.png").status_code == 404  # nobody else's
    again = _get(browser, world.base, "/workbench/login/enrol")
    assert shown in again.text.replace(" ", "")  # the same secret until confirmed
    code = pyotp.TOTP(shown).now()
    wrong = _post(browser, world.base, "/workbench/login/enrol", csrf=csrf_of(page.text),
                  code=f"{(int(code) + 1) % 1_000_000:06d}")
    assert wrong.status_code == 401 and "Kode ini salah" in wrong.text
    assert query(world.url, "SELECT totp_secret FROM officers WHERE name = 'admin-budi'") == [(None,)]
    answer = _post(browser, world.base, "/workbench/login/enrol", csrf=csrf_of(page.text), code=code)
    assert answer.status_code == 303 and answer.headers["Location"] == "/workbench/login/password"
    browser.cookies.clear()
    stored = query(world.url, "SELECT totp_secret FROM officers WHERE name = 'admin-budi'")[0][0]
    assert stored.startswith("fernet:") and shown not in stored  # sealed at rest
    browser, answer = password_step(world.base, "admin-budi", one_time)
    assert answer.headers["Location"] == "/workbench/login/totp"  # enrolled: the code is asked now
    events = [e for _, e in query(world.url, "SELECT officer_name, event FROM audit_log WHERE officer_name = 'admin-budi'")]
    assert "totp_enrolled" in events


# -- disable, enable, role, resets, unlock -----------------------------------------------------
def _api(world: World, token: str) -> int:
    """The status of an officer API call with ``token`` (401: the token does not work)."""
    return requests.post(f"{world.base}/api/v1/officer/reports/MT01-00000-00000/actions", json={"action": "verify"},
                         headers={"Authorization": f"Bearer {token}"}, timeout=30).status_code


def test_disabling_ends_sessions_and_the_api_token_at_once_and_enabling_brings_back_only_the_account(world):
    _first_login(world, "viewer-dodi", _add(world, "viewer-dodi", "viewer"))
    browser = log_in(world.base, "viewer-dodi")
    token = officer_cli(world.url, "token", "viewer-dodi").stdout.strip()
    assert _api(world, token) != 401
    assert "Aktif" in _get(world.admin, world.base, "/workbench/officers/account", name="viewer-dodi").text
    answer = _act(world, "viewer-dodi", "disable")
    assert answer.status_code == 303
    page = _get(world.admin, world.base, answer.headers["Location"])
    assert "Akun sudah dinonaktifkan" in page.text and "Nonaktif" in page.text
    assert _get(browser, world.base, "/workbench/").headers["Location"] == "/workbench/login"  # at once
    assert _api(world, token) == 401
    assert password_step(world.base, "viewer-dodi")[1].status_code == 401  # no login either
    assert "Nonaktif" in _get(world.admin, world.base, "/workbench/officers").text
    while_disabled = officer_cli(world.url, "token", "viewer-dodi").stdout.strip()
    assert _api(world, while_disabled) == 401  # a new token works only once the account is enabled
    officer_cli(world.url, "token", "viewer-dodi")  # replaced again: the old one is revoked for good below
    answer = _act(world, "viewer-dodi", "enable")
    assert answer.status_code == 303
    page = _get(world.admin, world.base, answer.headers["Location"])
    assert "Akun sudah diaktifkan. Token API yang dicabut" in page.text
    assert log_in(world.base, "viewer-dodi")  # the account is back ...
    assert _api(world, token) == 401 and _api(world, while_disabled) == 401  # ... its old tokens are not
    # Disabling revokes the current token; enabling leaves it revoked until a new one is made.
    assert _act(world, "viewer-dodi", "disable").status_code == 303
    assert _act(world, "viewer-dodi", "enable").status_code == 303
    assert "Dicabut: perlu token baru" in _get(world.admin, world.base, "/workbench/officers/account",
                                              name="viewer-dodi").text
    fresh = officer_cli(world.url, "token", "viewer-dodi").stdout.strip()
    assert _api(world, fresh) != 401 and _api(world, token) == 401
    assert [e for _, e in _audit(world, "viewer-dodi")] == ["account_added", "account_disabled", "account_enabled",
                                                            "account_disabled", "account_enabled"]


def test_a_scripts_api_token_keeps_moving_reports_but_never_becomes_a_workbench_account(world):
    """GIVEN a token of ``officer add NAME`` (no role: as before roles) WHEN its script
    verifies, forwards, starts and answers a report THEN each step is taken, as before the
    workbench; it cannot sign in, and the accounts page offers it no password, TOTP or role
    (refused when posted anyway); disabling it stops the token."""
    from tests.support.central import report, send

    token = officer_cli(world.url, "add", "skrip-lama").stdout.strip()
    kiosk = central_cli(world.url, "kiosk", "add", "MT01", "--location", "Muara Teweh").stdout.strip()
    body = report()
    send(world.base, kiosk, body)
    steps = [({"action": "verify"}, "verified"), ({"action": "forward", "agency": "DINKES"}, "forwarded"),
             ({"action": "start"}, "in_progress"), ({"action": "answer", "reply": "Sudah ditangani."}, "answered")]
    for payload, status in steps:
        answer = requests.post(f"{world.base}/api/v1/officer/reports/{body['tracking_id']}/actions", json=payload,
                               headers={"Authorization": f"Bearer {token}"}, timeout=30)
        assert answer.status_code == 200 and answer.json()["status"] == status, answer.text
    assert password_step(world.base, "skrip-lama", "")[1].status_code == 401
    listing = _get(world.admin, world.base, "/workbench/officers").text
    row = listing.split("skrip-lama", 2)[2].split("</tr>", 1)[0]
    assert "Skrip (hanya token API)" in row and "Hanya token API" in row
    page = _get(world.admin, world.base, "/workbench/officers/account", name="skrip-lama").text
    assert "bukan akun meja kerja" in page and 'value="reset_password"' not in page and 'value="role"' not in page
    for action, extra in (("reset_password", {}), ("role", {"role": "admin", "agency": ""}), ("reset_totp", {})):
        answer = _act(world, "skrip-lama", action, **extra)
        assert answer.status_code == 409 and "bukan akun meja kerja" in answer.text, action
    assert query(world.url, "SELECT role, password_hash FROM officers WHERE name = 'skrip-lama'") == [("script", None)]
    assert _act(world, "skrip-lama", "disable").status_code == 303
    assert _api(world, token) == 401


def test_the_last_active_admin_cannot_disable_or_demote_themselves(tmp_path):
    url = f"sqlite:///{tmp_path / 'central.sqlite3'}"
    with running_central(url) as base:
        secret = add_officer(url, "satu-admin", "admin", totp=True)
        world = World(base, url, log_in(base, "satu-admin", secret), secret)
        for action, extra in (("disable", {}), ("role", {"role": "viewer", "agency": ""})):
            answer = _act(world, "satu-admin", action, **extra)
            assert answer.status_code == 409 and "Tidak akan ada administrator aktif lagi" in answer.text, action
        assert query(url, "SELECT role, disabled_at FROM officers") == [("admin", None)]
        assert _get(world.admin, base, "/workbench/").status_code == 200  # still signed in
        # With a second active admin, the first may step down.
        add_officer(url, "dua-admin", "admin", totp=True)
        assert _act(world, "satu-admin", "role", role="viewer", agency="").status_code == 303
        assert query(url, "SELECT role FROM officers WHERE name = 'satu-admin'") == [("viewer",)]
        assert _get(world.admin, base, "/workbench/officers").status_code == 403  # a viewer now


def test_reset_password_reset_totp_and_unlock(world):
    secret = add_officer(world.url, "viewer-eka", "viewer", totp=True)
    browser = log_in(world.base, "viewer-eka", secret)
    answer = _act(world, "viewer-eka", "reset_password")
    assert answer.status_code == 200 and "Kata sandi sekali pakai" in answer.text
    one_time = _ONE_TIME.search(answer.text).group(1)
    assert _get(browser, world.base, "/workbench/").status_code == 303  # its sessions ended
    assert password_step(world.base, "viewer-eka")[1].status_code == 401  # the old password is gone
    # Reset two-step login: a viewer then signs in without a code (optional for them).
    assert "Atur ulang verifikasi dua langkah" in _get(world.admin, world.base, "/workbench/officers/account",
                                                       name="viewer-eka").text
    assert _act(world, "viewer-eka", "reset_totp").status_code == 303
    assert query(world.url, "SELECT totp_secret FROM officers WHERE name = 'viewer-eka'") == [(None,)]
    _first_login(world, "viewer-eka", one_time)
    # Five wrong passwords lock the account; the admin sees it and unlocks it.
    for _ in range(5):
        password_step(world.base, "viewer-eka", "salah sekali tentu")
    assert password_step(world.base, "viewer-eka")[1].status_code == 429
    page = _get(world.admin, world.base, "/workbench/officers/account", name="viewer-eka")
    assert "Buka kunci akun" in page.text
    assert _act(world, "viewer-eka", "unlock").status_code == 303
    assert log_in(world.base, "viewer-eka")
    assert [e for _, e in _audit(world, "viewer-eka")] == ["password_reset", "totp_reset", "account_unlocked"]


# -- who may open the pages --------------------------------------------------------------------
def test_only_admins_open_the_account_pages_and_every_form_needs_csrf(world):
    add_officer(world.url, "viewer-fajar", "viewer")
    add_officer(world.url, "dinkes-gita", "agency", "DINKES")
    for name in ("viewer-fajar", "dinkes-gita"):
        browser = log_in(world.base, name)
        csrf = csrf_of(_get(browser, world.base, "/workbench/").text)
        assert _get(browser, world.base, "/workbench/officers").status_code == 403
        assert _get(browser, world.base, "/workbench/officers/account", name="admin-rina").status_code == 403
        assert _post(browser, world.base, "/workbench/officers", csrf=csrf, name="x-evil", role="admin").status_code == 403
        assert _post(browser, world.base, "/workbench/officers/account", csrf=csrf, name="admin-rina",
                     action="disable").status_code == 403
        assert "/workbench/officers" not in _get(browser, world.base, "/workbench/").text  # no link either
    visitor = requests.Session()
    for method, path in (("get", "/workbench/officers"), ("get", "/workbench/officers/account"),
                         ("post", "/workbench/officers"), ("post", "/workbench/officers/account"),
                         ("get", "/workbench/login/enrol"), ("post", "/workbench/login/enrol"),
                         ("get", "/workbench/login/password"), ("post", "/workbench/login/password")):
        answer = _get(visitor, world.base, path) if method == "get" else _post(visitor, world.base, path, csrf="x")
        assert answer.status_code == 303 and answer.headers["Location"] == "/workbench/login", (method, path)
    for csrf in ("", "wrong"):
        answer = _post(world.admin, world.base, "/workbench/officers", csrf=csrf, name="x-csrf", role="viewer")
        assert answer.status_code == 403
        answer = _post(world.admin, world.base, "/workbench/officers/account", csrf=csrf, name="viewer-fajar",
                       action="disable")
        assert answer.status_code == 403
    assert query(world.url, "SELECT count(*) FROM officers WHERE name = 'x-csrf' OR "
                            "(name = 'viewer-fajar' AND disabled_at IS NOT NULL)") == [(0,)]


def test_hostile_names_are_escaped_on_the_account_pages(world):
    name = "<script>alert(1)</script>\u202e"
    answer = _post(world.admin, world.base, "/workbench/officers", csrf=_csrf(world), name=name, role="viewer")
    assert answer.status_code == 200
    for page in (answer, _get(world.admin, world.base, "/workbench/officers"),
                 _get(world.admin, world.base, "/workbench/officers/account", name=name)):
        assert "<script>alert" not in page.text and "&lt;script&gt;alert(1)&lt;/script&gt;\ufffd" in page.text


# -- TOTP secrets at rest ----------------------------------------------------------------------
def test_without_a_key_file_no_totp_is_enrolled_and_old_plain_secrets_are_sealed_once_a_key_is_given(tmp_path):
    """GIVEN a central without a secret key WHEN an officer is enrolled (CLI or login page)
    THEN it refuses and says what to configure; a plain secret stored before keys existed
    still signs in; started with a key, the central seals it and the same code works."""
    import subprocess
    import sys

    from tests.support.servers import ROOT, running_central as serve

    url = f"sqlite:///{tmp_path / 'central.sqlite3'}"
    env = without_secret_key()
    cli = subprocess.run([sys.executable, "-m", "central", "--database-url", url, "officer", "add", "admin-tua",
                          "--role", "admin", "--password-stdin"], input=PASSWORD + "\n", cwd=ROOT,
                         capture_output=True, text=True, timeout=60, env=env)
    assert cli.returncode == 0, cli.stderr
    refused = subprocess.run([sys.executable, "-m", "central", "--database-url", url, "officer", "totp", "admin-tua"],
                             cwd=ROOT, capture_output=True, text=True, timeout=60, env=env)
    assert refused.returncode == 2 and "--secret-key-file" in refused.stderr and "secret-key new" in refused.stderr
    with serve(url, env=env) as base:
        browser, answer = password_step(base, "admin-tua")
        assert answer.headers["Location"] == "/workbench/login/enrol"
        page = _get(browser, base, "/workbench/login/enrol")
        assert page.status_code == 503 and "--secret-key-file" in page.text
        plain = pyotp.random_base32()  # as a central stored it before this release
        query_url = url
        from sqlalchemy import create_engine, text

        engine = create_engine(query_url)
        with engine.begin() as conn:
            conn.execute(text("UPDATE officers SET totp_secret = :s WHERE name = 'admin-tua'"), {"s": plain})
        engine.dispose()
        browser, answer = password_step(base, "admin-tua")
        code = pyotp.TOTP(plain).now()
        assert totp_step(base, browser, code).status_code == 303  # still works without a key
    with serve(url) as base:  # the tests' key (CENTRAL_SECRET_KEY_FILE)
        stored = query(url, "SELECT totp_secret FROM officers WHERE name = 'admin-tua'")[0][0]
        assert stored.startswith("fernet:") and plain not in stored
        browser, answer = password_step(base, "admin-tua")
        later = pyotp.TOTP(plain).at(int(time.time()) + 30)  # the code above was taken: the next one
        assert totp_step(base, browser, later).status_code == 303  # the phone's codes go on working
    with serve(url, env=env) as base:  # the key taken away: the login says what is missing
        browser, answer = password_step(base, "admin-tua")
        page = totp_step(base, browser, pyotp.TOTP(plain).now())
        assert page.status_code == 503 and "--secret-key-file" in page.text


def test_a_key_file_is_made_once_with_mode_600_and_a_bad_one_stops_the_start(tmp_path):
    path = tmp_path / "kunci"
    made = central_cli(f"sqlite:///{tmp_path / 'c.sqlite3'}", "secret-key", "new", str(path))
    assert made.returncode == 0 and oct(path.stat().st_mode & 0o777) == "0o600"
    assert central_cli(f"sqlite:///{tmp_path / 'c.sqlite3'}", "secret-key", "new", str(path)).returncode == 2
    bad = tmp_path / "rusak"
    bad.write_text("bukan kunci\n")
    result = central_cli(f"sqlite:///{tmp_path / 'c.sqlite3'}", "--secret-key-file", str(bad), "officer", "totp", "x")
    assert result.returncode == 2 and "Fernet" in result.stderr


# -- the audit of an export --------------------------------------------------------------------
def test_an_export_is_audited_with_its_period_and_options(world):
    """GIVEN an admin WHEN they download the recap's CSV (titles asked) and export it with
    the reporters' identities THEN each audit line says which period and options, so an
    auditor knows whose names may have left; dates the wrong way round are the same period."""
    csrf, path = _csrf(world), "/workbench/recap.csv"
    plain = _get(world.admin, world.base, path, **{"from": "2026-11-01", "to": "2026-11-30", "title": "1"})
    assert plain.status_code == 200 and plain.headers["Content-Type"].startswith("text/csv")
    answer = _post(world.admin, world.base, path, csrf=csrf, **{"from": "2026-10-31", "to": "2026-10-01"})
    assert answer.status_code == 200 and "identitas" in answer.headers["Content-Disposition"]
    refused = _post(world.admin, world.base, path, csrf="salah", **{"from": "2026-01-01", "to": "2026-12-31"})
    assert refused.status_code == 403  # nothing exported, nothing written
    lines = query(world.url, "SELECT officer_name, event, detail FROM audit_log WHERE event LIKE 'recap_exported%' "
                             "ORDER BY id")
    assert lines == [("admin-rina", "recap_exported", "2026-11-01..2026-11-30 title=1"),
                     ("admin-rina", "recap_exported_identity", "2026-10-01..2026-10-31 title=0")]
