"""Forwarding as officers and citizens see it, in a real browser (Debian's headless Chromium):
the report page's forwarding card of an unconfirmed entry with the admin's forms, at 1366x768
and on a phone, in both languages, nothing outside the window; a "Send again" posted twice
(a double tap) sends once and the second post says nothing was changed; the public status
page with "Nomor LAPOR!" in both languages and on a phone. Pictures in
tests/artifacts/forwarding/."""
from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from central.db import Database
from central.forwarder import Forwarder, Settings
from central.forwarding_config import load
from tests.support.browser import Chromium
from tests.support.central import central_cli, query, report, running_central, send
from tests.support.lapor_double import LaporDouble, forwarding_file
from tests.support.officer_browser import Officer, log_in
from tests.support.workbench import add_officer, csrf_of, log_in as log_in_http

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts" / "forwarding"
SETTINGS = Settings(batch=5, claim_ttl_s=10, backoff_base_s=2.0, backoff_cap_s=60, look_after_s=0.01, pull_every_s=None)
ADMIN, SECOND = "Rina Admin", "Sari Admin"


@pytest.fixture(scope="module")
def hall(tmp_path_factory):
    """A central forwarding to a LAPOR! double that cannot be searched: one report sent
    (its number known), one whose answer was lost (unconfirmed, for an admin)."""
    folder = tmp_path_factory.mktemp("forwarding-browser")
    url = f"sqlite:///{folder / 'central.sqlite3'}"
    with LaporDouble().running() as double:
        path = forwarding_file(folder, double, timeout_s=0.5, lookup=False)
        with running_central(url, env={"CENTRAL_FORWARDING_FILE": path}) as base:
            token = central_cli(url, "kiosk", "add", "MT01", "--location", "Mal Pelayanan Publik").stdout.strip()
            sent, lost = report(title="Lampu jalan padam"), report(title="Jalan <b>berlubang</b> & licin")
            send(base, token, sent)
            worker = Forwarder(Database(url), load(path), SETTINGS, rng=random.Random(1))
            assert worker.drain() == 1
            double.inject("lose")
            send(base, token, lost)
            worker.drain()
            worker.drain()  # looked up: LAPOR! cannot be searched, so it waits for an admin
            [(state,)] = query(url, "SELECT state FROM forwarding WHERE tracking_id = :t", t=lost["tracking_id"])
            assert state == "unconfirmed"
            secret = add_officer(url, ADMIN, "admin", totp=True)
            second = add_officer(url, SECOND, "admin", totp=True)  # a TOTP code signs in once
            [number] = [s.trackingid for s in double.for_our_id(sent["tracking_id"])]
            yield base, url, (secret, second), sent["tracking_id"], lost["tracking_id"], number


def _outside(officer: Officer, selector: str) -> list[str]:
    """What of ``selector`` does not lie wholly inside the window's width."""
    return json.loads(officer.browser.evaluate(
        f"JSON.stringify([...document.querySelectorAll({json.dumps(selector)})].filter(e => {{"
        " const r = e.getBoundingClientRect();"
        " return r.width === 0 || r.left < 0 || r.right > document.documentElement.clientWidth; })"
        ".map(e => e.outerHTML.slice(0, 80)))"))


def test_the_forwarding_card_and_its_forms_fit_in_both_languages(hall):
    base, _, secret, _, lost, _ = hall  # secret: one per admin
    with Chromium() as browser:
        officer = Officer(browser, ARTIFACTS)
        officer.size(1366, 768)
        log_in(officer, base, ADMIN, secret[0])
        for lang, state in (("id", "Belum pasti: jawabannya hilang"), ("en", "Unconfirmed: the answer was lost")):
            for width, height, mobile in ((1366, 768, False), (390, 844, True)):
                officer.size(width, height, mobile)
                officer.open(f"{base}/workbench/reports/{lost}?lang={lang}")
                officer.browser.evaluate("document.querySelector('ul.forwarding').scrollIntoView()")
                text = officer.text()
                assert state in text and "Jalan <b>berlubang</b> & licin" in text  # escaped, shown as typed
                assert _outside(officer, "ul.forwarding input:not([type=hidden]), ul.forwarding button, ul.forwarding label") == []
                officer.shot(f"card-{lang}-{width}")
        assert officer.violations == []


def test_send_again_posted_twice_sends_once_and_says_so(hall):
    base, url, secret, _, lost, _ = hall
    admin = log_in_http(base, SECOND, secret[1])
    page = admin.get(f"{base}/workbench/reports/{lost}?lang=id", timeout=30).text
    target = f"{base}/workbench/reports/{lost}/forwarding/resend"
    form = {"destination": "lapor", "csrf": csrf_of(page)}
    first = admin.post(target, data=form, allow_redirects=False, timeout=30)
    second = admin.post(target, data=form, allow_redirects=False, timeout=30)  # the same form, a second tap
    assert first.status_code == 303
    assert second.status_code == 400 and "Traceback" not in second.text
    assert "Penerusan ini tidak (lagi) gagal atau belum pasti: tidak ada yang diubah." in second.text, second.text[:800]
    assert query(url, "SELECT state FROM forwarding WHERE tracking_id = :t", t=lost) == [("pending",)]
    assert query(url, "SELECT count(*) FROM audit_log WHERE tracking_id = :t AND event = 'forwarding_resent'",
                 t=lost) == [(1,)]


def test_the_public_page_shows_the_lapor_number(hall):
    base, _, _, sent, _, number = hall
    with Chromium() as browser:
        visitor = Officer(browser, ARTIFACTS)
        for lang, words in (("id", f"Nomor LAPOR!: {number}"), ("en", f"LAPOR! number: {number}")):
            for width, height, mobile in ((1366, 768, False), (390, 844, True)):
                visitor.size(width, height, mobile)
                visitor.open(f"{base}/status/{sent}?lang={lang}")
                assert words in visitor.text()
                assert _outside(visitor, "p.lapor") == []
                visitor.shot(f"public-{lang}-{width}")
        assert visitor.violations == []
