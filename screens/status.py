"""Cek Status: type the Tracking ID on a keypad (or arrive from the scan screen) and see
where the report stands: from the central office when online, else what this kiosk knows."""
from __future__ import annotations

import logging
import math
import threading

from kivy.app import App
from kivy.clock import Clock
from kivy.factory import Factory
from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.screenmanager import Screen

from kiosk.core.status_text import keypad_symbols
from kiosk.kernel.tracking_id import TrackingIdError, parse_tracking_id
from screens.common import tr

log = logging.getLogger(__name__)

#: Wrong numbers allowed before the status screen starts making people wait.
WRONG_BEFORE_SLOWDOWN = 3
MAX_WAIT_S = 60


class StatusScreen(Screen):
    typed = StringProperty("")
    result = StringProperty("")
    result_kind = StringProperty("")  # "", "found", "unknown", "invalid"
    reprint_state = StringProperty("")  # "", "printing", "printed", "failed"
    own_report = BooleanProperty(False)  # issued by this kiosk: its receipt can be reprinted

    def on_kv_post(self, base_widget):
        grid = self.ids.keypad
        for symbol in keypad_symbols():
            key = Factory.KeypadKey(text=symbol)
            key.bind(on_release=lambda k: self.press(k.text))
            grid.add_widget(key)

    def press(self, symbol: str) -> None:
        if len(self.typed.replace("-", "")) < 16:
            self.typed += symbol
        self.result, self.result_kind, self.reprint_state = "", "", ""

    def backspace(self) -> None:
        self.typed = self.typed[:-1]
        self.result, self.result_kind, self.reprint_state = "", "", ""

    def clear(self) -> None:
        self.typed, self.result, self.result_kind, self.reprint_state = "", "", "", ""
        self._found_id = self._lookup = None
        self.own_report = False

    def reset(self) -> None:
        """The session ended: forget the number, and the next citizen starts unslowed."""
        self.clear()
        self._wrong, self._blocked_until = 0, 0.0

    def look_up(self, tracking_id: str) -> None:
        """Show the status of a Tracking ID read from a receipt."""
        self.typed = tracking_id
        self.check()

    def check(self) -> None:
        app = App.get_running_app()
        lang = app.lang
        wait = math.ceil(getattr(self, "_blocked_until", 0.0) - app.monotonic())
        if wait > 0:  # repeated wrong numbers: guessing gets slower
            self.result, self.result_kind = tr(lang, "Please wait {seconds} seconds before trying again.", seconds=wait), "invalid"
            return
        try:
            tracking_id = parse_tracking_id(self.typed)
        except TrackingIdError as exc:
            self.result = describe_invalid(lang, exc.code)
            self.result_kind = "invalid"
            self._wrong_number()
            return
        self.result, self.result_kind = tr(lang, "Checking..."), "checking"
        self._found_id = tracking_id
        self._lookup = lookup = object()
        env = app.env

        def work():
            from kiosk.core.status_lookup import StatusAnswer, look_up

            try:
                answer = look_up(tracking_id, env=env, language=lang)
            except Exception as exc:  # noqa: BLE001 - a lookup bug must not reach the citizen
                log.error("status lookup failed: %s", type(exc).__name__)
                answer = StatusAnswer("offline_unknown", tr(lang, "The status cannot be checked right now. Please try again later."))
            Clock.schedule_once(lambda _dt: self._answered(lookup, answer), 0)

        threading.Thread(target=work, name="status-lookup", daemon=True).start()

    def _answered(self, lookup, answer) -> None:
        if lookup is not getattr(self, "_lookup", None):
            return  # typed on since, or the session ended
        self.result = answer.text
        self.result_kind = {"found": "found", "local": "found"}.get(answer.kind, answer.kind)
        self.own_report = answer.own
        if answer.kind == "unknown":
            self._wrong_number()
        elif self.result_kind == "found":
            self._wrong = 0

    def _wrong_number(self) -> None:
        """From the third wrong number on, wait 2, 4, 8 ... up to 60 seconds before the next."""
        self._wrong = getattr(self, "_wrong", 0) + 1
        if self._wrong >= WRONG_BEFORE_SLOWDOWN:
            app = App.get_running_app()
            self._blocked_until = app.monotonic() + min(MAX_WAIT_S, 2 ** (self._wrong - WRONG_BEFORE_SLOWDOWN + 1))

    def reprint(self) -> None:
        """Print a copy (SALINAN) of a receipt this kiosk issued, on the printer's thread."""
        from kiosk.core.domain import SavedReport
        from kiosk.core.receipt_content import receipt_content

        app = App.get_running_app()
        tracking_id = getattr(self, "_found_id", None)
        status, draft = app.env.reports.find(tracking_id), app.env.reports.load_draft(tracking_id)
        if status is None or draft is None:
            return
        saved = SavedReport(tracking_id, status.created_at, draft, app.kiosk_config.kiosk_code)
        self.reprint_state = "printing"
        future = app.env.print_async(receipt_content(saved, app.env, app.lang, copy=True), app.gettext)
        future.add_done_callback(
            lambda f: Clock.schedule_once(lambda _dt: self._reprinted(tracking_id, f), 0))

    def print_status(self) -> None:
        """Print what the screen shows about any report (a status slip, not a receipt)."""
        import datetime as dt

        from kiosk.core.receipt import ReceiptContent

        app = App.get_running_app()
        tracking_id = getattr(self, "_found_id", None)
        if not tracking_id or self.result_kind != "found":
            return
        config = app.kiosk_config
        content = ReceiptContent(
            tracking_id=tracking_id, created_at=app.env.now().astimezone(dt.timezone.utc),
            institution=config.institution_name, kiosk_location=config.kiosk_location, kind_label="",
            category_label="", title="", confidential=True, language=app.lang,
            status_lines=tuple(line for line in self.result.splitlines()[1:] if line.strip()) or (self.result,),
        )
        self.reprint_state = "printing"
        future = app.env.print_async(content, app.gettext)
        future.add_done_callback(lambda f: Clock.schedule_once(lambda _dt: self._reprinted(tracking_id, f), 0))

    def _reprinted(self, tracking_id: str, future) -> None:
        if getattr(self, "_found_id", None) != tracking_id:
            return
        try:
            ok = future.result().ok
        except Exception:  # noqa: BLE001 - printing never reaches the citizen as an error
            ok = False
        self.reprint_state = "printed" if ok else "failed"

    def back(self):
        App.get_running_app().end_session()


def describe_invalid(lang: str, code: str) -> str:
    if code == "empty":
        return tr(lang, "Type the number printed on your receipt.")
    if code == "length":
        return tr(lang, "A report number has 14 letters and numbers, for example MT01-14D2P-F2DBX.")
    if code == "symbol":
        return tr(lang, "This number contains a character that report numbers do not use.")
    return tr(lang, "This number is not right: a letter or number is probably mistyped. Please check it against your receipt.")
