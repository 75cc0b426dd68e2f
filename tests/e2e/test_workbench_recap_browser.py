"""The recap in a real browser (Debian's headless Chromium): a viewer opens the recap of
November 2026 in Indonesian and English, at 1366x768 and on a phone; an admin sees the
export forms. Screenshots go to tests/artifacts/workbench/ (recap-*.png)."""
from __future__ import annotations

from tests.integration.test_workbench_recap import PERIOD, SECRET_NAME, SECRET_PHONE, _build
from tests.support.browser import Chromium
from tests.support.central import running_central
from tests.support.officer_browser import ARTIFACTS, Officer, log_in
from tests.support.workbench import add_officer


def test_the_recap_in_both_languages_and_on_a_phone(tmp_path):
    url = f"sqlite:///{tmp_path / 'central.sqlite3'}"
    _build(url)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    query = f"from={PERIOD['from']}&to={PERIOD['to']}"
    with running_central(url) as base:
        secret = add_officer(url, "Rina Admin", "admin", totp=True)
        add_officer(url, "Bupati", "viewer")
        with Chromium() as browser:
            viewer = Officer(browser)
            viewer.size(1366, 768)
            log_in(viewer, base, "Bupati")
            viewer.click("header nav a[href='/workbench/recap']")
            assert browser.evaluate("location.pathname") == "/workbench/recap"
            viewer.open(f"{base}/workbench/recap?{query}")
            page = viewer.text()
            assert "Rekap" in page and "Kedatangan sampai verifikasi" in page and "Ekspor dengan identitas" not in page
            assert SECRET_NAME not in page and SECRET_PHONE not in page
            # The bars are drawn by the stylesheet: closed, 2 of 7 reports, is 30 % of its track.
            width = browser.evaluate("(() => { const f = document.querySelector('.bar .w-30');"
                                     " return f.getBoundingClientRect().width / f.parentElement.clientWidth; })()")
            assert abs(width - 0.30) < 0.02, width
            viewer.shot("recap-id")
            viewer.click("a[hreflang=en]")
            assert "Arrival to verification" in viewer.text() and "Download CSV" in viewer.text()
            viewer.shot("recap-en")
            viewer.size(390, 844, mobile=True)
            viewer.open(f"{base}/workbench/recap?{query}&lang=id")
            assert browser.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scrolling
            viewer.shot("recap-phone-id")
            viewer.size(1366, 768)
            viewer.click("header form button")  # log out
            admin = viewer
            log_in(admin, base, "Rina Admin", secret)
            admin.open(f"{base}/workbench/recap?{query}")
            assert "Ekspor dengan identitas" in admin.text()
            admin.browser.evaluate("document.querySelector('section.export').scrollIntoView()")
            admin.shot("recap-admin-id")
            admin._collect()
            assert not admin.violations, admin.violations
