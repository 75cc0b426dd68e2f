"""A citizen's call for staff ("Minta bantuan petugas") against a real central: the kiosk's
own sync worker sends a heartbeat at once, the fleet view (API and CLI) flags HELP, the
workbench's kiosks page puts it on top for admins and agencies only; an ended call clears,
a silent kiosk's call is not current, and an offline kiosk does not claim it called anyone."""
from __future__ import annotations

import datetime as dt
import json
import threading
import time

import pytest
import requests

from kiosk.core.help_call import Notice
from kiosk.runtime.config import load_config
from kiosk.runtime.env import build_env
from tests.support.central import central_cli, running_central
from tests.support.clock import FakeClock
from tests.support.workbench import CSP, add_officer, log_in

LOCATION = "Kantor Camat Teweh Tengah"
PROMPTLY_S = 10.0  # from the tap to the central, with the worker otherwise idle for 5 minutes


def kiosk_env(tmp_path, base: str, token: str, code: str):
    """A whole kiosk as ``kiosk run`` builds it, its heartbeat every 5 minutes."""
    values = {"data_dir": str(tmp_path / f"data-{code}"), "kiosk_code": code, "central_url": base,
              "central_token": token, "heartbeat_interval_s": 300}
    path = tmp_path / f"kiosk-{code}.toml"
    path.write_text("[kiosk]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in values.items()), encoding="utf-8")
    clock = FakeClock(dt.datetime.now(dt.timezone.utc).replace(microsecond=0))
    return build_env(load_config(path, environ={}), now=clock.now, monotonic=clock.monotonic), clock


class Heartbeats:
    """Counts the heartbeats the central took from one kiosk, once the kiosk has heard so
    (its help call told of the delivery); waits for the next one. Counting at the HTTP
    answer instead raced the worker: the test could read the notice before the worker
    passed the answer on (a CI run saw SENDING after the central had the call)."""

    def __init__(self, env):
        self.count = 0
        self._cond = threading.Condition()
        call = env.help_call
        delivered = call.delivered

        def seen_delivered(seen):
            delivered(seen)
            with self._cond:
                self.count += 1
                self._cond.notify_all()

        call.delivered = seen_delivered

    def wait_for(self, count: int, timeout: float = 30.0) -> None:
        with self._cond:
            assert self._cond.wait_for(lambda: self.count >= count, timeout), f"heartbeat {count} never arrived"


def fleet_api(base: str, officer_token: str) -> dict[str, dict]:
    answer = requests.get(f"{base}/api/v1/fleet", headers={"Authorization": f"Bearer {officer_token}"}, timeout=30)
    assert answer.status_code == 200
    return {k["code"]: k for k in answer.json()["kiosks"]}


def fleet_cli(url: str, *args: str) -> tuple[int, dict[str, dict], str]:
    result = central_cli(url, "kiosks", "--json", *args)
    assert result.returncode in (0, 1), result.stderr
    table = central_cli(url, "kiosks", *args).stdout
    return result.returncode, {k["code"]: k for k in json.loads(result.stdout)["kiosks"]}, table


@pytest.fixture(scope="module")
def hall(tmp_path_factory):
    """A central with kiosk BRT1, an API officer, and workbench accounts of each role."""
    url = f"sqlite:///{tmp_path_factory.mktemp('help-call') / 'central.sqlite3'}"
    with running_central(url) as base:
        token = central_cli(url, "kiosk", "add", "BRT1", "--location", LOCATION).stdout.strip()
        officer = central_cli(url, "officer", "add", "fleet-script").stdout.strip()
        add_officer(url, "dinkes-budi", "agency", "DINKES")
        add_officer(url, "bupati-viewer", "viewer")
        yield base, url, token, officer


def test_a_call_reaches_the_fleet_view_at_once_and_its_end_clears_it(hall, tmp_path):
    """GIVEN a running kiosk whose heartbeat is due only every 5 minutes WHEN a citizen asks
    for staff THEN within seconds the fleet (API and CLI) flags the kiosk HELP, the kiosk
    knows the central took the call, and the agency's kiosks page shows it in the banner;
    WHEN staff end it on the kiosk THEN the next heartbeat (sent at once) clears it."""
    base, url, token, officer = hall
    env, clock = kiosk_env(tmp_path, base, token, "BRT1")
    beats = Heartbeats(env)
    try:
        env.sync.start()
        beats.wait_for(1)  # the first heartbeat, at start
        assert "HELP" not in fleet_api(base, officer)["BRT1"]["flags"]

        asked_at = time.monotonic()
        assert env.help_call.call() is True
        assert env.help_call.notice is Notice.SENDING
        beats.wait_for(2)
        assert time.monotonic() - asked_at < PROMPTLY_S
        assert env.help_call.notice is Notice.SENT  # now the screen may say staff were called
        clock.advance(125)
        me = fleet_api(base, officer)["BRT1"]
        assert me["flags"][0] == "HELP" and me["help_called_age_s"] < 60  # the age sent, carried forward by the central
        code, kiosks, table = fleet_cli(url)
        assert "HELP" in kiosks["BRT1"]["flags"] and code == 1
        assert "HELP" in next(line for line in table.splitlines() if line.startswith("BRT1"))

        agency = log_in(base, "dinkes-budi")
        page = agency.get(f"{base}/workbench/kiosks", timeout=30)
        assert page.status_code == 200 and page.headers["Content-Security-Policy"] == CSP
        assert f"Kios BRT1 ({LOCATION}) meminta bantuan petugas, baru saja." in page.text
        assert page.headers["Refresh"] == "15"  # it reloads itself
        still = agency.get(f"{base}/workbench/kiosks?refresh=off", timeout=30)  # unless asked not to
        assert "Refresh" not in still.headers and "meminta bantuan petugas, baru saja." in still.text

        assert env.help_call.end("staff arrived") is True
        beats.wait_for(3)
        assert "HELP" not in fleet_api(base, officer)["BRT1"]["flags"]
        assert "HELP" not in fleet_cli(url)[1]["BRT1"]["flags"]
        assert "Tidak ada kios yang meminta bantuan petugas." in agency.get(f"{base}/workbench/kiosks", timeout=30).text
    finally:
        env.close()


def test_a_call_on_a_kiosk_gone_silent_is_not_shown_as_current(hall):
    base, url, _, _ = hall
    token = central_cli(url, "kiosk", "add", "BRT2", "--location", "Pasar <b>Baru</b> & 'Timur'").stdout.strip()
    body = {"sent_at": dt.datetime.now(dt.timezone.utc).isoformat(), "version": "0.1.0", "queue_depth": 0,
            "failed": 0, "printer_kind": "file", "printer": "ok", "paper": "ok", "camera": "ok",
            "disk_free_bytes": 50 * 1024 ** 3, "disk_total_bytes": 100 * 1024 ** 3, "help_called_age_s": 150.0}
    answer = requests.post(f"{base}/api/v1/heartbeat", json=body, headers={"Authorization": f"Bearer {token}"},
                           timeout=30)
    assert answer.status_code == 200
    received = dt.datetime.fromisoformat(answer.json()["received_at"])

    _, kiosks, _ = fleet_cli(url, "--now", (received + dt.timedelta(minutes=5)).isoformat())
    assert kiosks["BRT2"]["flags"] == ["HELP"] and 449 <= kiosks["BRT2"]["help_called_age_s"] <= 451
    _, kiosks, _ = fleet_cli(url, "--now", (received + dt.timedelta(minutes=16)).isoformat())
    assert kiosks["BRT2"]["flags"] == ["SILENT"]

    # The location an admin typed is escaped on the page; the call is 2 minutes old.
    page = log_in(base, "dinkes-budi").get(f"{base}/workbench/kiosks?lang=en", timeout=30).text
    assert ("Kiosk BRT2 (Pasar &lt;b&gt;Baru&lt;/b&gt; &amp; &#39;Timur&#39;) is asking for staff help, "
            "2 minutes ago.") in page
    assert "<b>Baru</b>" not in page


def test_the_kiosks_page_is_for_admins_and_agencies_only(hall):
    base, _, _, _ = hall
    viewer = log_in(base, "bupati-viewer")
    refused = viewer.get(f"{base}/workbench/kiosks", timeout=30)
    assert refused.status_code == 403 and refused.headers["Content-Security-Policy"] == CSP
    assert "BRT1" not in refused.text
    assert "/workbench/kiosks" not in viewer.get(f"{base}/workbench/", timeout=30).text  # no link either
    agency = log_in(base, "dinkes-budi")
    assert '/workbench/kiosks"' in agency.get(f"{base}/workbench/", timeout=30).text  # the navigation's link
    visitor = requests.get(f"{base}/workbench/kiosks", allow_redirects=False, timeout=30)
    assert visitor.status_code == 303 and visitor.headers["Location"] == "/workbench/login"


def test_offline_the_kiosk_does_not_say_staff_were_called(tmp_path):
    """GIVEN a kiosk whose central does not answer WHEN a citizen asks for staff THEN the
    heartbeat is tried at once and fails, and the call says so (the screen then asks the
    citizen to go to the counter); the call stands, for staff who see the screen."""
    env, _ = kiosk_env(tmp_path, "http://127.0.0.1:9", "token", "MT77")  # nothing listens on port 9
    try:
        env.help_call.call()
        assert env.help_call.notice is Notice.SENDING
        assert env.sync.heartbeat_if_due() is False  # the call made the heartbeat due now
        assert env.help_call.notice is Notice.NOT_SENT and env.help_call.active
    finally:
        env.close()
