"""Idle reset and the local status lookup, on the real Kivy window."""
from __future__ import annotations


import pytest

from kiosk.kernel.tracking_id import format_tracking_id
from sync_queue.outbox import OutboxState
from tests.support.central import env_synced_to
from tests.support.kiosk_ui import (
    T, assert_out_of_service, assert_print_failed_shows_the_number, every_text_in_app, fill_agency,
    mistype, saved_report, show_receipt_for_saved_report, type_on_keypad, wait_overlay,
)

pytestmark = pytest.mark.ui

SECRET = "rahasiabudi"


def _to_the_title(kiosk, typed: str | None = None) -> None:
    """From Welcome to the describe step: Start, a kind, a category, Next, the agency; with
    ``typed``, that typed into the title on the keyboard and seen in the draft."""
    kiosk.tap(kiosk.screen.ids.start)
    kiosk.tap(kiosk.screen.ids.choices.children[-1])
    kiosk.tap(kiosk.screen.ids.categories.children[-1])
    kiosk.tap(kiosk.bar("next"))
    fill_agency(kiosk)
    if typed is not None:
        kiosk.focus(kiosk.screen.ids.title)
        kiosk.type_keys(typed)
        assert kiosk.app.flow.draft.title.lower() == typed


@pytest.mark.parametrize("lang", ["id", "en"])
def test_idle_warning_then_reset_leaves_nothing_behind(kiosk, clock, env, lang):
    """GIVEN a citizen halfway through a report WHEN nobody touches the screen for the idle
    time THEN a full-screen warning counts down at least 20 s with a big Continue button;
    Continue keeps the draft; letting it run out returns to Welcome with nothing left."""
    if lang == "en":
        kiosk.tap(kiosk.screen.ids.lang_en)
    _to_the_title(kiosk, typed=SECRET)

    clock.advance(env.config.idle_timeout_s + 0.5)
    wait_overlay(kiosk, True)
    seconds = kiosk.app.idle_overlay.seconds
    assert 20 <= seconds <= env.config.idle_warning_s
    assert T(kiosk, "For your privacy, this report will be erased in {seconds} seconds.", seconds=int(seconds)) in kiosk.all_text()
    kiosk.screenshot("10-idle-warning")

    kiosk.tap(kiosk.app.idle_overlay.ids.continue_button)
    wait_overlay(kiosk, False)
    assert kiosk.current == "describe"
    assert kiosk.app.flow.draft.title.lower() == SECRET

    clock.advance(env.config.idle_timeout_s + env.config.idle_warning_s + 1)
    kiosk.wait_until(lambda: kiosk.current == "welcome", what="reset to Welcome")
    kiosk.frames(3)
    assert kiosk.app.flow is None
    assert kiosk.app.lang == env.config.language
    assert SECRET not in every_text_in_app(kiosk).lower()

    kiosk.tap(kiosk.screen.ids.start)  # the next citizen starts from nothing
    kiosk.tap(kiosk.bar("next"))
    assert kiosk.current == "kind"
    assert SECRET not in every_text_in_app(kiosk).lower()


def test_no_idle_warning_on_welcome(kiosk, clock, env):
    clock.advance(env.config.idle_timeout_s * 5)
    kiosk.frames(30)
    assert not kiosk.app.idle_overlay.is_open
    assert kiosk.current == "welcome"


@pytest.mark.parametrize("lang", ["id", "en"])
def test_status_lookup_on_the_keypad(kiosk, env, lang):
    tracking_id = saved_report(env)
    if lang == "en":
        kiosk.tap(kiosk.screen.ids.lang_en)
    kiosk.tap(kiosk.screen.ids.status)
    assert kiosk.current == "status"
    kiosk.screenshot("11-status-empty")

    type_on_keypad(kiosk, mistype(tracking_id))
    kiosk.tap(kiosk.screen.ids.check)
    assert kiosk.screen.result_kind == "invalid"
    assert T(kiosk, "This number is not right: a letter or number is probably mistyped. Please check it against your receipt.") in kiosk.all_text()
    kiosk.screenshot("12-status-mistyped")

    kiosk.screen.clear()
    type_on_keypad(kiosk, tracking_id)
    kiosk.tap(kiosk.screen.ids.check)
    kiosk.wait_until(lambda: kiosk.screen.result_kind != "checking", what="the lookup")
    assert kiosk.screen.result_kind == "found"
    shown = kiosk.all_text()
    assert format_tracking_id(tracking_id) in shown
    assert T(kiosk, "It is waiting to be sent to the central office; this happens by itself when the network is available.") in shown
    assert "Lampu jalan" not in shown  # the status never shows content
    kiosk.screenshot("13-status-found")

    kiosk.tap(kiosk.screen.ids.reprint)  # staff reprint for a report this kiosk issued
    kiosk.wait_until(lambda: kiosk.screen.reprint_state in ("printed", "failed"), what="the copy")
    assert kiosk.screen.reprint_state == "printed"
    from devices.escpos_sim import parse_escpos

    [copy] = sorted(env.config.receipts_path.glob(f"{tracking_id}-*-copy.bin"))
    assert T(kiosk, "COPY") in parse_escpos(copy.read_bytes()).text

    from kiosk.kernel.tracking_id import new_tracking_id

    unknown = new_tracking_id("MT01")
    kiosk.screen.clear()
    type_on_keypad(kiosk, unknown)
    kiosk.tap(kiosk.screen.ids.check)
    kiosk.wait_until(lambda: kiosk.screen.result_kind != "checking", what="the lookup")
    assert kiosk.screen.result_kind == "unknown"
    assert T(kiosk, "No report with this number was found on this kiosk.") in kiosk.all_text()
    kiosk.screenshot("14-status-unknown")

    kiosk.tap(kiosk.screen.ids.back)
    assert kiosk.current == "welcome"


@pytest.mark.parametrize("lang", ["id", "en"])
def test_kiosk_that_cannot_keep_reports_says_so(kivy_window, env, lang):
    """GIVEN a database that cannot be opened THEN Welcome still shows, says the kiosk
    cannot take reports, and its buttons do nothing: no report is accepted that could
    not be kept."""
    from kiosk.core.store.db import StoreError
    from tests.support.ui_driver import KioskDriver

    def broken_store():
        raise StoreError("database is on a full disk")

    kiosk = KioskDriver(env, env_factory=broken_store)
    try:
        if lang == "en":
            kiosk.tap(kiosk.screen.ids.lang_en)
        assert_out_of_service(kiosk, "15-out-of-service")
        from tests.support.text_fit import assert_fits_at_kiosk_sizes

        assert_fits_at_kiosk_sizes(kiosk, kiosk.screen.ids.notice, "15-out-of-service")  # not clipped
    finally:
        kiosk.close()


def test_receipt_screen_returns_to_welcome_after_its_timeout(kiosk, clock, env):
    show_receipt_for_saved_report(kiosk, env)
    assert kiosk.current == "receipt"
    kiosk.wait_until(lambda: kiosk.screen.print_state == "printed", what="printing")
    clock.advance(env.config.receipt_timeout_s + 1)
    wait_overlay(kiosk, True)  # the idle warning's countdown first, as on every screen
    clock.advance(env.config.idle_warning_s)
    kiosk.wait_until(lambda: kiosk.current == "welcome", what="back to Welcome")
    assert kiosk.app.root.get_screen("receipt").tracking_text == ""
    # No central configured: the report waits on the kiosk, and Welcome says so.
    assert T(kiosk, "Saved on this kiosk") + " · " + T(kiosk, "{n} waiting to be sent", n=1) in kiosk.all_text()


@pytest.mark.parametrize("lang", ["id", "en"])
def test_printer_failure_shows_the_number_to_write_down(kiosk, env, lang):
    """GIVEN a printer that cannot print WHEN a report is saved THEN the citizen sees the
    Tracking ID large and is told to write it down; the report stays saved."""
    from devices.printer.file import FilePrinter

    blocker = env.config.data_path / "blocked"
    blocker.parent.mkdir(parents=True, exist_ok=True)
    blocker.write_text("a file where the receipts directory should be")
    env.printer = FilePrinter(blocker / "receipts")
    kiosk.app.lang = lang
    saved = show_receipt_for_saved_report(kiosk, env)
    assert_print_failed_shows_the_number(kiosk, env, saved)
    kiosk.screenshot("08-receipt-printer-failed")


@pytest.mark.parametrize("lang", ["id", "en"])
def test_welcome_shows_online_and_nothing_waiting_once_delivered(kivy_window, central, token, tmp_path, clock, lang):
    """GIVEN a kiosk configured with a real central WHEN a report is saved THEN the sync
    worker delivers it in the background and Welcome says online, 0 waiting."""
    from tests.support.ui_driver import KioskDriver

    base, _, _ = central
    env = env_synced_to(tmp_path, base, token, clock)
    kiosk = KioskDriver(env)
    try:
        if lang == "en":
            kiosk.tap(kiosk.screen.ids.lang_en)
        saved = show_receipt_for_saved_report(kiosk, env)
        kiosk.tap(kiosk.screen.ids.done)  # the session ends: back to the default language
        if lang == "en":
            kiosk.tap(kiosk.screen.ids.lang_en)
        assert kiosk.app.lang == lang
        kiosk.wait_until(lambda: kiosk.app.sync_state == "online" and kiosk.app.waiting == 0,
                         max_frames=3000, what="delivery shown on Welcome")
        assert T(kiosk, "Online") + " · " + T(kiosk, "{n} waiting to be sent", n=0) in kiosk.all_text()
        assert env.reports.find(saved.tracking_id).outbox_state is OutboxState.SENT
        kiosk.screenshot("01-welcome-online")
    finally:
        kiosk.close()
        env.close()


def test_repeated_wrong_numbers_slow_down(kiosk, clock, env):
    """Guessing at the kiosk: from the third wrong number, the next check waits 2 s, then 4 s..."""
    tracking_id = saved_report(env)
    kiosk.tap(kiosk.screen.ids.status)

    def attempt(number):
        kiosk.screen.clear()
        type_on_keypad(kiosk, number)
        kiosk.tap(kiosk.screen.ids.check)
        kiosk.wait_until(lambda: kiosk.screen.result_kind != "checking", what="the lookup")
        return kiosk.screen.result

    wrong = mistype(tracking_id)
    for _ in range(3):
        assert attempt(wrong) == T(kiosk, "This number is not right: a letter or number is probably mistyped. "
                                          "Please check it against your receipt.")
    waiting = attempt(tracking_id)
    assert waiting == T(kiosk, "Please wait {seconds} seconds before trying again.", seconds=2)
    kiosk.screenshot("14-status-slowed")
    clock.advance(2)
    attempt(tracking_id)
    assert kiosk.screen.result_kind == "found"  # the right number works again after the wait


def test_frame_rate_drops_only_when_nobody_is_using_the_kiosk(kiosk, clock, env):
    """Idle on Welcome the kiosk draws slowly (saving CPU); a citizen who stops touching,
    e.g. to hold a receipt up to the camera or to read, keeps the full frame rate."""
    from kivy.clock import Clock

    from screens.display import ACTIVE_FPS

    clock.advance(5)
    kiosk.app._tick(0)  # what the kiosk's 4-a-second watch does  # noqa: SLF001
    assert Clock._max_fps == env.config.idle_fps  # noqa: SLF001
    kiosk.tap(kiosk.screen.ids.status)
    assert Clock._max_fps == ACTIVE_FPS  # noqa: SLF001
    clock.advance(10)  # reading the keypad, touching nothing
    kiosk.app._tick(0)  # noqa: SLF001
    assert Clock._max_fps == ACTIVE_FPS  # noqa: SLF001
    kiosk.app.end_session()
    clock.advance(5)
    kiosk.app._tick(0)  # noqa: SLF001
    assert Clock._max_fps == env.config.idle_fps  # noqa: SLF001


def test_a_field_emptied_at_the_end_of_a_session_keeps_nothing_to_undo(kiosk, clock, env):
    """GIVEN a citizen who typed a title on the on-screen keyboard and walked away WHEN the
    next citizen, at the same field, presses Ctrl+Z and then Ctrl+R (Kivy's redo) on a
    keyboard (a technician's USB keyboard left plugged in) THEN the field stays empty: the
    first citizen's words are gone, not waiting in the field's undo history."""
    from kivy.core.window import Window

    _to_the_title(kiosk, typed=SECRET)
    clock.advance(env.config.idle_timeout_s + 0.5)
    wait_overlay(kiosk, True)
    clock.advance(env.config.idle_warning_s + 1)
    kiosk.wait_until(lambda: kiosk.current == "welcome", what="the session's end")
    kiosk.frames(3)

    _to_the_title(kiosk)
    title = kiosk.screen.ids.title
    kiosk.focus(title)
    assert title.text == ""
    for key, scancode in (("z", 29), ("r", 21)):  # undo every step, then redo every step
        for _ in SECRET:
            Window.dispatch("on_key_down", ord(key), scancode, key, ["ctrl"])
            Window.dispatch("on_key_up", ord(key), scancode)
        kiosk.frames(1)
    assert title.text == "" and SECRET not in every_text_in_app(kiosk).lower()
