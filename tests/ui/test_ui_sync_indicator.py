"""Welcome's sync indicator tells the truth: a kiosk behind a captive portal is offline,
with its reports counted as waiting, until the central itself answers again."""
from __future__ import annotations

from urllib.parse import urlparse

import pytest

from tests.support.fault_proxy import FaultProxy
from tests.support.central import env_synced_to
from tests.support.kiosk_ui import T, show_receipt_for_saved_report

pytestmark = pytest.mark.ui


def test_welcome_says_offline_behind_a_captive_portal_and_online_after(kivy_window, central, token, tmp_path, clock):
    """GIVEN a kiosk whose way to the central ends at a hotspot's login page (200, HTML,
    to every request) WHEN a report is saved THEN Welcome says offline, 1 waiting, while
    the sync thread keeps running; WHEN the portal is gone THEN it is delivered and
    Welcome says online, 0 waiting."""
    from tests.support.ui_driver import KioskDriver

    parsed = urlparse(central[0])
    portal = FaultProxy((parsed.hostname, parsed.port), {"html_200": 1})
    env = env_synced_to(tmp_path, portal.url, token, clock)
    kiosk = KioskDriver(env)
    try:
        show_receipt_for_saved_report(kiosk, env)
        kiosk.tap(kiosk.screen.ids.done)
        kiosk.wait_until(lambda: kiosk.app.sync_state == "offline" and kiosk.app.waiting == 1,
                         max_frames=3000, what="the portal shown as offline on Welcome")
        assert T(kiosk, "Offline") + " · " + T(kiosk, "{n} waiting to be sent", n=1) in kiosk.all_text()
        assert env.sync.alive and portal.counts["html_200"] >= 1

        portal.set_weights({"pass": 1})
        clock.advance(700)  # past the backoff
        env.sync.wake()
        kiosk.wait_until(lambda: kiosk.app.sync_state == "online" and kiosk.app.waiting == 0,
                         max_frames=3000, what="delivery shown on Welcome")
        assert T(kiosk, "Online") + " · " + T(kiosk, "{n} waiting to be sent", n=0) in kiosk.all_text()
        assert env.sync.restarts == 0
    finally:
        kiosk.close()
        env.close()
        portal.close()
