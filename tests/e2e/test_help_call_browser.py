"""The hall's staff see a citizen's call for help in a real browser (Debian's headless
Chromium over DevTools): a running kiosk's call reaches the central through its own sync
worker, the agency officer opens "Kios" from the workbench's navigation and sees the
banner on top; the page reloads itself, so when staff end the call on the kiosk the banner
goes without anyone touching the browser. A viewer is refused. Pictures go to
tests/artifacts/workbench/."""
from __future__ import annotations

import datetime as dt
import json
import threading

import pytest

from kiosk.runtime.config import load_config
from kiosk.runtime.env import build_env
from tests.support.browser import Chromium
from tests.support.central import central_cli, running_central
from tests.support.clock import FakeClock
from tests.support.officer_browser import Officer, log_in
from tests.support.workbench import add_officer

LOCATION = "Kantor Camat Teweh Tengah"


@pytest.fixture(scope="module")
def hall(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('help-call-e2e') / 'central.sqlite3'}"
    with running_central(url) as base:
        token = central_cli(url, "kiosk", "add", "BRT1", "--location", LOCATION).stdout.strip()
        central_cli(url, "kiosk", "add", "BRT2", "--location", "Mal Pelayanan Publik Muara Teweh")
        add_officer(url, "Budi Dinkes", "agency", "DINKES")
        add_officer(url, "Bupati Viewer", "viewer")
        yield base, token


def running_kiosk(tmp_path, base: str, token: str):
    """Kiosk BRT1 as ``kiosk run`` builds it; its sync worker started."""
    path = tmp_path / "kiosk.toml"
    values = {"data_dir": str(tmp_path / "data"), "kiosk_code": "BRT1", "central_url": base, "central_token": token}
    path.write_text("[kiosk]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in values.items()), encoding="utf-8")
    clock = FakeClock(dt.datetime.now(dt.timezone.utc).replace(microsecond=0))
    return build_env(load_config(path, environ={}), now=clock.now, monotonic=clock.monotonic)


def test_the_agency_sees_the_call_on_top_and_it_goes_when_staff_end_it(hall, tmp_path):
    base, token = hall
    env = running_kiosk(tmp_path, base, token)
    delivered = threading.Event()
    env.sync.client._http.hooks["response"].append(
        lambda response, **_: delivered.set() if response.url.endswith("/api/v1/heartbeat") and response.ok else None)
    try:
        env.sync.start()
        assert delivered.wait(30), "the kiosk's first heartbeat never arrived"
        delivered.clear()
        env.help_call.call()  # what "Minta bantuan petugas" on the kiosk does
        assert delivered.wait(30), "the call never reached the central"

        with Chromium() as browser:
            officer = Officer(browser)
            officer.size(1366, 768)
            log_in(officer, base, "Budi Dinkes")
            officer.click("header nav a[href='/workbench/kiosks']")
            assert officer.path() == "/workbench/kiosks"
            banner = browser.evaluate("document.querySelector('.help-calls').innerText")
            assert f"Kios BRT1 ({LOCATION}) meminta bantuan petugas, baru saja." in banner
            rows = browser.evaluate("[...document.querySelectorAll('tbody tr')].map(r => r.innerText).join('\\n')")
            assert "BRT1" in rows and "Meminta bantuan petugas" in rows
            assert "Mal Pelayanan Publik Muara Teweh" in rows and "Belum pernah" in rows  # BRT2: never heard from
            officer.shot("kiosks-help-id")
            officer.click("a[hreflang=en]")
            assert "Kiosk BRT1 (Kantor Camat Teweh Tengah) is asking for staff help, just now." in officer.text()
            officer.shot("kiosks-help-en")

            delivered.clear()
            env.help_call.end("staff arrived")
            assert delivered.wait(30), "the end of the call never reached the central"
            browser.events.clear()
            browser.wait_for(lambda e: e.get("method") == "Page.loadEventFired")  # the page's own reload (15 s)
            assert browser.evaluate("document.querySelector('.help-calls')") is None
            assert "No kiosk is asking for staff help." in officer.text()
            officer.shot("kiosks-quiet-en")
            officer._collect()
            assert not officer.violations, officer.violations

        with Chromium() as browser:
            viewer = Officer(browser)
            log_in(viewer, base, "Bupati Viewer")
            assert "/workbench/kiosks" not in browser.evaluate("document.querySelector('header nav').innerHTML")
            viewer.open(f"{base}/workbench/kiosks")
            assert "Tidak diizinkan" in viewer.text() and "BRT1" not in viewer.text()
    finally:
        env.close()
