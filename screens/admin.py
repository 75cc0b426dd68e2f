"""The admin screen: reached by five quick taps in Welcome's top-left corner, then a PIN.
Device and sync status, the outbox with "retry failed" and reprint, printer and camera
tests, the configuration (secrets hidden), the default language, restart and shut down.

Everything it does is a function in :mod:`kiosk.admin` or :mod:`kiosk.technician`, the
same code as the ``kiosk`` CLI; slow checks run off the UI thread.
"""
from __future__ import annotations

import logging
import shlex
import subprocess
import threading

from kivy.app import App
from kivy.clock import Clock
from kivy.factory import Factory
from kivy.properties import StringProperty
from kivy.uix.screenmanager import Screen

from kiosk.runtime import admin
from screens.common import tr

log = logging.getLogger(__name__)


class AdminScreen(Screen):
    mode = StringProperty("pin")  # pin, panel
    pin_shown = StringProperty("")
    message = StringProperty("")
    view = StringProperty("status")  # status, queue, config
    body = StringProperty("")
    busy = StringProperty("")

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
        self._pin = ""
        self.pin_shown, self.message, self.mode, self.view, self.body, self.busy = "", "", "pin", "status", "", ""

    def pin_digit(self, digit: str) -> None:
        self._pin = (getattr(self, "_pin", "") + digit)[:12]
        self.pin_shown, self.message = "\u25cf" * len(self._pin), ""

    def pin_backspace(self) -> None:
        self._pin = getattr(self, "_pin", "")[:-1]
        self.pin_shown = "\u25cf" * len(self._pin)

    def submit_pin(self) -> None:
        app = App.get_running_app()
        pin, self._pin, self.pin_shown = getattr(self, "_pin", ""), "", ""
        answer = admin.pin_guard(app.kiosk_config, app.env.now).try_pin(pin)
        if answer.ok:
            self.mode = "panel"
            self.show_view("status")
        elif answer.locked_s:
            minutes = max(1, round(answer.locked_s / 60))
            self.message = tr(app.lang, "Too many wrong PINs. The admin screen is locked for {minutes} minutes.", minutes=minutes)
        else:
            self.message = tr(app.lang, "Wrong PIN. {tries} tries left before the admin screen locks.", tries=answer.tries_left)

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
            self._in_background(lambda: self._status_text(app), lambda text: setattr(self, "body", text))

    def _status_text(self, app) -> str:
        from kiosk.runtime.technician import checks

        lines = [f"[{'OK' if ok else '!!'}] {name}: {detail}" + (f"\n      {fix}" if fix and not ok else "")
                 for name, ok, detail, fix in checks(app.kiosk_config)]
        sync = app.env.sync
        state = "-" if sync is None else {True: "online", False: "offline"}.get(sync.online, "unknown")
        lines.append(f"sync: {state}; {app.env.reports.count_waiting()} waiting")
        return "\n".join(lines)

    def _fill_queue(self, entries) -> None:
        from kiosk.kernel.tracking_id import format_tracking_id

        rows = self.ids.queue_rows
        rows.clear_widgets()
        for entry in entries[:100]:
            row = Factory.QueueRow()
            row.tracking_id = entry.tracking_id
            row.text = (f"{format_tracking_id(entry.tracking_id)}   {entry.state}   {entry.attempts}x   "
                        f"{entry.last_error or ''}")[:90]
            rows.add_widget(row)

    def _in_background(self, work, done) -> None:
        def run():
            try:
                result = work()
            except Exception as exc:  # noqa: BLE001 - a failed check is shown, never a traceback
                log.error("admin action failed: %s", type(exc).__name__)
                result = f"{type(exc).__name__}"
            Clock.schedule_once(lambda _dt: done(result), 0)

        threading.Thread(target=run, name="admin-action", daemon=True).start()

    def retry_failed(self) -> None:
        app = App.get_running_app()
        count = admin.retry_failed(app.env.store, app.env.now())
        if app.env.sync is not None:
            app.env.sync.wake()
        self.show_view("queue")
        self.message = tr(app.lang, "{count} failed reports will be sent again.", count=count)

    def reprint(self, tracking_id: str) -> None:
        from kiosk.core.domain import SavedReport
        from kiosk.core.receipt_content import receipt_content

        app = App.get_running_app()
        status, draft = app.env.reports.find(tracking_id), app.env.reports.load_draft(tracking_id)
        if status is None or draft is None:
            self.message = tr(app.lang, "This receipt cannot be reprinted: its details have left this kiosk.")
            return
        saved = SavedReport(tracking_id, status.created_at, draft, app.kiosk_config.kiosk_code)
        future = app.env.print_async(receipt_content(saved, app.env, app.lang, copy=True), app.gettext)
        future.add_done_callback(lambda f: Clock.schedule_once(lambda _dt: self._printed(f), 0))

    def _printed(self, future) -> None:
        lang = App.get_running_app().lang
        ok = future.exception() is None and future.result().ok
        self.message = tr(lang, "Printed.") if ok else tr(lang, "Not printed: check the printer.")

    def printer_test(self) -> None:
        from kiosk.runtime.technician import print_test_receipts

        app = App.get_running_app()
        self.message = tr(app.lang, "Printing a test receipt...")

        def done(outcomes):
            ok = isinstance(outcomes, list) and all(outcome.ok for _mode, outcome in outcomes)
            self.message = tr(app.lang, "Printed.") if ok else tr(app.lang, "Not printed: check the printer.")

        self._in_background(lambda: print_test_receipts(app.kiosk_config), done)

    def camera_test(self) -> None:
        from kiosk.runtime.technician import _check_camera

        app = App.get_running_app()
        self.message = tr(app.lang, "Checking...")
        self._in_background(lambda: _check_camera(app.kiosk_config),
                            lambda r: setattr(self, "message", f"camera: {r[2] if isinstance(r, tuple) else r}"))

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
