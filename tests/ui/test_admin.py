"""The admin screen and its PIN, lockdown, and the same actions from the ``kiosk`` CLI.

A technician reaches the admin screen with five quick taps in Welcome's top-left corner
and a PIN; a citizen who stumbles on the gesture meets a PIN pad that locks after five
wrong tries, also across a restart."""
from __future__ import annotations

import subprocess
from pathlib import Path
import sys

import pytest
from sqlalchemy import update

from kiosk.core import pin
from kiosk.runtime import admin
from kiosk.runtime.config import load_config
from kiosk.core.domain import Draft, ReportKind
from kiosk.runtime.env import build_env
from screens.common import tr
from sync_queue.outbox import OutboxEntry
from tests.support.kiosk_ui import first_category, first_kecamatan
from tests.support.ui_driver import KioskDriver

PIN = "246810"
PIN_HASH = pin.hash_pin(PIN)
TOKEN = "rahasia-token-kios-123"
from tests.support.servers import ROOT  # noqa: E402


def _write_config(tmp_path, **extra) -> Path:
    lines = [f'data_dir = "{tmp_path / "data"}"', 'kiosk_code = "MT01"', f'central_token = "{TOKEN}"',
             f'admin_pin_hash = "{PIN_HASH}"', "lockdown = true"]
    lines += [f"{key} = {value!r}".replace("'", '"') if isinstance(value, str) else f"{key} = {str(value).lower()}"
              for key, value in extra.items()]
    path = tmp_path / "kiosk.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def admin_env(tmp_path, clock):
    environment = build_env(load_config(_write_config(tmp_path), environ={}), now=clock.now, monotonic=clock.monotonic)
    yield environment
    environment.close()


def _submit(env, title="Lampu jalan padam") -> str:
    return env.reports.submit(Draft(
        kind=ReportKind.PENGADUAN, category_code=first_category(env), title=title,
        description="Lampu jalan di depan pasar padam sejak minggu lalu.", incident_date=env.today(),
        kecamatan_code=first_kecamatan(env))).tracking_id


def _corner_taps(kiosk, count=5, between_s=0.5, clock=None):
    from kivy.core.window import Window

    for _ in range(count):
        kiosk.tap_at(20, Window.height - 20)
        if clock is not None:
            clock.advance(between_s)
    kiosk.frames(2)


def _enter_pin(kiosk, pin: str):
    screen = kiosk.app.root.get_screen("admin")
    for digit in pin:
        kiosk.tap_text(digit, root=screen.ids.pin_pad)
    kiosk.tap_text("OK", root=screen.ids.pin_pad)


def _open_panel(kiosk, clock):
    _corner_taps(kiosk, clock=clock)
    assert kiosk.current == "admin"
    _enter_pin(kiosk, PIN)
    assert kiosk.screen.mode == "panel"


# -- the PIN, without a screen --------------------------------------------------------------
def test_pin_hash_is_salted_slow_and_checked():
    again = pin.hash_pin(PIN)
    assert again != PIN_HASH and PIN not in again  # a new salt each time; never the PIN itself
    assert again.startswith("scrypt$32768$8$1$")
    assert pin.verify_pin(PIN, PIN_HASH) and not pin.verify_pin("246811", PIN_HASH)
    assert pin.check_pin_hash(PIN_HASH) is None
    assert pin.check_pin_hash("246810") and pin.check_pin_hash("scrypt$1024$8$1$AAAA$BBBB")
    with pytest.raises(pin.PinError):
        pin.hash_pin("1234")  # too short to resist guessing by hand


def test_lockout_survives_a_restart_and_doubles(tmp_path, clock):
    state = tmp_path / "admin-lock.json"
    guard = pin.PinGuard(PIN_HASH, state, clock.now)
    answers = [guard.try_pin("000000") for _ in range(pin.MAX_TRIES)]
    assert [a.tries_left for a in answers[:-1]] == [4, 3, 2, 1]
    assert answers[-1].locked_s == pin.FIRST_LOCK_S
    restarted = pin.PinGuard(PIN_HASH, state, clock.now)  # switched off and on again
    refused = restarted.try_pin(PIN)
    assert not refused.ok and refused.locked_s == pin.FIRST_LOCK_S  # even the right PIN waits
    clock.advance(pin.FIRST_LOCK_S + 1)
    for _ in range(pin.MAX_TRIES):
        last = restarted.try_pin("000000")
    assert last.locked_s == 2 * pin.FIRST_LOCK_S
    clock.advance(2 * pin.FIRST_LOCK_S + 1)
    assert restarted.try_pin(PIN).ok
    assert restarted.try_pin("000000").tries_left == pin.MAX_TRIES - 1  # the count starts over


def test_a_bad_pin_hash_in_the_config_stops_start_up_with_the_key(tmp_path):
    path = tmp_path / "kiosk.toml"
    path.write_text(f'data_dir = "{tmp_path}"\nadmin_pin_hash = "246810"\n', encoding="utf-8")
    run = subprocess.run([sys.executable, "-m", "kiosk", "--config", str(path), "queue"], cwd=ROOT,
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 2
    assert "admin_pin_hash" in run.stderr and "kiosk admin hash-pin" in run.stderr
    assert "246810" not in run.stderr and "Traceback" not in run.stderr


# -- the screen ---------------------------------------------------------------------------
pytestmark = pytest.mark.ui


def test_hidden_gesture_needs_five_quick_corner_taps(kivy_window, admin_env, clock):
    kiosk = KioskDriver(admin_env)
    try:
        _corner_taps(kiosk, count=4, clock=clock)
        assert kiosk.current == "welcome"
        _corner_taps(kiosk, count=5, between_s=1.5, clock=clock)  # too slow: 6 s for five taps
        assert kiosk.current == "welcome"
        kiosk.tap(kiosk.screen.ids.start)  # an ordinary citizen's tap elsewhere
        kiosk.app.end_session()
        _corner_taps(kiosk, clock=clock)
        assert kiosk.current == "admin" and kiosk.screen.mode == "pin"
        assert "Masukkan PIN admin" in kiosk.all_text()
    finally:
        kiosk.close()


def test_no_pin_configured_means_no_admin_screen(kivy_window, env, clock):
    kiosk = KioskDriver(env)
    try:
        _corner_taps(kiosk, clock=clock)
        assert kiosk.current == "welcome"
    finally:
        kiosk.close()


@pytest.mark.parametrize("lang", ["id", "en"])
def test_wrong_pins_lock_the_admin_screen(kivy_window, admin_env, clock, lang):
    kiosk = KioskDriver(admin_env)
    try:
        if lang == "en":
            kiosk.tap(kiosk.screen.ids.lang_en)
        _corner_taps(kiosk, clock=clock)
        kiosk.screenshot("30-admin-pin")
        _enter_pin(kiosk, "111111")
        assert tr(lang, "Wrong PIN. {tries} tries left before the admin screen locks.", tries=4) in kiosk.all_text()
        for _ in range(pin.MAX_TRIES - 1):
            _enter_pin(kiosk, "111111")
        locked = tr(lang, "Too many wrong PINs. The admin screen is locked for {minutes} minutes.", minutes=5)
        assert locked in kiosk.all_text()
        kiosk.screenshot("31-admin-locked")
        _enter_pin(kiosk, PIN)
        assert kiosk.screen.mode == "pin"  # the right PIN waits out the lock too
        clock.advance(pin.FIRST_LOCK_S + 1)
        _enter_pin(kiosk, PIN)
        assert kiosk.screen.mode == "panel"
        kiosk.tap(kiosk.screen.ids.close)
        assert kiosk.current == "welcome"
        _corner_taps(kiosk, clock=clock)
        assert kiosk.screen.mode == "pin"  # closing locked it again
    finally:
        kiosk.close()


@pytest.mark.parametrize("lang", ["id", "en"])
def test_admin_panel_status_queue_retry_and_config(kivy_window, admin_env, clock, lang):
    first, second = _submit(admin_env), _submit(admin_env, "Trotoar rusak")
    with admin_env.store.session() as session, session.begin():
        session.execute(update(OutboxEntry).where(OutboxEntry.tracking_id == first)
                        .values(state="failed", last_error="invalid: title"))
    kiosk = KioskDriver(admin_env)
    try:
        if lang == "en":
            kiosk.tap(kiosk.screen.ids.lang_en)
        _open_panel(kiosk, clock)
        kiosk.wait_until(lambda: "database:" in kiosk.screen.body, what="the device checks")
        assert "[OK] printer: file printer" in kiosk.screen.body and "sync:" in kiosk.screen.body
        kiosk.screenshot("32-admin-status")

        kiosk.tap(kiosk.screen.ids.view_queue)
        rows = kiosk.screen.ids.queue_rows.children
        assert {r.tracking_id for r in rows} == {first, second}
        assert any("failed" in r.text and "invalid: title" in r.text for r in rows)
        kiosk.screenshot("33-admin-queue")
        kiosk.tap(kiosk.screen.ids.retry_failed)
        assert tr(lang, "{count} failed reports will be sent again.", count=1) in kiosk.all_text()
        states = {e.tracking_id: e.state for e in admin.queue_entries(admin_env.store)}
        assert states == {first: "pending", second: "pending"}

        receipts = admin_env.config.receipts_path
        before = set(receipts.glob("*.bin")) if receipts.exists() else set()
        row = next(r for r in kiosk.screen.ids.queue_rows.children if r.tracking_id == second)
        kiosk.tap(row)  # reprint this report's receipt
        kiosk.wait_until(lambda: kiosk.screen.message == tr(lang, "Printed."), what="the reprint")
        reprinted = set(receipts.glob("*.bin")) - before
        assert len(reprinted) == 1
        assert (b"SALINAN" if lang == "id" else b"COPY") in next(iter(reprinted)).read_bytes()

        kiosk.tap(kiosk.screen.ids.view_config)
        text = kiosk.all_text()
        assert "central_token = (set, hidden)" in text and "admin_pin_hash = (set, hidden)" in text
        assert TOKEN not in text and PIN_HASH not in text
        assert "kiosk_code = 'MT01'" in text
        kiosk.screenshot("34-admin-config")
    finally:
        kiosk.close()


def test_printer_test_language_default_restart_and_shutdown(kivy_window, tmp_path, clock):
    marker = tmp_path / "powered-off"
    config_path = _write_config(tmp_path, shutdown_command=f"touch {marker}")
    environment = build_env(load_config(config_path, environ={}), now=clock.now, monotonic=clock.monotonic)
    kiosk = KioskDriver(environment)
    stops = []
    kiosk.app.stop = lambda *_a: stops.append(kiosk.app.exit_code)  # Kivy's stop would end the test window
    try:
        _open_panel(kiosk, clock)
        kiosk.tap(kiosk.screen.ids.printer_test)
        kiosk.wait_until(lambda: kiosk.screen.message == tr("id", "Printed."), what="the test receipts")
        assert len(list(environment.config.receipts_path.glob("*.bin"))) == 2  # native and image QR

        kiosk.tap(kiosk.screen.ids.default_en)
        kiosk.tap(kiosk.screen.ids.close)
        assert kiosk.current == "welcome" and kiosk.app.lang == "en"  # the next citizen starts in English
        assert admin.default_language(environment.config) == "en"  # and after a restart too
        assert "Create a report" in kiosk.all_text()

        _open_panel(kiosk, clock)
        kiosk.tap(kiosk.screen.ids.restart)
        assert stops == [admin.RESTART_EXIT_CODE]
        assert not marker.exists()
        kiosk.tap(kiosk.screen.ids.shut_down)
        assert marker.exists() and stops == [admin.RESTART_EXIT_CODE, 0]
    finally:
        kiosk.close()
        environment.close()


def test_failing_shutdown_command_keeps_the_kiosk_running(kivy_window, tmp_path, clock):
    environment = build_env(load_config(_write_config(tmp_path, shutdown_command="false"), environ={}),
                            now=clock.now, monotonic=clock.monotonic)
    kiosk = KioskDriver(environment)
    stops = []
    kiosk.app.stop = lambda *_a: stops.append(True)
    try:
        _open_panel(kiosk, clock)
        kiosk.tap(kiosk.screen.ids.shut_down)
        assert stops == [] and kiosk.current == "admin"
        assert tr("id", "The kiosk could not shut the computer down. See the log.") in kiosk.all_text()
    finally:
        kiosk.close()
        environment.close()


def test_lockdown_refuses_escape_and_close_requests(kivy_window, admin_env, env):
    from kivy.app import App

    locked = KioskDriver(admin_env)
    try:
        assert kivy_window.dispatch("on_request_close") is True
        kivy_window.dispatch("on_keyboard", 27, 9, None, [])  # Escape
        kivy_window.dispatch("on_keyboard", 282, 58, None, [])  # F1: Kivy's settings panel
        locked.frames(2)
        assert list(kivy_window.children) == [locked.app.root]  # no settings panel over the kiosk
        assert App.get_running_app() is locked.app and locked.current == "welcome"
    finally:
        locked.close()
    assert not kivy_window.dispatch("on_request_close")  # the lock leaves with the app
    unlocked = KioskDriver(env)  # lockdown = false (a developer's window) may be closed
    try:
        assert not kivy_window.dispatch("on_request_close")
    finally:
        unlocked.close()


# -- the same actions from a shell ------------------------------------------------------------
def _kiosk(config_path, *args, stdin=""):
    return subprocess.run([sys.executable, "-m", "kiosk", "--config", str(config_path), *args], cwd=ROOT,
                          input=stdin, capture_output=True, text=True, timeout=60)


def test_cli_admin_commands(tmp_path, clock):
    config_path = _write_config(tmp_path)
    config = load_config(config_path, environ={})
    environment = build_env(config)
    try:
        failed = _submit(environment)
        with environment.store.session() as session, session.begin():
            session.execute(update(OutboxEntry).values(state="failed", last_error="invalid: title"))
    finally:
        environment.close()

    made = _kiosk(config_path, "admin", "hash-pin", stdin="135799\n135799\n")
    assert made.returncode == 0 and "135799" not in made.stdout
    line = made.stdout.strip()
    assert line.startswith('admin_pin_hash = "scrypt$') and pin.verify_pin("135799", line.split('"')[1])
    assert _kiosk(config_path, "admin", "hash-pin", stdin="135799\n135790\n").returncode == 2

    shown = _kiosk(config_path, "admin", "config")
    assert "central_token = (set, hidden)" in shown.stdout and TOKEN not in shown.stdout and PIN_HASH not in shown.stdout

    assert "failed" in _kiosk(config_path, "queue").stdout
    retried = _kiosk(config_path, "admin", "retry-failed")
    assert retried.returncode == 0 and retried.stdout.startswith("1 failed")
    queue = _kiosk(config_path, "queue").stdout
    assert failed in queue and "pending" in queue and "failed " not in queue

    assert _kiosk(config_path, "admin", "language", "en").stdout.strip() == "en"
    assert admin.default_language(config) == "en"
