"""The admin screen: reached by five quick taps in Welcome's top-left corner, then a PIN.
Device and sync status, the outbox with "retry failed" and reprint, printer and camera
tests, the configuration (secrets hidden), the default language, restart and shut down.

Everything it does is a function in :mod:`kiosk.runtime.admin` or
:mod:`kiosk.runtime.technician`, the same code as the ``kiosk`` CLI, on the LIVE
environment: its store, its printer (on the printer's thread, so a printer test never
interleaves with a reprint) and its bounded background runner for slow checks. The PIN
pad is :class:`kiosk.core.pin.PinPad`.
"""
from __future__ import annotations

import logging
import shlex
import subprocess

from kivy.app import App
from kivy.clock import Clock
from kivy.factory import Factory
from kivy.properties import StringProperty
from kivy.uix.screenmanager import Screen

from kiosk.core.pin import PinPad
from kiosk.runtime import admin, technician
from kiosk.runtime.background import Refused
from screens.common import tr

log = logging.getLogger(__name__)


class AdminScreen(Screen):
    mode = StringProperty("pin")  # pin, panel
    pin_shown = StringProperty("")
    message = StringProperty("")
    view = StringProperty("status")  # status, queue, config
    body = StringProperty("")

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.pad = PinPad()

    def on_kv_post(self, base_widget):
        grid = self.ids.pin_pad
        for symbol in "123456789":
            grid.add_widget(self._key(symbol))
        grid.add_widget(Factory.KeypadKey(text="<", on_release=lambda *_: self.pin_backspace()))
        grid.add_widget(self._key("0"))
        grid.add_widget(Factory.KeypadKey(text="OK", on_release=lambda *_: self.submit_pin()))

    def _key(self, symbol: str):
        return Factory.KeypadKey(text=symbol, on_release=lambda k: self.pin_digit(k.text))

    # -- PIN -------------------------------------------------------------------------------
    def reset(self) -> None:
        """Leaving the admin screen locks it again."""
        self.pad.clear()
        self.pin_shown, self.message, self.mode, self.view, self.body = "", "", "pin", "status", ""

    def pin_digit(self, digit: str) -> None:
        self.pad.press(digit)
        self.pin_shown, self.message = self.pad.shown, ""

    def pin_backspace(self) -> None:
        self.pad.backspace()
        self.pin_shown = self.pad.shown

    def submit_pin(self) -> None:
        app = App.get_running_app()
        unlocked = self.pad.submit(admin.pin_guard(app.kiosk_config, app.env.now))
        self.pin_shown = self.pad.shown
        if unlocked:
            self.mode = "panel"
            self.show_view("status")
        elif self.pad.message is not None:
            self.message = self.pad.message.render(app.gettext)

    # -- the panel ---------------------------------------------------------------------
    def show_view(self, view: str) -> None:
        self.view = view
        app = App.get_running_app()
        if view == "config":
            self.body = "\n".join(f"{key} = {shown}" for key, shown in admin.config_rows(app.kiosk_config))
            self._fill_queue([])
        elif view == "queue":
            entries = admin.queue_entries(app.env.store)
            self.body = tr(app.lang, "{count} reports waiting or failed. Tap one to print a copy of its receipt.", count=len(entries)) if entries else tr(
                app.lang, "Nothing is waiting: every report has reached the central office.")
            self._fill_queue(entries)
        else:
            self._fill_queue([])
            self.body = tr(app.lang, "Checking...")
            env = app.env
            self._in_background(lambda: self._status_text(env), lambda text: setattr(self, "body", text))

    @staticmethod
    def _status_text(env) -> str:
        """The device checks of the running kiosk, one line each (runs off the UI thread)."""
        lines = [f"[{'OK' if ok else '!!'}] {name}: {detail}" + (f"\n      {fix}" if fix and not ok else "")
                 for name, ok, detail, fix in technician.env_checks(env)]
        sync = env.sync
        state = "-" if sync is None else {True: "online", False: "offline"}.get(sync.online, "unknown")
        lines.append(f"sync: {state}; {env.reports.count_waiting()} waiting")
        return "\n".join(lines)

    def _fill_queue(self, entries) -> None:
        from kiosk.kernel.tracking_id import format_tracking_id

        rows = self.ids.queue_rows
        rows.clear_widgets()
        for entry in entries[:100]:
            row = Factory.QueueRow()
            row.tracking_id = entry.tracking_id
            # An objection's or rating's entry holds its feedback key, not a Tracking ID.
            shown = format_tracking_id(entry.tracking_id) if entry.kind == "report" else f"{entry.kind} {entry.tracking_id[:8]}"
            row.text = (f"{shown}   {entry.state}   {entry.attempts}x   "
                        f"{entry.last_error or ''}")[:90]
            rows.add_widget(row)

    def _in_background(self, work, done) -> None:
        """Run ``work`` on the environment's bounded runner and ``done(result)`` back on
        the UI thread; a failure or a refusal reaches ``done`` as a short word."""
        job = App.get_running_app().env.background.submit(work)
        if isinstance(job, Refused):
            done(f"not run ({job.reason}): try again in a moment")
            return
        job.add_done_callback(lambda f: Clock.schedule_once(lambda _dt: done(self._outcome(f)), 0))

    @staticmethod
    def _outcome(future):
        try:
            return future.result()
        except Exception as exc:  # noqa: BLE001 - a failed check is shown, never a traceback
            log.error("admin action failed: %s", type(exc).__name__)
            return f"{type(exc).__name__}"

    def retry_failed(self) -> None:
        app = App.get_running_app()
        count = admin.retry_failed(app.env.store, app.env.now())
        if app.env.sync is not None:
            app.env.sync.wake()
        self.show_view("queue")
        self.message = tr(app.lang, "{count} failed reports will be sent again.", count=count)

    def reprint(self, tracking_id: str) -> None:
        app = App.get_running_app()
        content = app.env.reports.reprint(tracking_id, config=app.kiosk_config, language=app.lang)
        if content is None:
            self.message = tr(app.lang, "This receipt cannot be reprinted: its details have left this kiosk.")
            return
        future = app.env.print_async(content)
        future.add_done_callback(lambda f: Clock.schedule_once(lambda _dt: self._printed(f), 0))

    def _printed(self, future) -> None:
        lang = App.get_running_app().lang
        ok = future.exception() is None and future.result().ok
        self.message = tr(lang, "Printed.") if ok else tr(lang, "Not printed: check the printer.")

    def printer_test(self) -> None:
        """Test receipts in each QR mode, on the printer's thread: after any receipt or
        reprint queued before, never in the middle of one."""
        app = App.get_running_app()
        self.message = tr(app.lang, "Printing a test receipt...")

        def done(outcomes):
            ok = isinstance(outcomes, list) and all(outcome.ok for _mode, outcome in outcomes)
            self.message = tr(app.lang, "Printed.") if ok else tr(app.lang, "Not printed: check the printer.")

        config = app.kiosk_config
        printer = app.env.printer
        future = app.env.on_printer_thread(lambda: technician.print_test_receipts(config, printer))
        future.add_done_callback(lambda f: Clock.schedule_once(lambda _dt: done(self._outcome(f)), 0))

    def camera_test(self) -> None:
        app = App.get_running_app()
        self.message = tr(app.lang, "Checking...")
        config = app.kiosk_config
        self._in_background(lambda: technician.check_camera(config),
                            lambda r: setattr(self, "message", f"camera: {r[1] if isinstance(r, tuple) else r}"))

    def set_language(self, language: str) -> None:
        app = App.get_running_app()
        admin.set_default_language(app.kiosk_config, language)
        app.default_lang = language
        app.lang = language

    def restart(self) -> None:
        App.get_running_app().request_exit(admin.RESTART_EXIT_CODE)

    def shut_down(self) -> None:
        app = App.get_running_app()
        command = shlex.split(app.kiosk_config.shutdown_command)
        log.info("admin: shutting down")
        try:
            subprocess.run(command, timeout=30, check=True, capture_output=True)
        except (OSError, subprocess.SubprocessError) as exc:
            log.error("shutdown command failed: %s", type(exc).__name__)
            self.message = tr(app.lang, "The kiosk could not shut the computer down. See the log.")
            return
        app.request_exit(0)

    def close(self) -> None:
        App.get_running_app().end_session()
