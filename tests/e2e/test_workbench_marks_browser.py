"""The inbox's marks, the report page's deadline and the header in a real browser (Debian's
headless Chromium over DevTools): an admin with every link in the header finds the report
an agency asked to re-route and the one a citizen objected to, opens a long report page;
every link and button of the header lies inside the window at 1366x768 and on a phone, in
both languages, and clear of the edge of a full-page picture of a long page (where the
window's scrollbar is cut off). Pictures in tests/artifacts/workbench/."""
from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest
import requests

from tests.support.browser import Chromium
from tests.support.central import auth, central_cli, report, running_central, send
from tests.support.officer_browser import Officer, log_in
from tests.support.workbench import add_officer, log_in as log_in_http, page_csrf, post_form

FORWARDED = (("verify",), ("forward", "--agency", "DINKES"))
#: A long name and a long report: the header's right end and a page taller than the window.
ADMIN = "Rina Wulandari Kusumaningtyas Admin"
HEADER_BLUE = (10, 79, 156)


@pytest.fixture(scope="module")
def marked(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('workbench-marks-e2e') / 'central.sqlite3'}"
    with running_central(url) as base:
        token = central_cli(url, "kiosk", "add", "MT01", "--location", "Mal Pelayanan Publik Muara Teweh").stdout.strip()
        secret = add_officer(url, ADMIN, "admin", totp=True)
        add_officer(url, "Budi Dinkes", "agency", "DINKES")
        asked = report(title="Sekolah rusak, bukan puskesmas",
                       description="\n".join(f"Baris {n}: atap kelas bocor setiap hujan." for n in range(60)))
        objected = report(title="Obat di puskesmas habis")
        send(base, token, asked, objected)
        for tid, steps in ((asked["tracking_id"], FORWARDED),
                           (objected["tracking_id"], FORWARDED + (("start",), ("answer", "--reply", "Sudah ada.")))):
            for action, *extra in steps:
                assert central_cli(url, "report", tid, action, "--actor", "CLI", *extra).returncode == 0
        dinkes = log_in_http(base, "Budi Dinkes")
        assert post_form(dinkes, base, f"/workbench/reports/{asked['tracking_id']}/reroute-request",
                         csrf=page_csrf(base, dinkes), status="forwarded",
                         reason="Ini urusan Dinas Pendidikan").status_code == 303
        item = {"key": uuid.uuid4().hex, "kind": "objection", "tracking_id": objected["tracking_id"], "text": "Belum.",
                "filed_at": dt.datetime.now(dt.timezone.utc).isoformat()}
        assert requests.post(f"{base}/api/v1/feedback", json={"items": [item]}, headers=auth(token),
                             timeout=30).status_code == 200
        yield base, secret, asked["tracking_id"], objected["tracking_id"]


def _header_outside(officer: Officer) -> list[str]:
    """The header's links and buttons that do not lie wholly inside the window."""
    return json.loads(officer.browser.evaluate(
        "JSON.stringify([...document.querySelectorAll('header a, header button')].filter(e => {"
        " const r = e.getBoundingClientRect();"
        " return r.width === 0 || r.left < 0 || r.top < 0 || r.right > document.documentElement.clientWidth; })"
        ".map(e => e.textContent.trim()))"))


def _header_edge_is_clear(officer: Officer, name: str) -> bool:
    """In a full-page picture, the header's last 12 pixels at the right are its plain
    background: no link or button drawn up to (or cut at) the picture's edge."""
    from PIL import Image

    height = int(officer.browser.evaluate("document.querySelector('header').getBoundingClientRect().height"))
    picture = Image.open(officer.shot(name)).convert("RGB")
    edge = picture.crop((picture.width - 12, 0, picture.width, height - 1))
    return set(edge.getdata()) == {HEADER_BLUE}


def test_an_admin_finds_the_marked_reports_and_the_header_fits(marked):
    base, secret, asked, objected = marked
    with Chromium() as browser:
        officer = Officer(browser)
        officer.size(1366, 768)
        log_in(officer, base, ADMIN, secret)
        text = officer.text()
        assert "Minta dialihkan 1" in text and "Keberatan warga 1" in text
        officer.click("a.tab-mark.mark-reroute")
        assert officer.path() == "/workbench/" and "Sekolah rusak" in officer.text()
        assert "Obat di puskesmas habis" not in officer.text()
        mark = browser.evaluate("getComputedStyle(document.querySelector('td .mark-reroute')).borderTopWidth")
        assert mark == "2px"  # a framed word, not colour alone
        officer.shot("inbox-reroute-requested-id")
        officer.click("a.tab-mark.mark-objected")
        assert "Obat di puskesmas habis" in officer.text() and "Keberatan warga" in officer.text()
        officer.shot("inbox-objected-id")
        for lang in ("id", "en"):
            for path in ("/workbench/", f"/workbench/reports/{asked}"):
                for width, height, mobile in ((1366, 768, False), (390, 844, True)):
                    officer.size(width, height, mobile=mobile)
                    officer.open(f"{base}{path}?lang={lang}")
                    assert _header_outside(officer) == [], (path, lang, width)
                    assert browser.evaluate("document.documentElement.scrollWidth") <= width, (path, lang, width)
        officer.size(1366, 768)
        officer.open(f"{base}/workbench/reports/{asked}?lang=id")
        assert browser.evaluate("document.documentElement.scrollHeight") > 768  # a long page
        assert "Batas tindak lanjut instansi:" in officer.text()
        assert _header_edge_is_clear(officer, "report-long-deadline-id")
        officer.open(f"{base}/workbench/reports/{asked}?lang=en")
        assert "The agency's follow-up due:" in officer.text()
        assert _header_edge_is_clear(officer, "report-long-deadline-en")
        officer.open(f"{base}/workbench/?lang=id")
        assert _header_edge_is_clear(officer, "inbox-header-id")
        officer._collect()
        assert not officer.violations, officer.violations
