"""An automated accessibility check of every workbench page and the public status page, in
Bahasa Indonesia and in English: axe-core (from npm, installed for the tests by `make
test` into tests/.axe/, never into the product) runs inside Debian's headless Chromium on
each page as an officer or a citizen reaches it, and no serious or critical violation may
remain. Each page's findings of any impact go to tests/artifacts/a11y/."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pyotp
import pytest
import requests

from tests.support.axe import AXE, axe_violations
from tests.support.browser import Chromium
from tests.support.central import central_cli, report, running_central, send
from tests.support.officer_browser import Officer
from tests.support.workbench import PASSWORD, add_officer, log_in, page_csrf

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts" / "a11y"
SERIOUS = ("serious", "critical")


class Visitor(Officer):
    """A person at the browser who runs axe on every page they reach."""

    def __init__(self, browser: Chromium, lang: str):
        super().__init__(browser, ARTIFACTS)
        self.lang = lang
        self.findings: dict[str, list[dict]] = {}

    def check(self, name: str) -> None:
        """Run axe-core on the page as it is now; keep what it finds under ``name``."""
        assert self.browser.evaluate("document.documentElement.lang") == self.lang, name
        self.findings[f"{name}-{self.lang}"] = axe_violations(self.browser)


def _serious(findings: dict[str, list[dict]]) -> dict[str, list[dict]]:
    return {page: bad for page, found in findings.items()
            if (bad := [v for v in found if v["impact"] in SERIOUS])}


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    """A central with reports in several states, a reply template, an admin (TOTP), an
    agency officer and a new admin who has not logged in yet."""
    assert AXE.is_file(), "axe-core is missing: `make test` installs it into tests/.axe/ (npm)"
    url = f"sqlite:///{tmp_path_factory.mktemp('a11y') / 'central.sqlite3'}"
    with running_central(url) as base:
        token = central_cli(url, "kiosk", "add", "MT01", "--location", "Mal Pelayanan Publik Muara Teweh").stdout.strip()
        secret = add_officer(url, "Rina Admin", "admin", totp=True)
        add_officer(url, "Budi Dinkes", "agency", "DINKES")
        forwarded = report(title="Obat di puskesmas habis", anonymous=True, reporter_name="Wulandari")
        answered = report(title="Lampu jalan mati", agency_code="DINKES")
        received = report(title="Usul taman baca", kind="aspirasi")
        send(base, token, forwarded, answered, received)
        steps = {forwarded["tracking_id"]: [("verify",), ("forward", "--agency", "DINKES")],
                 answered["tracking_id"]: [("verify",), ("forward", "--agency", "DINKES"), ("start",),
                                           ("answer", "--reply", "Lampu sudah diganti.")]}
        for tid, actions in steps.items():
            for action, *extra in actions:
                assert central_cli(url, "report", tid, action, "--actor", "Rina Admin", *extra).returncode == 0
        admin = log_in(base, "Rina Admin", secret)
        made = admin.post(f"{base}/workbench/templates/new", data={
            "csrf": page_csrf(base, admin), "title": "Obat tersedia", "category": "",
            "text": "Terima kasih, obat sudah tersedia kembali."}, allow_redirects=False, timeout=30)
        assert made.status_code == 303, made.text[:300]
        yield base, url, secret, forwarded["tracking_id"], answered["tracking_id"], received["tracking_id"]


def _tour(seeded, lang: str) -> dict[str, list[dict]]:
    base, url, secret, forwarded, answered, received = seeded
    new_admin = f"Admin Baru {lang}"
    admin = f"Rina {lang}"  # one admin per tour: a TOTP code is taken once
    secret = add_officer(url, admin, "admin", totp=True)
    with Chromium() as browser:
        visitor = Visitor(browser, lang)
        browser.page("Emulation.setDeviceMetricsOverride", width=1366, height=768, deviceScaleFactor=1, mobile=False)
        # The citizen's public page: not found, received, answered.
        visitor.open(f"{base}/status/MT01-00000-00000?lang={lang}")
        visitor.check("status-unknown")
        for name, tid in (("status-received", received), ("status-answered", answered)):
            visitor.open(f"{base}/status/{tid}?lang={lang}")
            visitor.check(name)
        # The admin: login, code, and every page of theirs.
        visitor.open(f"{base}/workbench/login?lang={lang}")
        visitor.check("login")
        visitor.type("#name", admin)
        visitor.type("#password", "salah sekali tentu")
        visitor.click("button[type=submit]")
        visitor.check("login-wrong")
        visitor.type("#name", admin)
        visitor.type("#password", PASSWORD)
        visitor.click("button[type=submit]")
        assert visitor.path() == "/workbench/login/totp"
        visitor.check("totp")
        visitor.type("#code", pyotp.TOTP(secret).now())
        visitor.click("button[type=submit]")
        assert visitor.path() == "/workbench/"
        pages = {"inbox": "/workbench/", "inbox-filtered": "/workbench/?status=forwarded&sort=due&overdue=1&q=obat",
                 "report-forwarded": f"/workbench/reports/{forwarded}", "report-received": f"/workbench/reports/{received}",
                 "report-answered": f"/workbench/reports/{answered}", "report-missing": "/workbench/reports/MT01-00000-00000",
                 "templates": "/workbench/templates", "template-new": "/workbench/templates/new",
                 "password": "/workbench/password", "officers": "/workbench/officers",
                 "officer": "/workbench/officers/account?name=Budi+Dinkes", "kiosks": "/workbench/kiosks"}
        if requests.get(f"{base}/workbench/recap", allow_redirects=False, timeout=30).status_code == 303:
            pages["recap"] = "/workbench/recap"  # RECAP's page, once it is mounted
        for name, path in pages.items():
            visitor.open(f"{base}{path}")
            visitor.check(name)
        visitor.open(f"{base}/workbench/reports/{forwarded}")
        visitor.click("form[action$='/identity'] button")
        visitor.check("report-identity")
        visitor.open(f"{base}/workbench/officers")
        visitor.type("#name", new_admin)
        browser.evaluate("document.querySelector('#role').value = 'admin'")
        visitor.click("form.fields button[type=submit]")
        visitor.check("officer-one-time-password")
        one_time = re.search(r"[a-z0-9]{5}(?:-[a-z0-9]{5}){3}", browser.evaluate("document.body.innerText")).group(0)
        visitor.click("header form button")  # log out
        # The new admin's first login: enrol TOTP from the QR code, then their own password.
        visitor.type("#name", new_admin)
        visitor.type("#password", one_time)
        visitor.click("button[type=submit]")
        assert visitor.path() == "/workbench/login/enrol"
        assert browser.evaluate("document.querySelector('.qr img').naturalWidth") > 0  # the image loaded (CSP)
        visitor.check("enrol")
        shown = browser.evaluate("document.querySelector('span.secret').textContent").replace(" ", "")
        visitor.type("#code", pyotp.TOTP(shown).now())
        visitor.click("button[type=submit]")
        assert visitor.path() == "/workbench/login/password"
        visitor.check("first-password")
        visitor.type("#new", PASSWORD)
        visitor.type("#repeat", PASSWORD)
        visitor.click("button[type=submit]")
        assert visitor.path() == "/workbench/"
        visitor.click("header form button")
        # The agency officer: their inbox and a report they answer, with the template.
        visitor.type("#name", "Budi Dinkes")
        visitor.type("#password", PASSWORD)
        visitor.click("button[type=submit]")
        visitor.check("inbox-agency")
        visitor.open(f"{base}/workbench/reports/{forwarded}")
        visitor.check("report-agency")
        visitor.open(f"{base}/workbench/officers")
        visitor.check("not-allowed")
        # The check itself: an image without words and an empty button are caught.
        browser.evaluate("document.querySelector('main').insertAdjacentHTML('beforeend', "
                         "'<img src=\"/workbench/static/workbench.css\"><button></button>')")
        visitor.check("self-test")
        caught = {v["id"] for v in visitor.findings.pop(f"self-test-{lang}") if v["impact"] in SERIOUS}
        assert {"image-alt", "button-name"} <= caught, caught
        return visitor.findings


@pytest.mark.parametrize("lang", ["id", "en"])
def test_no_page_has_a_serious_or_critical_accessibility_violation(seeded, lang):
    findings = _tour(seeded, lang)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / f"axe-{lang}.json").write_text(json.dumps(findings, indent=1, ensure_ascii=False), encoding="utf-8")
    assert len(findings) >= 20
    assert _serious(findings) == {}
