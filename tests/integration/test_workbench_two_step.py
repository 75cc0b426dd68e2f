"""Every officer's own two-step login over real HTTP on a real central: an agency officer or
a viewer turns it on from their password page (the QR code the central serves, one code)
and off again (a current code, used once; a wrong one counts as a failed login); an admin,
for whom it is required, cannot turn it off. Each change is audited."""
from __future__ import annotations

import dataclasses
import io
import re
import time
import urllib.parse

import pyotp
import pytest
import requests

from tests.support.central import query, running_central
from tests.support.workbench import PASSWORD, add_officer, csrf_of, get_page, log_in, password_step, post_form

_KEY = re.compile(r'<span class="secret">([A-Z2-7 ]+)</span>')


@dataclasses.dataclass
class World:
    base: str
    url: str


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> World:
    url = f"sqlite:///{tmp_path_factory.mktemp('two-step') / 'central.sqlite3'}"
    with running_central(url) as base:
        yield World(base, url)


def _get(browser: requests.Session, world: World, path: str) -> requests.Response:
    return get_page(browser, world.base, path)


def _post(browser: requests.Session, world: World, path: str, **data) -> requests.Response:
    return post_form(browser, world.base, path, **data)


def _events(world: World, name: str) -> list[str]:
    return [e for (e,) in query(world.url, "SELECT event FROM audit_log WHERE officer_name = :n AND event LIKE 'totp%' "
                                           "ORDER BY id", n=name)]


def _code_a_moment_ago(secret: str) -> str:
    """The phone's code of the step before this one (now's is for the login that follows).
    The central takes a code of one step either side, so this one is refused once the next
    step begins: with less than 5 s of this step left (a password check or two under load),
    the next step is waited for, a boundary of the clock itself."""
    totp = pyotp.TOTP(secret)
    left = totp.interval - time.time() % totp.interval
    if left < 5:
        time.sleep(left)
    return totp.at(int(time.time()) - totp.interval)


def _turn_on(world: World, browser: requests.Session, name: str) -> str:
    """The officer follows the password page's link, reads the key from the QR code the
    central serves, and confirms one code; returns the secret their phone now holds."""
    import zxingcpp
    from PIL import Image

    page = _get(browser, world, "/workbench/password")
    assert "Verifikasi dua langkah tidak aktif" in page.text and 'href="/workbench/totp"' in page.text
    page = _get(browser, world, "/workbench/totp")
    assert page.status_code == 200 and 'src="/workbench/totp/qr.png"' in page.text
    shown = _KEY.search(page.text).group(1).replace(" ", "")
    picture = _get(browser, world, "/workbench/totp/qr.png")
    assert picture.headers["Content-Type"] == "image/png" and picture.headers["Cache-Control"] == "no-store"
    uri = zxingcpp.read_barcodes(Image.open(io.BytesIO(picture.content)))[0].text
    assert urllib.parse.parse_qs(urllib.parse.urlsplit(uri).query)["secret"] == [shown]
    assert name in urllib.parse.unquote(uri)
    assert _get(requests.Session(), world, "/workbench/totp/qr.png").status_code == 404  # nobody else's
    csrf = csrf_of(page.text)
    code = _code_a_moment_ago(shown)
    assert 'name="password"' in page.text and 'autocomplete="current-password"' in page.text
    wrong = _post(browser, world, "/workbench/totp", csrf=csrf, action="on", password=PASSWORD,
                  code=f"{(int(code) + 1) % 1_000_000:06d}")
    assert wrong.status_code == 400 and "Kata sandi atau kodenya salah" in wrong.text
    assert query(world.url, "SELECT totp_secret, failed_logins FROM officers WHERE name = :n", n=name) == [(None, 0)]
    # a session left open on a shared desk: whoever sits there has the code of their own
    # phone, not the password, and cannot tie the account to that phone (a failed login)
    stolen = _post(browser, world, "/workbench/totp", csrf=csrf, action="on", password="bukan-sandinya", code=code)
    assert stolen.status_code == 400
    assert query(world.url, "SELECT totp_secret, failed_logins FROM officers WHERE name = :n", n=name) == [(None, 1)]
    answer = _post(browser, world, "/workbench/totp", csrf=csrf, action="on", password=PASSWORD,
                   code=_code_a_moment_ago(shown))
    assert answer.status_code == 303 and answer.headers["Location"] == "/workbench/totp?done=on"
    done = _get(browser, world, answer.headers["Location"])
    assert "Verifikasi dua langkah sudah aktif" in done.text and 'value="off"' in done.text
    assert _get(browser, world, "/workbench/totp/qr.png").status_code == 404  # nothing being set up now
    stored = query(world.url, "SELECT totp_secret FROM officers WHERE name = :n", n=name)[0][0]
    assert stored.startswith("fernet:") and shown not in stored  # sealed at rest, as the admins' are
    return shown


@pytest.mark.parametrize("role, agency", [("agency", "DINKES"), ("viewer", None)])
def test_an_officer_turns_two_step_login_on_and_off_from_their_own_page(world, role, agency):
    """GIVEN an agency officer or a viewer who signs in with a password alone, and a second
    session of theirs WHEN they turn two-step login on THEN the other session ends and the
    next login asks for the code; WHEN they turn it off with a code already used, or a wrong
    one, THEN it stays on (the wrong one counts as a failed login); with the next code it is
    off and the password alone opens the workbench again."""
    name = f"{role}-dua-langkah"
    add_officer(world.url, name, role, agency)
    browser, other = log_in(world.base, name), log_in(world.base, name)
    secret = _turn_on(world, browser, name)
    assert _get(other, world, "/workbench/password").headers["Location"] == "/workbench/login"  # ended
    assert _get(browser, world, "/workbench/password").status_code == 200  # this one goes on
    browser = log_in(world.base, name, secret)  # the code is asked now (the login's code is used up)
    page = _get(browser, world, "/workbench/password")
    assert "Verifikasi dua langkah aktif" in page.text
    page = _get(browser, world, "/workbench/totp")
    csrf = csrf_of(page.text)
    used = _post(browser, world, "/workbench/totp", csrf=csrf, action="off", code=pyotp.TOTP(secret).now())
    assert used.status_code == 400 and "Kode ini salah" in used.text  # the code of the login: once only
    wrong = _post(browser, world, "/workbench/totp", csrf=csrf, action="off", code="000000")
    assert wrong.status_code == 400
    assert query(world.url, "SELECT totp_secret IS NOT NULL, failed_logins FROM officers WHERE name = :n",
                 n=name) == [(1, 2)]
    for bad in ("", "salah"):
        assert _post(browser, world, "/workbench/totp", csrf=bad, action="off", code="123456").status_code == 403
    assert _post(requests.Session(), world, "/workbench/totp", csrf=csrf, action="off",
                 code="123456").headers["Location"] == "/workbench/login"
    following = pyotp.TOTP(secret).at(int(time.time()) + 30)  # the phone's next code
    answer = _post(browser, world, "/workbench/totp", csrf=csrf, action="off", code=following)
    assert answer.status_code == 303 and answer.headers["Location"] == "/workbench/totp?done=off"
    assert "Verifikasi dua langkah sudah dimatikan" in _get(browser, world, answer.headers["Location"]).text
    assert password_step(world.base, name)[1].headers["Location"] == "/workbench/"  # no code asked
    assert _events(world, name) == ["totp_enrolled", "totp_disabled"]


def test_an_admin_cannot_turn_two_step_login_off(world):
    """GIVEN an admin, enrolled WHEN they open their two-step page THEN it says it is
    required and offers no way off; a posted "off" with a right code is refused (403) and
    the code is still asked at the next login."""
    secret = add_officer(world.url, "admin-wajib", "admin", totp=True)
    browser = log_in(world.base, "admin-wajib", secret)
    assert 'href="/workbench/totp"' not in _get(browser, world, "/workbench/password").text
    page = _get(browser, world, "/workbench/totp")
    assert page.status_code == 200 and "tidak dapat dimatikan" in page.text and 'value="off"' not in page.text
    refused = _post(browser, world, "/workbench/totp", csrf=csrf_of(page.text), action="off",
                    code=pyotp.TOTP(secret).at(int(time.time()) + 30))
    assert refused.status_code == 403 and "tidak dapat dimatikan" in refused.text
    assert query(world.url, "SELECT totp_secret IS NOT NULL FROM officers WHERE name = 'admin-wajib'") == [(1,)]
    assert password_step(world.base, "admin-wajib")[1].headers["Location"] == "/workbench/login/totp"
    assert _events(world, "admin-wajib") == ["totp_enrolled"]  # the CLI's enrolment only
