"""The workbench in a real browser (Debian's headless Chromium over DevTools): an admin logs
in with password and TOTP, opens the inbox and a report, shows an anonymous reporter's
identity, switches to English; at 1366x768 and on a phone. Screenshots of each page in
both languages go to tests/artifacts/workbench/."""
from __future__ import annotations

import pyotp
import pytest
import requests

from kiosk.kernel.tracking_id import format_tracking_id
from tests.support.browser import Chromium
from tests.support.central import auth, central_cli, report, running_central, send
from tests.support.officer_browser import ARTIFACTS, Officer, choose, log_in
from tests.support.workbench import PASSWORD, add_officer


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('workbench-e2e') / 'central.sqlite3'}"
    with running_central(url) as base:
        token = central_cli(url, "kiosk", "add", "MT01", "--location", "Mal Pelayanan Publik Muara Teweh").stdout.strip()
        secret = add_officer(url, "Rina Admin", "admin", totp=True)
        anonymous = report(anonymous=True, reporter_name="Wulandari", reporter_phone="081377776666",
                           title="Obat di puskesmas habis",
                           description="Sudah tiga minggu obat hipertensi tidak tersedia.\nPasien disuruh membeli sendiri.")
        others = [report(title=t, kind=k) for t, k in (("Jalan berlubang di depan pasar", "pengaduan"),
                                                       ("Usul taman baca di kelurahan", "aspirasi"),
                                                       ("Syarat membuat akta kelahiran", "permintaan_informasi"))]
        send(base, token, *others, anonymous)
        for action, *extra in (("verify",), ("forward", "--agency", "DINKES"),
                               ("start", "--note", "Sudah ditelepon kepala puskesmas")):
            assert central_cli(url, "report", anonymous["tracking_id"], action, "--actor", "Rina Admin",
                               *extra).returncode == 0
        yield base, secret, anonymous["tracking_id"]


def test_an_admin_logs_in_with_totp_and_reads_a_report_in_both_languages(seeded):
    base, secret, tid = seeded
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with Chromium() as browser:
        officer = Officer(browser)
        officer.size(1366, 768)
        officer.open(f"{base}/workbench/")  # not signed in: the login page
        assert browser.evaluate("location.pathname") == "/workbench/login"
        assert browser.evaluate("getComputedStyle(document.querySelector('.top')).backgroundColor") == "rgb(10, 79, 156)"
        officer.shot("login-id")
        officer.type("#name", "Rina Admin")
        officer.type("#password", PASSWORD)
        officer.click("button[type=submit]")
        assert browser.evaluate("location.pathname") == "/workbench/login/totp"
        officer.shot("totp-id")
        officer.type("#code", pyotp.TOTP(secret).now())
        officer.click("button[type=submit]")
        assert browser.evaluate("location.pathname") == "/workbench/"
        assert "Kotak masuk" in officer.text() and "Obat di puskesmas habis" in officer.text()
        officer.shot("inbox-id")
        officer.click(f"a[href='/workbench/reports/{tid}']")
        page = officer.text()
        assert format_tracking_id(tid) in page and "[disembunyikan]" in page and "Wulandari" not in page
        assert "Sudah ditelepon kepala puskesmas" in page and "Pasien disuruh membeli sendiri." in page
        officer.shot("report-id")
        officer.click("button.secondary")  # Tampilkan identitas
        assert "Wulandari" in officer.text() and "081377776666" in officer.text()
        officer.shot("report-identity-id")
        officer.click("a[hreflang=en]")
        assert "What the citizen reported" in officer.text() and "Wulandari" not in officer.text()
        officer.shot("report-en")
        officer.click("header nav a[href='/workbench/']")
        assert "Inbox" in officer.text()  # the cookie keeps English
        officer.shot("inbox-en")
        officer.size(390, 844, mobile=True)
        officer.open(f"{base}/workbench/")
        assert browser.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scrolling
        officer.shot("inbox-phone-en")
        officer.open(f"{base}/workbench/reports/{tid}")
        assert browser.evaluate("document.documentElement.scrollWidth") <= 390
        officer.shot("report-phone-en")
        officer.size(1366, 768)
        officer.open(f"{base}/workbench/password")
        officer.shot("password-en")
        officer.click("header form button")  # log out
        assert browser.evaluate("location.pathname") == "/workbench/login" and "Log in" in officer.text()
        officer.shot("login-en")
        officer.open(f"{base}/workbench/")
        assert browser.evaluate("location.pathname") == "/workbench/login"  # the session is over
        officer._collect()
        assert not officer.violations, officer.violations


# -- the report page's actions ---------------------------------------------------------------
@pytest.fixture(scope="module")
def acting(tmp_path_factory):
    """A central of its own: an admin with TOTP, a DINKES officer, one received report."""
    url = f"sqlite:///{tmp_path_factory.mktemp('workbench-actions-e2e') / 'central.sqlite3'}"
    with running_central(url) as base:
        token = central_cli(url, "kiosk", "add", "MT01", "--location", "Mal Pelayanan Publik Muara Teweh").stdout.strip()
        secret = add_officer(url, "Rina Admin", "admin", totp=True)
        add_officer(url, "Budi Dinkes", "agency", "DINKES")
        body = report(title="Antrean obat di Puskesmas Lahei", category_code="KESEHATAN",
                      description="Antrean obat lebih dari tiga jam setiap pagi.")
        send(base, token, body)
        yield base, url, token, secret, body["tracking_id"]


def test_an_admin_verifies_and_forwards_and_the_agency_answers_with_a_template(acting):
    base, url, token, secret, tid = acting
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with Chromium() as browser:
        admin = Officer(browser)
        admin.size(1366, 768)
        log_in(admin, base, "Rina Admin", secret)
        admin.click("header nav a[href='/workbench/templates']")
        admin.click("a.button")  # Tambah templat
        admin.type("#title", "Obat sudah tersedia")
        choose(admin, "#category", "KESEHATAN")
        admin.type("#text", "Yth. Bapak/Ibu,\nterima kasih atas laporan Anda. Obat sudah tersedia kembali di puskesmas.")
        admin.shot("template-form-id")
        admin.click("main form button[type=submit]")
        assert "Templat sudah disimpan." in admin.text() and "Obat sudah tersedia" in admin.text()
        admin.shot("templates-id")
        admin.open(f"{base}/workbench/reports/{tid}")
        assert "Verifikasi" in admin.text() and "Teruskan" not in admin.text()
        admin.shot("report-actions-received-id")
        admin.click("button[value=verify]")
        assert "Selesai: status laporan sudah diperbarui." in admin.text() and "Diverifikasi" in admin.text()
        choose(admin, "#agency-forward", "DINKES")
        admin.type("#note-forward", "Mohon segera ditindaklanjuti")
        admin.shot("report-actions-verified-id")
        admin.click("button[value=forward]")
        page = admin.text()
        assert "Diteruskan" in page and "Dinas Kesehatan (Dinkes)" in page and "Mohon segera ditindaklanjuti" in page
        admin.shot("report-forwarded-id")
        admin.click("a[hreflang=en]")
        assert "Re-route" in admin.text() and "Mark as duplicate" in admin.text()
        admin.shot("report-actions-forwarded-en")
        admin.click("header form button")  # log out
        admin.click("a[hreflang=id]")

        agency = admin  # the same browser, now the DINKES officer
        log_in(agency, base, "Budi Dinkes")
        assert "Antrean obat di Puskesmas Lahei" in agency.text()
        agency.click(f"a[href='/workbench/reports/{tid}']")
        assert "Jawab warga" in agency.text() and "Verifikasi" not in agency.text()
        agency.click("button[value=start]")
        choose(agency, "#template", browser.evaluate("document.querySelector('#template option').value"))
        agency.click(".use-template button")
        filled = browser.evaluate("document.querySelector('#reply-answer').value")
        assert filled.startswith("Yth. Bapak/Ibu,\nterima kasih atas laporan Anda.")
        agency.browser.evaluate("document.querySelector('#reply-answer').setSelectionRange(1e6, 1e6)")
        agency.type("#reply-answer", " Silakan datang ke loket obat mulai pukul 08.00 WIB.")
        agency.shot("report-answer-template-id")
        agency.click("button[value=answer]")
        assert "Dijawab" in agency.text() and "Silakan datang ke loket obat" in agency.text()
        agency.shot("report-answered-id")
        agency.size(390, 844, mobile=True)
        agency.open(f"{base}/workbench/reports/{tid}")
        assert browser.evaluate("document.documentElement.scrollWidth") <= 390
        agency.shot("report-answered-phone-id")
        agency._collect()
        assert not agency.violations, agency.violations
    status = requests.get(f"{base}/api/v1/reports/{tid}/status", headers=auth(token), timeout=30).json()
    assert status["status"] == "answered"
    assert status["events"][-1]["public_reply"].endswith("Silakan datang ke loket obat mulai pukul 08.00 WIB.")
    assert "Mohon segera" not in str(status)  # the internal note stays inside
