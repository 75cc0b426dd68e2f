"""The officers' workbench driven as a browser would, over real HTTP: accounts made with
the real CLI, login forms read for their CSRF field, TOTP codes from the enrolled URI."""
from __future__ import annotations

import re
import subprocess
import sys
import urllib.parse

import pyotp
import requests

from tests.support.servers import ROOT

PASSWORD = "kata sandi yang panjang 1"
#: What every workbench page must send (central/web.py).
CSP = ("default-src 'none'; style-src 'self'; img-src 'self'; media-src 'self'; form-action 'self'; base-uri 'none'; "
       "frame-ancestors 'none'")
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def officer_cli(url: str, *args: str, password: str | None = None) -> subprocess.CompletedProcess:
    """``python -m central officer ...``, the password (if any) on stdin."""
    extra = ("--password-stdin",) if password is not None else ()
    return subprocess.run([sys.executable, "-m", "central", "--database-url", url, "officer", *args, *extra],
                          cwd=ROOT, capture_output=True, text=True, timeout=60,
                          input=None if password is None else password + "\n")


def add_officer(url: str, name: str, role: str, agency: str | None = None, *, password: str = PASSWORD,
                totp: bool = False) -> str | None:
    """A workbench account; returns its TOTP secret when ``totp`` (read from the URI the CLI
    prints, as a phone's authenticator would)."""
    result = officer_cli(url, "add", name, "--role", role, *(("--agency", agency) if agency else ()), password=password)
    assert result.returncode == 0, result.stderr
    return enrol(url, name) if totp else None


def enrol(url: str, name: str) -> str:
    result = officer_cli(url, "totp", name)
    assert result.returncode == 0, result.stderr
    uri = result.stdout.strip()
    assert uri.startswith("otpauth://totp/"), uri
    return urllib.parse.parse_qs(urllib.parse.urlsplit(uri).query)["secret"][0]


def csrf_of(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "no CSRF field in the page"
    return found.group(1)


def password_step(base: str, name: str, password: str = PASSWORD) -> tuple[requests.Session, requests.Response]:
    """A new browser that opens the login page and sends the form (redirects not followed)."""
    browser = requests.Session()
    page = browser.get(f"{base}/workbench/login", timeout=30)
    assert page.status_code == 200
    answer = browser.post(f"{base}/workbench/login", data={"csrf": csrf_of(page.text), "name": name, "password": password},
                          allow_redirects=False, timeout=30)
    return browser, answer


def totp_step(base: str, browser: requests.Session, code: str) -> requests.Response:
    page = browser.get(f"{base}/workbench/login/totp", timeout=30)
    assert page.status_code == 200, page.status_code
    return browser.post(f"{base}/workbench/login/totp", data={"csrf": csrf_of(page.text), "code": code},
                        allow_redirects=False, timeout=30)


def log_in(base: str, name: str, secret: str | None = None, password: str = PASSWORD) -> requests.Session:
    """A signed-in browser (with the TOTP step when ``secret``)."""
    browser, answer = password_step(base, name, password)
    assert answer.status_code == 303, (answer.status_code, answer.text[:500])
    if secret is not None:
        assert answer.headers["Location"].endswith("/workbench/login/totp")
        answer = totp_step(base, browser, pyotp.TOTP(secret).now())
        assert answer.status_code == 303, (answer.status_code, answer.text[:500])
    assert answer.headers["Location"].endswith("/workbench/")
    return browser


def page_csrf(base: str, browser: requests.Session) -> str:
    """The session's CSRF token, as the inbox's logout form carries it."""
    return csrf_of(browser.get(f"{base}/workbench/", timeout=30).text)


def get_page(browser: requests.Session, base: str, path: str, **params) -> requests.Response:
    """GET a workbench address as the browser would, redirects not followed; every page and
    redirect carries the workbench's CSP and ``Cache-Control: no-store``."""
    return _headers_checked(browser.get(f"{base}{path}", params=params, allow_redirects=False, timeout=30))


def post_form(browser: requests.Session, base: str, path: str, **data) -> requests.Response:
    """POST a form to the workbench (redirects not followed), with the same checks."""
    return _headers_checked(browser.post(f"{base}{path}", data=data, allow_redirects=False, timeout=30))


def _headers_checked(answer: requests.Response) -> requests.Response:
    if answer.headers.get("Content-Type", "").startswith("text/html") or answer.status_code == 303:
        assert answer.headers["Content-Security-Policy"] == CSP and answer.headers["Cache-Control"] == "no-store"
    return answer
