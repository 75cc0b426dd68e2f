""""Minta bantuan petugas" on the real Kivy window, driven by real touches: the calm
overlay, what it may say (with a real central, without one), its two buttons, the tap
guard, and the session's end, which ends the call."""
from __future__ import annotations

import threading

import pytest

from kiosk.core.help_call import Notice
from tests.support.central import env_synced_to
from tests.support.kiosk_ui import T, fill_category, wait_overlay
from tests.support.ui_driver import KioskDriver

pytestmark = pytest.mark.ui


def overlay_text(kiosk) -> str:
    return "\n".join(w.text for w in kiosk.app.help_overlay.walk() if isinstance(getattr(w, "text", None), str))


def open_help(kiosk) -> None:
    """What the help button on every screen does."""
    kiosk.app.call_staff()
    kiosk.frames(2)
    assert kiosk.app.help_overlay.is_open


@pytest.mark.parametrize("lang", ["id", "en"])
def test_without_a_central_the_overlay_asks_to_go_to_the_counter_and_back_keeps_the_call(kiosk, env, lang):
    """GIVEN a kiosk with no central, a citizen on the second question WHEN they ask for
    staff THEN a full-screen message covers the question: it does not claim anyone was
    notified; "Kembali ke layar" closes it, the question and the call are still there."""
    if lang == "en":
        kiosk.tap(kiosk.screen.ids.lang_en)
    kiosk.tap(kiosk.screen.ids.start)
    kiosk.tap(kiosk.screen.ids.choices.children[-1])
    assert kiosk.current == "category"
    open_help(kiosk)
    text = overlay_text(kiosk)
    assert T(kiosk, "Please ask at the counter for help.") in text
    assert T(kiosk, "Show this screen to a member of staff.") in text
    assert T(kiosk, "You asked for help just now.") in text
    assert T(kiosk, "Staff have been called.") not in text  # nothing was sent
    assert env.help_call.notice is Notice.LOCAL and kiosk.app.staff_called
    kiosk.screenshot("help-call-local")

    kiosk.advance_clock(45)  # under the idle time: the session goes on
    kiosk.tap_text(T(kiosk, "Back to the screen"), root=kiosk.app.help_overlay)
    assert not kiosk.app.help_overlay.is_open
    assert kiosk.current == "category" and kiosk.app.flow is not None  # nothing of the report lost
    assert env.help_call.active and kiosk.app.staff_called  # the call stays

    kiosk.advance_clock(45)
    open_help(kiosk)  # asked again: the same call, its time kept
    kiosk.wait_until(lambda: T(kiosk, "You asked for help 1 minute ago.") in overlay_text(kiosk),
                     what="the call's age on the overlay", max_frames=3000)


def test_a_double_tap_on_the_help_button_does_not_end_the_call(kiosk, env):
    """The second tap of a double tap lands where "Petugas sudah datang" now is: it acts
    on nothing (the app's tap guard), the call goes on."""
    open_help(kiosk)
    arrived = kiosk.app.help_overlay.ids.arrived
    kiosk.tap_at(*arrived.to_window(*arrived.center))  # at once, as a second tap
    assert kiosk.app.help_overlay.is_open and env.help_call.active
    kiosk.tap(arrived)  # staff, a moment later
    assert not kiosk.app.help_overlay.is_open and not env.help_call.active and not kiosk.app.staff_called


def test_the_session_ending_ends_the_call_and_closes_the_overlay(kiosk, env, clock):
    """GIVEN a citizen who asked for help in the middle of a report WHEN nobody touches the
    kiosk THEN the kiosk waits longer than usual (the citizen is waiting for staff, not
    gone), then the idle warning still comes over the help message, and when it runs out
    the session ends: Welcome, no overlay, no call."""
    from screens.kiosk_app import STAFF_CALL_PATIENCE

    kiosk.tap(kiosk.screen.ids.start)
    kiosk.tap(kiosk.screen.ids.choices.children[-1])
    fill_category(kiosk)
    open_help(kiosk)
    clock.advance(env.config.idle_timeout_s + 0.5)
    kiosk.frames(3)
    assert not kiosk.app.idle_overlay.is_open  # waiting for staff
    clock.advance(env.config.idle_timeout_s * (STAFF_CALL_PATIENCE - 1))
    wait_overlay(kiosk, True)
    assert kiosk.app.help_overlay.is_open  # under the warning
    clock.advance(env.config.idle_warning_s * STAFF_CALL_PATIENCE + 1)
    kiosk.wait_until(lambda: kiosk.current == "welcome", what="reset to Welcome")
    kiosk.frames(2)
    assert not kiosk.app.help_overlay.is_open and not env.help_call.active and not kiosk.app.staff_called
    assert kiosk.app.flow is None


def test_with_a_central_the_overlay_says_staff_were_called_once_the_central_has_it(central, token, tmp_path, clock):
    """GIVEN a kiosk synced to a real central WHEN a citizen asks for staff THEN the
    overlay says "Petugas sudah dipanggil" once the central took the call, and the fleet
    shows HELP; "Petugas sudah datang" ends it and the central hears so at once."""
    base, _url, _ = central
    env = env_synced_to(tmp_path, base, token, clock)
    beats, arrived = [], threading.Event()

    def seen(response, **_):
        if response.url.endswith("/api/v1/heartbeat") and response.ok:
            beats.append(response.request.body)
            arrived.set()

    env.sync.client._http.hooks["response"].append(seen)
    kiosk = KioskDriver(env)
    try:
        kiosk.wait_until(lambda: arrived.is_set(), what="the first heartbeat", max_frames=20000)
        before = len(beats)
        open_help(kiosk)
        kiosk.wait_until(lambda: kiosk.app.help_overlay.notice == "sent", what="the call at the central",
                         max_frames=20000)
        text = overlay_text(kiosk)
        assert "Petugas sudah dipanggil." in text
        assert "Mohon tunggu sebentar, petugas akan datang membantu Anda." in text
        assert b'"help_called_age_s"' in beats[before]
        kiosk.screenshot("help-call-sent")

        calls = len(beats)
        kiosk.tap_text("Petugas sudah datang", root=kiosk.app.help_overlay)
        assert not kiosk.app.help_overlay.is_open
        kiosk.wait_until(lambda: len(beats) > calls, what="the heartbeat that ends the call", max_frames=20000)
        assert b'"help_called_age_s":null' in beats[calls].replace(b" ", b"")
    finally:
        kiosk.close()
        env.close()
